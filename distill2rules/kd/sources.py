"""What the KD student learns from, and the order in which the KD wing's options are applied.

:class:`KDSources` holds the training rows (+ teacher-labelled synthetic ones, ``--augment``)
and the logits to learn (the teacher's, or an assistant's in multi-stage distillation).
:func:`fit_kd_student` fits the KD student through a callable the caller provides (the KD wing
never imports a specific student): autotuning τ/α, choosing ``--augment auto``, and measuring
what augmentation changed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from distill2rules.kd.augment import AugmentRequest, choose_rows, synthesize
from distill2rules.kd.autotune import ALPHA_GRID, TEMPERATURE_GRID, autotune_kd
from distill2rules.kd.multistage import fit_assistant, spec_logits
from distill2rules.students import spec_complexity

__all__ = ["KDFit", "KDSources", "fit_kd_student"]

Runner = Callable[[str, Callable[[], Any]], Any]


class KDSources:
    """The training rows (+ synthetic ones) and the logits of the teacher (or of the assistant)."""

    def __init__(
        self, X: pd.DataFrame, y: pd.Series, z: np.ndarray, y_idx: np.ndarray, z_val: np.ndarray
    ) -> None:
        self.X, self.y, self.z, self.y_idx, self.z_val = X, y, z, y_idx, z_val
        self.n_original = len(X)

    def rows(
        self, which: str | int = "all"
    ) -> tuple[pd.DataFrame, pd.Series, np.ndarray, np.ndarray]:
        """All rows, the ``"original"`` ones, or the original ones + the first ``which`` synthetic rows."""
        if which == "all":
            return self.X, self.y, self.z, self.y_idx
        n = self.n_original + (0 if which == "original" else int(which))
        return self.X.iloc[:n], self.y.iloc[:n], self.z[:n], self.y_idx[:n]

    def augment(
        self,
        n: int,
        schema: Any,
        seed: int,
        teacher_logits: Callable[[pd.DataFrame], np.ndarray],
        classes: np.ndarray,
    ) -> dict[str, Any]:
        """Append ``n`` synthetic rows scored by the teacher; their label is the teacher's class."""

        cats = [c for c in getattr(schema, "categorical_columns", []) if c in self.X.columns]
        special = (
            schema.special_values_by_column() if hasattr(schema, "special_values_by_column") else {}
        )
        # a row's special value is copied as it is (never jittered, mixed or made missing)
        codes = {c: [float(k) for k in v] for c, v in special.items() if c in self.X.columns}
        syn = synthesize(self.X, n, categorical=cats, random_state=seed, special=codes)
        z_syn = teacher_logits(syn.frame)
        lab = np.argmax(z_syn, axis=1)
        y_syn = pd.Series(classes[lab], name=self.y.name)
        self.X = pd.concat([self.X.reset_index(drop=True), syn.frame], ignore_index=True)
        self.y = pd.concat([self.y.reset_index(drop=True), y_syn], ignore_index=True)
        self.z = np.vstack([self.z, z_syn])
        self.y_idx = np.concatenate([self.y_idx, lab])
        return {
            "rows": int(n),
            "methods": syn.counts(),
            "labels": "teacher (its predicted class stands in for y when alpha > 0)",
            "baseline_uses_synthetic_rows": False,
            "used_for": "fitting the KD student only (not calibration, not metrics)",
        }

    def through_assistant(
        self,
        a: Any,
        X_val: pd.DataFrame,
        y_val: pd.Series,
        z: Mapping[str, np.ndarray],
        X_test: pd.DataFrame,
        seed: int,
        special: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Distill the teacher into the assistant; the student then learns the assistant's logits."""

        est = fit_assistant(
            a,
            self.X,
            self.y,
            self.z,
            X_val=X_val,
            y_val=y_val,
            teacher_logits_val=z["val"],
            seed=seed,
            special_values=special,
        )
        self.z = spec_logits(est.spec_, self.X)
        self.z_val = spec_logits(est.spec_, X_val)
        z_test = spec_logits(est.spec_, X_test)
        agree = {
            split: float(np.mean(np.argmax(zz, axis=1) == np.argmax(z[split], axis=1)))
            for split, zz in (("val", self.z_val), ("test", z_test))
        }
        return {
            "spec": a.text,
            "kind": a.kind,
            "params": {k: list(v) if isinstance(v, tuple) else v for k, v in a.params.items()},
            "size": spec_complexity(est.spec_),
            "fidelity_to_teacher": agree,
        }


@dataclass
class KDFit:
    """The KD student and the recipe it was fitted with."""

    estimator: Any
    temperature: float
    alpha: float
    plain: Any = None  # the same student without synthetic rows (only when augmenting)
    extras: dict[str, Any] = field(
        default_factory=dict
    )  # autotune / augment records for metrics.json


def fit_kd_student(
    fit: Callable[..., Any],
    val_score: Callable[[Any], tuple[float, float]],
    *,
    label: str,
    temperature: float,
    alpha: float,
    auto_t: bool,
    auto_a: bool,
    aug: AugmentRequest,
    n_train: int,
    run: Runner,
    extras: dict[str, Any],
) -> KDFit:
    """Fit the KD student: autotune τ/α (``auto_t``/``auto_a``), choose ``--augment auto``, or fit once.

    ``fit(τ, α, rows="all")`` fits the student on :meth:`KDSources.rows` ``(rows)``;
    ``val_score(est)`` is ``(validation fidelity, KL)``. ``extras`` holds the ``augment``
    record when augmenting; the autotune and augment choices are added to it.
    """
    tried: dict[int, Any] = {}
    est = None
    if auto_t or auto_a:
        grid_fit = (lambda t, a: fit(t, a, "original")) if aug.auto else fit
        est, tuned = run(
            f"autotune {label} student (KD)",
            lambda: autotune_kd(
                grid_fit,
                val_score,
                temperatures=TEMPERATURE_GRID if auto_t else (temperature,),
                alphas=ALPHA_GRID if auto_a else (alpha,),
                searched=tuple(n for n, on in (("temperature", auto_t), ("alpha", auto_a)) if on),
            ),
        )
        temperature, alpha = tuned.temperature, tuned.alpha
        extras["autotune"] = tuned.to_dict()
        tried[0] = est  # τ was tuned without synthetic rows
    elif not aug.auto:
        est = run(f"fit {label} student (KD)", lambda: fit(temperature, alpha))
    if aug.auto:

        def fit_rows(r: int) -> Any:
            return tried[r] if r in tried else tried.setdefault(r, fit(temperature, alpha, r))

        est, _, extras["augment"]["auto"] = run(
            f"choose --augment for {label} (validation fidelity)",
            lambda: choose_rows(
                fit_rows, lambda e: val_score(e)[0], aug.candidates(n_train), n_train
            ),
        )
    plain = None
    if aug:
        plain = (
            tried[0]
            if aug.auto
            else run(
                f"fit {label} student (KD, no augmentation)",
                lambda: fit(temperature, alpha, rows="original"),
            )
        )
    return KDFit(estimator=est, temperature=temperature, alpha=alpha, plain=plain, extras=extras)

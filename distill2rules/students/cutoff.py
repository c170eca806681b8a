"""A user cutoff on the adverse class's probability (``fit --cutoff`` / ``--approval-rate``).

Credit users decide at a cutoff on the probability of the adverse (declined) class: "decline
when P(bad) > 0.3", or "approve 80 % of applicants". The spec decides class 1 iff
``P(classes[1]) > decision_threshold``; :func:`threshold_for` converts a cutoff ``c`` on
``P(adverse)`` into that threshold (``c`` when the adverse class is ``classes[1]``, just under
``1 - c`` when it is ``classes[0]``), so a row is declined iff ``P(adverse) > c`` either way.

``--approval-rate R`` picks ``c`` as the ``R``-quantile of the **teacher's** ``P(adverse)`` on
the training split (the rows the student is fitted on, before any augmentation): the teacher
approves (at least, with ties) a share ``R`` of those rows; the student then decides at the
same cutoff, and the approval rates both reach on every split are reported.

The student learns the teacher's decisions *at the cutoff*: the teacher's binary log-odds are
shifted by ``-logit(t)`` for the soft/hard targets (:func:`shift_logits`), so "the teacher's
class" means its decision at the cutoff; the fitted spec is shifted back by ``+logit(t)`` and
decides at ``t`` (:func:`apply_threshold`). Calibration then scales the log-odds *about*
``logit(t)`` (:func:`calibrate_about_threshold`): probabilities improve, the threshold and
every decision stay.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from distill2rules import spec as spec_mod
from distill2rules.errors import ConfigError
from distill2rules.kd import log_softmax, softmax

__all__ = [
    "Cutoff",
    "apply_threshold",
    "approval_rates",
    "calibrate_about_threshold",
    "check_cutoff_args",
    "resolve_cutoff",
    "shift_logits",
    "threshold_for",
]


def check_cutoff_args(cutoff: float | None, approval_rate: float | None) -> None:
    """Range checks before any work: each in (0, 1), not both."""
    if cutoff is not None and approval_rate is not None:
        raise ConfigError(
            "--cutoff and --approval-rate both set the decision cutoff.",
            hint="Pass only one of them.",
        )
    for name, v in (("--cutoff", cutoff), ("--approval-rate", approval_rate)):
        if v is None:
            continue
        if (
            isinstance(v, bool)
            or not isinstance(v, (int, float))
            or not np.isfinite(v)
            or not 0.0 < float(v) < 1.0
        ):
            what = (
                "a probability of the adverse class"
                if name == "--cutoff"
                else "a share of approved rows"
            )
            raise ConfigError(
                f"{name} must be {what} strictly between 0 and 1, got {v!r}.",
                hint=f"e.g. {name} {'0.3' if name == '--cutoff' else '0.8'}.",
            )


def threshold_for(cutoff: float, adverse_index: int) -> float:
    """Threshold ``t`` on ``P(classes[1])`` such that a row is declined iff ``P(adverse) > cutoff``."""
    c = float(cutoff)
    if adverse_index == 1:
        return c
    # class 0 (adverse) iff P1 <= t: t is the largest float P1 whose P0 = 1 - P1 (as the spec computes it) is > c
    t = float(1.0 - c)
    while t > 0.0 and not (1.0 - t) > c:
        t = float(np.nextafter(t, 0.0))
    while (1.0 - float(np.nextafter(t, 1.0))) > c:
        t = float(np.nextafter(t, 1.0))
    return t


def cutoff_for(threshold: float, adverse_index: int) -> float:
    """Inverse of :func:`threshold_for` (for display)."""
    return (
        float(threshold) if adverse_index == 1 else float(1.0 - np.nextafter(float(threshold), 1.0))
    )


@dataclass(frozen=True)
class Cutoff:
    """The resolved decision cutoff of a binary fit."""

    cutoff: float  # on P(adverse)
    adverse_class: Any
    adverse_index: int
    threshold: float  # on P(classes[1]): class 1 iff P1 > threshold
    source: str  # "cutoff" or "approval_rate"
    approval_rate: float | None = None  # requested
    n_rows: int | None = None  # rows the approval rate was set on

    @property
    def log_odds(self) -> float:
        return float(np.log(self.threshold) - np.log1p(-self.threshold))

    def to_dict(self) -> dict[str, Any]:
        adv = str(self.adverse_class)
        d: dict[str, Any] = {
            "cutoff": self.cutoff,
            "adverse_class": self.adverse_class,
            "threshold": self.threshold,
            "rule": f"declined ('{adv}') when P('{adv}') > {self.cutoff:.6g}",
            "source": "--cutoff"
            if self.source == "cutoff"
            else f"--approval-rate {self.approval_rate:g}",
        }
        if self.source == "approval_rate":
            d["approval_rate"] = self.approval_rate
            d["chosen_on"] = f"the teacher's P('{adv}') on the {self.n_rows} training rows"
        return d


def resolve_cutoff(
    cutoff: float | None,
    approval_rate: float | None,
    classes: Sequence[Any],
    adverse_class: Any,
    teacher_p_train: np.ndarray | None = None,
) -> Cutoff | None:
    """The :class:`Cutoff` of ``--cutoff`` / ``--approval-rate`` (``None`` when neither is set).

    ``teacher_p_train`` (``(n, 2)`` teacher probabilities of the training rows) is needed for an
    approval rate.
    """
    check_cutoff_args(cutoff, approval_rate)
    if cutoff is None and approval_rate is None:
        return None
    flag = "--cutoff" if cutoff is not None else "--approval-rate"
    if len(classes) != 2:
        raise ConfigError(f"{flag} needs a binary target; this one has {len(classes)} classes.")
    if adverse_class is None:
        raise ConfigError(
            f"{flag} is a cutoff on the adverse class's probability, but the adverse class is not known.",
            hint="Pass --adverse-class too.",
        )
    texts = [str(c) for c in classes]
    adv = texts.index(str(adverse_class))
    adv_class = (
        classes[adv].item() if hasattr(classes[adv], "item") else classes[adv]
    )  # JSON-native
    if cutoff is not None:
        return Cutoff(float(cutoff), adv_class, adv, threshold_for(cutoff, adv), "cutoff")
    assert approval_rate is not None and teacher_p_train is not None
    p_adv = np.sort(np.asarray(teacher_p_train, dtype=np.float64)[:, adv])
    k = (
        int(np.ceil(float(approval_rate) * len(p_adv))) - 1
    )  # approve rows with P(adverse) <= p_adv[k]
    c = float(p_adv[min(max(k, 0), len(p_adv) - 1)])
    c = float(np.clip(c, 1e-9, 1.0 - 1e-9))
    return Cutoff(
        c, adv_class, adv, threshold_for(c, adv), "approval_rate", float(approval_rate), len(p_adv)
    )


def shift_logits(z: np.ndarray, threshold: float) -> np.ndarray:
    """Binary teacher logits whose argmax is the decision ``P1 > threshold`` (log-odds shifted by ``-logit(t)``)."""
    z = np.array(z, dtype=np.float64, copy=True)
    z[:, 1] -= float(np.log(threshold) - np.log1p(-threshold))
    return z


def apply_threshold(spec: dict[str, Any], threshold: float, *, shifted: bool) -> dict[str, Any]:
    """A copy of a binary ``spec`` deciding class 1 iff ``P1 > threshold``; ``shifted``: it was fitted
    on :func:`shift_logits` targets, so its log-odds move back by ``+logit(threshold)`` first."""
    from distill2rules.students._calibration import fold_shift  # lazy: scipy; keeps cutoff light

    out = (
        fold_shift(spec, float(np.log(threshold) - np.log1p(-threshold)))
        if shifted
        else copy.deepcopy(spec)
    )
    out["decision_threshold"] = float(threshold)
    return out


def calibrate_about_threshold(
    spec: dict[str, Any], num: np.ndarray, cat: np.ndarray, y_idx: np.ndarray
) -> dict[str, Any]:
    """Temperature scaling about the cutoff: log-odds ``m -> L + a (m - L)`` with ``L = logit(t)``,
    ``a`` fitted on the validation rows' true labels. Keeps ``decision_threshold`` and every decision."""
    from distill2rules.students._calibration import (  # lazy: scipy; keeps cutoff light
        _log_scores,
        fold_scale,
        fold_shift,
    )

    t = float(spec["decision_threshold"])
    L = float(np.log(t) - np.log1p(-t))
    s = _log_scores(spec, num, cat)
    m = s[:, 1] - s[:, 0]
    y = np.asarray(y_idx, dtype=np.int64)
    before = float(-log_softmax(s)[np.arange(len(y)), y].mean())
    a = _fit_scale_about(m, L, y)
    out = fold_shift(fold_scale(spec, a), L * (1.0 - a))
    out["decision_threshold"] = t
    old = spec_mod.evaluate(spec, numeric=num, categorical=cat)["label"]
    new = spec_mod.evaluate(out, numeric=num, categorical=cat)["label"]
    after = float(-log_softmax(_log_scores(out, num, cat))[np.arange(len(y)), y].mean())
    out["calibration"] = {
        "method": "temperature about the cutoff",
        "scale": a,
        "shift": L * (1.0 - a),
        "fitted_on": "validation split",
        "val_log_loss_before": before,
        "val_log_loss_after": after,
        "decision_threshold": t,
        "decisions": "kept: log-odds scaled about the cutoff's, so the threshold stays the cutoff",
        "val_decisions_moved": int((old != new).sum()),
    }
    return out


def _fit_scale_about(m: np.ndarray, L: float, y: np.ndarray) -> float:
    """Scale ``a`` in [0.05, 20] minimising the log-loss of ``sigmoid(L + a (m - L))``."""
    from scipy.optimize import minimize_scalar
    from scipy.special import log_expit

    d = m - L

    def nll(log_a: float) -> float:
        z = L + np.exp(log_a) * d
        return float(-(y * log_expit(z) + (1 - y) * log_expit(-z)).mean())

    res = minimize_scalar(
        nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded", options={"xatol": 1e-4}
    )
    return float(np.exp(res.x))


def approval_rates(
    cut: Cutoff,
    z_teacher: Mapping[str, np.ndarray],
    frames: Mapping[str, Any],
    spec: Mapping[str, Any],
    base_spec: Mapping[str, Any] | None,
    scored: Any,
) -> dict[str, Any]:
    """Share of rows approved (not the adverse class) per split by the teacher at the cutoff and
    by the student (and baseline) at their ``decision_threshold``."""
    out: dict[str, Any] = {}
    for split, X in frames.items():
        if split not in z_teacher or len(X) == 0:
            continue
        p_t = softmax(z_teacher[split])
        row = {
            "teacher": float(
                np.mean((p_t[:, 1] > cut.threshold).astype(np.int64) != cut.adverse_index)
            ),
            "student": float(np.mean(scored(spec, X)[1] != cut.adverse_index)),
        }
        if base_spec is not None:
            row["baseline"] = float(np.mean(scored(base_spec, X)[1] != cut.adverse_index))
        out[split] = row
    return out

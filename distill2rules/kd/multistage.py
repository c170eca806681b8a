"""Multi-stage distillation through an assistant (``--assistant mlp:128-64``).

Teacher → assistant → student: the assistant (any registered student, typically an MLP
between the teacher's and the student's size) is distilled from the teacher's logits; the
final student then learns from the **assistant's** logits. A mid-sized assistant can bridge a
large capacity gap (Mirzadeh et al., 2020, "teacher assistant" KD). Fidelity is still
measured against the original teacher.

The student kind is looked up through the student registry (no student is imported here).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from distill2rules import spec as spec_mod
from distill2rules.errors import ConfigError
from distill2rules.kd._core import softmax
from distill2rules.students import STUDENTS, make_student

__all__ = ["AssistantSpec", "fit_assistant", "parse_assistant", "spec_logits"]


@dataclass(frozen=True)
class AssistantSpec:
    """A parsed ``--assistant`` value: the student kind and its parameters."""

    kind: str
    params: Mapping[str, Any] = field(default_factory=dict)
    text: str = ""


def parse_assistant(text: str) -> AssistantSpec:
    """``"mlp:128-64"`` → MLP with hidden (128, 64); ``"mlp"``; ``"KIND:key=value,key=value"``.

    Examples
    --------
    >>> parse_assistant("mlp:128-64").params["hidden"]
    (128, 64)
    """

    raw = str(text).strip()
    kind, _, rest = raw.partition(":")
    kind = kind.strip().lower()
    if kind not in STUDENTS:
        raise ConfigError(
            f"unknown assistant kind {kind!r} in --assistant {raw!r}.",
            hint=f"Use one of {', '.join(STUDENTS)}, e.g. --assistant mlp:128-64.",
        )
    params: dict[str, Any] = {}
    rest = rest.strip()
    if rest and "=" not in rest:
        if kind != "mlp":
            raise ConfigError(
                f"--assistant {raw!r}: only mlp takes widths ('mlp:128-64'); use KIND:key=value for {kind}."
            )
        try:
            params["hidden"] = tuple(int(p) for p in rest.split("-") if p.strip())
        except ValueError:
            raise ConfigError(
                f"--assistant {raw!r}: widths must be integers such as 'mlp:128-64'."
            ) from None
        if not params["hidden"] or min(params["hidden"]) < 1:
            raise ConfigError(f"--assistant {raw!r}: widths must be positive integers.")
    elif rest:
        import json

        for item in rest.split(","):
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                raise ConfigError(
                    f"--assistant {raw!r}: expected KIND:key=value[,key=value], got {item!r}."
                )
            try:
                params[key.strip()] = json.loads(value)
            except json.JSONDecodeError:
                params[key.strip()] = value.strip()
    return AssistantSpec(kind=kind, params=params, text=raw)


def spec_logits(spec: Mapping[str, Any], X: pd.DataFrame) -> np.ndarray:
    """Logits ``(n, K)`` of a fitted student's spec: scores (``[0, s]`` for a logistic link) or log p."""

    out = spec_mod.evaluate(spec, X)
    if "scores" in out:
        s = np.asarray(out["scores"], dtype=np.float64)
        return np.column_stack([np.zeros(len(s)), s[:, 0]]) if s.shape[1] == 1 else s
    return np.log(np.clip(out["probabilities"], 1e-7, 1.0))


def fit_assistant(
    assistant: AssistantSpec | str,
    X: pd.DataFrame,
    y: Any,
    teacher_logits: np.ndarray,
    *,
    X_val: pd.DataFrame | None = None,
    y_val: Any = None,
    teacher_logits_val: np.ndarray | None = None,
    seed: int = 0,
    special_values: Mapping[str, Mapping[str, str]] | None = None,
    params: Mapping[str, Any] | None = None,
) -> Any:
    """Distill the teacher into the assistant (τ = 1, α = 0: match the teacher's logits).

    Students that take logits (the MLP) get the exact KD loss; others the teacher's
    probabilities as soft targets. ``special_values`` (the schema's codes, ``{column: {code:
    label}}``) reach the assistant as they reach the student: codes are levels, not numbers.
    ``params`` are defaults under the ``--assistant`` ones. Returns the fitted estimator (``.spec_``).
    """

    a = parse_assistant(assistant) if isinstance(assistant, str) else assistant
    merged = {"random_state": seed, **dict(params or {}), **dict(a.params)}
    est = make_student(a.kind, **merged)
    if special_values and "special_values" not in a.params:
        codes = {str(c): dict(v) for c, v in special_values.items()}
        if "special_values" in est.get_params():
            est.set_params(special_values=codes)
        else:  # a student without the parameter: the base class masks the codes
            est.special_values = codes
    kw: dict[str, Any] = {"X_val": X_val, "y_val": y_val}
    if getattr(est, "accepts_teacher_logits", False):
        kw.update(teacher_logits=teacher_logits, teacher_logits_val=teacher_logits_val)
    else:
        kw.update(
            soft_targets=softmax(teacher_logits),
            soft_targets_val=None if teacher_logits_val is None else softmax(teacher_logits_val),
        )
    est.fit(X, y, **kw)
    return est

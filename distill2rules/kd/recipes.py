"""Default distillation recipe per student kind: which targets a student learns from.

Fidelity — agreeing with the teacher's class on rows it never saw — is what a student that
reproduces decisions is for. For linear and additive students the teacher's **decisions**
(``τ = 0``: the one-hot of its argmax) are better targets than its probabilities: soft targets
spend the student's few parameters on confidence far from the decision boundary, which fidelity
ignores (measured: logistic regression +1.8 and +3.2 points on two credit data sets, sharper τ
monotonically better; ``benchmarks/fidelity.py`` re-measures it on four public data sets).
Students whose purpose is reproducing decisions therefore default to ``τ = 0``; the MLP keeps
the paper's loss (``τ = 1``, KL to the teacher's probabilities), and so does
``distill2rules benchmark paper``.

A default is only used when no ``temperature`` is given; ``"auto"`` searches
:data:`distill2rules.experiments.autotune.TEMPERATURE_GRID` on validation fidelity instead.
"""

from __future__ import annotations

from typing import Any

__all__ = ["DEFAULT_TEMPERATURE", "default_temperature", "targets_text"]

# student name -> default τ (students not listed: 1.0, the teacher's probabilities)
DEFAULT_TEMPERATURE: dict[str, float] = {
    "logreg": 0.0,
    "scorecard": 0.0,
}


def default_temperature(student: str) -> float:
    """The temperature ``distill`` uses for ``student`` when none is given."""
    return DEFAULT_TEMPERATURE.get(student, 1.0)


def targets_text(temperature: float, alpha: float) -> str:
    """One line naming what the student learned from (rule card, report, metrics.json)."""
    base = ("the teacher's decisions (τ = 0: one-hot of its predicted class)" if temperature == 0
            else f"the teacher's probabilities at τ = {temperature:g}")
    return base if alpha == 0 else f"{1 - alpha:g} × {base} + {alpha:g} × the true labels"


def describe_choice(source: str, temperature: Any) -> str:
    """``"student default"``, ``"given"`` or ``"auto (validation fidelity)"`` with the value."""
    return f"{temperature:g} ({source})" if isinstance(temperature, (int, float)) else str(temperature)

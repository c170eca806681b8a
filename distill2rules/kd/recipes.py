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
:data:`distill2rules.kd.autotune.TEMPERATURE_GRID` on validation fidelity instead.
"""

from __future__ import annotations

from typing import Any

from distill2rules.students import STUDENTS

__all__ = ["default_temperature", "targets_text"]


def default_temperature(student: str) -> float:
    """The temperature ``distill`` uses for ``student`` when none is given.

    Each student plug-in declares it (``StudentPlugin.default_temperature``: 0 for logreg,
    scorecard, tree and rules; 1.0 — the teacher's probabilities — otherwise and for
    unregistered names).
    """
    plugin = STUDENTS.get(student) if student in STUDENTS else None
    return 1.0 if plugin is None else float(plugin.default_temperature)


def targets_text(temperature: float, alpha: float) -> str:
    """One line naming what the student learned from (rule card, report, metrics.json)."""
    base = (
        "the teacher's decisions (τ = 0: one-hot of its predicted class)"
        if temperature == 0
        else f"the teacher's probabilities at τ = {temperature:g}"
    )
    return base if alpha == 0 else f"{1 - alpha:g} × {base} + {alpha:g} × the true labels"


def describe_choice(source: str, temperature: Any) -> str:
    """``"student default"``, ``"given"`` or ``"auto (validation fidelity)"`` with the value."""
    return (
        f"{temperature:g} ({source})" if isinstance(temperature, (int, float)) else str(temperature)
    )

"""``--temperature auto`` / ``--alpha auto``: choose τ (and α) on the validation split.

Objective (documented, not accuracy): fit the student at every grid point, then

1. maximise **fidelity** on the validation split: agreement of the student's predicted class
   with the teacher's;
2. among grid points within ``tie_tolerance`` of the best fidelity (default 0.001, i.e. 0.1
   percentage point), take the lowest **KL(teacher ‖ student)** on the validation split (the
   log-loss against the teacher's probabilities minus the teacher's entropy, a constant), after
   the student's temperature calibration, so an under-confident student from a large τ is not
   penalised for what calibration repairs anyway;
3. remaining ties: the smaller τ, then the smaller α (earlier in the grid).

The grid's scores and the choice are recorded in ``metrics.json`` under ``"autotune"``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from distill2rules.errors import ConfigError

__all__ = ["ALPHA_GRID", "TEMPERATURE_GRID", "AutotuneResult", "autotune_kd", "is_auto"]

# 0 = the teacher's decisions (one-hot argmax), the best targets for fidelity for linear and
# additive students; 1 = its probabilities; 2, 4 = softened (the paper's regime)
TEMPERATURE_GRID: tuple[float, ...] = (0.0, 1.0, 2.0, 4.0)
ALPHA_GRID: tuple[float, ...] = (0.0, 0.25, 0.5)
OBJECTIVE = (
    "max validation fidelity to the teacher; ties within tie_tolerance broken by the lowest "
    "validation KL(teacher || calibrated student), then the smaller temperature and alpha"
)


def is_auto(value: Any) -> bool:
    """True for the string ``"auto"`` (any case)."""
    return isinstance(value, str) and value.strip().lower() == "auto"


@dataclass
class AutotuneResult:
    """The chosen τ and α, and the validation scores of every grid point."""

    temperature: float
    alpha: float
    grid: list[dict[str, Any]] = field(default_factory=list)
    tie_tolerance: float = 0.001
    searched: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "objective": OBJECTIVE,
            "split": "validation",
            "searched": list(self.searched),
            "temperature": self.temperature,
            "alpha": self.alpha,
            "tie_tolerance": self.tie_tolerance,
            "grid": self.grid,
        }


def autotune_kd(
    fit: Callable[[float, float], Any],
    score: Callable[[Any], tuple[float, float]],
    *,
    temperatures: Sequence[float],
    alphas: Sequence[float],
    tie_tolerance: float = 0.001,
    searched: Sequence[str] = ("temperature",),
) -> tuple[Any, AutotuneResult]:
    """Fit at every ``(τ, α)`` and pick one by the documented objective.

    Parameters
    ----------
    fit : callable ``(temperature, alpha) -> model``
        Fits (and calibrates) one student.
    score : callable ``model -> (fidelity, kl)``
        Validation fidelity to the teacher and KL(teacher ‖ student).
    temperatures, alphas : sequences of float
        The grid (a single value for a parameter that is not searched).

    Returns
    -------
    (model, AutotuneResult)
        The chosen fitted model (kept, not refitted) and the record.
    """
    if not temperatures or not alphas:
        raise ConfigError("the autotune grid needs at least one temperature and one alpha.")
    if not tie_tolerance >= 0:
        raise ConfigError(f"tie_tolerance must be >= 0, got {tie_tolerance}.")
    grid: list[dict[str, Any]] = []
    best_model, best_key = None, None
    fitted: list[tuple[dict[str, Any], Any]] = []
    for t in temperatures:
        for a in alphas:
            model = fit(float(t), float(a))
            fid, kl = score(model)
            row = {
                "temperature": float(t),
                "alpha": float(a),
                "val_fidelity": float(fid),
                "val_kl_teacher_student": float(kl),
            }
            grid.append(row)
            fitted.append((row, model))
    top = max(r["val_fidelity"] for r in grid)
    for row, model in fitted:  # grid order = smaller τ first, then smaller α
        if row["val_fidelity"] < top - tie_tolerance:
            continue
        key = row["val_kl_teacher_student"]
        if best_key is None or key < best_key - 1e-12:
            best_model, best_key = model, key
            chosen = row
    for row in grid:
        row["chosen"] = row is chosen
    return best_model, AutotuneResult(
        temperature=chosen["temperature"],
        alpha=chosen["alpha"],
        grid=grid,
        tie_tolerance=float(tie_tolerance),
        searched=tuple(searched),
    )

"""Composite objective J and Pareto fronts over a grid of distilled students.

``J = α_P·P − β_C·C + γ_I·I`` (paper): ``P`` a performance measure (test accuracy or
fidelity), ``C`` a cost normalised to ``[0, 1]`` across the grid (parameters or latency) and
``I`` the interpretability alignment (cosine of global SHAP importances).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from distill2rules.errors import ConfigError

__all__ = ["composite_objective", "dominates", "normalise_cost", "pareto_front", "parse_weights"]

#: default objectives of the front: accuracy up, complexity (parameters) down, alignment up
DEFAULT_OBJECTIVES: dict[str, str] = {"accuracy": "max", "params": "min", "cosine": "max"}


def parse_weights(weights: str | Sequence[float]) -> tuple[float, float, float]:
    """``"1,0.5,0.5"`` or a sequence → ``(α_P, β_C, γ_I)``, each finite and ≥ 0.

    Examples
    --------
    >>> parse_weights("1,0.5,0.25")
    (1.0, 0.5, 0.25)
    """
    if isinstance(weights, str):
        try:
            vals = [float(w) for w in weights.split(",") if w.strip()]
        except ValueError:
            raise ConfigError(
                f"--weights must be three numbers like 1,0.5,0.5, got {weights!r}."
            ) from None
    else:
        vals = [float(w) for w in weights]
    if len(vals) != 3 or not all(math.isfinite(v) and v >= 0 for v in vals):
        raise ConfigError(
            f"weights must be three non-negative numbers (α_P, β_C, γ_I), got {weights!r}.",
            hint="For example --weights 1,0.5,0.5.",
        )
    return vals[0], vals[1], vals[2]


def normalise_cost(costs: Sequence[float]) -> np.ndarray:
    """Min-max scale costs to ``[0, 1]`` across the grid (all equal → 0; NaN stays NaN).

    Examples
    --------
    >>> normalise_cost([10, 20, 30]).tolist()
    [0.0, 0.5, 1.0]
    """
    c = np.asarray(costs, dtype=np.float64)
    out = np.full_like(c, np.nan)
    ok = np.isfinite(c)
    if not ok.any():
        return out
    lo, hi = float(c[ok].min()), float(c[ok].max())
    out[ok] = 0.0 if hi - lo <= 0 else (c[ok] - lo) / (hi - lo)
    return out


def composite_objective(
    performance: Any, cost: Any, alignment: Any, weights: Sequence[float] = (1.0, 0.5, 0.5)
) -> np.ndarray:
    """``J = α_P·P − β_C·C + γ_I·I`` elementwise (``C`` already normalised to [0, 1]).

    A missing alignment (NaN) counts as 0 when ``γ_I = 0`` and makes J NaN otherwise.

    Examples
    --------
    >>> float(composite_objective(0.9, 0.5, 0.8, (1, 0.5, 0.5)))
    1.05
    """
    a, b, g = parse_weights(weights)
    P = np.asarray(performance, dtype=np.float64)
    C = np.asarray(cost, dtype=np.float64)
    Ia = np.asarray(alignment, dtype=np.float64)
    if g == 0:
        Ia = np.nan_to_num(Ia, nan=0.0)
    if b == 0:
        C = np.nan_to_num(C, nan=0.0)
    return a * P - b * C + g * Ia


def _oriented(rows: Sequence[Mapping[str, Any]], objectives: Mapping[str, str]) -> np.ndarray:
    """Matrix where larger is better in every column; missing/NaN values become -inf."""
    for name, sense in objectives.items():
        if sense not in ("max", "min"):
            raise ConfigError(f"objective {name!r} must be 'max' or 'min', got {sense!r}.")
    M = np.empty((len(rows), len(objectives)))
    for j, (name, sense) in enumerate(objectives.items()):
        col = np.array(
            [np.nan if r.get(name) is None else float(r[name]) for r in rows], dtype=np.float64
        )
        col = col if sense == "max" else -col
        M[:, j] = np.where(np.isfinite(col), col, -np.inf)
    return M


def dominates(a: np.ndarray, b: np.ndarray) -> bool:
    """``a`` is at least as good as ``b`` everywhere and strictly better somewhere (larger = better)."""
    return bool(np.all(a >= b) and np.any(a > b))


def pareto_front(
    rows: Sequence[Mapping[str, Any]], objectives: Mapping[str, str] | None = None
) -> list[int]:
    """Indices of the non-dominated rows (in input order).

    Parameters
    ----------
    rows : sequence of mappings
        One dict per configuration, holding every objective's value.
    objectives : mapping name → "max" | "min"
        Default: accuracy ↑, params ↓, cosine ↑. Missing or NaN values count as worst.

    Returns
    -------
    list of int
        Rows no other row dominates. Exact duplicates are all kept.

    Examples
    --------
    >>> pareto_front([{"a": 1, "c": 1}, {"a": 2, "c": 2}, {"a": 0, "c": 2}], {"a": "max", "c": "min"})
    [0, 1]
    """
    objectives = dict(objectives or DEFAULT_OBJECTIVES)
    M = _oriented(rows, objectives)
    front = []
    for i in range(len(M)):
        if not any(dominates(M[j], M[i]) for j in range(len(M)) if j != i):
            front.append(i)
    return front

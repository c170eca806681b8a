"""The experiments wing: multi-seed runs, τ/α/size grids, composite objective J, Pareto fronts, the paper's benchmark.

It composes :mod:`distill2rules.pipeline` (fitting) and :mod:`distill2rules.validation`
(measuring); it never reimplements a measure. Modules:

* :mod:`~distill2rules.experiments.runs` — :func:`compare_students` (several students vs one
  teacher on the same rows), :func:`evaluate_artifact` (``distill2rules evaluate``).
* :mod:`~distill2rules.experiments.sweep` — :func:`run_sweep` (``distill2rules sweep``; joblib or Dask).
* :mod:`~distill2rules.experiments.pareto` — :func:`composite_objective`, :func:`pareto_front`.
* :mod:`~distill2rules.experiments.paper` — :func:`run_paper_benchmark` (``distill2rules benchmark paper``).

Names are imported lazily so ``import distill2rules.experiments`` stays cheap. See ``docs/experiments.md``.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "compare_students": "distill2rules.experiments.runs",
    "evaluate_artifact": "distill2rules.experiments.runs",
    "run_sweep": "distill2rules.experiments.sweep",
    "composite_objective": "distill2rules.experiments.pareto",
    "normalise_cost": "distill2rules.experiments.pareto",
    "pareto_front": "distill2rules.experiments.pareto",
    "PAPER_CASES": "distill2rules.experiments.paper",
    "PaperSettings": "distill2rules.experiments.paper",
    "run_paper_benchmark": "distill2rules.experiments.paper",
}

__all__ = sorted(_LAZY)  # noqa: PLE0605 - a list, built from the lazy table


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'distill2rules.experiments' has no attribute {name!r}")

"""Moved to :mod:`distill2rules.kd.autotune` (choosing τ and α is the KD wing's work); kept so
``from distill2rules.experiments.autotune import ...`` still works."""

from __future__ import annotations

from distill2rules.kd.autotune import (
    ALPHA_GRID,
    OBJECTIVE,
    TEMPERATURE_GRID,
    AutotuneResult,
    autotune_kd,
    is_auto,
)

__all__ = [
    "ALPHA_GRID",
    "OBJECTIVE",
    "TEMPERATURE_GRID",
    "AutotuneResult",
    "autotune_kd",
    "is_auto",
]

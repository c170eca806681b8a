"""Special values for students: each declared code is a level of its own.

Every student takes ``special_values`` (``{"months_since_delinq": {"-9": "no record"}}``,
``{"*": {...}}`` for every numeric column, or the ``--special-values`` text). The base class
hands the student :class:`~distill2rules.students._base.RawInputs` whose ``numeric`` holds
special values as NaN (so edges, clipping, standardisation, monotone trends and imputation
never see them) and whose ``special_index`` says which row holds which code; the helpers
here turn that into indicator columns, per-code statistics and spec entries. The spec's
meaning is in :mod:`distill2rules.spec._special`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from distill2rules.data import (
    normalise_special_values,
    parse_special_values,
    resolve_special_values,
)
from distill2rules.spec import special_key

__all__ = ["SpecialLevel", "resolve_student_specials", "special_indicators", "special_levels"]


@dataclass(frozen=True)
class SpecialLevel:
    """One declared code of one numeric column."""

    j: int  # numeric column index
    feature: str
    key: str  # canonical text of the code ("-9")
    label: str
    value: float
    rows: np.ndarray  # (n,) bool: rows holding this code

    @property
    def count(self) -> int:
        return int(self.rows.sum())


def resolve_student_specials(
    value: Any, numeric: list[str], columns: list[str]
) -> dict[str, dict[str, str]]:
    """A student's ``special_values`` parameter as ``{numeric column: {code key: label}}``."""
    if value is None or (isinstance(value, (dict, str)) and not value):
        return {}
    declared = (
        parse_special_values(value)
        if isinstance(value, str)
        else normalise_special_values(value, "special_values")
    )
    return resolve_special_values(declared, numeric, columns)


def special_levels(inputs: Any, j: int | None = None) -> list[SpecialLevel]:
    """Every declared code (of numeric column ``j``, or of all columns), in declaration order."""
    out = []
    for jj, name in enumerate(inputs.numeric_columns):
        if (j is not None and jj != j) or name not in inputs.special:
            continue
        idx = inputs.special_index.get(jj)
        for i, (key, label) in enumerate(inputs.special[name].items()):
            rows = np.zeros(inputs.n, dtype=bool) if idx is None else idx == i
            out.append(SpecialLevel(jj, name, key, label, float(key), rows))
    return out


def special_indicators(inputs: Any) -> tuple[np.ndarray, list[SpecialLevel]]:
    """0/1 matrix ``[n, S]``: one column per declared code (all columns, declaration order)."""
    levels = special_levels(inputs)
    if not levels:
        return np.zeros((inputs.n, 0)), []
    return np.column_stack([lv.rows.astype(np.float64) for lv in levels]), levels


def check_key(key: str) -> str:
    """The canonical key (a no-op for keys made by the data wing)."""
    return special_key(float(key))


def indicator_column(inputs: Any, feature: str, key: str) -> np.ndarray:
    """0/1 ``[n]``: rows of ``inputs`` holding code ``key`` of ``feature``."""
    j = inputs.numeric_columns.index(feature)
    idx = inputs.special_index.get(j)
    keys = list(inputs.special.get(feature, {}))
    if idx is None or key not in keys:
        return np.zeros(inputs.n)
    return (idx == keys.index(key)).astype(np.float64)


def special_entry(level: SpecialLevel, score: Any, targets: np.ndarray | None = None) -> dict:
    """The spec entry ``{"label", "score", "count"[, "class_shares"]}`` of one code (the mean
    training target of its rows, per class)."""
    entry: dict[str, Any] = {
        "label": level.label,
        "score": [float(v) for v in np.atleast_1d(score)],
        "count": level.count,
    }
    if targets is not None and level.count:
        entry["class_shares"] = [float(v) for v in targets[level.rows].mean(axis=0)]
    return entry

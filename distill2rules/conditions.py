"""One rule condition checked against one value: the single-value twin of the spec evaluator.

:class:`Condition` prepares a rule-list condition (``docs/spec.md``) once and then says whether it
holds for one prepared value: a float32 number (NaN = missing) or a canonical category string
(``""`` = missing). It mirrors :func:`distill2rules.spec.evaluate`: a missing value takes
``cond["missing"]``; a feature's special value (one of ``specials``) is a level, not a number, so
``<=`` / ``>`` hold for it only when it is listed in ``cond["special"]``.

The reason codes, the rule card and the pandas-free :class:`~distill2rules.scoring.Scorer` all use
this one implementation. numpy and the standard library only (the edge install).

Examples
--------
>>> Condition({"feature": "age", "op": "<=", "value": 30})(25.0)
True
>>> Condition({"feature": "age", "op": "<=", "value": 30, "missing": True})(float("nan"))
True
>>> Condition({"feature": "months", "op": ">", "value": 3}, specials=[-9])(-9.0)
False
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

__all__ = ["Condition", "condition_holds_for", "is_missing"]

_SPECIAL_OPS = ("is_special", "not_special")


def is_missing(value: Any) -> bool:
    """None, ``""`` or NaN: a missing value (as the spec evaluator prepares it)."""
    if value is None or (isinstance(value, str) and value == ""):
        return True
    return isinstance(value, (float, np.floating)) and math.isnan(float(value))


def _f32(value: Any) -> float | None:
    """``value`` rounded to float32 (as the graph and the evaluator compare codes); None if not a number."""
    try:
        return float(np.float32(float(value)))
    except (TypeError, ValueError):
        return None


def _f32_set(values: Iterable[Any]) -> frozenset[float]:
    return frozenset(x for x in map(_f32, values) if x is not None and not math.isnan(x))


class Condition:
    """A rule condition prepared for repeated checks: ``Condition(cond, specials)(value) -> bool``.

    Parameters
    ----------
    cond : mapping
        ``{"feature", "op", "value" | "values", "missing"?, "special"?}`` with ``op`` one of
        ``<=``, ``>``, ``in``, ``not_in``, ``is_missing``, ``not_missing``, ``is_special``,
        ``not_special``.
    specials : iterable of float, optional
        The feature's special values (codes that are levels, not numbers).
    """

    __slots__ = (
        "cond",
        "missing_ok",
        "op",
        "special",
        "specials",
        "threshold",
        "values",
        "values32",
    )

    def __init__(self, cond: Mapping[str, Any], specials: Iterable[Any] = ()) -> None:
        self.cond = cond
        self.op: str = cond["op"]
        self.missing_ok = bool(cond.get("missing", False))
        value = cond.get("value") if self.op in ("<=", ">") else None
        self.threshold = math.nan if value is None else float(value)  # JSON's "inf" / "-inf" too
        raw_values = cond.get("values", []) or []
        self.values = frozenset(str(v) for v in raw_values)
        self.values32 = _f32_set(raw_values) if self.op in _SPECIAL_OPS else frozenset()
        self.special = _f32_set(cond.get("special", []) or [])
        self.specials = _f32_set(specials)

    def __call__(self, value: Any) -> bool:
        op = self.op
        missing = is_missing(value)
        if op in _SPECIAL_OPS:
            inside = not missing and _f32(value) in self.values32
            return inside if op == "is_special" else not inside
        if self.specials and not missing and op in ("<=", ">") and _f32(value) in self.specials:
            return _f32(value) in self.special  # a special code is a level: only its listing counts
        if op == "is_missing":
            return missing
        if op == "not_missing":
            return not missing
        if missing:
            return self.missing_ok
        if op == "<=":
            return float(value) <= self.threshold
        if op == ">":
            return float(value) > self.threshold
        inside = str(value) in self.values
        return inside if op == "in" else not inside

    def __repr__(self) -> str:
        return f"Condition({dict(self.cond)!r})"


def condition_holds_for(cond: Mapping[str, Any], value: Any, specials: Iterable[Any] = ()) -> bool:
    """Whether ``cond`` holds for one prepared value (see :class:`Condition`)."""
    return Condition(cond, specials)(value)

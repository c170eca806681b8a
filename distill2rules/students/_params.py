"""Checking student parameters (``fit -p KEY=VALUE``) against the student's own signature.

Each student declares its parameters in ``__init__`` (keyword-only, annotated, with defaults).
:func:`check_student_params` refuses an unknown key, a value of the wrong type, a non-finite
number or an out-of-range value with one :class:`~distill2rules.errors.ConfigError` line naming
the parameter and what it accepts — before any data is read or any model is fitted (so
``-p max_terms=-3`` no longer fits a constant model).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping
from typing import Any

from distill2rules.errors import ConfigError
from distill2rules.students import student_class

__all__ = ["check_student_params", "student_parameters"]

# Integers that count something: at least 1.
_AT_LEAST_ONE = (
    "max_terms",
    "max_rules",
    "max_depth",
    "max_conditions",
    "max_bins",
    "max_interaction_bins",
    "max_leaf_nodes",
    "outer_bags",
    "inner_bags",
    "max_rounds",
    "max_iter",
    "epochs",
    "batch_size",
    "beam_width",
    "n_threads",
    "min_category_count",
    "patience",
    "n_bins",
    "max_points",
)
# Numbers that must be strictly positive.
_POSITIVE = ("learning_rate", "lr", "temperature", "min_support", "min_samples_leaf")
# Fractions in [0, 1].
_FRACTION = ("alpha", "validation_fraction", "min_support")
# Numbers that may be negative (joblib-style "all cores").
_MAY_BE_NEGATIVE = ("n_jobs",)


def student_parameters(student: str) -> dict[str, inspect.Parameter]:
    """The keyword parameters a registered student accepts (name → ``inspect.Parameter``)."""
    sig = inspect.signature(student_class(student).__init__)
    kinds = (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return {n: p for n, p in sig.parameters.items() if n != "self" and p.kind in kinds}


def _type_names(annotation: Any) -> set[str]:
    """``"int | None"`` → ``{"int", "None"}``; anything not understood → ``{"Any"}``."""
    if annotation is inspect.Parameter.empty:
        return {"Any"}
    text = (
        annotation
        if isinstance(annotation, str)
        else getattr(annotation, "__name__", str(annotation))
    )
    text = text.replace("typing.", "")
    out = set()
    depth, cur = 0, ""
    for ch in text:
        depth += ch == "["
        depth -= ch == "]"
        if ch == "|" and depth == 0:
            out.add(cur.strip())
            cur = ""
        else:
            cur += ch
    out.add(cur.strip())
    return out or {"Any"}


def _matches(value: Any, names: set[str]) -> bool:
    for t in names:
        if t == "Any" or (t in ("None", "NoneType") and value is None):
            return True
        if t == "bool" and isinstance(value, bool):
            return True
        if t == "int" and isinstance(value, int) and not isinstance(value, bool):
            return True
        if t == "float" and isinstance(value, (int, float)) and not isinstance(value, bool):
            return True
        if t == "str" and isinstance(value, str):
            return True
        if t.startswith(("Sequence[", "list[", "tuple[")) and isinstance(value, (list, tuple)):
            inner = t[t.index("[") + 1 :].rstrip("]")
            return all(
                _matches(v, {x.strip() for x in inner.split(",") if x.strip() != "..."})
                for v in value
            )
        if t.startswith(("Mapping[", "dict[")) and isinstance(value, Mapping):
            return True
    return False


def _describe(names: set[str]) -> str:
    words = {
        "int": "an integer",
        "float": "a number",
        "bool": "true or false",
        "str": "a string",
        "None": "null",
        "NoneType": "null",
    }
    return " or ".join(
        words.get(t, "a list" if t.startswith(("Sequence", "list", "tuple")) else t)
        for t in sorted(names)
    )


def _check_range(student: str, key: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return
    shown = f"-p {key}={value!r}"
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{shown}: must be a finite number.")
    if key == "random_state" and value < 0:
        raise ConfigError(f"{shown}: a seed must be >= 0.")
    if key in _AT_LEAST_ONE and value < 1:
        raise ConfigError(f"{shown}: the {student} student needs {key} >= 1.")
    if key in _POSITIVE and value <= 0:
        raise ConfigError(f"{shown}: the {student} student needs {key} > 0.")
    if (
        key in _FRACTION
        and not (isinstance(value, int) and key == "min_support")
        and not 0 <= value <= 1
    ):
        raise ConfigError(f"{shown}: the {student} student needs {key} in [0, 1].")
    if key not in _MAY_BE_NEGATIVE and value < 0:
        raise ConfigError(f"{shown}: the {student} student needs {key} >= 0.")


def check_student_params(student: str, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Validate ``params`` for ``student``; returns them unchanged as a dict.

    Raises
    ------
    ConfigError
        An unknown key (the message lists the known ones), a value whose type the student's
        signature does not accept, a non-finite number, or a value out of range (counts >= 1,
        rates > 0, fractions in [0, 1], everything else >= 0 except ``n_jobs``).
    """
    accepted = student_parameters(student)
    out = dict(params or {})
    for key, value in out.items():
        if key not in accepted:
            known = ", ".join(sorted(accepted))
            raise ConfigError(
                f"-p {key}: the {student} student has no parameter {key!r}.",
                hint=f"Known: {known}.",
            )
        if (
            key == "monotone"
        ):  # parsed and checked by the student (string 'col:+,col:-' or a mapping)
            continue
        names = _type_names(accepted[key].annotation)
        if not _matches(value, names):
            raise ConfigError(
                f"-p {key}={value!r}: the {student} student expects {_describe(names)}."
            )
        _check_range(student, key, value)
    return out

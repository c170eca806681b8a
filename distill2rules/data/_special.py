"""Special values (bureau codes such as "no record") and extra missing markers: schema facts.

A *special value* is a number in a numeric column that is not a quantity but a code
(``-9`` = "no record", ``-8`` = "no usable trades"). Declared, it becomes its own level in
every student (never a numeric edge, clip bound, monotone point or counterfactual target)
and is shown by its label.

Declarations (see ``docs/data.md``):

* schema JSON ``"special_values"``: ``{"months_since_delinq": {"-9": "no record"}}`` per
  column, and/or ``{"*": {"-9": "no record"}}`` for every numeric column;
* ``fit --special-values``: ``'-9=no record,-8=no usable trades'`` (every numeric column) or
  ``'months_since_delinq:-9=no record,-8=no usable trades;util:-1=n/a'`` (per column, groups
  separated by ``;``); a code without ``=label`` is labelled ``"code <value>"``.

``missing_values`` (schema JSON) lists extra markers read as missing: ``["-1", "unknown"]``
for every column or ``{"income": ["-1"]}`` per column.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from distill2rules.errors import ConfigError, SchemaError

__all__ = [
    "ALL_NUMERIC",
    "code_key",
    "looks_like_codes",
    "merge_special_values",
    "normalise_missing_values",
    "normalise_special_values",
    "parse_special_values",
    "resolve_special_values",
]

ALL_NUMERIC = "*"
SpecialValues = dict[str, dict[str, str]]  # column (or "*") -> {code key -> label}


def code_key(value: Any) -> str:
    """Canonical text of a special value as float32 (``-9`` -> ``"-9"``, ``99.5`` -> ``"99.5"``)."""
    try:
        f = float(np.float32(float(value)))
    except (TypeError, ValueError):
        raise SchemaError(
            f"special value {value!r} is not a number.",
            hint="Special values are numeric codes such as -9.",
        ) from None
    if not math.isfinite(f):
        raise SchemaError(f"special value {value!r} must be a finite number.")
    return str(int(f)) if f.is_integer() else repr(f)


def _codes(column: str, mapping: Any, where: str) -> dict[str, str]:
    if isinstance(mapping, (list, tuple)):
        mapping = {v: f"code {code_key(v)}" for v in mapping}
    if not isinstance(mapping, Mapping) or not mapping:
        raise SchemaError(
            f'{where} for {column!r} must map codes to labels, e.g. {{"-9": "no record"}}.'
        )
    out: dict[str, str] = {}
    for value, label in mapping.items():
        key = code_key(value)
        text = str(label).strip() if label is not None else ""
        if not text:
            raise SchemaError(f"{where}: code {key} of {column!r} needs a non-empty label.")
        out[key] = text
    labels = list(out.values())
    dup = sorted({x for x in labels if labels.count(x) > 1})
    if dup:
        raise SchemaError(
            f"{where}: {column!r} gives the label {dup[0]!r} to two codes.",
            hint="Give every special value of a column its own label.",
        )
    return out


def normalise_special_values(data: Any, where: str = "schema 'special_values'") -> SpecialValues:
    """Validate the JSON form ``{column or "*": {code: label}}`` into canonical keys."""
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise SchemaError(
            f"{where} must be an object, e.g. "
            '{"months_since_delinq": {"-9": "no record"}} or {"*": {...}}.'
        )
    return {str(col): _codes(str(col), m, where) for col, m in data.items()}


def normalise_missing_values(data: Any) -> dict[str, list[str]]:
    """``["-1", "unknown"]`` (every column) or ``{"col": [...]}`` -> ``{column or "*": [...]}``."""
    if data is None:
        return {}
    if isinstance(data, (list, tuple)):
        data = {ALL_NUMERIC: data}
    if not isinstance(data, Mapping):
        raise SchemaError(
            "schema 'missing_values' must be a list of markers or an object "
            'mapping columns to lists, e.g. ["-1", "unknown"].'
        )
    out: dict[str, list[str]] = {}
    for col, markers in data.items():
        if isinstance(markers, (str, int, float)):
            markers = [markers]
        if not isinstance(markers, (list, tuple)) or not markers:
            raise SchemaError(f"schema 'missing_values' for {col!r} must be a non-empty list.")
        out[str(col)] = [str(m).strip() for m in markers]
    return out


def parse_special_values(text: str) -> SpecialValues:
    """Parse ``--special-values`` (see the module docstring) into ``{column or "*": {...}}``."""
    out: SpecialValues = {}
    for group in str(text).split(";"):
        group = group.strip()
        if not group:
            continue
        col_raw, sep, _ = group.split("=", 1)[0].rpartition(":")
        column, body = (col_raw.strip(), group[len(col_raw) + 1 :]) if sep else (ALL_NUMERIC, group)
        codes: dict[str, str] = {}
        for item in body.split(","):
            item = item.strip()
            if not item:
                continue
            value, has_label, label = item.partition("=")
            try:
                key = code_key(value.strip())
            except SchemaError:
                raise ConfigError(
                    f"--special-values: {value.strip()!r} in {item!r} is not a number.",
                    hint="Write codes as '-9=no record,-8=no usable trades' or "
                    "'column:-9=no record;other:-1=n/a'.",
                ) from None
            codes[key] = label.strip() if has_label and label.strip() else f"code {key}"
        if not column or not codes:
            raise ConfigError(
                f"--special-values group {group!r} names no codes.",
                hint="Write e.g. 'months_since_delinq:-9=no record,-8=no usable trades'.",
            )
        out[column] = {**out.get(column, {}), **_codes(column, codes, "--special-values")}
    if not out:
        raise ConfigError(
            "--special-values is empty.", hint="Write e.g. '-9=no record,-8=no usable trades'."
        )
    return out


def merge_special_values(base: SpecialValues, extra: SpecialValues) -> SpecialValues:
    """``extra`` (e.g. ``--special-values``) added to ``base`` (the schema's); extra wins per code."""
    out = {c: dict(m) for c, m in base.items()}
    for col, m in extra.items():
        out[col] = {**out.get(col, {}), **m}
    return out


def resolve_special_values(
    declared: SpecialValues, numeric_columns: list[str], all_columns: list[str] | None = None
) -> dict[str, dict[str, str]]:
    """Per numeric column ``{code key -> label}``: the ``"*"`` form applies to every numeric
    column, a column's own declaration wins. Raises for unknown or non-numeric columns."""
    every = declared.get(ALL_NUMERIC, {})
    known = set(all_columns if all_columns is not None else numeric_columns)
    out: dict[str, dict[str, str]] = {}
    for col in declared:
        if col == ALL_NUMERIC:
            continue
        if col not in known:
            raise SchemaError(
                f"special values are declared for unknown column {col!r}.",
                hint="Name a column of the data (or use '*' for every numeric column).",
            )
        if col not in numeric_columns:
            raise SchemaError(
                f"special values are declared for {col!r}, which is not numeric.",
                hint="Special values are codes in numeric columns; a categorical "
                "column already keeps every level apart.",
            )
    for col in numeric_columns:
        merged = {**every, **declared.get(col, {})}
        if merged:
            out[col] = _codes(col, merged, "special values")
    return out


def looks_like_codes(
    x: Any, *, max_codes: int = 5, min_share: float = 0.01, min_rows: int = 5
) -> list[float]:
    """The negative integer codes of a numeric column that looks like it carries special values.

    "Looks like": 1..``max_codes`` distinct negative integers holding at least ``min_share``
    of the present values (and ``min_rows`` rows) in a column whose other values are
    non-negative and take at least three distinct values. Returns ``[]`` otherwise.
    """
    v = pd.to_numeric(pd.Series(np.asarray(x).ravel()), errors="coerce").to_numpy(dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return []
    neg = v[v < 0]
    if neg.size == 0:
        return []
    codes = np.unique(neg)
    if codes.size > max_codes or not np.all(codes == np.round(codes)):
        return []
    if neg.size < max(min_rows, min_share * v.size):
        return []
    if np.unique(v[v >= 0]).size < 3:
        return []
    return [float(c) for c in codes]


class SpecialValuesWarning(UserWarning):
    """A numeric column looks like it carries codes, but none were declared."""


def undeclared_codes(
    frame: pd.DataFrame, numeric_columns: list[str], declared: Mapping[str, Any]
) -> dict[str, list[float]]:
    """Numeric columns without declared special values that :func:`looks_like_codes`."""
    out = {}
    for col in numeric_columns:
        if col in declared or col not in frame.columns:
            continue
        codes = looks_like_codes(frame[col].to_numpy())
        if codes:
            out[col] = codes
    return out


def codes_warning(flagged: Mapping[str, list[float]]) -> str:
    """One line naming the columns that look like they carry codes, and how to declare them."""
    parts = [f"{c!r} ({', '.join(code_key(v) for v in codes)})" for c, codes in flagged.items()]
    first, codes = next(iter(flagged.items()))
    example = ",".join(f"{code_key(v)}=..." for v in codes)
    return (
        f"column(s) {', '.join(parts)} look like they carry special codes (a few negative values "
        "in an otherwise non-negative column) but no special values were declared, so they are "
        f"modelled as numbers; declare them, e.g. --special-values '{first}:{example}' or the "
        'schema\'s "special_values", if they are codes.'
    )


def split_codes(
    frame: pd.DataFrame, special: Mapping[str, Mapping[str, str]]
) -> tuple[pd.DataFrame, list[str]]:
    """Each coded column as its numbers (codes -> NaN) plus a companion text column of its codes.

    For code-unaware row generators (augmentation): they then never jitter, mix or clip a code
    as a number. :func:`join_codes` puts the codes back.
    """
    out = frame.copy()
    companions = []
    for col, codes in special.items():
        if col not in out.columns:
            continue
        x = pd.to_numeric(out[col], errors="coerce").astype("float64")
        key = x.map(lambda v: code_key(v) if np.isfinite(v) else None)
        is_code = key.isin(list(codes))
        name = f"{col} [special]"
        while name in out.columns:
            name += "_"
        out[col] = x.mask(is_code)
        out[name] = key.where(is_code, None).astype(object)
        companions.append(name)
    return out, companions


def join_codes(
    frame: pd.DataFrame, special: Mapping[str, Mapping[str, str]], companions: list[str]
) -> pd.DataFrame:
    """Inverse of :func:`split_codes`: the code where the companion holds one, else the number."""
    out = frame.copy()
    cols = [c for c in special if c in out.columns]
    for col, name in zip(cols, companions):
        code = pd.to_numeric(out[name], errors="coerce")
        out[col] = code.where(code.notna(), out[col])
        out = out.drop(columns=[name])
    return out

"""Special values in a spec: numeric codes (``-9`` = "no record") that are levels, not numbers.

A spec lists them at the top level, ``"special_values": {"months_since_delinq": {"-9": "no
record", "-8": "no usable trades"}}`` (keys: the code as text, see
:func:`distill2rules.data._special.code_key`). Their meaning, which every exporter reproduces:

* every numeric use of the column (linear terms, table axes, MLP standardisation, the
  comparisons of rule conditions) sees a special value as *missing*;
* an additive term on the column (linear or one numeric axis) may carry
  ``"special": {"-9": {"label": "no record", "score": [..], "count": n}}``: a row holding that
  code gets that score as the term's contribution instead;
* a rule condition ``{"op": "is_special", "values": [-9]}`` holds iff the value is one of
  the codes (``not_special``: iff it is not); a comparison (``<=``, ``>``) holds for a special
  row iff its code is listed in the condition's ``"special"`` (default: none), exactly as
  ``"missing"`` says what a NaN row gets; ``is_missing`` / ``not_missing`` look at NaN only;
* an MLP's ``preprocess.special`` lists ``{"feature", "value", "label"}``: one 0/1 input each,
  after the one-hot blocks.

Helpers here are numpy-only; exporters and reason codes use :func:`is_special_value` and
:func:`special_label` to never cite or propose a code as a number.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from distill2rules.errors import SpecError

__all__ = [
    "is_special_value",
    "mask_specials",
    "special_codes",
    "special_key",
    "special_label",
    "special_values",
]


def special_key(value: Any) -> str:
    """Canonical text of a code as float32: ``-9.0`` -> ``"-9"``, ``99.5`` -> ``"99.5"``."""
    f = float(np.float32(float(value)))
    return str(int(f)) if math.isfinite(f) and f.is_integer() else repr(f)


def special_values(spec: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """``{feature: {code key: label}}`` of a spec (empty when it declares none)."""
    raw = spec.get("special_values") or {}
    return {str(f): {str(k): str(v) for k, v in m.items()} for f, m in raw.items() if m}


def special_codes(spec: Mapping[str, Any], feature: str) -> list[tuple[float, str, str]]:
    """``[(float32 value, key, label)]`` of one feature, in declaration order."""
    return [
        (float(np.float32(float(k))), k, v)
        for k, v in special_values(spec).get(feature, {}).items()
    ]


def is_special_value(spec: Mapping[str, Any], feature: str, value: Any) -> bool:
    """True when ``value`` is a declared special value of ``feature`` (a level, not a number:
    reason codes must not cite it as a reference, counterfactual search must not propose it)."""
    return special_label(spec, feature, value) is not None


def special_label(spec: Mapping[str, Any], feature: str, value: Any) -> str | None:
    """The label of ``value`` if it is a special value of ``feature``, else None."""
    codes = special_values(spec).get(feature)
    if not codes or value is None:
        return None
    try:
        f = float(np.float32(float(value)))
    except (TypeError, ValueError):
        return None
    if not math.isfinite(f):
        return None
    return codes.get(special_key(f))


def mask_specials(
    spec: Mapping[str, Any], num: np.ndarray
) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """Numeric inputs with special values set to NaN, and per column with codes the index of
    each row's code in :func:`special_codes` (``-1``: not special)."""
    table = special_values(spec)
    if not table:
        return num, {}
    cols = list(spec["inputs"].get("numeric", []))
    out = num
    codes: dict[int, np.ndarray] = {}
    for j, name in enumerate(cols):
        if name not in table:
            continue
        x = np.asarray(num[:, j], dtype=np.float32)
        idx = np.full(x.shape[0], -1, dtype=np.int64)
        for i, (v, _, _) in enumerate(special_codes(spec, name)):
            idx[x == np.float32(v)] = i
        if (idx >= 0).any():
            if out is num:
                out = np.array(num, copy=True)
            out[idx >= 0, j] = np.nan
        codes[j] = idx
    return out, codes


def values_mask(x: np.ndarray, values: Sequence[Any]) -> np.ndarray:
    """Rows of a numeric column equal (in float32) to one of ``values``."""
    x32 = np.asarray(x, dtype=np.float32)
    vals = np.asarray([float(v) for v in values], dtype=np.float32)
    return np.isin(x32, vals) if vals.size else np.zeros(x32.shape[0], dtype=bool)


def validate_specials(spec: Mapping[str, Any], kp: int | None) -> None:
    """Structural checks of everything special-value related in a spec (raises SpecError)."""
    table = spec.get("special_values") or {}
    if not isinstance(table, Mapping):
        raise SpecError("spec 'special_values' must map numeric inputs to {code: label}.")
    numeric = set(spec["inputs"].get("numeric", []))
    for feature, codes in table.items():
        if feature not in numeric:
            raise SpecError(
                f"special values are declared for '{feature}', which is not a numeric input."
            )
        if not isinstance(codes, Mapping):
            raise SpecError(f"special values of '{feature}' must map codes to labels.")
        for key in codes:
            try:
                ok = special_key(key) == key
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise SpecError(
                    f"special value key {key!r} of '{feature}' is not a canonical number."
                )
    for term in spec.get("terms", []) or []:
        if not term.get("special"):
            continue
        axes = term.get("axes", [])
        if term.get("type") == "linear":
            feature = term.get("feature")
        elif len(axes) == 1 and axes[0].get("kind") == "numeric":
            feature = axes[0].get("feature")
        else:
            raise SpecError(
                f"term '{term.get('name')}' has special scores but is not a linear term or "
                "a table over one numeric axis."
            )
        declared = table.get(feature, {})
        for key, entry in term["special"].items():
            if key not in declared:
                raise SpecError(
                    f"term '{term.get('name')}' scores special value {key!r}, which "
                    f"'special_values' does not declare for '{feature}'."
                )
            if kp is not None and len(np.atleast_1d(entry.get("score", []))) != kp:
                raise SpecError(
                    f"term '{term.get('name')}' special score of {key!r} needs {kp} value(s)."
                )
    for p in (spec.get("preprocess") or {}).get("special") or []:
        if special_key(p.get("value")) not in table.get(p.get("feature"), {}):
            raise SpecError(
                f"mlp special input {p.get('feature')!r} = {p.get('value')!r} is not a declared "
                "special value."
            )

"""The one ``jsonable``: plain JSON types for every file the package writes.

NaN becomes ``None`` and ±inf the strings ``"inf"``/``"-inf"`` (what ``student.json`` has always
held: a bin edge may be infinite, and :func:`distill2rules.spec.from_json` reads the strings back).
Dataclass results are written through their ``to_dict()`` (or field by field).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

__all__ = ["jsonable", "unjson_number"]


def jsonable(obj: Any) -> Any:
    """``obj`` as plain JSON types: numpy scalars/arrays unwrapped, NaN -> None, ±inf -> ``"inf"``/``"-inf"``."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        f = float(obj)
        if math.isnan(f):
            return None
        if math.isinf(f):
            return "inf" if f > 0 else "-inf"
        return f
    if isinstance(obj, np.bool_):
        return bool(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        if hasattr(obj, "to_dict"):
            return jsonable(obj.to_dict())
        return {f.name: jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    return obj


def unjson_number(v: Any) -> Any:
    """Inverse of :func:`jsonable` for one number: ``"inf"``/``"-inf"`` back to floats."""
    if v == "inf":
        return math.inf
    if v == "-inf":
        return -math.inf
    return v

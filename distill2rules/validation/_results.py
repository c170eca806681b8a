"""Result containers shared by the validation modules.

Every measure returns a small dataclass. ``to_dict()`` gives plain JSON types (no numpy
scalars or arrays; NaN and infinities become ``None``) so results can go straight into
``metrics.json``. Results also support ``result["key"]`` for dict-style access.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

__all__ = ["Result", "jsonable"]


def jsonable(obj: Any) -> Any:
    """Convert ``obj`` recursively to JSON types (NaN/inf -> ``None``)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        if hasattr(obj, "to_dict"):
            return obj.to_dict()
        return {f.name: jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        return None if not math.isfinite(f) else f
    return obj


@dataclasses.dataclass
class Result:
    """Base class: ``to_dict()`` for JSON, ``result[key]`` for dict-style reads."""

    def to_dict(self) -> dict[str, Any]:
        """All fields as plain JSON types."""
        return {f.name: jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}

    def __getitem__(self, key: str) -> Any:
        if key not in {f.name for f in dataclasses.fields(self)}:
            raise KeyError(key)
        return getattr(self, key)

    def keys(self) -> list[str]:
        """Names of the fields (so ``dict(result)`` works)."""
        return [f.name for f in dataclasses.fields(self)]

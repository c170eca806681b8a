"""Result containers shared by the validation modules.

Every measure returns a small dataclass. ``to_dict()`` gives plain JSON types (no numpy
scalars or arrays; NaN becomes ``None`` and ±inf ``"inf"``/``"-inf"``, as in every file
the package writes: :func:`distill2rules._json.jsonable`) so results can go straight into
``metrics.json``. Results also support ``result["key"]`` for dict-style access.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from distill2rules._json import jsonable

__all__ = ["Result", "jsonable"]


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

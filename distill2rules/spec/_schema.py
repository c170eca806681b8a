"""The JSON Schema of ``distill2rules.spec/1`` (``schema.json``, shipped with the package) and a
small validator for the subset of JSON Schema 2020-12 it uses, so loading a spec needs no
extra dependency.

Supported keywords: ``type``, ``enum``, ``const``, ``properties``, ``required``,
``additionalProperties``, ``items``, ``minItems``, ``maxItems``, ``allOf``, ``anyOf``,
``if``/``then``/``else`` and local ``$ref`` (``#/$defs/...``). Anything else in the schema is
an error of the schema, caught by ``tests/spec``.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping
from importlib import resources
from typing import Any

from distill2rules.errors import SpecError

__all__ = ["KEYWORDS", "schema", "schema_errors", "validate_schema"]

KEYWORDS = frozenset(
    {
        "$schema",
        "$id",
        "$defs",
        "$ref",
        "title",
        "description",
        "type",
        "enum",
        "const",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "minItems",
        "maxItems",
        "allOf",
        "anyOf",
        "if",
        "then",
        "else",
    }
)


@functools.lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The spec's JSON Schema (``distill2rules/spec/schema.json``)."""
    text = resources.files("distill2rules.spec").joinpath("schema.json").read_text(encoding="utf-8")
    return dict(json.loads(text))


def _is_type(value: Any, name: str) -> bool:
    if name == "object":
        return isinstance(value, Mapping)
    if name == "array":
        return isinstance(value, list)
    if name == "string":
        return isinstance(value, str)
    if name == "boolean":
        return isinstance(value, bool)
    if name == "null":
        return value is None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if name == "number":
        return True
    if name == "integer":
        return isinstance(value, int) or (math.isfinite(value) and float(value).is_integer())
    raise ValueError(f"unsupported JSON Schema type {name!r}")


def _same(a: Any, b: Any) -> bool:
    """JSON equality: ``true`` is not ``1``."""
    return isinstance(a, bool) == isinstance(b, bool) and a == b


def _where(path: tuple[Any, ...]) -> str:
    return (
        "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
        or "(top level)"
    )


class _Validator:
    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root

    def resolve(self, ref: str) -> Mapping[str, Any]:
        if not ref.startswith("#/"):
            raise ValueError(f"only local $ref are supported, got {ref!r}")
        node: Any = self.root
        for part in ref[2:].split("/"):
            node = node[part]
        return node

    def errors(self, value: Any, sch: Mapping[str, Any], path: tuple[Any, ...] = ()) -> list[str]:
        unknown = set(sch) - KEYWORDS
        if unknown:
            raise ValueError(f"unsupported JSON Schema keyword(s) {sorted(unknown)}")
        if "$ref" in sch:
            ref_errs = self.errors(value, self.resolve(sch["$ref"]), path)
            if ref_errs:
                return ref_errs
        types = sch.get("type")
        if types is not None:
            names = [types] if isinstance(types, str) else list(types)
            if not any(_is_type(value, t) for t in names):
                return [
                    f"{_where(path)}: expected {' or '.join(names)}, got {type(value).__name__}"
                ]
        if "const" in sch and not _same(value, sch["const"]):
            return [f"{_where(path)}: must be {sch['const']!r}"]
        if "enum" in sch and not any(_same(value, v) for v in sch["enum"]):
            return [f"{_where(path)}: {value!r} is not one of {', '.join(map(repr, sch['enum']))}"]
        errs: list[str] = []
        if isinstance(value, Mapping):
            for key in sch.get("required", []):
                if key not in value:
                    errs.append(f"{_where(path)}: missing required key '{key}'")
            props = sch.get("properties", {})
            extra = sch.get("additionalProperties", True)
            for key, v in value.items():
                if key in props:
                    errs += self.errors(v, props[key], (*path, key))
                elif extra is False:
                    errs.append(f"{_where(path)}: unexpected key '{key}'")
                elif isinstance(extra, Mapping):
                    errs += self.errors(v, extra, (*path, key))
        if isinstance(value, list):
            if len(value) < sch.get("minItems", 0):
                errs.append(f"{_where(path)}: needs at least {sch['minItems']} item(s)")
            if "maxItems" in sch and len(value) > sch["maxItems"]:
                errs.append(f"{_where(path)}: takes at most {sch['maxItems']} item(s)")
            if "items" in sch:
                for i, v in enumerate(value):
                    errs += self.errors(v, sch["items"], (*path, i))
        for sub in sch.get("allOf", []):
            errs += self.errors(value, sub, path)
        if "anyOf" in sch and all(self.errors(value, sub, path) for sub in sch["anyOf"]):
            errs.append(f"{_where(path)}: {value!r} matches none of the allowed forms")
        if "if" in sch:
            branch = "then" if not self.errors(value, sch["if"], path) else "else"
            if branch in sch:
                errs += self.errors(value, sch[branch], path)
        return errs


def schema_errors(value: Any, sch: Mapping[str, Any] | None = None) -> list[str]:
    """Every violation of the spec schema (or of ``sch``) by the raw JSON ``value``."""
    root = schema() if sch is None else sch
    return _Validator(root).errors(value, root)


def validate_schema(value: Any) -> None:
    """Raise :class:`SpecError` naming the first violation of the spec schema."""
    errs = schema_errors(value)
    if errs:
        more = f" (and {len(errs) - 1} more)" if len(errs) > 1 else ""
        raise SpecError(
            f"student spec does not match the spec schema: {errs[0]}{more}.",
            hint="Write specs with distill2rules (docs/spec.md describes the format).",
        )

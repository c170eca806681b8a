"""The spec: plain-data description of a fitted student (JSON round-trip).

See ``docs/spec.md`` for the full format and ``schema.json`` for its JSON Schema. JSON is
read (:func:`from_json`, :func:`load`) and written (:func:`to_json`, :func:`save`) here and
nowhere else. The kinds are classes (:mod:`distill2rules.spec._kinds`):

* ``additive``  — intercept + terms (``linear`` or ``table`` over 1-2 binned/categorical axes)
  + link (``logistic`` for two classes with one score, ``softmax`` for K scores).
* ``rule_list`` — ordered rules (conjunctions of conditions) -> class probabilities, + default.
* ``mlp``       — preprocessing (standardise numerics, one-hot categoricals) + dense layers.

Calibration is folded into the parameters at fit time (and recorded under ``calibration``
for the record), so every rendering of a spec — ONNX, reason codes, rule card — includes it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from distill2rules._json import jsonable
from distill2rules.errors import SpecError
from distill2rules.limits import SPEC_BYTES, SPEC_DEPTH, json_depth
from distill2rules.spec._kinds import Spec, kind_class, typed
from distill2rules.spec._schema import validate_schema

SPEC_FORMAT = "distill2rules.spec/1"


def _unjson_inf(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _unjson_inf(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_unjson_inf(v) for v in obj]
    if obj == "inf":
        return math.inf
    if obj == "-inf":
        return -math.inf
    return obj


def to_json(spec: Mapping[str, Any]) -> str:
    """The one writer of spec JSON: deterministic text (sorted keys, fixed float repr) for
    byte-identical artifacts."""
    return json.dumps(jsonable(dict(spec)), indent=1, sort_keys=True, allow_nan=False) + "\n"


def from_json(text: str) -> Spec:
    """The one reader of spec JSON: size/depth caps, the JSON Schema (``schema.json``), the
    structural checks of :func:`validate`; returns an instance of the spec's kind class."""
    if len(text) > SPEC_BYTES.value():  # characters >= bytes/4: a cheap first cap
        raise SPEC_BYTES.exceeded(SpecError, "the student spec", len(text))
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SpecError(
            f"student spec is not valid JSON ({exc.msg} at line {exc.lineno})."
        ) from None
    except RecursionError:
        raise SPEC_DEPTH.exceeded(SpecError, "the student spec", float("inf")) from None
    depth = json_depth(raw, SPEC_DEPTH.value())
    if depth > SPEC_DEPTH.value():
        raise SPEC_DEPTH.exceeded(SpecError, "the student spec", depth)
    _check_header(raw)
    validate_schema(raw)
    spec = _unjson_inf(raw)
    validate(spec)
    return typed(spec)


def save(spec: Mapping[str, Any], path: str | Path) -> None:
    Path(path).write_text(to_json(spec), encoding="utf-8")


def load(path: str | Path) -> Spec:
    p = Path(path)
    if not p.is_file():
        raise SpecError(
            f"no student spec at {p}.",
            hint="Point at an artifact directory written by `distill2rules fit`.",
        )
    size = p.stat().st_size
    if size > SPEC_BYTES.value():
        raise SPEC_BYTES.exceeded(SpecError, f"student spec {p.name}", size)
    return from_json(p.read_text(encoding="utf-8"))


def _check_header(spec: Any) -> None:
    if not isinstance(spec, Mapping):
        raise SpecError("a spec must be a JSON object.")
    fmt = spec.get("format")
    if fmt != SPEC_FORMAT:
        raise SpecError(f"unsupported spec format {fmt!r}; this version reads {SPEC_FORMAT!r}.")
    kind_class(spec)


def validate(spec: Mapping[str, Any]) -> None:
    """Raise :class:`SpecError` when the spec is malformed. Cheap structural checks only: the
    common ones here, the kind's own in its class's ``check``."""
    _check_header(spec)
    classes = spec.get("classes")
    if not isinstance(classes, list) or len(classes) < 2:
        raise SpecError("spec 'classes' must list at least two classes.")
    inputs = spec.get("inputs")
    if not isinstance(inputs, Mapping) or not {"numeric", "categorical"} <= set(inputs):
        raise SpecError("spec 'inputs' must have 'numeric' and 'categorical' column lists.")
    s = typed(spec)
    s.check_specials()
    if spec.get("decision_threshold") is not None:
        t = spec["decision_threshold"]
        if (
            len(classes) != 2
            or isinstance(t, bool)
            or not isinstance(t, (int, float))
            or not 0.0 < float(t) < 1.0
        ):
            raise SpecError(
                "'decision_threshold' must be a probability in (0, 1) of a binary spec's second class."
            )
    s.check()

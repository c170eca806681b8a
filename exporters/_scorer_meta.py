"""What a pandas-free scorer needs to know about a graph, written once into its metadata.

:func:`scorer_metadata` turns a spec into one JSON object stored under the ONNX metadata key
``"scorer"`` (see ``docs/onnx.md``): the graph's inputs (names, dtypes, column order), the
category code tables of ``inputs="codes"`` graphs, the classes and adverse class, and every
per-term / per-rule fact :class:`distill2rules.scoring.Scorer` needs to turn the graph's
``contributions`` / ``rule`` outputs into ranked reasons without the spec evaluator (the
additive references come from :mod:`distill2rules.exporters.reasons`, so the scorer's reasons
are the reason codes of ``distill2rules explain``). Everything here is numpy + stdlib.

Code tables (``inputs="codes"``): categorical column ``j`` with categories ``c_1..c_n`` (every
category string the spec names for that column, in first-seen order) takes int64 codes
``0`` = missing, ``i`` = ``c_i``, ``n + 1`` = any other value; negative codes read as missing
(pandas' ``-1``) and codes above ``n + 1`` as unseen.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from distill2rules.errors import Distill2RulesError
from distill2rules.exporters._render import (
    adverse_index,
    condition_text,
    feature_label,
    points_scale,
    rule_decision,
    rule_text,
    special_labels,
)
from distill2rules.exporters.reasons import (
    _Context,
    _protected_for,
    _term_features,
    _term_reference,
)
from distill2rules.spec import AdditiveSpec, KindTable, MLPSpec, RuleListSpec, jsonable

SCORER_FORMAT = "distill2rules.scorer/1"
METADATA_KEY = "scorer"

__all__ = ["METADATA_KEY", "SCORER_FORMAT", "column_categories", "scorer_metadata"]


def column_categories(spec: Mapping[str, Any]) -> dict[str, list[str]]:
    """Every category string the spec names, per categorical input column (first-seen order).

    Strings a column's terms / conditions / one-hot blocks never name behave alike in every
    student (the "unseen" bin), so these lists are the complete code tables.
    """
    cols = [str(c) for c in spec["inputs"].get("categorical", [])]
    out: dict[str, dict[str, None]] = {c: {} for c in cols}

    def add(feature: Any, values: Any) -> None:
        if feature in out:
            for v in values or []:
                if isinstance(v, str) and v != "":
                    out[feature].setdefault(v, None)

    for feature, values in _kinds().of(spec).categories(spec):
        add(feature, values)
    return {c: list(v) for c, v in out.items()}


def _finite(x: Any) -> Any:
    """JSON-safe number: inf as "inf"/"-inf", NaN as None."""
    if isinstance(x, float):
        if math.isnan(x):
            return None
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
    return x


def _feeds(num: list[str], cat: list[str], inputs: str) -> list[dict[str, Any]]:
    """The graph inputs in order: name, dtype, the raw columns it carries."""
    cat_dtype = "int64" if inputs == "codes" else "string"
    if inputs == "columns":
        feeds = [{"name": c, "dtype": "float32", "columns": [c]} for c in num]
        feeds += [{"name": c, "dtype": "string", "columns": [c]} for c in cat]
        if not num and not cat:
            feeds.append({"name": "numeric", "dtype": "float32", "columns": []})
        return feeds
    feeds = []
    if num or not cat:
        feeds.append({"name": "numeric", "dtype": "float32", "columns": list(num)})
    if cat:
        feeds.append({"name": "categorical", "dtype": cat_dtype, "columns": list(cat)})
    return feeds


def _additive_reasons(spec: Mapping[str, Any], adverse: int | None) -> list[dict[str, Any]]:
    """Per term: features and, per class k, the reference score toward k and its text."""
    ctx = _Context(spec, adverse)
    out = []
    for t, term in enumerate(spec.get("terms", [])):
        refs = [_term_reference(ctx, term, k, "best") for k in range(len(spec["classes"]))]
        out.append(
            {
                "name": str(term.get("name", f"term {t}")),
                "type": term.get("type"),
                "features": _term_features(term),
                "reference": [_finite(float(r.value)) for r in refs],
                "reference_text": [r.text for r in refs],
            }
        )
    return out


def _rule_reasons(spec: Mapping[str, Any]) -> dict[str, Any]:
    rules = []
    for r, rule in enumerate(spec.get("rules", [])):
        rules.append(
            {
                "name": str(rule.get("name") or f"R{r + 1}"),
                "text": rule_text(spec, rule),
                "decision": rule_decision(spec, rule)[0],
                "conditions": [
                    {
                        **jsonable(dict(c)),
                        "text": condition_text(
                            c, feature_label(spec, c["feature"]), special_labels(spec, c["feature"])
                        ),
                    }
                    for c in rule.get("conditions", [])
                ],
            }
        )
    default = spec["default"]
    return {
        "rules": rules,
        "default": {
            "name": "default",
            "text": rule_text(spec, default, default=True),
            "decision": rule_decision(spec, default)[0],
        },
        "ordered": bool((spec.get("meta") or {}).get("ordered", True)),
    }


def _mlp_references(spec: Mapping[str, Any]) -> dict[str, Any]:
    """Occlusion references of an MLP (as ``distill2rules explain``): mean / missing."""
    pre = spec.get("preprocess", {}) or {}
    refs: dict[str, Any] = {
        p["feature"]: _finite(float(p["mean"])) for p in pre.get("numeric") or []
    }
    refs.update({p["feature"]: None for p in pre.get("categorical") or []})
    return refs


def scorer_metadata(spec: Mapping[str, Any], inputs: str = "tensors") -> dict[str, Any]:
    """The ``"scorer"`` metadata object of a graph built from ``spec`` with ``inputs``."""
    num = [str(c) for c in spec["inputs"].get("numeric", [])]
    cat = [str(c) for c in spec["inputs"].get("categorical", [])]
    meta = dict(spec.get("meta") or {})
    try:
        adverse = adverse_index(spec)
    except Distill2RulesError:  # no adverse class can be inferred: decisions only
        adverse = None
    classes = jsonable(list(spec["classes"]))
    out: dict[str, Any] = {
        "format": SCORER_FORMAT,
        "kind": spec["kind"],
        "link": spec.get("link"),
        "inputs": inputs,
        "feeds": _feeds(num, cat, inputs),
        "numeric": num,
        "categorical": cat,
        "categories": column_categories(spec),
        "classes": classes,
        "adverse_index": adverse,
        "adverse_class": None if adverse is None else classes[adverse],
        "feature_labels": {c: feature_label(spec, c) for c in num + cat},
        "points_per_logodds": points_scale(spec)[0],  # the card's own scale (a scorecard's pdo)
    }
    # facts other wings add to the spec travel along when present (read tolerantly)
    for key in (
        "labels",
        "reason_labels",
        "reason_catalogue",
        "protected",
        "special_values",
        "decision_threshold",
        "threshold",
    ):
        value = meta.get(key, spec.get(key))
        if value is not None:
            out[key] = jsonable(value)
    out["protected"] = _protected_for(spec, None)  # the columns explain never cites
    special = spec["inputs"].get("special_values")
    if special is not None and "special_values" not in out:
        out["special_values"] = jsonable(special)
    out.update(_kinds().of(spec).reasons(spec, adverse))
    return out


# ----------------------------------------------------------------------------- per-kind table


def _additive_categories(spec: Mapping[str, Any]) -> Iterable[tuple[Any, Any]]:
    for term in spec.get("terms", []):
        for axis in term.get("axes", []) if term.get("type") == "table" else []:
            if axis.get("kind") == "categorical":
                yield axis.get("feature"), axis.get("categories")


def _rule_list_categories(spec: Mapping[str, Any]) -> Iterable[tuple[Any, Any]]:
    for rule in spec.get("rules", []):
        for cond in rule.get("conditions", []):
            if cond.get("op") in ("in", "not_in"):
                yield cond.get("feature"), cond.get("values")


def _mlp_categories(spec: Mapping[str, Any]) -> Iterable[tuple[Any, Any]]:
    for p in (spec.get("preprocess") or {}).get("categorical") or []:
        yield p.get("feature"), p.get("categories")


@dataclasses.dataclass(frozen=True)
class _ScorerKind:
    """Per spec kind: the category strings it names, ``(feature, values)`` pairs, and the
    facts the scorer needs to turn the graph's outputs into reasons (merged into the object)."""

    categories: Callable[[Mapping[str, Any]], Iterable[tuple[Any, Any]]]
    reasons: Callable[[Mapping[str, Any], int | None], dict[str, Any]]


@functools.lru_cache(maxsize=1)
def _kinds() -> KindTable[_ScorerKind]:
    table: KindTable[_ScorerKind] = KindTable("scorer metadata")
    table.add(
        AdditiveSpec,
        _ScorerKind(
            _additive_categories, lambda spec, adverse: {"terms": _additive_reasons(spec, adverse)}
        ),
    )
    table.add(
        RuleListSpec, _ScorerKind(_rule_list_categories, lambda spec, adverse: _rule_reasons(spec))
    )
    table.add(
        MLPSpec,
        _ScorerKind(_mlp_categories, lambda spec, adverse: {"occlusion": _mlp_references(spec)}),
    )
    return table

"""ONNX builder for rule lists (ordered rules, tree surrogates).

Every condition becomes one column of a boolean matrix ``fails [N, C]``:

* numeric ``<=`` / ``>`` / ``is_missing`` / ``not_missing``: one batched
  ``LessOrEqual(x[:, cols], thresholds)`` with ``Xor``/``And`` fix-ups for ``>`` and NaN rows;
  thresholds are rounded *down* to float32, so ``x <= v`` is exact for float32 ``x``
  (``is_missing`` / ``not_missing`` compare with NaN, which is never true);
* categorical: one ``LabelEncoder`` per column maps a string to a code (``""`` -> 0, each value
  named by some condition -> 1.., anything else -> unseen) and a ``Gather`` into a constant
  table ``[codes, C_col]`` gives every condition on that column at once.

The number of failed conditions per rule is ``MatMul(fails, incidence [C, R + 1])``; the
default rule is an all-zero column, so ``ArgMin`` (first minimum) is the first rule with no
failed condition. Probabilities and labels are gathered from per-rule constants.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from distill2rules.errors import SpecError
from distill2rules.exporters._onnx_graph import (
    FLOAT,
    INT64,
    ML_DOMAIN,
    Graph,
    as_float,
    category_strings,
    column,
    column_lookup,
    round_down_f32,
)

_NUMERIC_OPS = ("<=", ">", "is_missing", "not_missing")
_CATEGORICAL_OPS = ("in", "not_in", "is_missing", "not_missing")


def _numeric_fails(g: Graph, conds: list[tuple[int, Mapping[str, Any]]]) -> str:
    """Bool [N, len(conds)]: True where a numeric condition (given as (column, cond)) fails.

    ``fails = (x <= t) xor not_flip xor (isnan(x) and (flip xor missing))``: for a present
    ``x`` that is ``not (x <= t xor flip)``; for NaN (where ``x <= t`` is False) it is
    ``not missing``. onnxruntime has no boolean ``Where``, hence the algebra.
    """
    cols, thr, flip, miss = [], [], [], []
    for j, cond in conds:
        op = cond["op"]
        cols.append(j)
        if op in ("<=", ">"):
            thr.append(as_float(cond["value"], f"condition on '{cond['feature']}' value"))
            flip.append(op == ">")
            miss.append(bool(cond.get("missing", False)))
        else:  # x <= NaN is never true: the comparison only decides non-missing rows
            thr.append(np.nan)
            flip.append(op == "not_missing")
            miss.append(op == "is_missing")
    flip_a, miss_a = np.asarray(flip, dtype=bool), np.asarray(miss, dtype=bool)
    x = g.columns(g.numeric, cols)  # type: ignore[arg-type]
    thresholds = round_down_f32(np.asarray(thr, dtype=np.float64))
    le = g.op("LessOrEqual", [x, g.const(thresholds, "thr")])
    present = g.op("Xor", [le, g.const(~flip_a, "notflip")])
    nan_fix = g.op("And", [g.op("IsNaN", [x]), g.const(flip_a ^ miss_a, "nanfix")])
    return g.op("Xor", [present, nan_fix])


def _categorical_fails(g: Graph, j: int, conds: list[Mapping[str, Any]]) -> str:
    """Bool [N, len(conds)]: True where a condition on categorical column ``j`` fails."""
    mentioned: dict[str, int] = {}
    for cond in conds:
        if cond["op"] in ("in", "not_in"):
            for v in category_strings(cond["values"], f"condition on '{cond['feature']}'"):
                if v != "":
                    mentioned.setdefault(v, len(mentioned) + 1)
    unseen = len(mentioned) + 1
    table = np.zeros((unseen + 1, len(conds)), dtype=bool)  # rows: missing, mentioned..., unseen
    for c, cond in enumerate(conds):
        op = cond["op"]
        if op in ("in", "not_in"):
            values = set(cond["values"])
            inside = np.zeros(unseen + 1, dtype=bool)
            for v, code in mentioned.items():
                inside[code] = v in values
            table[:, c] = inside if op == "in" else ~inside
            table[0, c] = bool(cond.get("missing", False))
        else:
            table[:, c] = op == "not_missing"
            table[0, c] = op == "is_missing"
    keys = [""] + list(mentioned)
    col = g.column_1d(g.categorical, j)  # type: ignore[arg-type]
    code = g.op("LabelEncoder", [col], domain=ML_DOMAIN, keys_strings=keys,
                values_int64s=[0] + list(mentioned.values()), default_int64=unseen)
    return g.op("Gather", [g.const(~table, "fails"), code], axis=0)


def build_rule_list(g: Graph, spec: Mapping[str, Any]) -> list[tuple[str, int, int]]:
    """Wire a rule-list spec; returns the graph outputs as (name, elem type, width or -1)."""
    lookup = column_lookup(spec)
    rules = list(spec.get("rules", []))
    k = len(spec["classes"])
    numeric: list[tuple[int, Mapping[str, Any]]] = []
    numeric_rule: list[int] = []
    categorical: dict[int, list[Mapping[str, Any]]] = {}
    categorical_rule: dict[int, list[int]] = {}
    for r, rule in enumerate(rules):
        for cond in rule.get("conditions", []):
            feature, op = cond.get("feature"), cond.get("op")
            if feature not in lookup:
                raise SpecError(f"rule {r} has a condition on unknown input {feature!r}.")
            kind = lookup[feature][0]
            what = f"rule {r} condition"
            if kind == "numeric":
                if op not in _NUMERIC_OPS:
                    raise SpecError(
                        f"operator '{op}' does not apply to numeric feature '{feature}'.")
                numeric.append((column(lookup, feature, "numeric", what), cond))
                numeric_rule.append(r)
            else:
                if op not in _CATEGORICAL_OPS:
                    raise SpecError(
                        f"operator '{op}' does not apply to categorical feature '{feature}'.")
                j = column(lookup, feature, "categorical", what)
                categorical.setdefault(j, []).append(cond)
                categorical_rule.setdefault(j, []).append(r)
    blocks, owner = [], []
    if numeric:
        blocks.append(_numeric_fails(g, numeric))
        owner += numeric_rule
    for j, conds in categorical.items():
        blocks.append(_categorical_fails(g, j, conds))
        owner += categorical_rule[j]
    if blocks:
        fails = g.cast(blocks[0] if len(blocks) == 1 else g.op("Concat", blocks, axis=1), FLOAT)
        incidence = np.zeros((len(owner), len(rules) + 1), dtype=np.float32)
        for c, r in enumerate(owner):
            incidence[c, r] = 1.0
        failed = g.op("MatMul", [fails, g.const(incidence, "incidence")])
        rule = g.op("ArgMin", [failed], out="rule", axis=1, keepdims=0, select_last_index=0)
    else:  # no conditions anywhere: the first rule (or the default) fires for every row
        rule = g.op("Identity", [g.broadcast_rows(np.zeros(1, dtype=np.int64), "zero")], out="rule")
    probs = [r["probabilities"] for r in rules] + [spec["default"]["probabilities"]]
    probs = np.asarray(probs, dtype=np.float64)
    if probs.shape != (len(rules) + 1, k):
        raise SpecError(f"every rule needs {k} class probabilities.")
    g.op("Gather", [g.const(probs.astype(np.float32), "probs"), rule], out="probabilities", axis=0)
    labels = g.const(np.argmax(probs, axis=1).astype(np.int64), "labels")  # first maximum
    g.op("Gather", [labels, rule], out="label", axis=0)
    return [("probabilities", FLOAT, k), ("label", INT64, -1), ("rule", INT64, -1)]

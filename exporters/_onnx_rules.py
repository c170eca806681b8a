"""ONNX builder for rule lists (ordered rules, tree surrogates).

One ``TreeEnsembleRegressor`` over ``[numeric, category codes]`` (see :mod:`._onnx_trees`)
counts the failed conditions of every rule: each condition is a small tree adding 1 to its
rule's target when it fails. Numeric ``<=`` / ``>`` compare with the threshold rounded
*down* to float32 (exact for float32 ``x``) below a root that sends NaN to a leaf holding
the condition's ``missing`` value; ``is_missing`` / ``not_missing`` are that root alone;
categorical conditions search the category code (``""`` has its own code, strings no
condition names share the "unseen" code). A constant tree writes 0 for the default rule,
so ``ArgMin`` (first minimum) is the first rule with no failed condition. Probabilities and
labels are gathered from per-rule constants: 6 nodes in all.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from distill2rules.errors import SpecError
from distill2rules.exporters._onnx_graph import (
    FLOAT,
    INT64,
    Graph,
    as_float,
    category_strings,
    column,
    column_lookup,
    round_down_f32,
)
from distill2rules.exporters._onnx_trees import Codes, Trees, code_thresholds, feature_matrix

_NUMERIC_OPS = ("<=", ">", "is_missing", "not_missing")
_CATEGORICAL_OPS = ("in", "not_in", "is_missing", "not_missing")


def _condition_tree(trees: Trees, codes: Codes, kind: str, j: int, cond: Mapping[str, Any],
                    target: int) -> None:
    """Add the tree adding 1 to ``target`` where ``cond`` fails (0 where it holds)."""
    op = cond["op"]
    hold, fail = ((target, 0.0),), ((target, 1.0),)
    if kind == "numeric":
        if op in ("<=", ">"):
            v = as_float(cond["value"], f"condition on '{cond['feature']}' value")
            thr = float(round_down_f32(v))  # x <= v iff x <= thr, float32 x
            miss = hold if cond.get("missing", False) else fail
            le, gt = (hold, fail) if op == "<=" else (fail, hold)
            if np.isnan(thr):  # x <= NaN and x > NaN never hold
                trees.add_search(j, [], [fail], nan_leaf=miss)
            else:
                trees.add_leq(j, thr, le, gt, miss)
        else:  # is_missing / not_missing
            present = fail if op == "is_missing" else hold
            trees.add_search(j, [], [present], nan_leaf=hold if op == "is_missing" else fail)
        return
    f = codes.offset + j
    truth = np.zeros(codes.n_codes, dtype=bool)  # by code: "" is 0, unseen is last
    if op in ("in", "not_in"):
        values = set(category_strings(cond["values"], f"condition on '{cond['feature']}'"))
        for v in values:
            if v in codes.code:
                truth[codes.code[v]] = True
        if op == "not_in":
            truth = ~truth
        truth[codes.code[""]] = bool(cond.get("missing", False))
    else:
        truth[:] = op == "not_missing"
        truth[codes.code[""]] = op == "is_missing"
    trees.add_search(f, code_thresholds(codes.n_codes), [hold if t else fail for t in truth])


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
    strings = [v for conds in categorical.values() for c in conds if c["op"] in ("in", "not_in")
               for v in category_strings(c["values"], f"condition on '{c['feature']}'")]
    if numeric or categorical:
        d_num = len(spec["inputs"].get("numeric", []))
        x, codes = feature_matrix(g, d_num, strings)
        trees = Trees()
        for (j, cond), r in zip(numeric, numeric_rule):
            _condition_tree(trees, codes, "numeric", j, cond, r)
        for j, conds in categorical.items():
            for cond, r in zip(conds, categorical_rule[j]):
                _condition_tree(trees, codes, "categorical", j, cond, r)
        # every target written at least once (the default rule and condition-free rules: 0)
        trees.add_constant(tuple((r, 0.0) for r in range(len(rules) + 1)))
        failed = trees.emit(g, x, len(rules) + 1)  # failed conditions per rule (exact counts)
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

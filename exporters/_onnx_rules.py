"""ONNX builder for rule lists (ordered rules, tree surrogates).

One ``TreeEnsembleRegressor`` over ``[numeric, category codes]`` (see :mod:`._onnx_trees`)
counts failed conditions: one tree per rule adds 1 to the rule's target unless every
condition holds. Its numeric conditions form a chain of ``BRANCH_LEQ`` / ``BRANCH_GT`` nodes
on the threshold rounded *down* to float32 (exact for float32 ``x``), NaN taking the
holding side iff the condition's ``missing`` flag (``missing_value_tracks_true``); the chain
ends in a search over the first categorical condition's codes (``""`` has its own code,
strings no condition names share the "unseen" code); further categorical conditions get a
tree each. A constant tree writes 0 for the default rule, so ``ArgMin`` (first minimum) is
the first rule with no failed condition. Probabilities and labels are gathered from
per-rule constants: 6 nodes in all.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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
from distill2rules.exporters._onnx_special import condition_search
from distill2rules.exporters._onnx_trees import Codes, Trees, code_thresholds, feature_matrix
from distill2rules.spec import decide, special_codes

_NUMERIC_OPS = ("<=", ">", "is_missing", "not_missing", "is_special", "not_special")
_CATEGORICAL_OPS = ("in", "not_in", "is_missing", "not_missing")


def _numeric_step(j: int, cond: Mapping[str, Any]) -> tuple[int, str, float, bool, bool]:
    """The chain step (feature, mode, value, tracks_true, hold_if_true) of a numeric condition.

    ``x <= v`` is ``BRANCH_LEQ round_down_f32(v)`` (exact for float32 ``x``), ``x > v`` is
    ``BRANCH_GT`` of the same threshold; NaN takes the true branch iff ``missing`` (NaN never
    compares true). ``is_missing`` / ``not_missing`` test ``x < -inf`` with NaN going true.
    A NaN threshold (``x <= NaN`` never holds) compares false for every present ``x``.
    """
    op = cond["op"]
    if op in ("<=", ">"):
        v = as_float(cond["value"], f"condition on '{cond['feature']}' value")
        thr = float(round_down_f32(v))
        mode = "BRANCH_LEQ" if op == "<=" else "BRANCH_GT"
        return j, mode, thr, bool(cond.get("missing", False)), True
    return j, "BRANCH_LT", float("-inf"), True, op == "is_missing"


def _category_truth(codes: Codes, cond: Mapping[str, Any]) -> np.ndarray:
    """Whether a categorical condition holds, by category code (``""`` has its own code)."""
    op = cond["op"]
    truth = np.zeros(codes.n_codes, dtype=bool)
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
    return truth


def _rule_trees(trees: Trees, codes: Codes, r: int, conds: list[tuple[str, int, Any]]) -> None:
    """Trees adding 1 to target ``r`` per failed block of conditions (0 when all hold).

    The numeric conditions form one chain ending in the first categorical condition's
    search (no subtree is duplicated); further categorical conditions get a tree each.
    """
    steps = [_numeric_step(j, c) for kind, j, c in conds if kind == "numeric"]
    cats = [
        (codes.offset + j, _category_truth(codes, c))
        for kind, j, c in conds
        if kind == "categorical"
    ]
    thresholds = code_thresholds(codes.n_codes)
    tail = (cats[0][0], thresholds, cats[0][1]) if cats else None
    trees.add_chain(steps, r, tail)
    for f, truth in cats[1:]:
        trees.add_chain([], r, (f, thresholds, truth))


def build_rule_list(g: Graph, spec: Mapping[str, Any]) -> list[tuple[str, int, int]]:
    """Wire a rule-list spec; returns the graph outputs as (name, elem type, width or -1)."""
    lookup = column_lookup(spec)
    rules = list(spec.get("rules", []))
    k = len(spec["classes"])
    numeric: list[tuple[int, Mapping[str, Any]]] = []
    numeric_rule: list[int] = []
    categorical: dict[int, list[Mapping[str, Any]]] = {}
    categorical_rule: dict[int, list[int]] = {}

    coded: list[
        tuple[int, Mapping[str, Any], int, list[float]]
    ] = []  # on columns with special values
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
                        f"operator '{op}' does not apply to numeric feature '{feature}'."
                    )
                points = [v for v, _, _ in special_codes(spec, feature)]
                if points or op in ("is_special", "not_special"):
                    coded.append((column(lookup, feature, "numeric", what), cond, r, points))
                    continue
                numeric.append((column(lookup, feature, "numeric", what), cond))
                numeric_rule.append(r)
            else:
                if op not in _CATEGORICAL_OPS:
                    raise SpecError(
                        f"operator '{op}' does not apply to categorical feature '{feature}'."
                    )
                j = column(lookup, feature, "categorical", what)
                categorical.setdefault(j, []).append(cond)
                categorical_rule.setdefault(j, []).append(r)
    strings = [
        v
        for conds in categorical.values()
        for c in conds
        if c["op"] in ("in", "not_in")
        for v in category_strings(c["values"], f"condition on '{c['feature']}'")
    ]
    if numeric or categorical or coded:
        d_num = len(spec["inputs"].get("numeric", [])) if numeric or coded else 0
        x, codes = feature_matrix(g, d_num, strings, use_categorical=bool(categorical))
        trees = Trees()
        per_rule: dict[int, list[tuple[str, int, Any]]] = {}
        for (j, cond), r in zip(numeric, numeric_rule):
            per_rule.setdefault(r, []).append(("numeric", j, cond))
        for j, conds in categorical.items():
            for cond, r in zip(conds, categorical_rule[j]):
                per_rule.setdefault(r, []).append(("categorical", j, cond))
        for r in sorted(per_rule):
            _rule_trees(trees, codes, r, per_rule[r])
        for j, cond, r, specials in coded:  # one search over the raw value, codes as points
            thresholds, holds, nan_holds = condition_search(cond, specials)
            trees.add_search(
                j,
                thresholds,
                [((r, 0.0 if h else 1.0),) for h in holds],
                nan_leaf=((r, 0.0 if nan_holds else 1.0),),
            )
        # every target written at least once (the default rule and condition-free rules: 0)
        trees.add_constant(tuple((r, 0.0) for r in range(len(rules) + 1)))
        failed = trees.emit(g, x, len(rules) + 1)  # failed conditions per rule (exact counts)
        rule = g.op("ArgMin", [failed], out="rule", axis=1, keepdims=0, select_last_index=0)
    else:  # no conditions anywhere: the first rule (or the default) fires for every row
        rule = g.op("Identity", [g.broadcast_rows(np.zeros(1, dtype=np.int64), "zero")], out="rule")
    probs = np.asarray(
        [r["probabilities"] for r in rules] + [spec["default"]["probabilities"]], dtype=np.float64
    )
    if probs.shape != (len(rules) + 1, k):
        raise SpecError(f"every rule needs {k} class probabilities.")
    g.op("Gather", [g.const(probs.astype(np.float32), "probs"), rule], out="probabilities", axis=0)
    labels = g.const(decide(spec, probs), "labels")  # first maximum, or the decision threshold
    g.op("Gather", [labels, rule], out="label", axis=0)
    return [("probabilities", FLOAT, k), ("label", INT64, -1), ("rule", INT64, -1)]

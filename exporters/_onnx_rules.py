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
from dataclasses import dataclass, field
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


def _rule_trees(
    trees: Trees,
    codes: Codes,
    r: int,
    numeric: list[tuple[int, Mapping[str, Any]]],
    categorical: list[tuple[int, Mapping[str, Any]]],
) -> None:
    """Trees adding 1 to target ``r`` per failed block of conditions (0 when all hold).

    The numeric conditions form one chain ending in the first categorical condition's
    search (no subtree is duplicated); further categorical conditions get a tree each.
    """
    steps = [_numeric_step(j, c) for j, c in numeric]
    cats = [(codes.offset + j, _category_truth(codes, c)) for j, c in categorical]
    thresholds = code_thresholds(codes.n_codes)
    tail = (cats[0][0], thresholds, cats[0][1]) if cats else None
    trees.add_chain(steps, r, tail)
    for f, truth in cats[1:]:
        trees.add_chain([], r, (f, thresholds, truth))


@dataclass
class _Conditions:
    """A rule list's conditions grouped by how the graph tests them, each with its rule index."""

    #: (column, condition, rule) on numeric columns without special values
    numeric: list[tuple[int, Mapping[str, Any], int]] = field(default_factory=list)
    #: column -> [(condition, rule)] on categorical columns
    categorical: dict[int, list[tuple[Mapping[str, Any], int]]] = field(default_factory=dict)
    #: (column, condition, rule, special values) on numeric columns with special values
    coded: list[tuple[int, Mapping[str, Any], int, list[float]]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.numeric or self.categorical or self.coded)


def _add_numeric(
    found: _Conditions, spec: Mapping[str, Any], j: int, cond: Mapping[str, Any], r: int
) -> None:
    op, feature = cond.get("op"), cond["feature"]
    if op not in _NUMERIC_OPS:
        raise SpecError(f"operator '{op}' does not apply to numeric feature '{feature}'.")
    points = [v for v, _, _ in special_codes(spec, feature)]
    if points or op in ("is_special", "not_special"):
        found.coded.append((j, cond, r, points))
    else:
        found.numeric.append((j, cond, r))


def _add_categorical(
    found: _Conditions, spec: Mapping[str, Any], j: int, cond: Mapping[str, Any], r: int
) -> None:
    op, feature = cond.get("op"), cond["feature"]
    if op not in _CATEGORICAL_OPS:
        raise SpecError(f"operator '{op}' does not apply to categorical feature '{feature}'.")
    found.categorical.setdefault(j, []).append((cond, r))


#: How a condition is filed, by the kind of input its feature is (``column_lookup``).
_FILE_CONDITION = {"numeric": _add_numeric, "categorical": _add_categorical}


def _conditions(spec: Mapping[str, Any], rules: list[Mapping[str, Any]]) -> _Conditions:
    """Every rule's conditions, checked (known input, operator fits its kind) and grouped."""
    lookup = column_lookup(spec)
    found = _Conditions()
    for r, rule in enumerate(rules):
        for cond in rule.get("conditions", []):
            feature = cond.get("feature")
            if feature not in lookup:
                raise SpecError(f"rule {r} has a condition on unknown input {feature!r}.")
            kind = lookup[feature][0]
            j = column(lookup, feature, kind, f"rule {r} condition")
            _FILE_CONDITION[kind](found, spec, j, cond, r)
    return found


def _fired_rule(g: Graph, spec: Mapping[str, Any], found: _Conditions, n_rules: int) -> str:
    """The ``rule`` output: index of the first rule whose conditions all hold (``n_rules``: the
    default), as ``ArgMin`` over the failed-condition counts of one tree ensemble."""
    if not found:  # no conditions anywhere: the first rule (or the default) fires for every row
        return g.op("Identity", [g.broadcast_rows(np.zeros(1, dtype=np.int64), "zero")], out="rule")
    strings = [
        v
        for conds in found.categorical.values()
        for c, _ in conds
        if c["op"] in ("in", "not_in")
        for v in category_strings(c["values"], f"condition on '{c['feature']}'")
    ]
    d_num = len(spec["inputs"].get("numeric", [])) if found.numeric or found.coded else 0
    x, codes = feature_matrix(g, d_num, strings, use_categorical=bool(found.categorical))
    trees = Trees()
    per_rule: dict[int, tuple[list, list]] = {}  # rule -> (numeric, categorical) (column, cond)
    for j, cond, r in found.numeric:
        per_rule.setdefault(r, ([], []))[0].append((j, cond))
    for j, conds in found.categorical.items():
        for cond, r in conds:
            per_rule.setdefault(r, ([], []))[1].append((j, cond))
    for r in sorted(per_rule):
        _rule_trees(trees, codes, r, *per_rule[r])
    for j, cond, r, specials in found.coded:  # one search over the raw value, codes as points
        thresholds, holds, nan_holds = condition_search(cond, specials)
        trees.add_search(
            j,
            thresholds,
            [((r, 0.0 if h else 1.0),) for h in holds],
            nan_leaf=((r, 0.0 if nan_holds else 1.0),),
        )
    # every target written at least once (the default rule and condition-free rules: 0)
    trees.add_constant(tuple((r, 0.0) for r in range(n_rules + 1)))
    failed = trees.emit(g, x, n_rules + 1)  # failed conditions per rule (exact counts)
    return g.op("ArgMin", [failed], out="rule", axis=1, keepdims=0, select_last_index=0)


def build_rule_list(g: Graph, spec: Mapping[str, Any]) -> list[tuple[str, int, int]]:
    """Wire a rule-list spec; returns the graph outputs as (name, elem type, width or -1)."""
    rules = list(spec.get("rules", []))
    k = len(spec["classes"])
    rule = _fired_rule(g, spec, _conditions(spec, rules), len(rules))
    probs = np.asarray(
        [r["probabilities"] for r in rules] + [spec["default"]["probabilities"]], dtype=np.float64
    )
    if probs.shape != (len(rules) + 1, k):
        raise SpecError(f"every rule needs {k} class probabilities.")
    g.op("Gather", [g.const(probs.astype(np.float32), "probs"), rule], out="probabilities", axis=0)
    labels = g.const(decide(spec, probs), "labels")  # first maximum, or the decision threshold
    g.op("Gather", [labels, rule], out="label", axis=0)
    return [("probabilities", FLOAT, k), ("label", INT64, -1), ("rule", INT64, -1)]

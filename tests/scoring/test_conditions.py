"""One rule-condition implementation (distill2rules.conditions) for the Scorer, the reason codes and
the rule card, agreeing with the spec evaluator's vectorised check on every operator."""

from __future__ import annotations

import math

import numpy as np
import pytest

from distill2rules.conditions import Condition
from distill2rules.spec import SPEC_FORMAT, evaluate

NAN = math.nan
VALUES = [NAN, -9.0, -1.0, 0.0, 12.0, 12.5, 13.0, 1e30]  # -9: a special code of "x"
LEVELS = ["", "a", "b", "zz"]
CONDITIONS = [
    {"feature": "x", "op": "<=", "value": 12.5},
    {"feature": "x", "op": "<=", "value": 12.5, "missing": True},
    {"feature": "x", "op": ">", "value": 0.0, "special": [-9]},
    {"feature": "x", "op": ">", "value": "-inf"},  # JSON's text for -inf (scorer metadata)
    {"feature": "x", "op": "is_missing"},
    {"feature": "x", "op": "not_missing"},
    {"feature": "x", "op": "is_special", "values": [-9]},
    {"feature": "x", "op": "not_special", "values": [-9]},
    {"feature": "c", "op": "in", "values": ["a", "zz"]},
    {"feature": "c", "op": "not_in", "values": ["a"], "missing": True},
    {"feature": "c", "op": "is_missing"},
]


def _spec(cond: dict) -> dict:
    value = cond.get("value")
    cond = {**cond, "value": float(value)} if isinstance(value, str) else cond
    return {
        "format": SPEC_FORMAT,
        "kind": "rule_list",
        "model": "rules",
        "classes": ["no", "yes"],
        "inputs": {"numeric": ["x"], "categorical": ["c"]},
        "special_values": {"x": {"-9": "no record"}},
        "rules": [
            {"name": "R1", "conditions": [{"missing": False, **cond}], "probabilities": [0.1, 0.9]}
        ],
        "default": {"probabilities": [0.9, 0.1]},
        "meta": {"ordered": True},
    }


@pytest.mark.parametrize(
    "cond", CONDITIONS, ids=lambda c: f"{c['feature']} {c['op']} {c.get('value', c.get('values'))}"
)
def test_condition_agrees_with_the_spec_evaluator(cond):
    spec = _spec(cond)
    num = np.asarray([[v] for v in VALUES for _ in LEVELS], dtype=np.float32)
    cat = np.asarray([[s] for _ in VALUES for s in LEVELS], dtype=object)
    want = evaluate(spec, numeric=num, categorical=cat)["rule"] == 0
    check = Condition({"missing": False, **cond}, specials=[-9.0] if cond["feature"] == "x" else [])
    got = [check(float(n) if cond["feature"] == "x" else c) for n, c in zip(num[:, 0], cat[:, 0])]
    assert got == want.tolist()


def test_render_and_scorer_share_it():
    from distill2rules import scoring
    from distill2rules.exporters import _render

    assert _render.Condition is Condition is scoring.Condition
    assert _render.condition_holds_for(
        {"feature": "x", "op": ">", "value": 3, "special": [-9]}, -9.0, [-9.0]
    )

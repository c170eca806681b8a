"""The spec's reference semantics: bin indices, missing values, rule order, validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from distill2rules import spec as spec_mod
from distill2rules.errors import SchemaError, SpecError

ADDITIVE = {
    "format": spec_mod.SPEC_FORMAT,
    "kind": "additive",
    "model": "hand",
    "classes": ["no", "yes"],
    "link": "logistic",
    "inputs": {"numeric": ["age", "income"], "categorical": ["home"]},
    "intercept": [-1.0],
    "terms": [
        {
            "name": "age",
            "type": "table",
            "axes": [{"feature": "age", "kind": "numeric", "edges": [30.0, 50.0]}],
            "scores": [[9.0], [1.0], [2.0], [3.0]],
        },
        {
            "name": "income",
            "type": "linear",
            "feature": "income",
            "coef": [0.001],
            "impute": 1000.0,
            "clip": [0.0, 5000.0],
        },
        {
            "name": "home",
            "type": "table",
            "axes": [{"feature": "home", "kind": "categorical", "categories": ["own", "rent"]}],
            "scores": [[-5.0], [0.5], [0.25], [7.0]],
        },
    ],
}


def test_numeric_bins_follow_edges_right_closed_and_missing_bin():
    X = pd.DataFrame(
        {"age": [29.0, 30.0, 49.9, 50.0, np.inf, -np.inf, np.nan], "income": 0.0, "home": "own"}
    )
    c = spec_mod.evaluate(ADDITIVE, X)["contributions"][:, 0, 0]
    assert list(c) == [1.0, 2.0, 2.0, 3.0, 3.0, 1.0, 9.0]


def test_linear_term_imputes_and_clips():
    X = pd.DataFrame({"age": 40.0, "income": [np.nan, 1e9, -np.inf, 2000.0], "home": "own"})
    c = spec_mod.evaluate(ADDITIVE, X)["contributions"][:, 1, 0]
    assert np.allclose(c, [1.0, 5.0, 0.0, 2.0])


def test_categorical_missing_unseen_and_canonical_strings():
    X = pd.DataFrame({"age": 40.0, "income": 0.0, "home": ["own", " rent ", None, "boat", np.nan]})
    c = spec_mod.evaluate(ADDITIVE, X)["contributions"][:, 2, 0]
    assert list(c) == [0.5, 0.25, -5.0, 7.0, -5.0]
    assert list(spec_mod.to_category_strings([3.0, 2, None, "a"])) == ["3", "2", "", "a"]


def test_probabilities_use_the_logistic_link():
    X = pd.DataFrame({"age": [40.0], "income": [0.0], "home": ["own"]})
    out = spec_mod.evaluate(ADDITIVE, X)
    s = -1.0 + 2.0 + 0.0 + 0.5
    assert out["probabilities"][0, 1] == pytest.approx(1 / (1 + np.exp(-s)))
    assert out["label"][0] == 1


RULES = {
    "format": spec_mod.SPEC_FORMAT,
    "kind": "rule_list",
    "model": "hand",
    "classes": ["good", "bad"],
    "inputs": {"numeric": ["duration"], "categorical": ["status"]},
    "rules": [
        {
            "conditions": [{"feature": "duration", "op": ">", "value": 24, "missing": True}],
            "probabilities": [0.2, 0.8],
            "support": 10,
        },
        {
            "conditions": [
                {"feature": "status", "op": "in", "values": ["< 0 DM"], "missing": False}
            ],
            "probabilities": [0.4, 0.6],
            "support": 5,
        },
    ],
    "default": {"probabilities": [0.9, 0.1], "support": 20},
}


def test_rule_list_first_match_and_missing_truth_values():
    X = pd.DataFrame(
        {"duration": [36, np.nan, 12, 12, 12], "status": ["x", "x", "< 0 DM", None, "unseen"]}
    )
    out = spec_mod.evaluate(RULES, X)
    assert list(out["rule"]) == [0, 0, 1, 2, 2]
    assert np.allclose(out["probabilities"][:, 1], [0.8, 0.8, 0.6, 0.1, 0.1])


def test_validation_errors_are_specific():
    bad = dict(ADDITIVE, format="other/9")
    with pytest.raises(SpecError, match="unsupported spec format"):
        spec_mod.validate(bad)
    bad = dict(ADDITIVE, terms=[dict(ADDITIVE["terms"][0], scores=[[1.0]])])
    with pytest.raises(SpecError, match="scores have shape"):
        spec_mod.validate(bad)
    with pytest.raises(SchemaError, match="lacks column"):
        spec_mod.evaluate(ADDITIVE, pd.DataFrame({"age": [1.0]}))
    with pytest.raises(SchemaError, match="should be numeric but holds 'abc'"):
        spec_mod.evaluate(
            ADDITIVE, pd.DataFrame({"age": ["abc"], "income": [1.0], "home": ["own"]})
        )


def test_json_round_trip_keeps_infinities():
    spec = dict(ADDITIVE, terms=[dict(ADDITIVE["terms"][1], clip=[-np.inf, np.inf])])
    again = spec_mod.from_json(spec_mod.to_json(spec))
    assert again["terms"][0]["clip"] == [-np.inf, np.inf]

"""Post-distillation calibration is folded into the spec, so every rendering includes it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from distill2rules import spec as spec_mod
from distill2rules.errors import ConfigError
from distill2rules.students import calibrate_spec

RULES = {
    "format": spec_mod.SPEC_FORMAT,
    "kind": "rule_list",
    "model": "hand",
    "classes": [0, 1],
    "inputs": {"numeric": ["x"], "categorical": []},
    "rules": [
        {
            "conditions": [{"feature": "x", "op": ">", "value": 0.5, "missing": False}],
            "probabilities": [0.4, 0.6],
            "support": 1,
        }
    ],
    "default": {"probabilities": [0.6, 0.4], "support": 1},
}
ADDITIVE = {
    "format": spec_mod.SPEC_FORMAT,
    "kind": "additive",
    "model": "hand",
    "classes": [0, 1],
    "link": "logistic",
    "inputs": {"numeric": ["x"], "categorical": []},
    "intercept": [0.0],
    "terms": [
        {
            "name": "x",
            "type": "linear",
            "feature": "x",
            "coef": [0.5],
            "impute": 0.0,
            "clip": [-10.0, 10.0],
        }
    ],
}


def _data(n=4000, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, n)
    y = (rng.random(n) < np.where(x > 0.5, 0.9, 0.1)).astype(int)  # much sharper than the rules say
    num = x.astype(np.float32)[:, None]
    return x, y, num, np.empty((n, 0), dtype=object)


@pytest.mark.parametrize("method", ["temperature", "platt", "platt+refit", "refit"])
def test_under_confident_rules_are_sharpened(method):
    _x, y, num, cat = _data()
    out = calibrate_spec(RULES, num, cat, y, method=method)
    p = out["rules"][0]["probabilities"][1]
    assert p > 0.8  # was 0.6; the data say 0.9
    assert out["calibration"]["val_log_loss_after"] < out["calibration"]["val_log_loss_before"]
    assert out["calibration"]["method"] == method


@pytest.mark.parametrize("method", ["auto", "temperature"])
def test_calibration_keeps_every_decision_of_an_additive_student(method):
    _, y, num, cat = _data()
    out = calibrate_spec(ADDITIVE, num, cat, y, method=method)
    # binary additive students default to Platt (scale and shift), the threshold keeps the decisions
    assert out["calibration"]["method"] == ("platt" if method == "auto" else "temperature")
    X = pd.DataFrame({"x": np.linspace(-3, 3, 61)})
    assert np.array_equal(
        spec_mod.evaluate(out, X)["label"], spec_mod.evaluate(ADDITIVE, X)["label"]
    )
    assert out["terms"][0]["coef"][0] > 0.5  # sharpened by a scale > 1, folded into the coefficient


def test_platt_shift_is_folded_into_the_intercept():
    _x, y, num, cat = _data()
    out = calibrate_spec(ADDITIVE, num, cat, y, method="platt")
    a, b = out["calibration"]["scale"], out["calibration"]["shift"]
    assert out["intercept"][0] == pytest.approx(b)
    assert out["terms"][0]["coef"][0] == pytest.approx(0.5 * a)


def test_unknown_method_is_refused():
    with pytest.raises(ConfigError, match="calibration method"):
        calibrate_spec(ADDITIVE, *_data()[2:], _data()[1], method="isotonic")


THREE_RULES = {
    **RULES,
    "rules": [  # decisions learned from a teacher: x > 0.7 -> 1, 0.4 < x <= 0.7 -> 0, else 1
        {
            "conditions": [{"feature": "x", "op": ">", "value": 0.7, "missing": False}],
            "probabilities": [0.1, 0.9],
            "support": 1,
        },
        {
            "conditions": [{"feature": "x", "op": ">", "value": 0.4, "missing": False}],
            "probabilities": [0.9, 0.1],
            "support": 1,
        },
    ],
    "default": {"probabilities": [0.2, 0.8], "support": 1},
}


def test_refined_rule_probabilities_never_move_a_decision():
    # the true rates disagree with the learned decisions' order (0.3 for a rule deciding 1, 0.6 for
    # one deciding 0): the refined probabilities are projected onto the decisions at a threshold
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 1, 6000)
    rate = np.where(x > 0.7, 0.9, np.where(x > 0.4, 0.6, 0.3))
    y = (rng.random(len(x)) < rate).astype(int)
    num, cat = x.astype(np.float32)[:, None], np.empty((len(x), 0), dtype=object)
    platt_only = calibrate_spec(THREE_RULES, num, cat, y)  # binary rule list: platt+refit
    assert platt_only["calibration"]["method"] == "platt+refit"
    grid = pd.DataFrame({"x": np.linspace(0, 1, 201)})
    before = spec_mod.evaluate(THREE_RULES, grid)["label"]
    assert np.array_equal(spec_mod.evaluate(platt_only, grid)["label"], before)
    assert platt_only["calibration"]["val_decisions_moved"] == 0
    t = platt_only["decision_threshold"]
    p1 = [r["probabilities"][1] for r in platt_only["rules"]] + [
        platt_only["default"]["probabilities"][1]
    ]
    assert p1[0] > t and p1[2] > t and p1[1] < t  # each rule on its own decision's side
    after = platt_only["calibration"]["val_log_loss_after"]
    assert after < platt_only["calibration"]["val_log_loss_before"]

"""Special values in hand-written specs: reference semantics and ONNX parity for every kind,
including a three-class additive spec (the per-class override path) and every rule operator."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from distill2rules import spec as spec_mod
from distill2rules.errors import SpecError

SV = {"m": {"-9": "no record", "-8": "no trades"}}
BASE = {
    "format": spec_mod.SPEC_FORMAT,
    "inputs": {"numeric": ["m", "x"], "categorical": ["c"]},
    "special_values": SV,
}


def _additive3():
    return {
        **BASE,
        "kind": "additive",
        "link": "softmax",
        "classes": ["a", "b", "c"],
        "intercept": [0.1, -0.2, 0.0],
        "terms": [
            {
                "name": "m",
                "type": "linear",
                "feature": "m",
                "coef": [0.5, -0.1, 0.0],
                "impute": 3.0,
                "clip": [0, 50],
                "special": {
                    "-9": {"label": "no record", "score": [2.0, 0.0, -1.0]},
                    "-8": {"label": "no trades", "score": [-2.0, 1.0, 0.5]},
                },
            },
            {
                "name": "m table",
                "type": "table",
                "axes": [{"feature": "m", "kind": "numeric", "edges": [10, 20]}],
                "scores": [[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 2]],
                "special": {"-9": {"label": "no record", "score": [0.0, 3.0, 0.0]}},
            },
            {
                "name": "m x x",
                "type": "table",
                "axes": [
                    {"feature": "m", "kind": "numeric", "edges": [5]},
                    {"feature": "x", "kind": "numeric", "edges": [0]},
                ],
                "scores": np.arange(27, dtype=float).reshape(3, 3, 3).tolist(),
            },
        ],
    }


def _rules():
    return {
        **BASE,
        "kind": "rule_list",
        "classes": ["good", "bad"],
        "rules": [
            {
                "conditions": [{"feature": "m", "op": "is_special", "values": [-8.0]}],
                "probabilities": [0.1, 0.9],
            },
            {
                "conditions": [
                    {"feature": "m", "op": "<=", "value": 12.5, "missing": True, "special": [-9.0]},
                    {"feature": "x", "op": ">", "value": 0.0},
                ],
                "probabilities": [0.3, 0.7],
            },
            {
                "conditions": [
                    {"feature": "m", "op": "not_special", "values": [-9.0, -8.0]},
                    {"feature": "m", "op": ">", "value": 30.0},
                ],
                "probabilities": [0.8, 0.2],
            },
            {"conditions": [{"feature": "m", "op": "is_missing"}], "probabilities": [0.5, 0.5]},
        ],
        "default": {"probabilities": [0.6, 0.4]},
    }


def _mlp():
    rng = np.random.default_rng(0)
    return {
        **BASE,
        "kind": "mlp",
        "link": "logistic",
        "classes": ["good", "bad"],
        "preprocess": {
            "numeric": [
                {"feature": "m", "impute": 3.0, "clip": [0, 50], "mean": 20.0, "scale": 10.0},
                {"feature": "x", "impute": 0.0, "clip": [-3, 3], "mean": 0.0, "scale": 1.0},
            ],
            "categorical": [{"feature": "c", "categories": ["u", "v"]}],
            "special": [
                {"feature": "m", "value": -9.0, "label": "no record"},
                {"feature": "m", "value": -8.0, "label": "no trades"},
            ],
        },
        "layers": [
            {
                "weight": rng.normal(size=(3, 6)).tolist(),
                "bias": [0.1, 0.0, -0.1],
                "activation": "tanh",
            },
            {"weight": rng.normal(size=(1, 3)).tolist(), "bias": [0.2], "activation": "identity"},
        ],
    }


ROWS = pd.DataFrame(
    {
        "m": [-9.0, -8.0, -7.0, np.nan, 0.0, 12.5, 40.0, -9.0],
        "x": [1.0, -1.0, 1.0, 1.0, 1.0, 1.0, 1.0, -2.0],
        "c": ["u", "v", "w", "", "u", "v", "u", "u"],
    }
)


def test_reference_semantics():
    add = spec_mod.evaluate(_additive3(), ROWS)["contributions"]
    assert add[0, 0].tolist() == [2.0, 0.0, -1.0] and add[1, 0].tolist() == [-2.0, 1.0, 0.5]
    assert add[0, 1].tolist() == [0.0, 3.0, 0.0]
    assert (
        add[1, 1].tolist() == add[3, 1].tolist() == [0.0, 0.0, 1.0]
    )  # no entry for -8: scored as missing
    assert add[2, 0].tolist() == [0.0, -0.0, 0.0]  # -7 is not declared: a number, clipped to 0
    assert add[0, 2].tolist() == add[3, 2].tolist()  # a pair sees a code as missing
    fired = spec_mod.evaluate(_rules(), ROWS)["rule"].tolist()
    assert fired == [1, 0, 1, 1, 1, 1, 2, 4]  # -7 is a number; a code is not missing


@pytest.mark.parametrize("make", [_additive3, _rules, _mlp])
def test_onnx_parity_with_special_values(make):
    from distill2rules.exporters import to_onnx
    from distill2rules.exporters.onnx import check_onnx_parity, onnx_feeds

    spec = make()
    spec_mod.validate(spec)
    model = to_onnx(spec)
    report = check_onnx_parity(model, spec, n_rows=3000, random_state=1)
    assert report.ok and report.label_mismatches == 0, report
    import onnxruntime as ort

    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    got = sess.run(["probabilities"], onnx_feeds(spec, ROWS))[0]
    np.testing.assert_allclose(got, spec_mod.evaluate(spec, ROWS)["probabilities"], atol=1e-6)


def test_malformed_special_entries_are_refused():
    bad = _additive3()
    bad["terms"][0]["special"]["-7"] = {"label": "x", "score": [0, 0, 0]}
    with pytest.raises(SpecError, match="does not declare"):
        spec_mod.validate(bad)
    bad = _additive3()
    bad["terms"][2]["special"] = {"-9": {"label": "no record", "score": [0, 0, 0]}}
    with pytest.raises(SpecError, match="not a linear term or a table over one numeric axis"):
        spec_mod.validate(bad)
    bad = _additive3()
    bad["special_values"] = {"c": {"-9": "x"}}
    with pytest.raises(SpecError, match="not a numeric input"):
        spec_mod.validate(bad)


def test_is_special_value_hook():
    spec = _rules()
    assert spec_mod.is_special_value(spec, "m", -9) and spec_mod.is_special_value(
        spec, "m", np.float32(-8.0)
    )
    assert not spec_mod.is_special_value(spec, "m", -7) and not spec_mod.is_special_value(
        spec, "x", -9
    )
    assert spec_mod.special_label(spec, "m", -9.0) == "no record"


def test_calibration_scales_special_scores_too():
    from distill2rules.students import fold_scale

    spec = _additive3()
    before = spec_mod.evaluate(spec, ROWS)["scores"]
    after = spec_mod.evaluate(fold_scale(spec, 0.5), ROWS)["scores"]
    np.testing.assert_allclose(after, 0.5 * before)

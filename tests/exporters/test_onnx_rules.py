"""Parity of the rule-list ONNX builder with the reference evaluator (onnxruntime, real graphs)."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from distill2rules.errors import SpecError
from distill2rules.exporters.onnx import adversarial_inputs, check_onnx_parity, onnx_feeds, to_onnx

FORMAT = "distill2rules.spec/1"
CATEGORY_POOL = ["red", "green", "blue", "", "x y", "ü", "7"]


def _run(model, numeric, categorical):
    options = ort.SessionOptions()
    options.log_severity_level = 3
    sess = ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    feeds = onnx_feeds(model, numeric=numeric, categorical=categorical)
    return dict(zip([o.name for o in sess.get_outputs()], sess.run(None, feeds)))


def _spec(rules, default=(0.5, 0.5), *, numeric=("x",), categorical=("c",), classes=("no", "yes")):
    return {
        "format": FORMAT,
        "kind": "rule_list",
        "model": "rules",
        "classes": list(classes),
        "inputs": {"numeric": list(numeric), "categorical": list(categorical)},
        "rules": [
            {"name": f"R{i + 1}", "support": 1, "class_counts": [1] * len(classes), **r}
            for i, r in enumerate(rules)
        ],
        "default": {
            "probabilities": list(default),
            "support": 1,
            "class_counts": [1] * len(classes),
        },
    }


def test_first_rule_wins_thresholds_rounded_down_and_missing_flags():
    spec = _spec(
        [
            {
                "conditions": [{"feature": "x", "op": "<=", "value": 0.7, "missing": True}],
                "probabilities": [0.9, 0.1],
            },
            {
                "conditions": [
                    {"feature": "c", "op": "in", "values": ["red", "blue"], "missing": False},
                    {"feature": "x", "op": ">", "value": 5.0, "missing": False},
                ],
                "probabilities": [0.2, 0.8],
            },
            {"conditions": [{"feature": "c", "op": "is_missing"}], "probabilities": [0.3, 0.7]},
        ],
        default=[0.6, 0.4],
    )
    seven = np.float32(0.7)  # float32(0.7) < 0.7, so it satisfies x <= 0.7; its successor does not
    num = np.asarray(
        [
            [np.nan],
            [seven],
            [np.nextafter(seven, np.float32(1))],
            [6.0],
            [6.0],
            [6.0],
            [np.inf],
            [1.0],
        ],
        dtype=np.float32,
    )
    cat = np.asarray(
        [["red"], ["red"], ["red"], ["red"], ["green"], [""], ["blue"], ["purple"]], dtype=object
    )
    out = _run(to_onnx(spec), num, cat)
    assert out["rule"].tolist() == [0, 0, 3, 1, 3, 2, 1, 3]
    assert out["label"].tolist() == [0, 0, 0, 1, 0, 1, 1, 0]
    np.testing.assert_allclose(out["probabilities"][3], [0.2, 0.8], rtol=1e-7)
    report = check_onnx_parity(to_onnx(spec), spec, numeric=num, categorical=cat)
    assert report.ok and report.rule_mismatches == 0


def test_not_in_unseen_and_missing_categories():
    spec = _spec(
        [
            {
                "conditions": [
                    {"feature": "c", "op": "not_in", "values": ["red"], "missing": False}
                ],
                "probabilities": [0.1, 0.9],
            },
        ],
        numeric=(),
    )
    cat = np.asarray([["red"], ["never seen"], [""], ["Red"]], dtype=object)
    out = _run(to_onnx(spec), None, cat)
    assert out["rule"].tolist() == [1, 0, 1, 0]


def test_numeric_is_missing_not_missing_and_huge_thresholds():
    spec = _spec(
        [
            {"conditions": [{"feature": "x", "op": "is_missing"}], "probabilities": [1.0, 0.0]},
            {
                "conditions": [{"feature": "x", "op": "<=", "value": -1e39, "missing": False}],
                "probabilities": [0.0, 1.0],
            },
            {
                "conditions": [{"feature": "x", "op": ">", "value": 1e39, "missing": False}],
                "probabilities": [0.25, 0.75],
            },
            {"conditions": [{"feature": "x", "op": "not_missing"}], "probabilities": [0.4, 0.6]},
        ],
        categorical=(),
    )
    num = np.asarray([[np.nan], [-np.inf], [-3.4e38], [3.4e38], [np.inf]], dtype=np.float32)
    out = _run(to_onnx(spec), num, None)
    assert out["rule"].tolist() == [0, 1, 3, 3, 2]


def test_rule_without_conditions_and_empty_rule_list():
    always = _spec([{"conditions": [], "probabilities": [0.2, 0.8]}])
    out = _run(to_onnx(always), np.zeros((3, 1), np.float32), np.asarray([["a"]] * 3, dtype=object))
    assert out["rule"].tolist() == [0, 0, 0]
    empty = _spec([], default=[0.7, 0.3])
    out = _run(to_onnx(empty), np.zeros((2, 1), np.float32), np.asarray([["a"]] * 2, dtype=object))
    assert out["rule"].tolist() == [0, 0] and out["label"].tolist() == [0, 0]


def test_operator_must_fit_the_feature_kind():
    spec = _spec(
        [{"conditions": [{"feature": "c", "op": "<=", "value": 1.0}], "probabilities": [0.5, 0.5]}]
    )
    with pytest.raises(SpecError, match="operator '<=' does not apply to categorical feature 'c'"):
        to_onnx(spec)


# ----------------------------------------------------------------------------- hypothesis

_value = st.one_of(
    st.floats(-100, 100, allow_nan=False, width=64),
    st.sampled_from([0.1, 0.7, 1 / 3, 1e38, -1e38, 1e39, -1e39, np.inf, -np.inf, 0.0]),
)


@st.composite
def rule_list_specs(draw):
    n_num = draw(st.integers(0, 3))
    n_cat = draw(st.integers(0 if n_num else 1, 2))
    num = [f"n{j}" for j in range(n_num)]
    cat = [f"c{j}" for j in range(n_cat)]
    k = draw(st.integers(2, 4))

    def probabilities():
        w = np.asarray(draw(st.lists(st.floats(0.01, 1.0), min_size=k, max_size=k)))
        return (w / w.sum()).tolist()

    def condition():
        if num and (not cat or draw(st.booleans())):
            op = draw(st.sampled_from(["<=", ">", "<=", ">", "is_missing", "not_missing"]))
            cond = {"feature": draw(st.sampled_from(num)), "op": op}
            if op in ("<=", ">"):
                cond.update(value=draw(_value), missing=draw(st.booleans()))
            return cond
        op = draw(st.sampled_from(["in", "not_in", "in", "not_in", "is_missing", "not_missing"]))
        cond = {"feature": draw(st.sampled_from(cat)), "op": op}
        if op in ("in", "not_in"):
            cond.update(
                values=draw(st.lists(st.sampled_from(CATEGORY_POOL), max_size=4, unique=True)),
                missing=draw(st.booleans()),
            )
        return cond

    rules = [
        {
            "conditions": [condition() for _ in range(draw(st.integers(0, 3)))],
            "probabilities": probabilities(),
        }
        for _ in range(draw(st.integers(0, 6)))
    ]
    return _spec(
        rules,
        default=probabilities(),
        numeric=num,
        categorical=cat,
        classes=[f"k{i}" for i in range(k)],
    )


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(spec=rule_list_specs(), seed=st.integers(0, 2**16))
def test_random_rule_lists_match_reference(spec, seed):
    model = to_onnx(spec)
    report = check_onnx_parity(model, spec, n_rows=400, random_state=seed)
    assert report.ok, report.to_dict()
    assert report.rule_mismatches == 0
    numeric, categorical = adversarial_inputs(spec, 50, random_state=seed)
    a = _run(model, numeric, categorical)
    b = _run(to_onnx(spec, inputs="columns"), numeric, categorical)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])

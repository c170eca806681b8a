"""Parity of the MLP ONNX builder with the reference evaluator (onnxruntime, real graphs)."""

from __future__ import annotations

import itertools

import numpy as np
import onnxruntime as ort
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from distill2rules.errors import SpecError
from distill2rules.exporters.onnx import adversarial_inputs, check_onnx_parity, onnx_feeds, to_onnx
from distill2rules.spec import evaluate

FORMAT = "distill2rules.spec/1"


def _run(model, numeric, categorical):
    options = ort.SessionOptions()
    options.log_severity_level = 3
    sess = ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    feeds = onnx_feeds(model, numeric=numeric, categorical=categorical)
    return dict(zip([o.name for o in sess.get_outputs()], sess.run(None, feeds)))


def _spec(preprocess, layers, *, numeric, categorical, link="logistic", classes=(0, 1)):
    return {
        "format": FORMAT,
        "kind": "mlp",
        "model": "mlp",
        "classes": list(classes),
        "link": link,
        "inputs": {"numeric": list(numeric), "categorical": list(categorical)},
        "preprocess": preprocess,
        "layers": layers,
    }


def _layers(rng, sizes, activation="relu"):
    return [
        {
            "weight": rng.normal(size=(o, i)).tolist(),
            "bias": rng.normal(size=o).tolist(),
            "activation": activation if n < len(sizes) - 2 else "identity",
        }
        for n, (i, o) in enumerate(itertools.pairwise(sizes))
    ]


def test_hand_mlp_one_hot_impute_clip_and_huge_inputs():
    rng = np.random.default_rng(0)
    pre = {
        "numeric": [
            {"feature": "a", "mean": 1.0, "scale": 2.0, "impute": 0.5, "clip": [-10.0, 10.0]},
            {"feature": "b", "mean": 0.0, "scale": 1e-3, "impute": 0.0, "clip": [None, None]},
        ],
        "categorical": [{"feature": "c", "categories": ["u", "v", "w"]}],
    }
    spec = _spec(
        pre,
        _layers(rng, [5, 8, 3], "tanh"),
        numeric=("a", "b"),
        categorical=("c",),
        link="softmax",
        classes=("x", "y", "z"),
    )
    num = np.asarray(
        [[np.nan, np.nan], [1e38, -1e38], [-np.inf, 3.0], [0.5, 0.0]], dtype=np.float32
    )
    cat = np.asarray([["u"], [""], ["unseen"], ["w"]], dtype=object)
    out = _run(to_onnx(spec), num, cat)
    ref = evaluate(spec, numeric=num, categorical=cat)
    np.testing.assert_allclose(out["probabilities"], ref["probabilities"], atol=1e-6)
    assert out["label"].tolist() == ref["label"].tolist()
    assert set(out) == {"probabilities", "label"}


def test_one_hot_block_is_all_zero_for_missing_and_unseen():
    # a single identity layer exposes the design matrix through the logistic score
    pre = {"numeric": [], "categorical": [{"feature": "c", "categories": ["u", "v"]}]}
    spec = _spec(
        pre,
        [{"weight": [[1.0, 2.0]], "bias": [0.0], "activation": "identity"}],
        numeric=(),
        categorical=("c",),
    )
    out = _run(to_onnx(spec), None, np.asarray([["u"], ["v"], [""], ["zz"]], dtype=object))
    score = np.log(out["probabilities"][:, 1] / out["probabilities"][:, 0])
    np.testing.assert_allclose(score, [1.0, 2.0, 0.0, 0.0], atol=1e-6)


def test_layer_width_mismatch_raises():
    pre = {"numeric": [{"feature": "a", "mean": 0.0, "scale": 1.0}], "categorical": []}
    spec = _spec(
        pre,
        [{"weight": [[1.0, 1.0]], "bias": [0.0], "activation": "identity"}],
        numeric=("a",),
        categorical=(),
    )
    with pytest.raises(SpecError, match="mlp layer 0 has weight"):
        to_onnx(spec)


@st.composite
def mlp_specs(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    n_num = draw(st.integers(0, 3))
    n_cat = draw(st.integers(0 if n_num else 1, 2))
    num = [f"n{j}" for j in range(n_num)]
    cat = [f"c{j}" for j in range(n_cat)]
    link = draw(st.sampled_from(["logistic", "softmax"]))
    k = 2 if link == "logistic" else draw(st.integers(2, 4))
    pre_num = []
    for c in draw(st.lists(st.sampled_from(num), unique=True)) if num else []:
        lo = draw(st.sampled_from([None, -5.0, -1e30]))
        hi = draw(st.sampled_from([None, 5.0, 1e30]))
        pre_num.append(
            {
                "feature": c,
                "mean": float(rng.normal()),
                "scale": float(rng.uniform(0.01, 10)),
                "impute": float(rng.normal()),
                "clip": [lo, hi],
            }
        )
    pre_cat = [
        {
            "feature": c,
            "categories": draw(
                st.lists(st.sampled_from(["a", "b", "c", "d", " e "]), max_size=4, unique=True)
            ),
        }
        for c in (draw(st.lists(st.sampled_from(cat), unique=True)) if cat else [])
    ]
    width = len(pre_num) + sum(len(p["categories"]) for p in pre_cat)
    hidden = draw(st.lists(st.integers(1, 8), max_size=2))
    sizes = [width] + hidden + [1 if link == "logistic" else k]
    layers = _layers(rng, sizes, draw(st.sampled_from(["relu", "tanh"])))
    return _spec(
        {"numeric": pre_num, "categorical": pre_cat},
        layers,
        numeric=num,
        categorical=cat,
        link=link,
        classes=list(range(k)),
    )


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(spec=mlp_specs(), seed=st.integers(0, 2**16))
def test_random_mlps_match_reference(spec, seed):
    model = to_onnx(spec)
    report = check_onnx_parity(model, spec, n_rows=400, random_state=seed)
    assert report.ok, report.to_dict()
    numeric, categorical = adversarial_inputs(spec, 50, random_state=seed)
    a = _run(model, numeric, categorical)
    b = _run(to_onnx(spec, inputs="columns"), numeric, categorical)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])

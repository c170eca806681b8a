"""Parity of the additive ONNX builder with the reference evaluator (onnxruntime, real graphs)."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from distill2rules.errors import SpecError
from distill2rules.exporters.onnx import adversarial_inputs, check_onnx_parity, onnx_feeds, to_onnx
from distill2rules.spec import evaluate

FORMAT = "distill2rules.spec/1"
CATEGORY_POOL = ["a", "b", "c", "d e", "é", "10", "3.5", "long" * 8, "True"]


def _session(model):
    options = ort.SessionOptions()
    options.log_severity_level = 3
    return ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )


def _run(model, spec, numeric, categorical):
    sess = _session(model)
    feeds = onnx_feeds(model, numeric=numeric, categorical=categorical)
    return dict(zip([o.name for o in sess.get_outputs()], sess.run(None, feeds)))


def _spec(
    terms, *, numeric=("x",), categorical=(), link="logistic", classes=(0, 1), intercept=None
):
    kp = 1 if link == "logistic" else len(classes)
    return {
        "format": FORMAT,
        "kind": "additive",
        "model": "ebm",
        "classes": list(classes),
        "link": link,
        "inputs": {"numeric": list(numeric), "categorical": list(categorical)},
        "intercept": list(intercept) if intercept is not None else [0.0] * kp,
        "terms": terms,
    }


# ----------------------------------------------------------------------------- hand-built specs


def test_numeric_bins_exact_at_edges_and_float32_neighbours():
    # neither 1/3 nor 0.7 is a float32: float32(1/3) lies above 1/3, float32(0.7) below 0.7
    edges = [1 / 3, 0.7, 2.0]
    spec = _spec(
        [
            {
                "name": "x",
                "type": "table",
                "axes": [{"feature": "x", "kind": "numeric", "edges": edges}],
                "scores": [[10.0], [1.0], [2.0], [3.0], [4.0]],
            }
        ]
    )
    third, seven = np.float32(1 / 3), np.float32(0.7)
    assert float(third) > 1 / 3 and float(seven) < 0.7
    x = np.asarray(
        [
            [np.nan],
            [-np.inf],
            [third],
            [np.nextafter(third, np.float32(0))],
            [seven],
            [np.nextafter(seven, np.float32(1))],
            [2.0],
            [np.nextafter(np.float32(2), np.float32(0))],
            [np.inf],
            [3.4e38],
        ],
        dtype=np.float32,
    )
    out = _run(to_onnx(spec), spec, x, None)
    want = [10.0, 1.0, 2.0, 1.0, 2.0, 3.0, 4.0, 3.0, 4.0, 4.0]
    np.testing.assert_array_equal(out["contributions"][:, 0], np.float32(want))
    np.testing.assert_array_equal(
        evaluate(spec, numeric=x, categorical=np.empty((10, 0)))["contributions"][:, 0, 0], want
    )


def test_categorical_missing_listed_unseen_and_pair_with_numeric():
    cat_axis = {"feature": "c", "kind": "categorical", "categories": ["a", "b"]}
    num_axis = {"feature": "x", "kind": "numeric", "edges": [0.0]}
    pair_scores = np.arange(3 * 4, dtype=float).reshape(3, 4, 1)
    spec = _spec(
        [
            {
                "name": "c",
                "type": "table",
                "axes": [cat_axis],
                "scores": [[-1.0], [1.0], [2.0], [7.0]],
            },
            {
                "name": "x*c",
                "type": "table",
                "axes": [num_axis, cat_axis],
                "scores": pair_scores.tolist(),
            },
        ],
        categorical=("c",),
    )
    x = np.asarray([[np.nan], [-1.0], [0.0], [5.0]], dtype=np.float32)
    c = np.asarray([[""], ["a"], ["b"], ["zzz"]], dtype=object)
    out = _run(to_onnx(spec), spec, x, c)
    np.testing.assert_array_equal(out["contributions"][:, 0], [-1.0, 1.0, 2.0, 7.0])
    # pair index = bin_x * 4 + code_c: (0,0) (1,1) (2,2) (2,3)
    np.testing.assert_array_equal(out["contributions"][:, 1], [0.0, 5.0, 10.0, 11.0])


def test_linear_terms_impute_clip_infinities_and_interleaved_order():
    spec = _spec(
        [
            {
                "name": "lin_x",
                "type": "linear",
                "feature": "x",
                "coef": [2.0],
                "impute": 0.5,
                "clip": [-1.0, np.inf],
            },
            {
                "name": "tab_y",
                "type": "table",
                "axes": [{"feature": "y", "kind": "numeric", "edges": [0.0]}],
                "scores": [[0.0], [-1.0], [1.0]],
            },
            {
                "name": "lin_y",
                "type": "linear",
                "feature": "y",
                "coef": [-1.0],
                "impute": 0.0,
                "clip": [None, 1e6],
            },
        ],
        numeric=("x", "y"),
        intercept=[0.25],
    )
    num = np.asarray(
        [[np.nan, np.nan], [-5.0, 3.0], [np.inf, -np.inf], [1e38, 1e38]], dtype=np.float32
    )
    out = _run(to_onnx(spec), spec, num, None)
    want = np.asarray(
        [[1.0, 0.0, -0.0], [-2.0, 1.0, -3.0], [np.inf, -1.0, np.inf], [2e38, 1.0, -1e6]],
        dtype=np.float32,
    )
    np.testing.assert_array_equal(out["contributions"], want)
    assert out["label"].tolist() == [1, 0, 1, 1]
    report = check_onnx_parity(
        to_onnx(spec), spec, numeric=num, categorical=np.empty((4, 0), object)
    )
    assert report.ok, report.to_dict()


def test_softmax_contributions_follow_predicted_class():
    spec = _spec(
        [
            {
                "name": "x",
                "type": "table",
                "axes": [{"feature": "x", "kind": "numeric", "edges": [0.0]}],
                "scores": [[0.0, 0.0, 0.0], [3.0, 0.0, 1.0], [0.0, 0.0, 4.0]],
            },
            {
                "name": "lin",
                "type": "linear",
                "feature": "x",
                "coef": [0.0, 1.0, 0.0],
                "impute": 0.0,
            },
        ],
        link="softmax",
        classes=("lo", "mid", "hi"),
    )
    x = np.asarray([[np.nan], [-1.0], [1.0], [10.0]], dtype=np.float32)
    out = _run(to_onnx(spec), spec, x, None)
    assert out["label"].tolist() == [0, 0, 2, 1]  # NaN: all-zero scores -> first class
    np.testing.assert_array_equal(
        out["contributions"], np.float32([[0, 0], [3, 0], [4, 0], [0, 10]])
    )
    np.testing.assert_allclose(out["probabilities"].sum(axis=1), 1.0, atol=1e-6)


def test_ebm_sized_spec_10k_adversarial_rows():
    rng = np.random.default_rng(3)
    cols = [f"f{j}" for j in range(10)]
    terms = []
    for c in cols:
        edges = np.unique(rng.normal(size=1024) * 10).tolist()
        terms.append(
            {
                "name": c,
                "type": "table",
                "axes": [{"feature": c, "kind": "numeric", "edges": edges}],
                "scores": rng.normal(size=(len(edges) + 2, 1)).tolist(),
            }
        )
    e2 = np.unique(rng.normal(size=30)).tolist()
    terms.append(
        {
            "name": "f0 x g",
            "type": "table",
            "axes": [
                {"feature": "f0", "kind": "numeric", "edges": e2},
                {"feature": "g", "kind": "categorical", "categories": ["a", "b", "c"]},
            ],
            "scores": rng.normal(size=(len(e2) + 2, 5, 1)).tolist(),
        }
    )
    spec = _spec(terms, numeric=cols, categorical=("g",), intercept=[-0.3])
    model = to_onnx(spec)
    report = check_onnx_parity(model, spec, n_rows=10_000, random_state=1)
    assert report.n_rows == 10_000
    assert report.ok, report.to_dict()
    assert report.max_abs_probability <= 1e-6


def test_spec_without_terms_and_categorical_only_inputs():
    spec = _spec([], numeric=(), categorical=("c",), intercept=[0.7])
    model = to_onnx(spec)
    assert [i.name for i in model.graph.input] == ["categorical"]
    out = _run(model, spec, None, np.asarray([["a"], [""]], dtype=object))
    assert out["contributions"].shape == (2, 0)
    np.testing.assert_allclose(out["probabilities"][:, 1], 1 / (1 + np.exp(-0.7)), rtol=1e-6)


def test_table_with_shared_edges_rounding_to_same_float32():
    # 1.0 and 1.0 + 1e-12 are the same float32 threshold: the bin between them is empty.
    edges = [1.0, 1.0 + 1e-12, 2.0]
    spec = _spec(
        [
            {
                "name": "x",
                "type": "table",
                "axes": [{"feature": "x", "kind": "numeric", "edges": edges}],
                "scores": [[0.0], [1.0], [2.0], [3.0], [4.0]],
            }
        ]
    )
    x = np.asarray(
        [[0.5], [1.0], [np.nextafter(np.float32(1), np.float32(2))], [2.0]], dtype=np.float32
    )
    out = _run(to_onnx(spec), spec, x, None)
    np.testing.assert_array_equal(out["contributions"][:, 0], [1.0, 2.0, 3.0, 4.0])
    assert check_onnx_parity(to_onnx(spec), n_rows=2000).ok


def test_duplicated_categories_use_the_last_position_like_the_reference():
    axis = {"feature": "c", "kind": "categorical", "categories": ["a", "b", "a", ""]}
    spec = _spec(
        [
            {
                "name": "c",
                "type": "table",
                "axes": [axis],
                "scores": [[0.0], [1.0], [2.0], [3.0], [4.0], [5.0]],
            }
        ],
        numeric=(),
        categorical=("c",),
    )
    cat = np.asarray([["a"], ["b"], [""], ["q"]], dtype=object)
    out = _run(to_onnx(spec), spec, None, cat)
    np.testing.assert_array_equal(out["contributions"][:, 0], [3.0, 2.0, 0.0, 5.0])
    assert check_onnx_parity(
        to_onnx(spec), spec, numeric=np.empty((4, 0), np.float32), categorical=cat
    ).ok


def test_unsorted_edges_and_non_string_categories_raise():
    bad = _spec(
        [
            {
                "name": "x",
                "type": "table",
                "axes": [{"feature": "x", "kind": "numeric", "edges": [2.0, 1.0]}],
                "scores": [[0.0]] * 4,
            }
        ]
    )
    with pytest.raises(SpecError, match="unsorted bin edges"):
        to_onnx(bad)
    bad_cat = _spec(
        [
            {
                "name": "c",
                "type": "table",
                "axes": [{"feature": "c", "kind": "categorical", "categories": [1, 2]}],
                "scores": [[0.0]] * 4,
            }
        ],
        numeric=(),
        categorical=("c",),
    )
    with pytest.raises(SpecError, match="non-string category 1"):
        to_onnx(bad_cat)


def test_axis_kind_must_match_input_kind():
    spec = _spec(
        [
            {
                "name": "x",
                "type": "table",
                "axes": [{"feature": "x", "kind": "categorical", "categories": ["a"]}],
                "scores": [[0.0]] * 3,
            }
        ]
    )
    with pytest.raises(SpecError, match="treats 'x' as categorical"):
        to_onnx(spec)


# ----------------------------------------------------------------------------- hypothesis

_finite = st.floats(-1e6, 1e6, allow_nan=False, width=64)
_edge_value = st.one_of(
    _finite, st.sampled_from([0.0, 0.1, 1 / 3, 1e-40, -1e-40, 1e38, -1e38, 1e39, 3.4028235e38])
)


@st.composite
def edge_lists(draw):
    edges = sorted(set(draw(st.lists(_edge_value, max_size=40))))
    if edges and draw(st.booleans()):  # near-duplicates collapsing to one float32 threshold
        edges = sorted(set(edges + [float(np.nextafter(edges[0], np.inf))]))
    return edges


@st.composite
def additive_specs(draw):
    n_num = draw(st.integers(0, 3))
    n_cat = draw(st.integers(0 if n_num else 1, 2))
    num = [f"n{j}" for j in range(n_num)]
    cat = [f"c{j}" for j in range(n_cat)]
    link = draw(st.sampled_from(["logistic", "softmax"]))
    k = 2 if link == "logistic" else draw(st.integers(2, 4))
    kp = 1 if link == "logistic" else k
    score = st.floats(-4, 4, allow_nan=False, width=32)

    def axis(kind):
        if kind == "numeric":
            return {
                "feature": draw(st.sampled_from(num)),
                "kind": "numeric",
                "edges": draw(edge_lists()),
            }
        cats = draw(st.lists(st.sampled_from(CATEGORY_POOL), max_size=5, unique=True))
        return {"feature": draw(st.sampled_from(cat)), "kind": "categorical", "categories": cats}

    kinds = (["numeric"] if num else []) + (["categorical"] if cat else [])
    terms = []
    for t in range(draw(st.integers(0, 5))):
        choice = draw(
            st.sampled_from(["linear", "table1", "table2"] if num else ["table1", "table2"])
        )
        if choice == "linear":
            lo = draw(st.sampled_from([-np.inf, -1.0, -1e3]))
            hi = draw(st.sampled_from([np.inf, 1.0, 1e3]))
            terms.append(
                {
                    "name": f"t{t}",
                    "type": "linear",
                    "feature": draw(st.sampled_from(num)),
                    "coef": draw(st.lists(score, min_size=kp, max_size=kp)),
                    "impute": draw(_finite),
                    "clip": [lo, hi],
                }
            )
            continue
        axes = [axis(draw(st.sampled_from(kinds))) for _ in range(1 if choice == "table1" else 2)]
        shape = [
            len(a["edges"]) + 2 if a["kind"] == "numeric" else len(a["categories"]) + 2
            for a in axes
        ] + [kp]
        flat = draw(st.lists(score, min_size=int(np.prod(shape)), max_size=int(np.prod(shape))))
        terms.append(
            {
                "name": f"t{t}",
                "type": "table",
                "axes": axes,
                "scores": np.reshape(flat, shape).tolist(),
            }
        )
    classes = list(range(k)) if draw(st.booleans()) else [f"class {i}" for i in range(k)]
    return _spec(
        terms,
        numeric=num,
        categorical=cat,
        link=link,
        classes=classes,
        intercept=draw(st.lists(score, min_size=kp, max_size=kp)),
    )


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(spec=additive_specs(), seed=st.integers(0, 2**16))
def test_random_additive_specs_match_reference(spec, seed):
    model = to_onnx(spec)
    report = check_onnx_parity(model, spec, n_rows=400, random_state=seed)
    assert report.ok, report.to_dict()
    numeric, categorical = adversarial_inputs(spec, 50, random_state=seed)
    a = _run(model, spec, numeric, categorical)
    b = _run(to_onnx(spec, inputs="columns"), spec, numeric, categorical)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])

"""The compact ONNX graphs (one tree ensemble per student): node budgets and label ties."""

from __future__ import annotations

import numpy as np
import pytest

from distill2rules.exporters._onnx_graph import logistic_tie, round_down_f32
from distill2rules.exporters.onnx import check_onnx_parity, onnx_feeds, to_onnx
from distill2rules.spec import evaluate, link_probabilities

FORMAT = "distill2rules.spec/1"


def _additive(terms, intercept, *, numeric=("x",), categorical=("c",)):
    return {
        "format": FORMAT,
        "kind": "additive",
        "model": "ebm",
        "classes": [0, 1],
        "link": "logistic",
        "inputs": {"numeric": list(numeric), "categorical": list(categorical)},
        "intercept": [intercept],
        "terms": terms,
    }


def _tables():
    return [
        {
            "name": "x",
            "type": "table",
            "axes": [{"feature": "x", "kind": "numeric", "edges": [0.0, 1.0]}],
            "scores": [[0.0], [-0.5], [0.0], [0.5]],
        },
        {
            "name": "c",
            "type": "table",
            "axes": [{"feature": "c", "kind": "categorical", "categories": ["a", "b"]}],
            "scores": [[0.0], [0.0], [0.25], [-0.25]],
        },
        {
            "name": "x:c",
            "type": "table",
            "axes": [
                {"feature": "x", "kind": "numeric", "edges": [0.5]},
                {"feature": "c", "kind": "categorical", "categories": ["a"]},
            ],
            "scores": [[[0.0], [0.1], [0.0]], [[0.2], [0.0], [0.3]], [[0.0], [-0.4], [0.0]]],
        },
    ]


def _run(model, numeric, categorical):
    import onnxruntime as ort

    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    feeds = onnx_feeds(model, numeric=numeric, categorical=categorical)
    return dict(zip([o.name for o in sess.get_outputs()], sess.run(None, feeds)))


def test_logistic_tie_is_the_reference_label_threshold():
    tie = logistic_tie()
    assert 1e-17 < tie < 1e-15
    below = link_probabilities(np.array([[tie]]), "logistic")
    above = link_probabilities(np.array([[np.nextafter(tie, 1.0)]]), "logistic")
    assert below.argmax(axis=1)[0] == 0 and above.argmax(axis=1)[0] == 1
    assert float(round_down_f32(tie)) <= tie


@pytest.mark.parametrize(
    "intercept", [0.0, 1.1754943508222875e-38, 1e-17, 1e-16, 2e-16, 1e-9, -1e-9]
)
def test_tiny_scores_get_the_reference_label(intercept):
    """Rows whose score is ~0: ``label`` is the float64 reference's first maximum, not ``s > 0``."""
    numeric = np.array([[np.nan], [0.7]], dtype=np.float32)  # every term contributes 0
    categorical = np.array([[""], ["zzz"]], dtype=object)
    for spec in (
        _additive(_tables(), intercept),  # tree-only graph
        _additive(
            _tables()
            + [
                {
                    "name": "lin",
                    "type": "linear",
                    "feature": "x",
                    "coef": [0.0],
                    "impute": 0.0,
                    "clip": [-1.0, 1.0],
                }
            ],
            intercept,
        ),
    ):  # table + linear graph (Gemm tail)
        got = _run(to_onnx(spec), numeric, categorical)
        ref = evaluate(spec, numeric=numeric, categorical=categorical)
        np.testing.assert_array_equal(got["label"], ref["label"])
        np.testing.assert_allclose(got["probabilities"], ref["probabilities"], atol=1e-7)


def test_node_budgets():
    """One tree ensemble per student keeps single-row latency near onnxruntime's floor."""
    ebm = to_onnx(_additive(_tables()[:2], 0.3))  # mains: the trees emit the outputs' inputs
    assert len(ebm.graph.node) <= 7
    assert sum(n.op_type == "TreeEnsembleRegressor" for n in ebm.graph.node) == 1
    ebm = to_onnx(_additive(_tables(), 0.3))  # + a pair: one search per column, Gather, Gemm
    assert len(ebm.graph.node) <= 10
    assert sum(n.op_type == "TreeEnsembleRegressor" for n in ebm.graph.node) == 1
    rules = {
        "format": FORMAT,
        "kind": "rule_list",
        "model": "rules",
        "classes": ["n", "y"],
        "inputs": {"numeric": ["x"], "categorical": ["c"]},
        "rules": [
            {
                "conditions": [
                    {"feature": "x", "op": ">", "value": 1.5, "missing": True},
                    {"feature": "x", "op": "<=", "value": 9.0, "missing": False},
                    {"feature": "c", "op": "in", "values": ["a"], "missing": False},
                    {"feature": "c", "op": "not_in", "values": ["b"], "missing": True},
                ],
                "probabilities": [0.2, 0.8],
            }
        ],
        "default": {"probabilities": [0.9, 0.1]},
    }
    model = to_onnx(rules)
    assert len(model.graph.node) <= 6
    report = check_onnx_parity(model, rules, n_rows=2000)
    assert report.ok and report.rule_mismatches == 0, report.to_dict()


def test_each_input_column_is_searched_once():
    """Terms that read one column share one search over the union of their edges (a main and
    two pairs with different edges on ``x``, columns paired with themselves): one tree per
    column, the exact bins, contributions and labels of the reference evaluator on adversarial
    rows (edges, their float32 neighbours, NaN, +-inf, unseen categories), with and without a
    decision threshold (the Gemm tail and the Gather/Gemm form of the all-table graph)."""
    from onnx import helper

    terms = _tables() + [
        {
            "name": "x:y",
            "type": "table",
            "axes": [
                {"feature": "x", "kind": "numeric", "edges": [-1.0, 0.25, 1.0, 3.0]},
                {"feature": "y", "kind": "numeric", "edges": [0.0, 0.5]},
            ],
            "scores": (np.arange(6 * 4, dtype=float).reshape(6, 4, 1) / 10 - 1).tolist(),
        },
        {
            "name": "y",
            "type": "table",
            "axes": [{"feature": "y", "kind": "numeric", "edges": [0.1, 0.5, 2.0]}],
            "scores": [[0.05], [-0.3], [0.1], [0.2], [0.4]],
        },
        {  # a column paired with itself: one leaf adds both shares to one target
            "name": "x:x",
            "type": "table",
            "axes": [
                {"feature": "x", "kind": "numeric", "edges": [0.0]},
                {"feature": "x", "kind": "numeric", "edges": [0.0, 2.0]},
            ],
            "scores": (np.arange(3 * 4, dtype=float).reshape(3, 4, 1) / 7).tolist(),
        },
        {
            "name": "c:c",
            "type": "table",
            "axes": [
                {"feature": "c", "kind": "categorical", "categories": ["a"]},
                {"feature": "c", "kind": "categorical", "categories": ["b", "a"]},
            ],
            "scores": (np.arange(3 * 4, dtype=float).reshape(3, 4, 1) / -9).tolist(),
        },
    ]
    for threshold in (None, 0.4):
        spec = _additive(terms, -0.2, numeric=("x", "y"))
        if threshold is not None:
            spec["decision_threshold"] = threshold
        model = to_onnx(spec)
        report = check_onnx_parity(model, spec, n_rows=3000, random_state=2)
        assert report.ok and report.label_mismatches == 0, report.to_dict()
        (te,) = [n for n in model.graph.node if n.op_type == "TreeEnsembleRegressor"]
        trees = {a.name: helper.get_attribute_value(a) for a in te.attribute}["nodes_treeids"]
        assert len(set(trees)) == 3  # x, y, c: not one tree per term axis (11)
        numeric = np.asarray(
            [[-1.0, 0.0], [0.25, 0.5], [np.nan, 0.1], [np.inf, -np.inf], [0.5, 2.0]], np.float32
        )
        categorical = np.asarray([["a"], ["b"], [""], ["zz"], ["a"]], dtype=object)
        got = _run(model, numeric, categorical)
        ref = evaluate(spec, numeric=numeric, categorical=categorical)
        np.testing.assert_array_equal(got["label"], ref["label"])
        np.testing.assert_allclose(got["contributions"], ref["contributions"][..., 0], atol=1e-7)
    for term in terms[-2:]:  # one target: onnxruntime reads one weight per leaf
        for threshold in (None, 0.4):
            spec = _additive([term], 0.1, numeric=("x", "y"))
            spec["decision_threshold"] = threshold
            report = check_onnx_parity(to_onnx(spec), spec, n_rows=1000, random_state=3)
            assert report.ok and report.label_mismatches == 0, report.to_dict()

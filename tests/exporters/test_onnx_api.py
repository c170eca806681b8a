"""The ONNX exporter's contract: registry, inputs, outputs, metadata, files, opsets, imports."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
import pandas as pd
import pytest

from distill2rules.errors import ArtifactError, ConfigError, SpecError
from distill2rules.exporters import EXPORTERS, get_exporter, register
from distill2rules.exporters.onnx import (
    assert_onnx_parity,
    check_onnx_parity,
    onnx_feeds,
    save_onnx,
    to_onnx,
)
from distill2rules.spec import evaluate, from_json, to_json

FORMAT = "distill2rules.spec/1"


@pytest.fixture
def spec():
    return {
        "format": FORMAT,
        "kind": "additive",
        "model": "logreg",
        "classes": ["bad", "good"],
        "link": "logistic",
        "inputs": {"numeric": ["income", "age"], "categorical": ["housing"]},
        "intercept": [-0.5],
        "terms": [
            {
                "name": "income",
                "type": "linear",
                "feature": "income",
                "coef": [0.001],
                "impute": 1000.0,
                "clip": [0.0, 1e5],
            },
            {
                "name": "age",
                "type": "table",
                "axes": [{"feature": "age", "kind": "numeric", "edges": [25.0, 40.0]}],
                "scores": [[0.0], [-0.4], [0.1], [0.3]],
            },
            {
                "name": "housing",
                "type": "table",
                "axes": [
                    {"feature": "housing", "kind": "categorical", "categories": ["own", "rent"]}
                ],
                "scores": [[0.0], [0.5], [-0.2], [0.0]],
            },
        ],
        "meta": {"teacher": "lgbm"},
    }


def _session(model):
    options = ort.SessionOptions()
    options.log_severity_level = 3
    return ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )


def test_registry_has_onnx_and_refuses_silent_overwrite():
    assert EXPORTERS["onnx"].fn is to_onnx
    assert get_exporter("onnx").fn is to_onnx
    assert get_exporter("onnx").file_names[0] == "student.onnx"
    assert get_exporter("rulecard").file_names == ("rulecard.md", "rulecard.html", "rulecard.json")
    with pytest.raises(ConfigError, match="exporter named 'onnx' is already registered"):
        register("onnx", lambda spec: None)
    with pytest.raises(ConfigError, match="exporter named 'onnx' is already registered"):
        EXPORTERS["onnx"] = lambda spec: None
    with pytest.raises(ConfigError, match="no exporter named 'pmml'; available: .*onnx"):
        get_exporter("pmml")
    assert EXPORTERS["onnx"].fn is to_onnx


def test_register_with_overwrite_replaces_explicitly():
    def fake(spec):
        return "fake"

    name = "test-only-format"
    try:
        register(name, fake)
        assert get_exporter(name).fn is fake and get_exporter(name)({}) == "fake"
        register(name, str, overwrite=True)
        assert get_exporter(name).fn is str
    finally:
        dict.pop(EXPORTERS, name, None)


def test_inputs_outputs_and_metadata(spec):
    model = to_onnx(spec)
    onnx.checker.check_model(model, full_check=True)
    assert model.ir_version == 10
    assert {o.domain: o.version for o in model.opset_import} == {"": 18, "ai.onnx.ml": 3}
    ins = {i.name: i.type.tensor_type for i in model.graph.input}
    assert ins["numeric"].elem_type == onnx.TensorProto.FLOAT
    assert [d.dim_value for d in ins["numeric"].shape.dim][1] == 2
    assert ins["categorical"].elem_type == onnx.TensorProto.STRING
    assert [o.name for o in model.graph.output] == ["probabilities", "label", "contributions"]
    meta = {p.key: p.value for p in model.metadata_props}
    assert json.loads(meta["numeric_columns"]) == ["income", "age"]
    assert json.loads(meta["categorical_columns"]) == ["housing"]
    assert json.loads(meta["classes"]) == ["bad", "good"]
    assert json.loads(meta["term_names"]) == ["income", "age", "housing"]
    assert json.loads(meta["producer"])["name"] == "distill2rules"
    assert meta["spec"] == to_json(spec)
    assert from_json(meta["spec"])["terms"][1]["axes"][0]["edges"] == [25.0, 40.0]
    assert model.producer_name == "distill2rules"


def test_feeds_from_dataframe_match_python_student(spec):
    df = pd.DataFrame(
        {
            "income": [50_000, None, 2e6, 10],
            "age": [30, 25, None, 80],
            "housing": ["own", None, "free", " rent "],
            "unused": [1, 2, 3, 4],
        }
    )
    model = to_onnx(spec)
    out = dict(
        zip(
            ["probabilities", "label", "contributions"],
            _session(model).run(None, onnx_feeds(model, df)),
        )
    )
    ref = evaluate(spec, df)
    np.testing.assert_allclose(out["probabilities"], ref["probabilities"], atol=1e-6)
    np.testing.assert_array_equal(out["label"], ref["label"])
    np.testing.assert_allclose(out["contributions"], ref["contributions"][:, :, 0], atol=1e-6)
    assert out["contributions"][3, 2] == np.float32(
        -0.2
    )  # " rent " is stripped to a known category


def test_columns_mode_has_one_input_per_column_and_same_outputs(spec):
    model = to_onnx(spec, inputs="columns")
    ins = {i.name: i.type.tensor_type for i in model.graph.input}
    assert list(ins) == ["income", "age", "housing"]
    assert ins["housing"].elem_type == onnx.TensorProto.STRING
    assert [d.dim_value for d in ins["age"].shape.dim][1] == 1
    num = np.asarray([[1.0, 30.0], [np.nan, 25.0], [3e5, np.inf]], dtype=np.float32)
    cat = np.asarray([["own"], [""], ["boat"]], dtype=object)
    feeds = onnx_feeds(model, numeric=num, categorical=cat)
    assert set(feeds) == {"income", "age", "housing"} and feeds["age"].shape == (3, 1)
    a = _session(to_onnx(spec)).run(None, onnx_feeds(spec, numeric=num, categorical=cat))
    b = _session(model).run(None, feeds)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def test_columns_mode_refuses_output_names_as_columns(spec):
    spec["inputs"]["numeric"] = ["label", "age"]
    spec["terms"][0]["feature"] = "label"
    with pytest.raises(SpecError, match="cannot name an ONNX input"):
        to_onnx(spec, inputs="columns")
    assert check_onnx_parity(to_onnx(spec), n_rows=500).ok  # tensors mode is fine


def test_save_onnx_round_trip_and_parity_check(spec, tmp_path):
    path = save_onnx(spec, tmp_path / "student.onnx")
    assert path.is_file() and not list(tmp_path.glob(".*tmp"))
    report = assert_onnx_parity(str(path), n_rows=2000)
    assert report.ok and report.n_rows == 2000 and report.to_dict()["ok"] is True
    loaded = onnx.load(str(path))
    assert {p.key: p.value for p in loaded.metadata_props}["spec"] == to_json(spec)


def test_parity_check_detects_a_wrong_graph(spec):
    model = to_onnx(spec)
    other = json.loads(to_json(spec))
    other["intercept"] = [0.5]
    with pytest.raises(ArtifactError, match="disagrees with the spec"):
        assert_onnx_parity(model, other, n_rows=200)


@pytest.mark.parametrize("opset", [13, 17, 21])
def test_other_opsets_pass_checker_and_run(spec, opset):
    model = to_onnx(spec, opset=opset)
    assert check_onnx_parity(model, n_rows=300).ok


def test_bad_options_raise(spec):
    with pytest.raises(ConfigError, match="inputs must be 'tensors', 'columns' or 'codes'"):
        to_onnx(spec, inputs="frame")
    with pytest.raises(ConfigError, match="opset must be in 13..21"):
        to_onnx(spec, opset=9)
    with pytest.raises(SpecError, match="unsupported spec format"):
        to_onnx({**spec, "format": "other/2"})


def test_exporters_import_only_numpy_and_onnx():
    code = (
        "import sys, json\n"
        "import distill2rules.exporters as e\n"
        "light = 'onnx' not in sys.modules\n"
        "spec = {'format': 'distill2rules.spec/1', 'kind': 'rule_list', 'classes': [0, 1],\n"
        "        'inputs': {'numeric': ['x'], 'categorical': []},\n"
        "        'rules': [{'conditions': [{'feature': 'x', 'op': '<=', 'value': 1.0, 'missing': False}],\n"
        "                   'probabilities': [0.1, 0.9]}], 'default': {'probabilities': [0.5, 0.5]}}\n"
        "e.to_onnx(spec)\n"
        "heavy = [m for m in ('torch', 'interpret', 'sklearn', 'lightgbm', 'shap', 'onnxruntime') if m in sys.modules]\n"
        "print(json.dumps([light, heavy]))\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    light, heavy = json.loads(res.stdout.strip().splitlines()[-1])
    assert light, "importing distill2rules.exporters must not import onnx"
    assert heavy == []


def test_columns_mode_with_odd_column_names():
    names = ["numeric", "d2r_gather_1", "monthly income (€)"]
    spec = {
        "format": FORMAT,
        "kind": "rule_list",
        "model": "rules",
        "classes": [0, 1],
        "inputs": {"numeric": names, "categorical": ["categorical"]},
        "rules": [
            {
                "conditions": [{"feature": n, "op": ">", "value": 0.5, "missing": False}],
                "probabilities": [0.1 * i, 1 - 0.1 * i],
            }
            for i, n in enumerate(names)
        ]
        + [
            {
                "conditions": [
                    {"feature": "categorical", "op": "in", "values": ["a"], "missing": True}
                ],
                "probabilities": [0.9, 0.1],
            }
        ],
        "default": {"probabilities": [0.5, 0.5]},
    }
    model = to_onnx(spec, inputs="columns")
    assert [i.name for i in model.graph.input] == names + ["categorical"]
    report = check_onnx_parity(model, spec, n_rows=3000)
    assert report.ok and report.rule_mismatches == 0

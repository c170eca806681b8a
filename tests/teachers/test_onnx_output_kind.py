"""An ONNX teacher's ``output_kind`` ("logits" / "probabilities"): an unknown value is one clear
TeacherError naming it and the valid ones (the Python API) or one line and exit 2 (the CLI,
where the sidecar's ``"output"`` sets it), never a bare KeyError."""

from __future__ import annotations

import json

import numpy as np
import pytest
from teacher_helpers import numeric_frame

from distill2rules.errors import TeacherError
from distill2rules.teachers import load_teacher
from distill2rules.teachers._onnx import OnnxTeacher
from distill2rules.teachers._sidecar import Sidecar

VALID = r"'logits' or 'probabilities'"


def _onnx_identity(path, d: int = 3):
    """A 2-class ONNX 'teacher' whose logits are the first two inputs."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    W = np.eye(d, 2, dtype=np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["logits"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", d])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["n", 2])],
        initializer=[numpy_helper.from_array(W, "W")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=10)
    onnx.save(model, str(path))
    return path


def test_unknown_output_kind_in_a_sidecar_object_is_a_teacher_error(tmp_path):
    path = _onnx_identity(tmp_path / "m.onnx")
    sidecar = Sidecar(path=tmp_path / "m.json", feature_names=["a", "b", "c"], output="logit")
    with pytest.raises(TeacherError, match=rf"output kind 'logit'.*{VALID}") as err:
        OnnxTeacher.load(path, sidecar)
    assert "\n" not in str(err.value)


def test_unknown_output_kind_given_to_the_constructor_is_a_teacher_error(tmp_path):
    t = load_teacher(_onnx_identity(tmp_path / "m.onnx"))
    assert t.output_kind == "logits"
    X, _ = numeric_frame(5, d=3)
    z = t.logits(X)
    np.testing.assert_allclose(z[:, 1] - z[:, 0], X["f1"] - X["f0"], atol=1e-5)
    kw = {
        "source": t.source,
        "input_name": t.input_name,
        "input_dtype": t.input_dtype,
        "output_name": t.output_name,
        "preprocessing": t.preprocessing,
        "classes": None,
        "n_classes": 2,
        "n_outputs": 2,
        "n_features_in": 3,
        "fixed_batch": None,
    }
    with pytest.raises(TeacherError, match=rf"output kind 'softmax'.*{VALID}"):
        OnnxTeacher(t.session, output_kind="softmax", **kw)
    t.output_kind = "raw"  # changed after loading: named when it is used
    with pytest.raises(TeacherError, match=rf"output kind 'raw'.*{VALID}"):
        t.logits(X)


def test_cli_fit_with_an_unknown_output_in_the_sidecar_is_one_line_exit_2(tmp_path, cli):
    path = _onnx_identity(tmp_path / "model.onnx")
    (tmp_path / "model.json").write_text(
        json.dumps({"feature_names": ["f0", "f1", "f2"], "output": "logit"})
    )
    X, y = numeric_frame(60, d=3)
    X.assign(target=y).to_csv(tmp_path / "data.csv", index=False)
    out = tmp_path / "run"
    res = cli(
        "fit",
        "--teacher",
        path,
        "--data",
        tmp_path / "data.csv",
        "--target",
        "target",
        "--out",
        out,
        "-q",
    )
    assert res.code == 2, res
    lines = [ln for ln in res.err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in res.err, res.err
    assert "'logit'" in lines[0] and "'logits' or 'probabilities'" in lines[0]
    assert not out.exists()

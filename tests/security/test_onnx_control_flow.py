"""ONNX teachers: custom-domain operators and Loop/Scan are refused unless --trust-code, and the
load-time probe runs under a time limit (issue 15: an endless Loop hung ``fit``)."""

from __future__ import annotations

import time

import numpy as np
import pytest
from security_helpers import fit_args, one_line_error

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper

X_IN = h.make_tensor_value_info("x", T.FLOAT, ["N", 4])
LOGITS = h.make_tensor_value_info("logits", T.FLOAT, ["N", 2])


def _weights() -> list:
    w = np.random.default_rng(0).standard_normal((4, 2)).astype(np.float32)
    return [numpy_helper.from_array(w, "W"), numpy_helper.from_array(np.array(True), "true")]


def _endless_loop_node(inp: str, out: str):
    """``Loop`` with no trip count and a condition that stays true: it never ends."""
    body = h.make_graph(
        [
            h.make_node("Identity", ["c_in"], ["c_out"]),
            h.make_node("Identity", ["v_in"], ["v_out"]),
        ],
        "body",
        [
            h.make_tensor_value_info("i", T.INT64, []),
            h.make_tensor_value_info("c_in", T.BOOL, []),
            h.make_tensor_value_info("v_in", T.FLOAT, ["N", 2]),
        ],
        [
            h.make_tensor_value_info("c_out", T.BOOL, []),
            h.make_tensor_value_info("v_out", T.FLOAT, ["N", 2]),
        ],
    )
    return h.make_node("Loop", ["", "true", inp], [out], body=body)


def _save(path, nodes, opsets=(("", 17),), initializers=None):
    graph = h.make_graph(nodes, "teacher", [X_IN], [LOGITS], initializer=initializers or _weights())
    model = h.make_model(
        graph, opset_imports=[h.make_opsetid(d, v) for d, v in opsets], ir_version=10
    )
    onnx.save(model, str(path))
    return path


def endless_loop(path):
    return _save(
        path, [h.make_node("MatMul", ["x", "W"], ["z"]), _endless_loop_node("z", "logits")]
    )


def loop_inside_if(path):
    def branch(name):
        return h.make_graph(
            [_endless_loop_node("z", f"{name}_out")],
            name,
            [],
            [h.make_tensor_value_info(f"{name}_out", T.FLOAT, ["N", 2])],
        )

    return _save(
        path,
        [
            h.make_node("MatMul", ["x", "W"], ["z"]),
            h.make_node(
                "If", ["true"], ["logits"], then_branch=branch("then"), else_branch=branch("else")
            ),
        ],
    )


def custom_domain(path):
    return _save(
        path,
        [
            h.make_node("MatMul", ["x", "W"], ["z"]),
            h.make_node("Evil", ["z"], ["logits"], domain="com.example.evil"),
        ],
        opsets=(("", 17), ("com.example.evil", 1)),
    )


def scan(path):
    body = h.make_graph(
        [h.make_node("Identity", ["s_in"], ["s_out"])],
        "body",
        [h.make_tensor_value_info("s_in", T.FLOAT, [2])],
        [h.make_tensor_value_info("s_out", T.FLOAT, [2])],
    )
    return _save(
        path,
        [
            h.make_node("MatMul", ["x", "W"], ["z"]),
            h.make_node("Scan", ["z"], ["logits"], body=body, num_scan_inputs=1),
        ],
    )


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (endless_loop, "has a Loop node"),
        (loop_inside_if, "has a Loop node"),
        (scan, "has a Scan node"),
        (custom_domain, "custom domain 'com.example.evil'"),
    ],
)
def test_refused_by_default(tmp_path, build, message):
    from distill2rules.errors import UnsafeFileError
    from distill2rules.teachers import load_teacher

    path = build(tmp_path / "teacher.onnx")
    start = time.perf_counter()
    with pytest.raises(UnsafeFileError, match=message) as exc:
        load_teacher(path, feature_names=list("abcd"))
    assert "--trust-code" in str(exc.value) and "\n" not in str(exc.value)
    assert time.perf_counter() - start < 10


def test_endless_loop_fit_exits_2(cli, tmp_path, small_csv):
    path = endless_loop(tmp_path / "teacher.onnx")
    r = cli(*fit_args(path, small_csv, tmp_path / "art"))
    assert r.code == 2
    assert "Loop" in one_line_error(r.err)


def test_trusted_endless_loop_is_stopped_by_the_probe_time_limit(tmp_path, monkeypatch):
    from distill2rules.errors import TeacherError
    from distill2rules.teachers import load_teacher

    monkeypatch.setenv("DISTILL2RULES_PROBE_SECONDS", "1")
    path = endless_loop(tmp_path / "teacher.onnx")
    start = time.perf_counter()
    with pytest.raises(TeacherError, match="stopped after .* DISTILL2RULES_PROBE_SECONDS") as exc:
        load_teacher(path, feature_names=list("abcd"), trust_code=True)
    assert "\n" not in str(exc.value)
    assert time.perf_counter() - start < 30


def test_external_data_outside_the_model_folder_is_refused(tmp_path):
    from distill2rules.errors import UnsafeFileError
    from distill2rules.teachers import load_teacher

    path = _save(tmp_path / "teacher.onnx", [h.make_node("MatMul", ["x", "W"], ["logits"])])
    model = onnx.load(str(path))
    w = model.graph.initializer[0]
    w.ClearField("raw_data")
    w.ClearField("float_data")
    w.data_location = T.EXTERNAL
    w.external_data.add(key="location", value="../../etc/passwd")
    onnx.save(model, str(path))
    with pytest.raises(UnsafeFileError, match="outside the model's folder"):
        load_teacher(path, feature_names=list("abcd"))


def test_standard_model_with_if_loads(tmp_path):
    """Bounded control flow (If with plain branches) and the ML domain stay allowed."""
    from distill2rules.teachers import load_teacher

    def branch(name, op):
        return h.make_graph(
            [h.make_node(op, ["z"], [f"{name}_out"])],
            name,
            [],
            [h.make_tensor_value_info(f"{name}_out", T.FLOAT, ["N", 2])],
        )

    path = _save(
        tmp_path / "teacher.onnx",
        [
            h.make_node("MatMul", ["x", "W"], ["z"]),
            h.make_node(
                "If",
                ["true"],
                ["logits"],
                then_branch=branch("then", "Identity"),
                else_branch=branch("else", "Neg"),
            ),
        ],
        opsets=(("", 17), ("ai.onnx.ml", 3)),
    )
    teacher = load_teacher(path, feature_names=list("abcd"))
    X = np.random.default_rng(1).standard_normal((3, 4))
    import pandas as pd

    got = teacher.logits(pd.DataFrame(X, columns=list("abcd")))
    w = numpy_helper.to_array(_weights()[0]).astype(np.float64)
    want = X @ w
    np.testing.assert_allclose(got[:, 1] - got[:, 0], want[:, 1] - want[:, 0], atol=1e-5)

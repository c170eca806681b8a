"""Helpers shared by the reliability tests (import as ``from reliability_helpers import ...``)."""

from __future__ import annotations

import sys
from pathlib import Path


def console_script() -> list[str]:
    """The installed ``distill2rules`` script next to this interpreter (else ``python -m``)."""
    script = Path(sys.executable).with_name("distill2rules")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "distill2rules.cli.main"]


def leftovers(out: Path) -> list[str]:
    """Temp/old siblings an interrupted or failed write could leave next to ``out``."""
    return sorted(p.name for p in out.parent.glob(f".{out.name}.*"))


def _needs_data():
    import os

    import pytest

    return pytest.mark.skipif(
        os.environ.get("DISTILL2RULES_DATA") is None, reason="needs DISTILL2RULES_DATA"
    )


needs_data = _needs_data()


def onnx_teacher(path: Path, kind: str, d: int = 3) -> Path:
    """A real ONNX teacher built with onnx.helper: ``[n, d]`` float → ``[n, 2]`` logits.

    ``linear``: ``X @ W`` (an infinite input gives ``inf * 0 = NaN``);
    ``sqrt``: ``sqrt(X) @ W`` (NaN for every row with a negative value).
    """
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w = np.zeros((d, 2), dtype=np.float32)
    w[:, 1] = np.linspace(1.0, -0.5, d)
    nodes = []
    src = "X"
    if kind == "sqrt":
        nodes.append(helper.make_node("Sqrt", ["X"], ["S"]))
        src = "S"
    nodes.append(helper.make_node("MatMul", [src, "W"], ["logits"]))
    graph = helper.make_graph(
        nodes,
        "teacher",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", d])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 2])],
        initializer=[numpy_helper.from_array(w, "W")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def numeric_csv(path: Path, n: int = 400, seed: int = 0, negative: bool = True):
    """Three numeric features ``a, b, c`` and a binary target ``y`` (pandas frame, also written to ``path``)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)) if negative else rng.uniform(0.1, 3.0, size=(n, 3))
    y = np.where(X[:, 0] - 0.5 * X[:, 1] + 0.3 * rng.normal(size=n) > X[:, 0].mean(), "yes", "no")
    df = pd.DataFrame(X, columns=["a", "b", "c"]).assign(y=y)
    df.to_csv(path, index=False)
    return df

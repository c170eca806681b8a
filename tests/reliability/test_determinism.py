"""Same data, teacher, flags and seed → byte-identical student.json / student.onnx and identical ONNX predictions."""

from __future__ import annotations

import json

import numpy as np
import pytest
from reliability_helpers import needs_data

pytestmark = needs_data

IDENTICAL = ("student.json", "student.onnx", "schema.json", "rulecard.md")


def _onnx_predict(path, frame):
    import onnxruntime as ort

    from distill2rules.exporters.onnx import onnx_feeds

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    spec = json.loads((path.parent / "student.json").read_text())
    return sess.run(None, onnx_feeds(spec, frame))


@pytest.mark.parametrize(
    "student,extra",
    [("logreg", []), ("ebm", ["-p", "interactions=2", "-p", "outer_bags=1", "--no-baseline"])],
)
def test_fit_twice_is_byte_identical(cli, german_gbt, german_frame, tmp_path, student, extra):
    runs = []
    for i in range(2):
        out = tmp_path / f"run{i}"
        r = cli(
            "fit",
            "--teacher",
            german_gbt,
            "--data",
            "german_credit",
            "--student",
            student,
            "--temperature",
            "2",
            "--alpha",
            "0.1",
            "--seed",
            "7",
            "--out",
            out,
            "-q",
            *extra,
        )
        assert r.code == 0, r.err
        runs.append(out)
    a, b = runs
    for name in IDENTICAL + (("baseline.json",) if student == "logreg" else ()):
        assert (a / name).read_bytes() == (b / name).read_bytes(), f"{name} differs run to run"
    ma, mb = (json.loads((d / "metrics.json").read_text()) for d in runs)
    ma.pop("timings"), mb.pop("timings")  # wall-clock timings are the only run-to-run difference
    assert ma == mb
    rows = german_frame.drop(columns="credit_risk")
    for pa, pb in zip(
        _onnx_predict(a / "student.onnx", rows), _onnx_predict(b / "student.onnx", rows)
    ):
        np.testing.assert_array_equal(pa, pb)

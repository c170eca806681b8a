"""Issue 7's "done when": every student kind, fitted on Adult and on German credit from a real
teacher, exports an ONNX graph that matches the Python student.

Two parity sets per fit: 10,000 random and adversarial rows (NaN, ±inf, 1e38, float32
neighbours of every edge, unseen and empty categories) from ``check_onnx_parity``, and the real
test rows fed as a user would (``onnx_feeds`` on the raw DataFrame) against the fitted
estimator's ``predict_proba`` / ``predict``.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import needs_data

pytestmark = [needs_data, pytest.mark.slow]

#: small but complete students (pairs, several rules, a hidden layer)
FAST = {
    "logreg": {},
    "ebm": {"interactions": 2, "outer_bags": 1, "max_bins": 64},
    "rules": {"max_rules": 6},
    "tree": {"max_depth": 3},
    "mlp": {"hidden": [16], "epochs": 15},
}


@pytest.fixture(scope="module")
def adult(tmp_path_factory):
    """4,000 Adult rows and a 40-tree LightGBM teacher trained on them."""
    from distill2rules.data import load_dataset
    from distill2rules.teachers import train_teacher

    ds = load_dataset("adult")
    frame = ds.frame.sample(n=4000, random_state=0).reset_index(drop=True)
    path = tmp_path_factory.mktemp("adult_teacher") / "model.txt"
    train_teacher(
        "gbt",
        frame.drop(columns=[ds.target]),
        frame[ds.target],
        out=path,
        seed=0,
        n_estimators=40,
        n_jobs=1,
        progress=False,
    )
    return path, frame, ds.target


@pytest.fixture(scope="module")
def german(german_gbt):
    from distill2rules.data import load_dataset

    ds = load_dataset("german_credit")
    return german_gbt, ds.frame, ds.target


@pytest.mark.parametrize("student", list(FAST))
@pytest.mark.parametrize("data", ["adult", "german"])
def test_exported_onnx_matches_the_python_student(request, torch_one_thread, data, student):
    from distill2rules.data import split_frame
    from distill2rules.exporters import to_onnx
    from distill2rules.exporters.onnx import check_onnx_parity, onnx_feeds
    from distill2rules.pipeline import distill

    teacher, frame, target = request.getfixturevalue(data)
    res = distill(
        teacher,
        frame,
        target=target,
        student=student,
        seed=0,
        baseline=False,
        progress=False,
        student_params=FAST[student],
    )
    spec, est = res.spec, res.student
    model = to_onnx(spec)

    report = check_onnx_parity(model, spec, n_rows=10_000, random_state=0)
    assert report.ok, report
    assert report.max_abs_probability <= 1e-5 and report.label_mismatches == 0

    import onnxruntime as ort

    X = split_frame(frame, target, seed=0).test.drop(columns=[target])
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    out = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, onnx_feeds(spec, X))))
    np.testing.assert_allclose(out["probabilities"], est.predict_proba(X), atol=1e-5, rtol=0)
    classes = np.asarray(spec["classes"], dtype=object)
    assert list(classes[out["label"]]) == [str(c) for c in est.predict(X)]

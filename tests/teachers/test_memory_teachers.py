"""In-memory teachers: LightGBM (sklearn API and Booster), torch nn.Module, scikit-learn, ONNX."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from distill2rules.errors import TeacherError
from distill2rules.teachers import softmax
from distill2rules.teachers._memory import as_teacher


@pytest.fixture(scope="module")
def cancer():
    from sklearn.datasets import load_breast_cancer

    b = load_breast_cancer(as_frame=True)
    X = b.data.iloc[:, :8].copy()
    X.columns = [c.replace(" ", "_") for c in X.columns]
    y = pd.Series(np.where(b.target == 1, "benign", "malignant"), name="diagnosis")
    return X, y


def test_lgbm_classifier_and_booster(cancer):
    import lightgbm as lgb

    X, y = cancer
    clf = lgb.LGBMClassifier(n_estimators=20, verbose=-1, n_jobs=1).fit(X, y)
    t = as_teacher(clf)
    assert t.classes_ == ["benign", "malignant"] and t.feature_names == list(X.columns)
    np.testing.assert_allclose(softmax(t.logits(X)), clf.predict_proba(X), atol=1e-9)
    assert len(t.fingerprint()) == 64 and t.describe()["source"] == "<in-memory LGBMClassifier>"
    b = as_teacher(clf.booster_)
    np.testing.assert_allclose(b.logits(X), t.logits(X))


def test_lgbm_with_pandas_categories_scores_string_rows():
    import lightgbm as lgb

    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        {"colour": rng.choice(["red", "green", "blue"], 400), "x": rng.normal(size=400)}
    )
    y = np.where((X["colour"] == "red") ^ (X["x"] > 0), "yes", "no")
    clf = lgb.LGBMClassifier(n_estimators=10, verbose=-1, n_jobs=1, min_child_samples=5)
    clf.fit(X.astype({"colour": "category"}), y)
    t = as_teacher(clf)
    np.testing.assert_allclose(
        softmax(t.logits(X)), clf.predict_proba(X.astype({"colour": "category"})), atol=1e-9
    )


def test_sklearn_pipeline(cancer):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = cancer
    pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, y)
    t = as_teacher(pipe)
    np.testing.assert_allclose(softmax(t.logits(X)), pipe.predict_proba(X), atol=1e-6)


def test_torch_module_needs_its_input_order(cancer):
    torch = pytest.importorskip("torch")
    X, _ = cancer
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(X.shape[1], 4), torch.nn.ReLU(), torch.nn.Linear(4, 2)
    )
    with pytest.raises(TeacherError, match="teacher_features"):
        as_teacher(net)
    t = as_teacher(net, feature_names=list(X.columns))
    with torch.no_grad():
        want = net(torch.tensor(X.to_numpy(np.float32))).double().numpy()
    got = t.logits(X[list(reversed(X.columns))])  # selected by name, not position
    np.testing.assert_allclose(got[:, 1] - got[:, 0], want[:, 1] - want[:, 0], atol=1e-5)


def test_onnx_model_and_session(cancer):
    import onnxruntime as ort

    from distill2rules.students import make_student

    X, y = cancer
    student = make_student("logreg", random_state=0).fit(X, y)
    model = student.to_onnx()
    t = as_teacher(model)
    np.testing.assert_allclose(softmax(t.logits(X)), student.predict_proba(X), atol=1e-5)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(as_teacher(sess).logits(X), t.logits(X))


def test_unsupported_objects_fail_with_one_line():
    with pytest.raises(TeacherError, match="cannot use a builtins.dict as a teacher"):
        as_teacher({"not": "a model"})

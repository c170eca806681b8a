"""Predictive metrics against scikit-learn, calibration, fidelity."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    brier_score_loss,
    log_loss,
    roc_auc_score,
)

from distill2rules.errors import DataError
from distill2rules.validation import (
    expected_calibration_error,
    fidelity,
    predictive_metrics,
    retention,
)


def _random_case(n: int, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(k), size=n)
    y = np.array([rng.choice(k, p=row) for row in p])
    return y, p


def test_binary_metrics_match_sklearn() -> None:
    y, p = _random_case(400, 2, 0)
    m = predictive_metrics(y, p)
    assert m.accuracy == pytest.approx(accuracy_score(y, p.argmax(1)))
    assert m.balanced_accuracy == pytest.approx(balanced_accuracy_score(y, p.argmax(1)))
    assert m.roc_auc == pytest.approx(roc_auc_score(y, p[:, 1]))
    assert m.log_loss == pytest.approx(log_loss(y, p))
    assert m.brier == pytest.approx(brier_score_loss(y, p[:, 1]))
    assert m["n_classes"] == 2


def test_multiclass_metrics_match_sklearn() -> None:
    y, p = _random_case(500, 4, 1)
    m = predictive_metrics(y, p)
    assert m.roc_auc == pytest.approx(roc_auc_score(y, p, multi_class="ovr", average="macro"))
    assert m.log_loss == pytest.approx(log_loss(y, p, labels=[0, 1, 2, 3]))
    onehot = np.eye(4)[y]
    assert m.brier == pytest.approx(np.mean(np.sum((p - onehot) ** 2, axis=1)))


def test_auc_is_none_when_only_one_class_present() -> None:
    m = predictive_metrics([1, 1, 1], [[0.2, 0.8], [0.6, 0.4], [0.1, 0.9]])
    assert m.roc_auc is None
    assert m.to_dict()["roc_auc"] is None
    assert m.accuracy == pytest.approx(2 / 3)


def test_perfectly_calibrated_ece_is_near_zero_and_overconfident_is_not() -> None:
    rng = np.random.default_rng(0)
    p1 = rng.uniform(size=100_000)
    y = (rng.uniform(size=p1.size) < p1).astype(int)
    ece, bins = expected_calibration_error(y, np.column_stack([1 - p1, p1]))
    assert ece < 0.01
    assert sum(b["count"] for b in bins) == p1.size
    sharp = np.clip((p1 - 0.5) * 4 + 0.5, 0.001, 0.999)  # same ranking, overconfident
    ece_bad, _ = expected_calibration_error(y, np.column_stack([1 - sharp, sharp]))
    assert ece_bad > 0.1


def test_reliability_bins_are_consistent() -> None:
    y = np.array([0, 1, 1, 0])
    p = np.array([[0.95, 0.05], [0.3, 0.7], [0.45, 0.55], [0.4, 0.6]])
    ece, bins = expected_calibration_error(y, p, n_bins=5)
    by_hi = {round(b["hi"], 1): b for b in bins}
    assert by_hi[0.6]["count"] == 2 and by_hi[0.6]["accuracy"] == 0.5
    assert by_hi[1.0]["count"] == 1 and by_hi[1.0]["accuracy"] == 1.0
    assert by_hi[0.2]["confidence"] is None
    manual = (2 * abs(0.5 - 0.575) + abs(1 - 0.7) + abs(1 - 0.95)) / 4
    assert ece == pytest.approx(manual)


def test_fidelity_per_class_and_boundary() -> None:
    teacher = np.array(
        [[0.9, 0.1], [0.8, 0.2], [0.52, 0.48], [0.3, 0.7], [0.1, 0.9], [0.49, 0.51]] * 5
    )
    student = teacher.copy()
    student[2] = [0.4, 0.6]  # flips a near-boundary class-0 row
    student[5] = [0.6, 0.4]  # flips a near-boundary class-1 row
    f = fidelity(student, teacher, boundary_quantile=0.2)
    assert f.agreement == pytest.approx(28 / 30)
    assert f.per_class == [pytest.approx(14 / 15), pytest.approx(14 / 15)]
    assert f.per_class_count == [15, 15]
    assert f.boundary_n == 6
    assert f.boundary_agreement == pytest.approx(4 / 6)
    assert f.boundary_margin == pytest.approx(0.04)
    assert f.kl > 0


def test_fidelity_identical_models() -> None:
    _, p = _random_case(100, 3, 2)
    f = fidelity(p, p)
    assert f.agreement == 1.0 and f.boundary_agreement == 1.0
    assert f.kl == pytest.approx(0.0, abs=1e-12)
    for value, count in zip(f.per_class, f.per_class_count, strict=True):
        assert (value is None) == (count == 0)
        assert value in (None, 1.0)


def test_fidelity_class_never_predicted_is_none() -> None:
    t = np.array([[0.7, 0.2, 0.1], [0.6, 0.3, 0.1]])
    f = fidelity(t, t)
    assert f.per_class[1] is None and f.per_class[2] is None


def test_teacher_agreement_and_retention() -> None:
    y, p = _random_case(50, 2, 3)
    m = predictive_metrics(y, p, teacher_proba=p[:, ::-1])
    assert m.agreement_with_teacher == pytest.approx(np.mean(p.argmax(1) == p[:, ::-1].argmax(1)))
    assert retention(0.8, 0.9) == pytest.approx(0.8 / 0.9)
    assert np.isnan(retention(0.5, 0.0))


def test_results_are_json() -> None:
    y, p = _random_case(60, 3, 4)
    text = json.dumps(
        {"m": predictive_metrics(y, p).to_dict(), "f": fidelity(p, p).to_dict()}, allow_nan=False
    )
    assert "reliability" in text and "np." not in text


def test_bad_inputs_raise() -> None:
    with pytest.raises(DataError, match="rows"):
        predictive_metrics([0, 1], [[0.5, 0.5]])
    with pytest.raises(DataError, match="outside"):
        predictive_metrics([0, 2], [[0.5, 0.5], [0.2, 0.8]])
    with pytest.raises(DataError, match="shape"):
        fidelity(np.ones((3, 2)) / 2, np.ones((3, 3)) / 3)
    with pytest.raises(DataError, match="boundary_quantile"):
        fidelity(np.ones((3, 2)) / 2, np.ones((3, 2)) / 2, boundary_quantile=0)

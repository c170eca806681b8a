"""Stability index under Gaussian noise on standardised numerics."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from validation_helpers import mixed_additive_spec

from distill2rules.errors import ConfigError, DataError
from distill2rules.validation import stability, student_attributions, teacher_attributions
from distill2rules.validation.stability import perturb


def test_linear_model_is_perfectly_stable_without_noise(breast_cancer, lr_breast) -> None:
    X, bg = breast_cancer["X_test"], breast_cancer["X_train"]

    def fn(rows: pd.DataFrame) -> np.ndarray:
        return student_attributions(lr_breast, rows, bg).values

    res = stability(fn, X, breast_cancer["numeric"], sigmas=(0.0, 0.05, 0.5), n_rows=50)
    assert res.mean(0.0) == 1.0 and res.per_sigma["0.0"]["sd"] == 0.0
    assert res.n_rows == 50 and res.per_sigma["0.05"]["n"] == 50
    assert 1.0 > res.mean(0.05) > res.mean(0.5)
    json.dumps(res.to_dict(), allow_nan=False)


def test_linear_stability_equals_closed_form(breast_cancer, lr_breast) -> None:
    """For phi_j = coef_j (x_j - mean_j) the change is coef_j * eps_j exactly."""
    cols = breast_cancer["numeric"]
    X, bg = breast_cancer["X_test"].iloc[:40], breast_cancer["X_train"]
    sigma, seed = 0.1, 5

    def fn(rows: pd.DataFrame) -> np.ndarray:
        return student_attributions(lr_breast, rows, bg).values

    res = stability(fn, X, cols, sigmas=(sigma,), n_rows=40, seed=seed)
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal((40, len(cols)))
    coef = np.array([t["coef"][0] for t in lr_breast["terms"]])
    eps = sigma * X[cols].std().to_numpy() * noise
    phi = fn(X)
    manual = 1 - np.linalg.norm(coef * eps, axis=1) / np.linalg.norm(phi, axis=1)
    assert res.mean(sigma) == pytest.approx(manual.mean(), rel=1e-6)  # inputs are float32


def test_tree_teacher_and_categoricals_untouched(mixed, lgb_mixed) -> None:
    X = mixed["X_test"]

    def fn(rows: pd.DataFrame) -> np.ndarray:
        return teacher_attributions(lgb_mixed, rows, mixed["X_train"]).values

    res = stability(fn, X, ["x1", "x2", "x3"], sigmas=(0.0, 0.1), n_rows=60, seed=1)
    assert res.mean(0.0) == 1.0
    assert res.mean(0.1) < 1.0
    noise = np.ones((len(X), 3))
    Xp = perturb(X, ["x1", "x2", "x3"], noise, 0.5, np.array([1.0, 2.0, 3.0]))
    pd.testing.assert_series_equal(Xp["c1"], X["c1"])
    np.testing.assert_allclose(Xp["x2"], X["x2"] + 1.0)
    assert Xp["x3"].isna().sum() == X["x3"].isna().sum()


def test_student_with_only_categorical_noise_columns_is_stable(mixed) -> None:
    spec = mixed_additive_spec()

    def fn(rows: pd.DataFrame) -> np.ndarray:
        return student_attributions(spec, rows, mixed["X_train"]).values

    res = stability(fn, mixed["X_test"], [], sigmas=(0.1,), n_rows=30)
    assert res.mean(0.1) == 1.0


def test_stability_errors(mixed) -> None:
    def fn(rows: pd.DataFrame) -> np.ndarray:
        return np.ones((len(rows), 2))

    with pytest.raises(ConfigError, match=">= 0"):
        stability(fn, mixed["X_test"], ["x1"], sigmas=(-0.1,))
    with pytest.raises(DataError, match="not in the data"):
        stability(fn, mixed["X_test"], ["nope"])
    with pytest.raises(DataError, match="matrix"):
        stability(lambda rows: np.ones(len(rows)), mixed["X_test"], ["x1"])

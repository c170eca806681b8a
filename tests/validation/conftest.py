"""Session fixtures for the validation tests (teachers and specs from ``validation_helpers``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from validation_helpers import (
    LGBTeacher,
    TorchTeacher,
    logreg_spec,
    mixed_frame,
    train_lgb,
    train_torch,
)


def _split(X: Any, y: np.ndarray, tr: np.ndarray, te: np.ndarray) -> dict[str, Any]:
    return {
        "X_train": X.iloc[tr].reset_index(drop=True),
        "y_train": y[tr],
        "X_test": X.iloc[te].reset_index(drop=True),
        "y_test": y[te],
    }


@pytest.fixture(scope="session")
def mixed() -> dict[str, Any]:
    X, y = mixed_frame(1500, 0)
    return {
        **_split(X, y, np.arange(1000), np.arange(1000, 1500)),
        "numeric": ["x1", "x2", "x3"],
        "categorical": ["c1", "c2"],
    }


@pytest.fixture(scope="session")
def breast_cancer() -> dict[str, Any]:
    from sklearn.datasets import load_breast_cancer

    d = load_breast_cancer(as_frame=True)
    X, y = d.data, d.target.to_numpy()
    perm = np.random.default_rng(0).permutation(len(X))
    return {**_split(X, y, perm[:400], perm[400:]), "numeric": list(X.columns)}


@pytest.fixture(scope="session")
def wine() -> dict[str, Any]:
    from sklearn.datasets import load_wine

    d = load_wine(as_frame=True)
    X, y = d.data, d.target.to_numpy()
    perm = np.random.default_rng(1).permutation(len(X))
    return {**_split(X, y, perm[:120], perm[120:]), "numeric": list(X.columns)}


@pytest.fixture(scope="session")
def lgb_mixed(mixed: dict[str, Any]) -> LGBTeacher:
    return train_lgb(mixed["X_train"], mixed["y_train"], mixed["numeric"], mixed["categorical"], 2)


@pytest.fixture(scope="session")
def torch_mixed(mixed: dict[str, Any]) -> TorchTeacher:
    return train_torch(
        mixed["X_train"], mixed["y_train"], mixed["numeric"], mixed["categorical"], 2
    )


@pytest.fixture(scope="session")
def lgb_wine(wine: dict[str, Any]) -> LGBTeacher:
    return train_lgb(wine["X_train"], wine["y_train"], wine["numeric"], [], 3, rounds=30)


@pytest.fixture(scope="session")
def torch_wine(wine: dict[str, Any]) -> TorchTeacher:
    return train_torch(wine["X_train"], wine["y_train"], wine["numeric"], [], 3)


@pytest.fixture(scope="session")
def lr_breast(breast_cancer: dict[str, Any]) -> dict[str, Any]:
    return logreg_spec(breast_cancer["X_train"], breast_cancer["y_train"], breast_cancer["numeric"])


@pytest.fixture(scope="session")
def lr_wine(wine: dict[str, Any]) -> dict[str, Any]:
    return logreg_spec(wine["X_train"], wine["y_train"], wine["numeric"], C=0.5)


@pytest.fixture(scope="session")
def lgb_breast_teacher(breast_cancer: dict[str, Any]) -> LGBTeacher:
    return train_lgb(
        breast_cancer["X_train"],
        breast_cancer["y_train"],
        breast_cancer["numeric"],
        [],
        2,
        rounds=40,
    )

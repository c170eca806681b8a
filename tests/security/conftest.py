"""Fixtures for the attack tests: a small real data set and a real LightGBM teacher on it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="session")
def small_frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.standard_normal((300, 4)), columns=list("abcd"))
    X["y"] = (X.a + 0.5 * X.b + 0.5 * rng.standard_normal(300) > 0).astype(int)
    return X


@pytest.fixture(scope="session")
def small_csv(tmp_path_factory, small_frame) -> Path:
    p = tmp_path_factory.mktemp("sec_data") / "data.csv"
    small_frame.to_csv(p, index=False)
    return p


def train_lgb(frame: pd.DataFrame, path: Path, **params) -> Path:
    import lightgbm as lgb

    X, y = frame[list("abcd")], frame["y"]
    base = {"objective": "binary", "num_leaves": 4, "verbose": -1, "num_threads": 1, "seed": 0}
    booster = lgb.train({**base, **params}, lgb.Dataset(X, y), num_boost_round=6)
    booster.save_model(str(path))
    return path


@pytest.fixture(scope="session")
def lgb_txt(tmp_path_factory, small_frame) -> Path:
    return train_lgb(small_frame, tmp_path_factory.mktemp("sec_lgb") / "model.txt")

"""Shared fixtures for the teachers wing: small real models written to disk."""

from __future__ import annotations

import pandas as pd
import pytest
from teacher_helpers import CATEGORIES, mixed_frame, numeric_frame


@pytest.fixture(autouse=True)
def _one_torch_thread():
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(0)
    yield


@pytest.fixture(scope="session")
def lgb_binary_cat(tmp_path_factory):
    """A LightGBM model trained on a DataFrame with a pandas categorical column."""
    import lightgbm as lgb

    X, y = mixed_frame(600, seed=1)
    Xc = X.copy()
    Xc["colour"] = pd.Categorical(Xc["colour"], categories=sorted(CATEGORIES))
    params = {
        "objective": "binary",
        "verbosity": -1,
        "num_threads": 1,
        "num_leaves": 7,
        "min_data_per_group": 5,
        "cat_smooth": 1,
        "seed": 0,
    }
    booster = lgb.train(params, lgb.Dataset(Xc, y), 30)
    path = tmp_path_factory.mktemp("lgb") / "model.txt"
    booster.save_model(str(path))
    return path, booster, X, Xc


@pytest.fixture(scope="session")
def lgb_multiclass_numpy(tmp_path_factory):
    """A 3-class LightGBM model trained on an unnamed numpy matrix."""
    import lightgbm as lgb

    X, y = numeric_frame(400, d=4, k=3, seed=2)
    params = {
        "objective": "multiclass",
        "num_class": 3,
        "verbosity": -1,
        "num_threads": 1,
        "num_leaves": 7,
    }
    booster = lgb.train(params, lgb.Dataset(X.to_numpy(), y), 20)
    path = tmp_path_factory.mktemp("lgbm") / "multi.txt"
    booster.save_model(str(path))
    return path, booster, X

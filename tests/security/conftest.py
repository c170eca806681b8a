"""Fixtures for the attack tests: a small real data set and a real LightGBM teacher on it; a small real artifact."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from security_helpers import train_lgb


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


@pytest.fixture(scope="session")
def lgb_txt(tmp_path_factory, small_frame) -> Path:
    return train_lgb(small_frame, tmp_path_factory.mktemp("sec_lgb") / "model.txt")


# `cli` and `german_gbt` live in tests/conftest.py.


@pytest.fixture(scope="session")
def logreg_artifact(tmp_path_factory, german_gbt) -> Path:
    """A logreg artifact on german_credit with adverse class 'bad' (read-only: use `art` to change it)."""
    from distill2rules.pipeline import distill

    out = tmp_path_factory.mktemp("sec_art") / "logreg"
    distill(
        german_gbt, "german_credit", student="logreg", out=out, progress=False, adverse_class="bad"
    )
    return out


@pytest.fixture
def art(logreg_artifact, tmp_path) -> Path:
    """A private copy of the artifact, free to tamper with."""
    dst = tmp_path / "art"
    shutil.copytree(logreg_artifact, dst)
    return dst


@pytest.fixture(scope="session")
def rows_csv(tmp_path_factory) -> Path:
    from distill2rules.data import load_dataset

    frame = load_dataset("german_credit").frame
    p = tmp_path_factory.mktemp("sec_rows") / "rows.csv"
    frame.drop(columns=["credit_risk"]).head(40).to_csv(p, index=False)
    return p

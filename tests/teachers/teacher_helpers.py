"""Helpers for the teachers tests: small data sets and model writers."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

CATEGORIES = ["red", "green", "blue", "black"]


def mixed_frame(n: int = 400, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Two numeric columns, one string categorical; binary target that depends on all three."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "age": rng.integers(18, 80, n).astype(float),
            "colour": rng.choice(CATEGORIES, n),
            "income": rng.lognormal(10, 1, n),
        }
    )
    score = (
        (X["age"] - 45) / 10
        + (X["colour"] == "red") * 1.5
        - (X["colour"] == "blue")
        + np.log(X["income"])
        - 10
    )
    y = (score + rng.normal(0, 0.5, n) > 0).astype(int).to_numpy()
    return X, y


def numeric_frame(
    n: int = 300, d: int = 5, k: int = 2, seed: int = 0
) -> tuple[pd.DataFrame, np.ndarray]:
    """Numeric features ``f0..f{d-1}`` and a K-class target."""
    rng = np.random.default_rng(seed)
    Xa = rng.normal(size=(n, d))
    w = rng.normal(size=(d, k))
    y = (Xa @ w + rng.gumbel(size=(n, k))).argmax(axis=1)
    return pd.DataFrame(Xa, columns=[f"f{i}" for i in range(d)]), y


def save_torchscript(module, example, path: Path) -> Path:
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.jit.save(torch.jit.trace(module.eval(), example), str(path))
    return path

"""Fixtures for the experiments wing: a real LightGBM teacher and a real fitted artifact (german_credit)."""

from __future__ import annotations

from pathlib import Path

import pytest

# `cli` comes from tests/conftest.py.


@pytest.fixture(scope="session")
def german_teacher(tmp_path_factory) -> Path:
    """A 200-tree LightGBM teacher trained on german_credit's seed-0 train split (as `teacher train` does).

    One LightGBM thread: with two threads on a busy 2-core machine an iteration can take ~1 s
    (OpenMP contention) instead of ~7 ms.
    """
    from distill2rules.data import load_dataset, split_frame
    from distill2rules.teachers import train_teacher

    ds = load_dataset("german_credit")
    parts = split_frame(ds.frame, ds.target, seed=0)
    feats = [c for c in ds.frame.columns if c != ds.target]
    out = tmp_path_factory.mktemp("exp_teacher") / "model.txt"
    train_teacher(
        "gbt",
        parts.train[feats],
        parts.train[ds.target],
        out=out,
        seed=0,
        X_val=parts.val[feats],
        y_val=parts.val[ds.target],
        n_jobs=1,
        progress=False,
    )
    return out


@pytest.fixture(scope="session")
def german_artifact(tmp_path_factory, german_teacher) -> Path:
    """A logreg student distilled from ``german_teacher`` (τ=4, α=0.5), with its no-KD baseline."""
    from distill2rules.pipeline import distill

    out = tmp_path_factory.mktemp("exp_art") / "art"
    distill(
        german_teacher,
        "german_credit",
        student="logreg",
        temperature=4.0,
        alpha=0.5,
        seed=0,
        out=out,
        progress=False,
    )
    return out

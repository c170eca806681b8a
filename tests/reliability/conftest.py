"""Fixtures for the reliability suite: the real CLI in-process, a real LightGBM teacher, german_credit."""

from __future__ import annotations

from pathlib import Path

import pytest

# `cli` and `german_gbt` live in tests/conftest.py (shared with tests/cli).


@pytest.fixture(scope="session")
def german_frame():
    from distill2rules.data import load_dataset

    return load_dataset("german_credit").frame


@pytest.fixture(scope="session")
def german_csv(tmp_path_factory, german_frame) -> Path:
    p = tmp_path_factory.mktemp("rel_data") / "german.csv"
    german_frame.to_csv(p, index=False)
    return p


@pytest.fixture(scope="session")
def german_artifact(tmp_path_factory, german_gbt) -> Path:
    """A logreg artifact on german_credit (read-only: copy it before tampering)."""
    from distill2rules.pipeline import distill

    out = tmp_path_factory.mktemp("rel_art") / "logreg"
    distill(german_gbt, "german_credit", student="logreg", temperature=2.0, out=out, progress=False)
    return out

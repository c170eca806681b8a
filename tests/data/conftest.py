"""Fixtures for the data wing: where the real UCI files live."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_DEFAULT_SHARED = Path("/work/shared/datasets")


@pytest.fixture(scope="session")
def shared_data_dir() -> Path:
    """Folder with the gzipped UCI files ($DISTILL2RULES_DATA, else the dev default)."""
    env = os.environ.get("DISTILL2RULES_DATA", "").strip()
    root = Path(env) if env else _DEFAULT_SHARED
    if not (root / "adult").is_dir():
        pytest.skip(f"real datasets not found in {root}; set DISTILL2RULES_DATA")
    return root


@pytest.fixture
def with_shared_data(shared_data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point DISTILL2RULES_DATA at the real files for one test."""
    monkeypatch.setenv("DISTILL2RULES_DATA", str(shared_data_dir))
    return shared_data_dir

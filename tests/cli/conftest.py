"""CLI fixtures: `cli` and `german_gbt` are shared from tests/conftest.py."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def logreg_art(cli, german_gbt, tmp_path) -> Path:
    """``tmp_path / "art"``: a logreg artifact fitted on german_credit by ``distill2rules fit``."""
    art = tmp_path / "art"
    assert (
        cli(
            "fit",
            "--teacher",
            german_gbt,
            "--student",
            "logreg",
            "--data",
            "german_credit",
            "--out",
            art,
            "-q",
        ).code
        == 0
    )
    return art

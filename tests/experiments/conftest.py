"""Fixtures for the experiments wing: a real LightGBM teacher and a real fitted artifact (german_credit)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass
class Run:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys):
    """Run the real entry point in-process; capture exit code and output."""
    from distill2rules.cli.main import main

    def run(*args: str) -> Run:
        capsys.readouterr()
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        cap = capsys.readouterr()
        return Run(code, cap.out, cap.err)

    return run


@pytest.fixture(scope="session")
def german_teacher(tmp_path_factory) -> Path:
    """A 200-tree LightGBM teacher trained on german_credit's seed-0 train split."""
    from distill2rules.quickstart import train_reference_teacher

    out = tmp_path_factory.mktemp("exp_teacher") / "model.txt"
    train_reference_teacher("gbt", "german_credit", out, seed=0, progress=False)
    return out


@pytest.fixture(scope="session")
def german_artifact(tmp_path_factory, german_teacher) -> Path:
    """A logreg student distilled from ``german_teacher`` (τ=4, α=0.5), with its no-KD baseline."""
    from distill2rules.pipeline import distill

    out = tmp_path_factory.mktemp("exp_art") / "art"
    distill(german_teacher, "german_credit", student="logreg", temperature=4.0, alpha=0.5, seed=0, out=out,
            progress=False)
    return out

"""CLI fixtures: run the real entry point in-process and capture exit code and output."""

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
def german_gbt(tmp_path_factory) -> Path:
    """A real 200-tree LightGBM teacher on german_credit, trained by `teacher train`."""
    from distill2rules.quickstart import train_reference_teacher

    out = tmp_path_factory.mktemp("teacher") / "model.txt"
    train_reference_teacher("gbt", "german_credit", out, seed=0, progress=False)
    return out

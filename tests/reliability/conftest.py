"""Fixtures for the reliability suite: the real CLI in-process, a real LightGBM teacher, german_credit."""

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
    """Run ``distill2rules ARGS...`` through ``main()`` and capture exit code, stdout, stderr."""
    from distill2rules.cli.main import main

    def run(*args: object) -> Run:
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
    """A real 200-tree LightGBM teacher on german_credit (the `teacher train` code path)."""
    from distill2rules.quickstart import train_reference_teacher

    out = tmp_path_factory.mktemp("rel_teacher") / "model.txt"
    train_reference_teacher("gbt", "german_credit", out, seed=0, progress=False)
    return out


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

"""Shared fixtures: seeded RNGs, the real datasets, small real teachers."""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
# two xdist workers share two cores: one thread each for LightGBM/torch teacher training
os.environ.setdefault("DISTILL2RULES_N_JOBS", "1")
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
if "DISTILL2RULES_DATA" not in os.environ and SHARED.is_dir():
    os.environ["DISTILL2RULES_DATA"] = str(SHARED)


@pytest.fixture(autouse=True)
def _seed_everything():
    random.seed(0)
    np.random.seed(0)
    yield


def data_dir() -> Path | None:
    d = os.environ.get("DISTILL2RULES_DATA")
    return Path(d) if d and Path(d).is_dir() else None


needs_data = pytest.mark.skipif(
    data_dir() is None, reason="DISTILL2RULES_DATA does not point at ../shared/datasets"
)


@pytest.fixture(scope="session")
def torch_one_thread():
    import torch

    torch.set_num_threads(1)
    return torch


@dataclass
class Run:
    """Exit code and captured output of one in-process CLI call."""

    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys):
    """Run ``distill2rules ARGS...`` through the real ``main()``; capture exit code, stdout, stderr."""
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
    """A real 200-tree LightGBM teacher on german_credit, trained by the `teacher train` code path."""
    from distill2rules.quickstart import train_reference_teacher

    out = tmp_path_factory.mktemp("teacher") / "model.txt"
    train_reference_teacher("gbt", "german_credit", out, seed=0, progress=False)
    return out

"""Shared fixtures: seeded RNGs, the real datasets, small real teachers."""

from __future__ import annotations

import os
import random
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


needs_data = pytest.mark.skipif(data_dir() is None, reason="DISTILL2RULES_DATA does not point at ../shared/datasets")


@pytest.fixture(scope="session")
def torch_one_thread():
    import torch

    torch.set_num_threads(1)
    return torch

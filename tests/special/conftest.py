"""German credit with synthetic bureau-style codes, and a real LightGBM teacher trained on it.

``months_since_delinq`` holds months since the last delinquency (0..89; recent = riskier) or
one of three codes with event rates of their own: ``-9`` "no record" (mostly good applicants,
the *lowest* number but not the worst value), ``-8`` "no usable trades" (mostly bad) and
``-7`` "not applicable" (average).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.conftest import needs_data

CODES = {"-9": "no record", "-8": "no usable trades", "-7": "not applicable"}
SPECIAL = {"months_since_delinq": CODES}
COLUMN = "months_since_delinq"


def german_with_codes(seed: int = 0) -> tuple[pd.DataFrame, str]:
    from distill2rules.data import load_dataset

    ds = load_dataset("german_credit")
    frame = ds.frame.copy()
    bad = (frame[ds.target] == "bad").to_numpy()
    rng = np.random.default_rng(seed)
    n = len(frame)
    months = np.where(bad, rng.integers(0, 40, n), rng.integers(10, 90, n)).astype(float)
    u = rng.random(n)
    p9, p8, p7 = np.where(bad, 0.08, 0.22), np.where(bad, 0.20, 0.04), 0.06
    months[u < p9] = -9
    months[(u >= p9) & (u < p9 + p8)] = -8
    months[(u >= p9 + p8) & (u < p9 + p8 + p7)] = -7
    frame.insert(0, COLUMN, months)
    return frame, ds.target


@pytest.fixture(scope="session")
def coded(tmp_path_factory):
    """(teacher path, frame, target): a 60-tree LightGBM teacher that sees the codes as numbers."""
    if needs_data.args[0]:
        pytest.skip(needs_data.kwargs["reason"])
    from distill2rules.teachers import train_teacher

    frame, target = german_with_codes()
    path = tmp_path_factory.mktemp("coded_teacher") / "model.txt"
    train_teacher(
        "gbt",
        frame.drop(columns=[target]),
        frame[target],
        out=path,
        seed=0,
        n_estimators=60,
        n_jobs=1,
        progress=False,
    )
    return path, frame, target

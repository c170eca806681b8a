"""Synthetic query rows (--augment) and the assistant spec parser (--assistant)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from distill2rules.errors import ConfigError, DataError
from distill2rules.kd.augment import METHODS, check_augment, synthesize
from distill2rules.kd.multistage import parse_assistant, spec_logits


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(0)
    n = 300
    X = pd.DataFrame({
        "age": rng.integers(18, 80, n),  # int64, no missing
        "income": rng.lognormal(10, 1, n),
        "job": rng.choice(["clerk", "nurse", "pilot"], n).astype(object),
        "owner": rng.random(n) < 0.3,
    })
    X.loc[::10, "income"] = np.nan
    X.loc[::15, "job"] = None
    return X


def test_synthetic_rows_look_like_the_data(frame):
    syn = synthesize(frame, 1000, random_state=0)
    out = syn.frame
    assert out.shape == (1000, 4) and list(out.columns) == list(frame.columns)
    assert out["age"].dtype == frame["age"].dtype and out["owner"].dtype == bool
    assert out["age"].between(frame["age"].min(), frame["age"].max()).all()
    inc = out["income"].dropna()
    assert inc.between(frame["income"].min(), frame["income"].max()).all()
    assert 0 < out["income"].isna().mean() < 0.3  # missing values survive, not multiplied
    assert set(out["job"].dropna()) <= {"clerk", "nurse", "pilot"}
    assert syn.counts() == {"jitter": 400, "mixup": 400, "marginal": 200}
    # jitter and mixup create new numeric values (not copies of training rows)
    assert len(set(np.round(inc, 6)) - set(np.round(frame["income"].dropna(), 6))) > 500
    assert sorted(set(syn.method)) == list(range(len(METHODS)))


def test_same_seed_same_rows(frame):
    a = synthesize(frame, 50, random_state=7).frame
    b = synthesize(frame, 50, random_state=7).frame
    c = synthesize(frame, 50, random_state=8).frame
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)


def test_declared_categoricals_are_resampled_not_jittered(frame):
    X = frame.assign(code=np.tile([1, 2, 3], 100))
    out = synthesize(X, 400, categorical=["code"], random_state=0).frame
    assert set(out["code"]) <= {1, 2, 3}


@pytest.mark.parametrize("bad", [-1, 2.5, "many", True])
def test_bad_augment_counts(bad):
    with pytest.raises(ConfigError, match="augment must be a number of rows >= 0"):
        check_augment(bad)
    assert check_augment(0) == 0 and check_augment(12.0) == 12


def test_synthesize_refuses_empty_tables():
    with pytest.raises(DataError, match="empty table"):
        synthesize(pd.DataFrame({"a": []}), 5)


def test_parse_assistant():
    a = parse_assistant("mlp:128-64")
    assert a.kind == "mlp" and a.params == {"hidden": (128, 64)}
    assert parse_assistant("ebm:interactions=0,outer_bags=1").params == {"interactions": 0, "outer_bags": 1}
    assert parse_assistant("tree").params == {}
    with pytest.raises(ConfigError, match="unknown assistant kind 'forest'"):
        parse_assistant("forest:10")
    with pytest.raises(ConfigError, match="only mlp takes widths"):
        parse_assistant("ebm:10")
    with pytest.raises(ConfigError, match="widths must be integers"):
        parse_assistant("mlp:big")


def test_spec_logits_of_a_logistic_spec():
    spec = {"kind": "additive", "link": "logistic", "classes": [0, 1], "intercept": [0.5], "terms": [],
            "inputs": {"numeric": ["a"], "categorical": []}}
    z = spec_logits(spec, pd.DataFrame({"a": [1.0, 2.0]}))
    assert np.allclose(z, [[0.0, 0.5], [0.0, 0.5]])

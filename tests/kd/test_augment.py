"""Synthetic query rows (--augment) and the assistant spec parser (--assistant)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

from distill2rules.errors import ConfigError, DataError
from distill2rules.kd.augment import (
    METHODS,
    AugmentRequest,
    check_augment,
    parse_augment,
    synthesize,
)
from distill2rules.kd.multistage import parse_assistant, spec_logits


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(0)
    n = 300
    X = pd.DataFrame(
        {
            "age": rng.integers(18, 80, n),  # int64, no missing
            "income": rng.lognormal(10, 1, n),
            "job": rng.choice(["clerk", "nurse", "pilot"], n).astype(object),
            "owner": rng.random(n) < 0.3,
        }
    )
    X.loc[::10, "income"] = np.nan
    X.loc[::15, "job"] = None
    return X


def test_synthetic_rows_look_like_the_data(frame):
    syn = synthesize(frame, 1000, random_state=0, shares=(0.4, 0.4, 0.2))
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


def test_parse_augment():
    assert parse_augment("auto") == AugmentRequest(auto=True) and parse_augment("AUTO").candidates(
        100
    ) == [0, 500, 2000]
    assert (
        parse_augment("auto").candidates(50_000) == [0, 200_000, 250_000][:2]
    )  # capped at MAX_AUTO_ROWS
    assert parse_augment("5x").n_rows(300) == 1500 and parse_augment(" 0.5X ").n_rows(300) == 150
    assert (
        parse_augment("250").n_rows(10) == 250
        and parse_augment(0).rows == 0
        and not parse_augment(None)
    )
    for bad in ("-2x", "manyx", "nanx"):
        with pytest.raises(ConfigError, match="multiplier"):
            parse_augment(bad)
    with pytest.raises(ConfigError, match="'<k>x' or 'auto'"):
        parse_augment("lots")


def test_default_samplers_stay_on_the_data():
    """Issue 18: no marginal draws; codes move to neighbouring observed codes only; continuous
    columns get 0.3-sd noise; categories rarely change; missing and special values are kept."""
    rng = np.random.default_rng(1)
    n = 400
    X = pd.DataFrame(
        {
            "pay_status": rng.choice(
                [-2, -1, 0, 2, 3, 5], n
            ),  # ordinal codes with gaps; -2 is special
            "amount": rng.normal(1000, 200, n),
            "grade": rng.choice(["A", "B", "C"], n).astype(object),
        }
    )
    X.loc[::20, "amount"] = np.nan
    syn = synthesize(X, 4000, random_state=0, special={"pay_status": [-2]})
    out, a = syn.frame, syn.method
    assert syn.counts()["marginal"] == 0 and syn.counts()["jitter"] == syn.counts()["mixup"] == 2000
    assert (
        set(out["pay_status"]) <= {-2, -1, 0, 2, 3, 5}
        and out["pay_status"].dtype == X["pay_status"].dtype
    )
    # nearest rows of each synthetic row (by amount and status) are close: none far off the data
    sd = X["amount"].std()
    amt = out["amount"].dropna().to_numpy()
    nearest = np.min(np.abs(amt[:, None] - X["amount"].dropna().to_numpy()[None, :]), axis=1)
    assert np.quantile(nearest, 0.99) < 0.5 * sd
    assert (
        0.02 < out["amount"].isna().mean() < 0.09
    )  # missing kept (5 % of the rows), never created
    changed = out["grade"][a == 0].value_counts(normalize=True)
    assert set(changed.index) <= {"A", "B", "C"}


def test_special_values_are_neither_moved_nor_produced():
    X = pd.DataFrame(
        {"months": np.r_[np.full(50, 999), np.arange(150) % 30], "x": np.arange(200.0)}
    )
    out = synthesize(X, 3000, random_state=0, special={"months": [999]}).frame
    share = (out["months"] == 999).mean()
    assert 0.15 < share < 0.35  # a quarter of the rows: copied, not jittered towards 0..29
    assert out.loc[out["months"] != 999, "months"].between(0, 29).all()


def test_mixup_partners_are_near_neighbours():
    X = pd.DataFrame({"a": np.r_[np.zeros(100), np.full(100, 100.0)] + np.arange(200) * 0.01})
    out = synthesize(X, 2000, random_state=0, shares=(0, 1, 0)).frame["a"]
    assert ((out < 2.0) | (out > 99.0)).all()  # never half-way between the two clusters


def test_synthesize_refuses_empty_tables():
    with pytest.raises(DataError, match="empty table"):
        synthesize(pd.DataFrame({"a": []}), 5)


def test_parse_assistant():
    a = parse_assistant("mlp:128-64")
    assert a.kind == "mlp" and a.params == {"hidden": (128, 64)}
    assert parse_assistant("ebm:interactions=0,outer_bags=1").params == {
        "interactions": 0,
        "outer_bags": 1,
    }
    assert parse_assistant("tree").params == {}
    with pytest.raises(ConfigError, match="unknown assistant kind 'forest'"):
        parse_assistant("forest:10")
    with pytest.raises(ConfigError, match="only mlp takes widths"):
        parse_assistant("ebm:10")
    with pytest.raises(ConfigError, match="widths must be integers"):
        parse_assistant("mlp:big")


def test_spec_logits_of_a_logistic_spec():
    spec = {
        "kind": "additive",
        "link": "logistic",
        "classes": [0, 1],
        "intercept": [0.5],
        "terms": [],
        "inputs": {"numeric": ["a"], "categorical": []},
    }
    z = spec_logits(spec, pd.DataFrame({"a": [1.0, 2.0]}))
    assert np.allclose(z, [[0.0, 0.5], [0.0, 0.5]])


class _Schema:
    """The two schema facts the augmentation step reads."""

    categorical_columns: ClassVar[list[str]] = ["home"]

    @staticmethod
    def special_values_by_column():
        return {"months": {"-9": "no record", "-8": "no trades"}}


def test_pipeline_augmentation_keeps_special_codes_as_codes():
    # the synthetic rows of fit --augment: a code is copied as it is, never made missing or a number
    from distill2rules.kd.sources import KDSources

    rng = np.random.default_rng(0)
    n = 400
    months = rng.integers(0, 60, n).astype(float)
    months[:80], months[80:120] = -9.0, -8.0
    X = pd.DataFrame(
        {
            "months": months,
            "x": rng.normal(size=n),
            "home": rng.choice(["own", "rent"], n).astype(object),
        }
    )
    y = pd.Series(rng.choice(["a", "b"], n))
    kd = KDSources(X, y, np.zeros((n, 2)), np.zeros(n, dtype=int), np.zeros((0, 2)))
    kd.augment(4000, _Schema(), 0, lambda F: np.zeros((len(F), 2)), np.array(["a", "b"]))
    out = kd.X["months"].iloc[n:]
    assert not out.isna().any()  # no code became a missing value (there were none)
    codes = out.isin([-9.0, -8.0])
    assert 0.2 < codes.mean() < 0.4  # 30 % of the rows hold a code: copied, not multiplied or lost
    assert out[~codes].between(0, 59).all()  # regular values stay regular, on the data


def test_assistant_gets_the_special_values():
    from distill2rules.kd.multistage import fit_assistant

    rng = np.random.default_rng(1)
    n = 300
    X = pd.DataFrame(
        {
            "months": np.where(rng.random(n) < 0.3, -9.0, rng.integers(0, 60, n)),
            "x": rng.normal(size=n),
        }
    )
    z = np.column_stack([np.zeros(n), X["x"].to_numpy() + (X["months"] == -9.0)])
    y = (z[:, 1] > 0).astype(int)
    est = fit_assistant(
        "mlp:4",
        X,
        y,
        z,
        seed=0,
        special_values={"months": {"-9": "no record"}},
        params={"epochs": 2, "n_threads": 1},
    )
    assert est.spec_["special_values"] == {"months": {"-9": "no record"}}
    assert [p["value"] for p in est.spec_["preprocess"]["special"]] == [-9.0]  # its own 0/1 input

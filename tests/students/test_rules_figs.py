"""The rule list's FIGS learner (``learner="figs"`` / ``"auto"``): a greedy sum of trees lowered
to one rule per cell — exact on the training rows (missing values, special codes, categoricals),
within ``max_rules``, exported to ONNX like any rule list, and chosen by ``auto`` on validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from distill2rules import spec as spec_mod
from distill2rules.errors import ConfigError
from distill2rules.students.rules import RuleListStudent

SV = {"months": {"-9": "no record", "-8": "no trades"}}


def _data(n: int = 3000, seed: int = 0):
    """Two additive effects (a sum of two one-split trees; one tree needs three splits), a
    numeric column with missing values and two special codes, a categorical with missing."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "a": rng.uniform(0, 1, n),
            "b": rng.uniform(0, 1, n),
            "months": rng.integers(0, 60, n).astype(float),
            "home": rng.choice(["own", "rent", "free"], n).astype(object),
        }
    )
    u = rng.random(n)
    X.loc[u < 0.08, "months"] = -9.0
    X.loc[(u >= 0.08) & (u < 0.14), "months"] = -8.0
    X.loc[(u >= 0.14) & (u < 0.2), "months"] = np.nan
    X.loc[rng.random(n) < 0.05, "home"] = None
    logit = (
        2.0 * (X["a"] > 0.5)
        + 2.0 * (X["b"] > 0.4)
        - 2.0
        + 1.5 * (X["months"] == -8.0)
        - 0.8 * (X["home"] == "rent")
    ).to_numpy()
    p1 = 1 / (1 + np.exp(-logit))
    return X, (rng.random(n) < p1).astype(int), np.column_stack([1 - p1, p1])


@pytest.fixture(scope="module")
def fitted():
    X, y, soft = _data()
    est = RuleListStudent(learner="figs", max_rules=8, special_values=SV).fit(
        X, y, soft_targets=soft
    )
    return X, y, soft, est


def test_figs_cells_are_exact_on_the_training_rows(fitted):
    X, _, soft, est = fitted
    spec = est.to_spec()
    assert spec["meta"]["learner"].startswith("FIGS") and spec["meta"]["trees"] >= 2
    assert 1 <= len(spec["rules"]) <= 8
    fired = spec_mod.evaluate(spec, X)["rule"]
    # every cell's conditions select exactly its training rows: support = rows firing the rule
    for r, rule in enumerate(spec["rules"] + [spec["default"]]):
        rows = fired == r
        assert rule["support"] == int(rows.sum())
        np.testing.assert_allclose(
            rule["class_counts"], soft[rows].sum(axis=0), rtol=1e-9, atol=1e-9
        )
    ops = {c["op"] for rule in spec["rules"] for c in rule["conditions"]}
    assert ops & {"<=", ">"}


def test_figs_reproduces_an_additive_teacher_on_new_rows():
    X, y, soft = _data(seed=1)
    Xt, _, st = _data(n=2000, seed=2)
    est = RuleListStudent(learner="figs", max_rules=4, special_values=SV).fit(
        X, y, soft_targets=soft
    )
    assert len(est.to_spec()["rules"]) <= 4
    assert np.mean(est.predict(Xt) == st.argmax(1)) > 0.95


def test_auto_keeps_the_better_learner_on_validation():
    X, y, soft = _data(seed=3)
    Xv, yv, sv = _data(n=800, seed=4)
    est = RuleListStudent(max_rules=4, special_values=SV).fit(
        X, y, soft_targets=soft, X_val=Xv, y_val=yv, soft_targets_val=sv
    )
    meta = est.to_spec()["meta"]
    scores = meta["candidates"]["agreement"]
    assert set(scores) == {"beam", "figs"}
    assert meta["learner"].startswith("FIGS") == (scores["figs"] > scores["beam"])
    assert np.mean(est.predict(Xv) == sv.argmax(1)) == pytest.approx(max(scores.values()))
    # no validation split: the beam list, as before
    plain = (
        RuleListStudent(max_rules=4, special_values=SV)
        .fit(X, y, soft_targets=soft)
        .to_spec()["meta"]
    )
    assert plain["learner"].startswith("beam") and "candidates" not in plain


def test_figs_rule_list_exports_to_onnx(fitted):
    from distill2rules.exporters import to_onnx
    from distill2rules.exporters.onnx import check_onnx_parity

    spec = fitted[3].to_spec()
    report = check_onnx_parity(to_onnx(spec), spec, n_rows=2000, random_state=0)
    assert report.ok and report.label_mismatches == 0, report


def test_figs_multiclass():
    rng = np.random.default_rng(5)
    X = pd.DataFrame({"x": rng.uniform(0, 3, 1500), "z": rng.uniform(0, 1, 1500)})
    y = np.floor(X["x"]).astype(int).to_numpy()
    est = RuleListStudent(learner="figs", max_rules=4).fit(X, y)
    assert np.mean(est.predict(X) == y) > 0.95


@pytest.mark.parametrize(
    "params, match",
    [
        ({"learner": "cart"}, "learner must be one of"),
        ({"learner": "figs", "monotone": "a:+"}, "no monotone"),
    ],
)
def test_bad_learner_settings_fail_clearly(params, match):
    X, y, soft = _data(n=300)
    with pytest.raises(ConfigError, match=match):
        RuleListStudent(**params).fit(X, y, soft_targets=soft)

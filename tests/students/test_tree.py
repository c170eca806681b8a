"""Tree student: the lowered rule list is exactly the scikit-learn tree, rules are a partition."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from distill2rules import spec as spec_mod
from distill2rules.errors import ConfigError
from distill2rules.spec import condition_holds
from distill2rules.students._base import raw_inputs
from distill2rules.students.tree import TreeStudent


def _frame(n: int, seed: int, k: int = 2):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "age": rng.integers(18, 80, n).astype(float),
            "income": rng.lognormal(10, 1, n),
            "job": rng.choice(["clerk", "nurse", "pilot", "chef"], n).astype(object),
        }
    )
    X.loc[rng.random(n) < 0.1, "income"] = np.nan
    X.loc[rng.random(n) < 0.05, "job"] = None
    s = (
        (X["age"] - 45) / 10
        + (X["job"] == "pilot") * 1.5
        - (X["job"] == "chef")
        + np.log(X["income"].fillna(1e5))
        - 10
    )
    if k == 2:
        p1 = 1 / (1 + np.exp(-s.to_numpy()))
        soft = np.column_stack([1 - p1, p1])
    else:
        z = np.column_stack([s, -s, 2.0 * (X["age"] > 50)]).astype(float)
        soft = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    y = soft.argmax(axis=1)
    y[:k] = np.arange(k)
    return X, y, soft


@pytest.mark.parametrize("k", [2, 3])
def test_lowered_rules_equal_sklearn_tree(k):
    X, y, soft = _frame(1500, 0, k)
    est = TreeStudent(max_depth=4, min_samples_leaf=10).fit(X, y, soft_targets=soft)
    spec = est.to_spec()
    inp = raw_inputs(X, spec["inputs"]["numeric"], spec["inputs"]["categorical"])
    Z = est.encoding_.matrix(inp)
    sk = est.tree_.predict(Z)
    sk = np.column_stack([1 - sk, sk]) if k == 2 else sk
    ours = est.predict_proba(X)
    assert np.allclose(
        ours, sk / sk.sum(axis=1, keepdims=True), atol=1e-12
    )  # every row, missing values included
    assert spec["meta"]["ordered"] is False
    assert len(spec["rules"]) == est.tree_.get_n_leaves()


def test_rules_partition_the_input_space():
    X, y, soft = _frame(1200, 1)
    est = TreeStudent(max_depth=3).fit(X, y, soft_targets=soft)
    spec = est.to_spec()
    probe = pd.concat(
        [
            X,
            pd.DataFrame(
                {
                    "age": [30.0, np.nan, 60.0],
                    "income": [np.nan, 5e4, np.inf],
                    "job": ["astronaut", None, "nurse"],
                }
            ),
        ],
        ignore_index=True,
    )
    num, cat = spec_mod.prepare_inputs(spec, probe)
    lookup = {c: ("numeric", j) for j, c in enumerate(spec["inputs"]["numeric"])}
    lookup.update({c: ("categorical", j) for j, c in enumerate(spec["inputs"]["categorical"])})
    hits = np.zeros(len(probe), dtype=int)
    for rule in spec["rules"]:
        m = np.ones(len(probe), dtype=bool)
        for cond in rule["conditions"]:
            m &= condition_holds(cond, num, cat, lookup)
        hits += m
    assert (
        hits == 1
    ).all()  # unseen categories, missing values and inf each land in exactly one rule
    assert sum(r["support"] for r in spec["rules"]) == len(X)
    assert spec["default"]["support"] == 0
    for r in spec["rules"]:
        for c in r["conditions"]:
            if c["op"] in ("<=", ">", "in", "not_in"):
                assert isinstance(c["missing"], bool)


def test_soft_targets_drive_the_splits():
    rng = np.random.default_rng(3)
    X = pd.DataFrame({"x": rng.uniform(0, 1, 1000)})
    p1 = np.where(X["x"] > 0.3, 0.4, 0.05)  # argmax is 0 everywhere
    soft = np.column_stack([1 - p1, p1])
    y = np.r_[0, 1, np.zeros(998, dtype=int)]
    est = TreeStudent(max_depth=1).fit(X, y, soft_targets=soft)
    (cond,) = est.to_spec()["rules"][0]["conditions"]
    assert abs(cond["value"] - 0.3) < 0.02


def test_bad_depth_and_multiclass_monotone_fail_clearly():
    X, y, soft = _frame(200, 2, k=3)
    with pytest.raises(ConfigError, match="max_depth must be an integer >= 1"):
        TreeStudent(max_depth=0).fit(X, y)
    with pytest.raises(ConfigError, match="need a binary target"):
        TreeStudent(monotone={"age": 1}).fit(X, y, soft_targets=soft)

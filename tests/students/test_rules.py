"""Rule-list student: learns from soft targets, rule semantics, missing values, multiclass."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from distill2rules import spec as spec_mod
from distill2rules.errors import ConfigError, DataError
from distill2rules.kd import one_hot
from distill2rules.students import make_student
from distill2rules.students.rules import RuleListStudent


def _kl(p: np.ndarray, q: np.ndarray) -> float:
    p, q = np.clip(p, 1e-9, 1), np.clip(q, 1e-9, 1)
    return float((p * np.log(p / q)).sum(axis=1).mean())


@pytest.fixture(scope="module")
def mixed():
    """Numeric with missing values, a categorical with missing values, a smooth teacher."""
    rng = np.random.default_rng(0)
    n = 3000
    X = pd.DataFrame(
        {
            "income": rng.uniform(0, 100, n),
            "debt": rng.uniform(0, 1, n),
            "housing": rng.choice(["own", "rent", "free"], n).astype(object),
        }
    )
    X.loc[rng.random(n) < 0.1, "income"] = np.nan
    X.loc[rng.random(n) < 0.05, "housing"] = None
    logit = 0.08 * (X["income"].fillna(90) - 50) - 2.5 * X["debt"] + 1.5 * (X["housing"] == "own")
    p1 = 1 / (1 + np.exp(-logit.to_numpy()))
    y = (rng.random(n) < p1).astype(int)
    return X, pd.Series(y, name="y"), np.column_stack([1 - p1, p1])


def test_soft_targets_change_the_rules_where_argmax_labels_cannot():
    # the teacher is below 0.5 everywhere, but twice as confident on one side of x = 0.5:
    # argmax labels are all 0 (nothing to learn), soft targets carry the split
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"x": rng.uniform(0, 1, 2000), "noise": rng.uniform(0, 1, 2000)})
    p1 = np.where(X["x"] > 0.5, 0.45, 0.05)
    soft = np.column_stack([1 - p1, p1])
    y = np.r_[0, 1, np.zeros(1998, dtype=int)]  # two classes exist; labels otherwise 0
    hard_fit = RuleListStudent(max_rules=3).fit(
        X, y, soft_targets=one_hot(np.argmax(soft, axis=1), 2)
    )
    soft_fit = RuleListStudent(max_rules=3).fit(X, y, soft_targets=soft)
    assert hard_fit.to_spec()["rules"] == []  # pure labels: no rule improves anything
    rules = soft_fit.to_spec()["rules"]
    assert rules and rules[0]["conditions"][0]["feature"] == "x"
    assert abs(rules[0]["conditions"][0]["value"] - 0.5) < 0.03
    # the soft-target list reproduces the teacher's probabilities, the argmax one cannot
    assert _kl(soft, soft_fit.predict_proba(X)) < 0.1 * _kl(soft, hard_fit.predict_proba(X))


def test_rule_semantics_support_counts_and_default(mixed):
    X, y, soft = mixed
    est = RuleListStudent(max_rules=6, max_conditions=2, min_support=0.02).fit(
        X, y, soft_targets=soft
    )
    spec = est.to_spec()
    rules, default = spec["rules"], spec["default"]
    assert 1 <= len(rules) <= 6
    assert spec["meta"]["ordered"] is True
    assert all(1 <= len(r["conditions"]) <= 2 for r in rules)
    assert all(r["support"] >= 0.02 * len(X) for r in rules)
    assert sum(r["support"] for r in rules) + default["support"] == len(X)
    for r in rules + [default]:  # soft counts: one unit of target mass per row
        assert np.isclose(sum(r["class_counts"]), r["support"])
        assert np.isclose(sum(r["probabilities"]), 1.0)
    out = spec_mod.evaluate(spec, X)
    fired = out["rule"]
    assert np.bincount(fired, minlength=len(rules) + 1).tolist() == [
        r["support"] for r in rules
    ] + [default["support"]]
    table = np.array([r["probabilities"] for r in rules] + [default["probabilities"]])
    assert np.allclose(out["probabilities"], table[fired])
    assert np.allclose(est.predict_proba(X), out["probabilities"])
    # the rule list is faithful to this smooth teacher
    assert np.mean(est.predict(X) == np.argmax(soft, axis=1)) > 0.85


def test_missing_values_are_routed_explicitly():
    rng = np.random.default_rng(2)
    n = 2000
    X = pd.DataFrame({"x": rng.uniform(0, 10, n), "c": rng.choice(["a", "b"], n).astype(object)})
    miss = rng.random(n) < 0.2
    X.loc[miss, "x"] = np.nan  # the teacher says: a missing x means class 1
    p1 = np.where(miss, 0.95, np.where(X["x"] > 7, 0.9, 0.1))
    y = (p1 > 0.5).astype(int)
    est = RuleListStudent(max_rules=4).fit(X, y, soft_targets=np.column_stack([1 - p1, p1]))
    conds = [c for r in est.to_spec()["rules"] for c in r["conditions"] if c["feature"] == "x"]
    assert any(c.get("missing") or c["op"] == "is_missing" for c in conds)
    assert all("missing" in c for c in conds if c["op"] in ("<=", ">"))
    probe = pd.DataFrame({"x": [np.nan, 2.0, 9.0], "c": ["a", "a", "b"]})
    assert est.predict(probe).tolist() == [1, 0, 1]
    # unseen and missing categories are legal inputs
    assert est.predict_proba(pd.DataFrame({"x": [2.0], "c": [None]})).shape == (1, 2)
    assert est.predict_proba(pd.DataFrame({"x": [2.0], "c": ["zzz"]})).shape == (1, 2)


def test_multiclass_rule_list():
    from sklearn.datasets import load_wine

    X, y = load_wine(return_X_y=True, as_frame=True)
    est = make_student("rules", max_rules=5, min_support=5).fit(X, y)
    spec = est.to_spec()
    assert spec["classes"] == [0, 1, 2]
    assert all(len(r["probabilities"]) == 3 for r in spec["rules"] + [spec["default"]])
    predicted = {int(np.argmax(r["probabilities"])) for r in spec["rules"] + [spec["default"]]}
    assert predicted == {0, 1, 2}
    assert np.mean(est.predict(X) == y) > 0.9


def test_pruning_on_the_validation_split(mixed):
    X, y, soft = mixed
    est = RuleListStudent(max_rules=8).fit(
        X[:2000],
        y[:2000],
        soft_targets=soft[:2000],
        X_val=X[2000:],
        y_val=y[2000:],
        soft_targets_val=soft[2000:],
    )
    prune = est.to_spec()["meta"]["pruning"]
    assert prune["kept_rules"] == len(est.to_spec()["rules"]) <= prune["learned_rules"]
    assert prune["agreement_by_length"][prune["kept_rules"]] == max(prune["agreement_by_length"])


@pytest.mark.parametrize(
    "params, match",
    [
        ({"max_rules": -1}, "max_rules must be an integer >= 0"),
        ({"max_conditions": 0}, "max_conditions must be an integer >= 1"),
        ({"min_support": 0}, "min_support must be a fraction"),
        ({"ce_weight": -1.0}, "ce_weight must be >= 0"),
    ],
)
def test_bad_parameters_fail_clearly(mixed, params, match):
    X, y, _ = mixed
    with pytest.raises(ConfigError, match=match):
        RuleListStudent(**params).fit(X[:100], y[:100])


def test_same_data_same_rules(mixed):
    X, y, soft = mixed
    a = RuleListStudent(max_rules=4).fit(X, y, soft_targets=soft).to_spec()
    b = RuleListStudent(max_rules=4).fit(X, y, soft_targets=soft).to_spec()
    assert spec_mod.to_json(a) == spec_mod.to_json(b)


@pytest.mark.parametrize("kind", ["rules", "tree", "mlp"])
def test_sklearn_conventions(kind):
    from sklearn.base import clone

    est = make_student(kind, random_state=3)
    twin = clone(est)
    assert twin.get_params() == est.get_params()
    assert not any(name.endswith("_") for name in vars(twin))  # nothing learned before fit


@pytest.mark.parametrize("kind", ["rules", "mlp"])
def test_validation_rows_may_lack_a_class(kind):
    from sklearn.datasets import load_wine

    X, y = load_wine(return_X_y=True, as_frame=True)
    val = (y != 2).to_numpy() & (np.arange(len(y)) % 3 == 0)
    soft_val = one_hot(y[val].to_numpy(), 3)
    est = make_student(kind, random_state=0, **({"epochs": 3} if kind == "mlp" else {}))
    est.fit(X[~val], y[~val], X_val=X[val], y_val=y[val], soft_targets_val=soft_val)
    assert est.classes_.tolist() == [0, 1, 2]
    with pytest.raises(DataError, match="validation label 7 is not a class"):
        make_student(kind).fit(X[~val], y[~val], X_val=X[val][:1], y_val=[7])

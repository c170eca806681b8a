"""Monotone constraints hold on a grid for every student kind (through the spec's predictions)."""

from __future__ import annotations

import os

import numpy as np
import pytest

from distill2rules import spec as spec_mod
from distill2rules.errors import ConfigError
from distill2rules.students import STUDENTS, make_student

needs_data = pytest.mark.skipif(
    not os.environ.get("DISTILL2RULES_DATA"), reason="needs DISTILL2RULES_DATA (german_credit)"
)

# class 1 is "good": longer loans less likely good, older applicants more likely good
MONOTONE = {"duration_months": -1, "age": +1}
FAST = {
    "logreg": {},
    "scorecard": {},
    "ebm": {"interactions": 0, "outer_bags": 1, "max_rounds": 300},
    "rules": {"max_rules": 8},
    "tree": {"max_depth": 4},
    "mlp": {"hidden": (16,), "epochs": 25},
}


@pytest.fixture(scope="module")
def german():
    from distill2rules.pipeline import load_inputs

    ds = load_inputs("german_credit", None)
    frame = ds.frame.sample(700, random_state=0).reset_index(drop=True)
    return frame.drop(columns=[ds.target]), frame[ds.target]


def test_every_registered_student_is_checked():
    assert set(FAST) == set(STUDENTS)


@needs_data
@pytest.mark.parametrize("kind", sorted(FAST))
def test_monotone_on_a_grid(kind, german, torch_one_thread):
    X, y = german
    est = make_student(kind, monotone="duration_months:-,age:+", random_state=0, **FAST[kind]).fit(
        X, y
    )
    spec = est.to_spec()
    assert spec["monotone"] == MONOTONE
    rows = X.sample(60, random_state=1).reset_index(drop=True)
    for feature, sign in MONOTONE.items():
        grid = np.linspace(X[feature].min() - 1, X[feature].max() + 1, 40)
        probe = rows.loc[rows.index.repeat(len(grid))].reset_index(drop=True)
        probe[feature] = np.tile(grid, len(rows))
        p1 = spec_mod.evaluate(spec, probe)["probabilities"][:, 1].reshape(len(rows), len(grid))
        steps = sign * np.diff(p1, axis=1)
        assert steps.min() >= -1e-9, (
            f"{kind}: P(good) moves against {feature}:{sign:+d} by {steps.min():.2e}"
        )
    if kind == "mlp":
        assert all(v["max_violation"] <= 1e-6 for v in spec["meta"]["monotone_check"].values())


@pytest.mark.parametrize("kind", ["rules", "tree", "mlp", "scorecard"])
def test_monotone_needs_a_numeric_feature_and_two_classes(kind, torch_one_thread):
    import pandas as pd

    X = pd.DataFrame({"a": np.arange(30.0), "c": ["u", "v", "w"] * 10})
    with pytest.raises(ConfigError, match="need numeric columns"):
        make_student(kind, monotone={"c": 1}).fit(X, np.arange(30) % 2)
    with pytest.raises(ConfigError, match="need a binary target"):
        make_student(kind, monotone={"a": 1}).fit(X, np.arange(30) % 3)


@pytest.mark.parametrize("kind", sorted(FAST))
def test_constraint_holds_against_a_non_monotone_teacher(kind, torch_one_thread):
    import pandas as pd

    from distill2rules.kd import softmax

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x": rng.uniform(0, 10, 800), "w": rng.normal(size=800)})
    z1 = 3.0 * np.sin(X["x"].to_numpy()) + X["w"].to_numpy()  # up, down, up along x
    soft = softmax(np.column_stack([np.zeros(800), z1]))
    y = (rng.random(800) < soft[:, 1]).astype(int)
    est = make_student(kind, monotone={"x": 1}, random_state=0, **FAST[kind]).fit(
        X, y, soft_targets=soft
    )
    grid = np.linspace(-1, 11, 80)
    for w in (-1.5, 0.0, 1.5):
        p1 = est.predict_proba(pd.DataFrame({"x": grid, "w": w}))[:, 1]
        assert np.diff(p1).min() >= -1e-9, kind

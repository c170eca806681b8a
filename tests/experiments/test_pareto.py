"""Composite objective J and the Pareto front on hand-made numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from distill2rules.errors import ConfigError
from distill2rules.experiments.pareto import (
    composite_objective,
    normalise_cost,
    pareto_front,
    parse_weights,
)


def test_pareto_front_three_objectives():
    rows = [
        {"accuracy": 0.90, "params": 10, "cosine": 0.80},  # 0: front (cheapest among good ones)
        {"accuracy": 0.92, "params": 50, "cosine": 0.85},  # 1: front (most accurate)
        {"accuracy": 0.89, "params": 10, "cosine": 0.79},  # 2: dominated by 0
        {"accuracy": 0.85, "params": 5, "cosine": 0.60},  # 3: front (fewest parameters)
        {"accuracy": 0.90, "params": 60, "cosine": 0.80},  # 4: dominated by 0 and 1
        {"accuracy": 0.88, "params": 20, "cosine": 0.95},  # 5: front (best alignment)
    ]
    assert pareto_front(rows) == [0, 1, 3, 5]


def test_pareto_front_keeps_duplicates_and_treats_nan_as_worst():
    rows = [
        {"a": 1.0, "c": 1.0},
        {"a": 1.0, "c": 1.0},
        {"a": float("nan"), "c": 0.0},
        {"a": None, "c": 5.0},
    ]
    assert pareto_front(rows, {"a": "max", "c": "min"}) == [0, 1, 2]


def test_pareto_front_rejects_bad_sense():
    with pytest.raises(ConfigError, match="'max' or 'min'"):
        pareto_front([{"a": 1}], {"a": "up"})


def test_composite_objective_matches_formula():
    P = np.array([0.9, 0.8, 0.95])
    cost = normalise_cost([100, 20, 60])
    np.testing.assert_allclose(cost, [1.0, 0.0, 0.5])
    I = np.array([0.7, 0.9, np.nan])
    J = composite_objective(P, cost, I, (1.0, 0.5, 0.25))
    np.testing.assert_allclose(J[:2], [0.9 - 0.5 + 0.175, 0.8 - 0.0 + 0.225])
    assert math.isnan(J[2])
    # no alignment weight: a missing alignment does not matter
    assert composite_objective(0.95, 0.5, float("nan"), (1, 0.5, 0)) == pytest.approx(0.7)


def test_normalise_cost_constant_and_nan():
    assert normalise_cost([3, 3]).tolist() == [0.0, 0.0]
    out = normalise_cost([1, float("nan"), 3])
    assert out[0] == 0 and out[2] == 1 and math.isnan(out[1])


@pytest.mark.parametrize("bad", ["1,2", "a,b,c", "1,-1,0", [1, 2, 3, 4]])
def test_parse_weights_rejects(bad):
    with pytest.raises(ConfigError, match="weights"):
        parse_weights(bad)

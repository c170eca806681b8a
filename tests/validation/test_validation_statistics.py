"""Paired statistics for small numbers of seeds."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

from distill2rules.errors import ConfigError, DataError
from distill2rules.validation import bootstrap_ci, cohens_d, mcnemar, paired_ttest, wilcoxon

STUDENT = [0.842, 0.851, 0.838, 0.846, 0.849]
TEACHER = [0.861, 0.866, 0.857, 0.868, 0.860]


def test_paired_ttest_matches_scipy_and_d_sign() -> None:
    r = paired_ttest(STUDENT, TEACHER)
    ref = stats.ttest_rel(STUDENT, TEACHER)
    assert r.statistic == pytest.approx(ref.statistic) and r.p_value == pytest.approx(ref.pvalue)
    s_pooled = math.sqrt((np.var(STUDENT, ddof=1) + np.var(TEACHER, ddof=1)) / 2)
    assert r.effect_size == pytest.approx((np.mean(STUDENT) - np.mean(TEACHER)) / s_pooled)
    assert r.effect_size < 0 < paired_ttest(TEACHER, STUDENT).effect_size
    assert r.n == 5 and r.details["df"] == 4
    json.dumps(r.to_dict(), allow_nan=False)


def test_paired_ttest_degenerate_cases() -> None:
    r = paired_ttest([0.8, 0.9, 0.7], [0.7, 0.8, 0.6])  # constant difference
    assert math.isnan(r.p_value) and "zero variance" in r.note
    assert r.to_dict()["p_value"] is None
    assert math.isnan(paired_ttest([0.8], [0.7]).p_value)
    assert math.isnan(cohens_d([0.5, 0.5], [0.5, 0.5]))
    two = paired_ttest([0.80, 0.82], [0.85, 0.86])  # n = 2 works
    assert two.n == 2 and 0 < two.p_value < 1
    with pytest.raises(DataError, match="differ in length"):
        paired_ttest([1, 2], [1])
    with pytest.raises(DataError, match="NaN"):
        paired_ttest([1, np.nan], [1, 2])


def test_wilcoxon_matches_scipy_and_handles_ties() -> None:
    r = wilcoxon(STUDENT, TEACHER)
    ref = stats.wilcoxon(STUDENT, TEACHER)
    assert r.statistic == pytest.approx(ref.statistic) and r.p_value == pytest.approx(ref.pvalue)
    assert r.p_value == pytest.approx(0.0625)  # the smallest two-sided p for n = 5
    assert r.effect_size == -1.0
    same = wilcoxon([1, 2, 3], [1, 2, 3])
    assert math.isnan(same.p_value) and "zero" in same.note
    tied = wilcoxon([1.0, 2.0, 3.0, 4.0], [0.0, 1.0, 3.0, 5.0])
    assert tied.n == 3 and tied.details["n_zero_differences"] == 1 and 0 < tied.p_value <= 1


def test_bootstrap_ci_contains_mean_and_is_seeded() -> None:
    rng = np.random.default_rng(0)
    v = rng.normal(0.8, 0.05, size=40)
    ci = bootstrap_ci(v, seed=1)
    assert ci.lo < v.mean() < ci.hi and ci.mean == pytest.approx(v.mean())
    assert bootstrap_ci(v, seed=1) == ci
    diff = bootstrap_ci((np.array(STUDENT), np.array(TEACHER)), n_boot=500)
    assert diff.hi < 0 and diff.note is not None
    assert bootstrap_ci([0.7]).lo == 0.7
    const = bootstrap_ci([0.5, 0.5, 0.5])
    assert const.lo == const.hi == 0.5
    with pytest.raises(ConfigError, match="ci must be"):
        bootstrap_ci(v, ci=1.5)


def test_mcnemar_exact_on_small_counts() -> None:
    a = np.array([1] * 50 + [1] * 8 + [0] * 2 + [0] * 40, dtype=bool)
    b = np.array([1] * 50 + [0] * 8 + [1] * 2 + [0] * 40, dtype=bool)
    r = mcnemar(a, b)
    assert r.test == "mcnemar_exact" and r.details == {"n01": 8, "n10": 2, "discordant": 10}
    expected = 2 * sum(math.comb(10, i) for i in range(3)) / 2**10
    assert r.p_value == pytest.approx(expected)


def test_mcnemar_chi2_with_continuity() -> None:
    a = np.array([1] * 30 + [0] * 10 + [1] * 60, dtype=bool)
    b = np.array([0] * 30 + [1] * 10 + [1] * 60, dtype=bool)
    r = mcnemar(a, b)
    assert r.test == "mcnemar_chi2"
    assert r.statistic == pytest.approx((abs(30 - 10) - 1) ** 2 / 40)
    assert r.p_value == pytest.approx(stats.chi2.sf(r.statistic, 1))
    none = mcnemar(a, a)
    assert none.p_value == 1.0 and none.note == "no discordant rows"

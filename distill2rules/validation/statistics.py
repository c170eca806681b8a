"""Paired statistics over seeds or rows: t test with Cohen's d, Wilcoxon, bootstrap, McNemar.

Built for the small samples of a multi-seed study (n = 2..5): degenerate inputs (zero
variance, all ties, one value) give NaN p-values with a ``note`` instead of raising.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from typing import Any

import numpy as np

from distill2rules.errors import ConfigError, DataError
from distill2rules.validation._results import Result

__all__ = [
    "BootstrapCI",
    "TestResult",
    "bootstrap_ci",
    "cohens_d",
    "mcnemar",
    "paired_ttest",
    "wilcoxon",
]

_NAN = float("nan")


@dataclasses.dataclass
class TestResult(Result):
    """Outcome of one hypothesis test.

    ``effect_size`` is Cohen's d for the t test, the matched-pairs rank-biserial correlation
    for Wilcoxon and the discordant ratio ``n10 / n01`` (odds ratio) for McNemar.
    """

    __test__ = False  # not a pytest class

    test: str
    statistic: float
    p_value: float
    n: int
    effect_size: float | None = None
    note: str | None = None
    details: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class BootstrapCI(Result):
    """Percentile bootstrap interval of a mean (of paired differences ``a - b`` if two samples)."""

    mean: float
    lo: float
    hi: float
    ci: float
    n: int
    n_boot: int
    note: str | None = None


def _pair(a: Any, b: Any) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(a, dtype=np.float64).ravel()
    y = np.asarray(b, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise DataError(f"paired samples differ in length ({x.size} vs {y.size}).")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise DataError("paired samples hold NaN or infinite values.")
    return x, y


def _differences(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``x - y`` with float round-off (below 1e-12 of the data's scale) snapped to exactly 0."""
    diff = x - y
    scale = max(1.0, float(np.max(np.abs(x), initial=0.0)), float(np.max(np.abs(y), initial=0.0)))
    diff[np.abs(diff) <= 1e-12 * scale] = 0.0
    return diff


def _constant(v: np.ndarray) -> bool:
    return bool(np.ptp(v) <= 1e-12 * max(1.0, float(np.max(np.abs(v), initial=0.0))))


def cohens_d(a: Any, b: Any) -> float:
    """``(mean(a) - mean(b)) / s_pooled`` with ``s_pooled = sqrt((s_a^2 + s_b^2) / 2)`` (ddof=1).

    With ``a`` the student and ``b`` the teacher this is the paper's eq. 9,
    ``(mu_S - mu_T) / s_pooled``: negative when the student scores lower. NaN when both
    samples are constant or shorter than 2.
    """
    x, y = _pair(a, b)
    if x.size < 2:
        return _NAN
    if _constant(x) and _constant(y):
        return _NAN
    s = math.sqrt((x.var(ddof=1) + y.var(ddof=1)) / 2.0)
    diff = float(x.mean() - y.mean())
    return diff / s


def paired_ttest(a: Any, b: Any) -> TestResult:
    """Paired t test of ``a - b`` (two-sided) with Cohen's d of ``a`` vs ``b``.

    Pass the student's scores as ``a`` and the teacher's as ``b`` (one value per seed).

    Examples
    --------
    >>> r = paired_ttest([0.85, 0.86, 0.84], [0.87, 0.88, 0.87])
    >>> r.effect_size < 0
    True
    """
    from scipy import stats

    x, y = _pair(a, b)
    n = int(x.size)
    d = cohens_d(x, y)
    diff = _differences(x, y)
    if n < 2:
        return TestResult("paired_t", _NAN, _NAN, n, d, note="needs at least 2 pairs")
    if _constant(diff):
        note = "all differences are equal (zero variance); t is undefined"
        return TestResult(
            "paired_t", _NAN, _NAN, n, d, note=note, details={"mean_diff": float(diff.mean())}
        )
    res = stats.ttest_rel(x, y)
    return TestResult(
        "paired_t",
        float(res.statistic),
        float(res.pvalue),
        n,
        d,
        details={"mean_diff": float(diff.mean()), "df": n - 1},
    )


def wilcoxon(a: Any, b: Any) -> TestResult:
    """Wilcoxon signed-rank test of ``a - b`` (two-sided; zero differences dropped).

    With n <= 5 pairs the smallest attainable two-sided p-value is 0.0625, so it can never
    reach 0.05: read it together with the t test and the bootstrap interval.
    """
    from scipy import stats

    x, y = _pair(a, b)
    diff = _differences(x, y)
    nz = diff[diff != 0]
    n = int(nz.size)
    if n == 0:
        return TestResult("wilcoxon", _NAN, _NAN, 0, None, note="all differences are zero")
    ranks = stats.rankdata(np.abs(nz))
    r_plus, r_minus = float(ranks[nz > 0].sum()), float(ranks[nz < 0].sum())
    effect = (r_plus - r_minus) / (r_plus + r_minus)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = stats.wilcoxon(nz)
    note = (
        "ties or zeros: normal approximation"
        if len(np.unique(np.abs(nz))) < n or n < diff.size
        else None
    )
    return TestResult(
        "wilcoxon",
        float(res.statistic),
        float(res.pvalue),
        n,
        effect,
        note=note,
        details={"n_zero_differences": int(diff.size - n)},
    )


def bootstrap_ci(
    values: Any, *, n_boot: int = 2000, ci: float = 0.95, seed: int = 0
) -> BootstrapCI:
    """Percentile bootstrap confidence interval of the mean.

    Parameters
    ----------
    values : array or tuple (a, b)
        One sample, or two paired samples whose differences ``a - b`` are resampled.
    n_boot : int
        Bootstrap resamples.
    ci : float in (0, 1)
        Coverage.
    seed : int
        Seed for the resampling.
    """
    if isinstance(values, tuple) and len(values) == 2:
        x, y = _pair(*values)
        v = _differences(x, y)
    else:
        v = np.asarray(values, dtype=np.float64).ravel()
        if not np.all(np.isfinite(v)):
            raise DataError("bootstrap values hold NaN or infinite values.")
    if not 0.0 < ci < 1.0:
        raise ConfigError(f"ci must be in (0, 1), got {ci}.")
    if n_boot < 1:
        raise ConfigError(f"n_boot must be >= 1, got {n_boot}.")
    n = int(v.size)
    if n == 0:
        raise DataError("bootstrap needs at least one value.")
    mean = float(v.mean())
    if n == 1:
        return BootstrapCI(
            mean, mean, mean, ci, n, n_boot, note="one value: the interval is a point"
        )
    rng = np.random.default_rng(seed)
    means = v[rng.integers(0, n, size=(n_boot, n))].mean(axis=1)
    alpha = (1.0 - ci) / 2.0
    lo, hi = np.quantile(means, [alpha, 1.0 - alpha])
    note = "fewer than 10 values: percentile intervals under-cover" if n < 10 else None
    return BootstrapCI(mean, float(lo), float(hi), ci, n, n_boot, note=note)


def mcnemar(correct_a: Any, correct_b: Any) -> TestResult:
    """McNemar's test on paired per-row correctness of two classifiers.

    Exact two-sided binomial test when there are fewer than 25 discordant rows, otherwise
    chi-squared with continuity correction ``(|n01 - n10| - 1)^2 / (n01 + n10)``.
    ``n01`` counts rows only ``a`` gets right, ``n10`` rows only ``b`` gets right.
    """
    from scipy import stats

    ca = np.asarray(correct_a).astype(bool).ravel()
    cb = np.asarray(correct_b).astype(bool).ravel()
    if ca.shape != cb.shape:
        raise DataError(f"correctness vectors differ in length ({ca.size} vs {cb.size}).")
    n01 = int(np.sum(ca & ~cb))
    n10 = int(np.sum(~ca & cb))
    disc = n01 + n10
    details = {"n01": n01, "n10": n10, "discordant": disc}
    effect = (n10 / n01) if n01 else None
    if disc == 0:
        return TestResult(
            "mcnemar_exact",
            0.0,
            1.0,
            int(ca.size),
            effect,
            note="no discordant rows",
            details=details,
        )
    if disc < 25:
        p = float(stats.binomtest(min(n01, n10), disc, 0.5).pvalue)
        return TestResult(
            "mcnemar_exact",
            float(min(n01, n10)),
            min(1.0, p),
            int(ca.size),
            effect,
            details=details,
        )
    stat = (abs(n01 - n10) - 1.0) ** 2 / disc
    return TestResult(
        "mcnemar_chi2",
        float(stat),
        float(stats.chi2.sf(stat, 1)),
        int(ca.size),
        effect,
        details=details,
    )

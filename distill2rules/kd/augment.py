"""Synthetic query rows for distillation (``--augment N``).

A student only learns the teacher's function where it sees rows. ``synthesize`` draws extra
rows around and between the training rows; the teacher labels them (soft targets), so the
student learns the teacher where data are sparse. Three generators, mixed by ``shares``:

* **jitter** — a random training row with Gaussian noise ``N(0, (jitter·sd_f)²)`` on every
  numeric feature and, with probability ``jitter``, each categorical redrawn from its marginal;
* **mixup** — ``λ·a + (1 − λ)·b`` of the numerics of two random rows (``λ ~ U(0, 1)``), the
  categoricals of the nearer row;
* **marginal** — every column drawn independently from its empirical marginal (covers the box
  the data span, including regions no training row visits).

Numeric values are clipped to the observed range and rounded when the column only holds
integers; missing values stay missing where the source row had them. No labels are made up:
the caller scores the rows with the teacher.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from distill2rules.errors import ConfigError, DataError

__all__ = ["SyntheticRows", "check_augment", "synthesize"]

METHODS = ("jitter", "mixup", "marginal")


@dataclass
class SyntheticRows:
    """Synthetic rows and, per row, the generator that made it (an index into ``METHODS``)."""

    frame: pd.DataFrame
    method: np.ndarray

    def counts(self) -> dict[str, int]:
        return {m: int((self.method == i).sum()) for i, m in enumerate(METHODS)}


def check_augment(n: object) -> int:
    """Validate the number of synthetic rows (an integer >= 0)."""
    try:
        f = float(n)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        f = float("nan")
    if isinstance(n, bool) or not (f >= 0 and f == int(f)):
        raise ConfigError(f"augment must be a number of rows >= 0, got {n!r}.", hint="For example --augment 5000.")
    return int(f)


def _is_numeric(s: pd.Series, categorical: set[str]) -> bool:
    """Numeric (jittered, mixed) unless declared categorical; booleans are resampled like categories."""
    return s.name not in categorical and pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


def synthesize(X: pd.DataFrame, n: int, *, categorical: Sequence[str] | None = None, random_state: int | None = None,
               jitter: float = 0.1, shares: tuple[float, float, float] = (0.4, 0.4, 0.2)) -> SyntheticRows:
    """Draw ``n`` synthetic rows like ``X`` (same columns and dtypes, new index ``0..n-1``).

    Parameters
    ----------
    X : DataFrame
        Raw training rows (numeric and categorical columns, missing values allowed).
    n : int
        Rows to draw.
    categorical : list of str, optional
        Columns treated as categorical (default: non-numeric dtypes).
    random_state : int, optional
        Seed; same seed, same rows.
    jitter : float
        Noise scale (fraction of each numeric column's standard deviation) and the chance of
        redrawing each categorical value of a jittered row.
    shares : (float, float, float)
        Mix of jitter / mixup / marginal rows (normalised).

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"age": [20.0, 30, 40, 50], "job": ["a", "b", "a", "c"]})
    >>> synthesize(X, 6, random_state=0).frame.shape
    (6, 2)
    """
    n = check_augment(n)
    if len(X) == 0:
        raise DataError("cannot synthesize rows from an empty table.")
    if not jitter >= 0:
        raise ConfigError(f"jitter must be >= 0, got {jitter}.")
    sh = np.asarray(shares, dtype=float)
    if sh.shape != (3,) or (sh < 0).any() or sh.sum() <= 0:
        raise ConfigError(f"shares must be three non-negative weights (jitter, mixup, marginal), got {shares!r}.")
    rng = np.random.default_rng(random_state)
    method = np.repeat(np.arange(3), np.floor(sh / sh.sum() * n).astype(int))
    method = np.concatenate([method, np.zeros(n - len(method), dtype=int)])  # rounding remainder → jitter
    rng.shuffle(method)
    cats = set(categorical) if categorical is not None else set()
    m = len(X)
    a = rng.integers(0, m, size=n)
    b = rng.integers(0, m, size=n)
    lam = rng.random(n)
    out: dict[str, np.ndarray] = {}
    for col in X.columns:
        s = X[col]
        if _is_numeric(s, cats):
            out[col] = _numeric(s, method, a, b, lam, jitter, rng)
        else:
            out[col] = _categorical(s, method, a, b, lam, jitter, rng)
    frame = pd.DataFrame(out, columns=list(X.columns))
    for col in X.columns:
        keep_dtype = pd.api.types.is_integer_dtype(X[col]) or pd.api.types.is_bool_dtype(X[col])
        if keep_dtype and not frame[col].isna().any():
            frame[col] = frame[col].astype(X[col].dtype)
    return SyntheticRows(frame=frame, method=method)


def _numeric(s: pd.Series, method: np.ndarray, a: np.ndarray, b: np.ndarray, lam: np.ndarray, jitter: float,
             rng: np.random.Generator) -> np.ndarray:
    x = pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64)
    finite = x[np.isfinite(x)]
    if finite.size == 0:
        return x[a]
    lo, hi = float(finite.min()), float(finite.max())
    sd = float(finite.std())
    integral = bool(np.all(finite == np.round(finite)))
    xa, xb = x[a], x[b]
    res = xa.copy()
    j = method == 0
    res[j] = xa[j] + rng.normal(0.0, jitter * sd, size=int(j.sum()))
    mx = method == 1
    xb_f = np.where(np.isnan(xb), xa, xb)
    xa_f = np.where(np.isnan(xa), xb, xa)
    res[mx] = lam[mx] * xa_f[mx] + (1.0 - lam[mx]) * xb_f[mx]
    mg = method == 2
    res[mg] = x[rng.integers(0, len(x), size=int(mg.sum()))]
    keep_nan = np.isnan(res)
    res = np.clip(res, lo, hi)
    if integral:
        res = np.round(res)
    res[keep_nan] = np.nan
    return res


def _categorical(s: pd.Series, method: np.ndarray, a: np.ndarray, b: np.ndarray, lam: np.ndarray, jitter: float,
                 rng: np.random.Generator) -> np.ndarray:
    v = s.to_numpy(dtype=object)
    res = v[a].copy()
    j = method == 0
    redraw = j & (rng.random(len(a)) < jitter)
    res[redraw] = v[rng.integers(0, len(v), size=int(redraw.sum()))]
    mx = (method == 1) & (lam < 0.5)
    res[mx] = v[b[mx]]
    mg = method == 2
    res[mg] = v[rng.integers(0, len(v), size=int(mg.sum()))]
    return res

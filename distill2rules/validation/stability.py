"""Explanation stability under small Gaussian noise on the numeric inputs."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from distill2rules.errors import ConfigError, DataError
from distill2rules.validation._results import Result

__all__ = ["Stability", "perturb", "stability"]


@dataclasses.dataclass
class Stability(Result):
    """Stability index per noise level.

    ``per_sigma[str(sigma)] = {"mean", "sd", "n"}`` where the index of one row is
    ``1 - ||phi(x) - phi(x + eps)||_2 / ||phi(x)||_2`` and ``n`` counts rows with
    ``phi(x) != 0`` (others are skipped). The index is 1 for identical explanations and can be
    negative when the change exceeds the explanation's own size.
    """

    sigmas: list[float]
    per_sigma: dict[str, dict[str, float]]
    n_rows: int
    seconds: float

    def mean(self, sigma: float) -> float:
        """Mean stability at noise level ``sigma``."""
        return self.per_sigma[_key(sigma)]["mean"]


def _key(sigma: float) -> str:
    return repr(float(sigma))


def _values(out: Any) -> np.ndarray:
    vals = getattr(out, "values", out)
    arr = np.asarray(vals, dtype=np.float64)
    if arr.ndim != 2:
        raise DataError(f"attribution_fn must return a matrix [n, d], got shape {arr.shape}.")
    return arr


def perturb(
    X: Any, numeric_columns: Sequence[str], noise: np.ndarray, sigma: float, scale: np.ndarray
) -> Any:
    """``X`` with ``sigma * scale_j * noise[:, j]`` added to numeric column ``j`` (NaN stays)."""
    import pandas as pd

    Xp = X.copy()
    for j, c in enumerate(numeric_columns):
        x = pd.to_numeric(X[c], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        Xp[c] = x + sigma * scale[j] * noise[:, j]
    return Xp


def _check_rows(X: Any, numeric_columns: Sequence[str], sigmas: Sequence[float]) -> None:
    import pandas as pd

    if not isinstance(X, pd.DataFrame) or len(X) == 0:
        raise DataError("stability needs a non-empty DataFrame of raw rows.")
    if any(s < 0 for s in sigmas):
        raise ConfigError(f"noise levels must be >= 0, got {list(sigmas)}.")
    missing = [c for c in numeric_columns if c not in X.columns]
    if missing:
        raise DataError(f"numeric column(s) not in the data: {', '.join(map(str, missing[:5]))}.")


def _column_scales(X: Any, cols: Sequence[str]) -> np.ndarray:
    """Each column's standard deviation in ``X`` (0 when it is not finite or ``X`` has one row)."""
    import pandas as pd

    scale = np.array(
        [
            np.nanstd(
                pd.to_numeric(X[c], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan),
                ddof=1,
            )
            if len(X) > 1
            else 0.0
            for c in cols
        ],
        dtype=np.float64,
    )
    return np.where(np.isfinite(scale), scale, 0.0)


def _index_summary(phi: np.ndarray, phi_p: np.ndarray) -> dict[str, float]:
    """Mean, sd and count of the per-row stability index over rows with non-zero ``phi``."""
    norm = np.linalg.norm(phi, axis=1)
    ok = norm > 0
    idx = 1.0 - np.linalg.norm(phi - phi_p, axis=1)[ok] / norm[ok]
    return {
        "mean": float(idx.mean()) if idx.size else float("nan"),
        "sd": float(idx.std(ddof=1)) if idx.size > 1 else float("nan"),
        "n": int(idx.size),
    }


def stability(
    attribution_fn: Callable[[Any], Any],
    X: Any,
    numeric_columns: Sequence[str],
    *,
    sigmas: Sequence[float] = (0.01, 0.05, 0.1),
    n_rows: int = 200,
    seed: int = 0,
) -> Stability:
    """Stability index ``1 - ||phi(x) - phi(x + eps)|| / ||phi(x)||`` averaged over rows.

    Parameters
    ----------
    attribution_fn : callable
        Maps a DataFrame of raw rows to attributions (an ``Attributions`` or an array
        ``[n, d]``), row for row. It must explain the same output for ``x`` and ``x + eps``
        (e.g. a fixed class per row) and be deterministic (seeded).
    X : DataFrame
        Raw rows; ``n_rows`` of them are drawn without replacement (all, in order, if fewer).
    numeric_columns : sequence of str
        Columns that receive noise ``eps_j ~ N(0, (sigma * sd_j)^2)``, with ``sd_j`` the
        column's standard deviation in ``X``. Other columns are left untouched.
    sigmas : sequence of float
        Noise levels in units of column standard deviation. The same standard-normal draw is
        scaled for every level (common random numbers).
    n_rows : int
        Rows to evaluate.
    seed : int
        Seed for the row sample and the noise.

    Returns
    -------
    Stability
    """
    _check_rows(X, numeric_columns, sigmas)
    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    cols = list(numeric_columns)
    scale = _column_scales(X, cols)
    if n_rows < len(X):
        X = X.iloc[np.sort(rng.choice(len(X), size=n_rows, replace=False))]
    noise = rng.standard_normal((len(X), len(cols)))
    phi = _values(attribution_fn(X))
    per_sigma: dict[str, dict[str, float]] = {}
    for sigma in sigmas:
        phi_p = _values(attribution_fn(perturb(X, cols, noise, float(sigma), scale)))
        if phi_p.shape != phi.shape:
            raise DataError(
                f"attribution_fn returned shape {phi_p.shape} for perturbed rows, "
                f"expected {phi.shape}."
            )
        per_sigma[_key(sigma)] = _index_summary(phi, phi_p)
    return Stability(
        sigmas=[float(s) for s in sigmas],
        per_sigma=per_sigma,
        n_rows=len(X),
        seconds=time.perf_counter() - start,
    )

"""Stratified, seeded train/validation/test splits."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from distill2rules.errors import ConfigError, DataError

__all__ = ["Splits", "split_frame"]


@dataclass
class Splits:
    """Three disjoint parts of one frame (rows keep their original index)."""

    train: pd.DataFrame
    val: pd.DataFrame
    test: pd.DataFrame

    def sizes(self) -> tuple[int, int, int]:
        """Row counts ``(train, val, test)``."""
        return len(self.train), len(self.val), len(self.test)


def _check_sizes(sizes: tuple[float, float, float]) -> np.ndarray:
    fractions = np.asarray(sizes, dtype=float)
    if (
        fractions.shape != (3,)
        or not np.all(np.isfinite(fractions))
        or np.any(fractions < 0)
        or fractions[0] <= 0
        or abs(fractions.sum() - 1.0) > 1e-6
    ):
        raise ConfigError(
            f"sizes must be three fractions (train, val, test) summing to 1, got {sizes!r}.",
            hint="For example sizes=(0.7, 0.15, 0.15).",
        )
    return fractions


def _assign(n: int, fractions: np.ndarray) -> np.ndarray:
    """Split label (0, 1, 2) for each of ``n`` positions, most-behind split first.

    Every run of consecutive positions gets each split's share to within about one
    row, and the totals are within one row of ``n * fractions``.
    """
    p = [float(f) for f in fractions]
    counts = [0, 0, 0]
    labels = np.empty(n, dtype=np.int8)
    for i in range(1, n + 1):
        deficits = [i * p[0] - counts[0], i * p[1] - counts[1], i * p[2] - counts[2]]
        j = deficits.index(max(deficits))
        counts[j] += 1
        labels[i - 1] = j
    return labels


def split_frame(
    df: pd.DataFrame,
    target: str,
    seed: int = 0,
    sizes: tuple[float, float, float] = (0.7, 0.15, 0.15),
) -> Splits:
    """Split rows into train/val/test, stratified by ``target``, deterministic by ``seed``.

    Each class is shuffled and dealt out in the requested proportions, so every
    class's share in each part is within about one row of exact. Classes with fewer
    than three rows cannot be stratified: their rows are pooled and dealt out at
    random (a UserWarning names them).

    Parameters
    ----------
    df : DataFrame
        Data including the target column.
    target : str
        Label column to stratify on.
    seed : int, default 0
        Seed of the shuffle.
    sizes : tuple of float, default (0.7, 0.15, 0.15)
        Fractions of rows for train, validation and test (val/test may be 0).

    Returns
    -------
    Splits
        Rows in their original order within each part.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"x": range(20), "y": [0, 1] * 10})
    >>> split_frame(df, "y", seed=1).sizes()
    (14, 3, 3)
    """
    fractions = _check_sizes(sizes)
    if target not in df.columns:
        raise DataError(
            f"target column {target!r} not found; columns: {', '.join(map(str, df.columns[:8]))}.",
            hint="Pass the name of the label column.",
        )
    y = df[target]
    if y.isna().any():
        raise DataError(
            f"target {target!r} has {int(y.isna().sum())} missing values.",
            hint="Drop those rows (or fill in their labels) before splitting.",
        )
    n_parts = int(np.count_nonzero(fractions))
    if len(df) < n_parts:
        raise DataError(
            f"cannot split {len(df)} rows into {n_parts} non-empty parts.",
            hint="Use more data or set some sizes to 0.",
        )
    rng = np.random.default_rng(seed)
    codes, classes = pd.factorize(y, sort=True)
    blocks, small = [], []
    for k in rng.permutation(len(classes)):
        rows = np.flatnonzero(codes == k)
        if len(rows) < 3:
            small.append(classes[k])
        blocks.append((len(rows) < 3, rng.permutation(rows)))
    order = np.concatenate(
        [rows for is_small, rows in blocks if not is_small]
        + [rng.permutation(np.concatenate([r for s, r in blocks if s] or [np.empty(0, int)]))]
    ).astype(int)
    if small:
        warnings.warn(
            f"classes with fewer than 3 rows cannot be stratified and are split at random: "
            f"{', '.join(map(repr, small[:8]))}.",
            UserWarning,
            stacklevel=2,
        )
    labels = np.empty(len(df), dtype=np.int8)
    labels[order] = _assign(len(df), fractions)
    parts = [df.iloc[np.flatnonzero(labels == j)] for j in range(3)]
    return Splits(*parts)

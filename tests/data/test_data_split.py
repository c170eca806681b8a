"""split_frame: sizes, stratification, determinism, tiny classes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from distill2rules.data import split_frame
from distill2rules.errors import ConfigError, DataError


def _frame(counts: dict[str, int]) -> pd.DataFrame:
    labels = [label for label, n in counts.items() for _ in range(n)]
    rng = np.random.default_rng(123)
    rng.shuffle(labels)
    return pd.DataFrame({"x": np.arange(len(labels)), "y": labels})


@pytest.mark.parametrize("n", [10, 57, 100, 569, 1000, 4321])
def test_sizes_70_15_15_within_one_row(n: int) -> None:
    df = _frame({"a": n - n // 3, "b": n // 3})
    parts = split_frame(df, "y", seed=0)
    for part, frac in zip((parts.train, parts.val, parts.test), (0.7, 0.15, 0.15)):
        assert abs(len(part) - frac * n) <= 1
    index = np.concatenate([parts.train.index, parts.val.index, parts.test.index])
    assert len(index) == n and len(np.unique(index)) == n  # disjoint, covering


def test_stratified_per_class() -> None:
    df = _frame({"a": 700, "b": 250, "c": 50})
    parts = split_frame(df, "y", seed=3)
    for label, total in {"a": 700, "b": 250, "c": 50}.items():
        for part, frac in zip((parts.train, parts.val, parts.test), (0.7, 0.15, 0.15)):
            assert abs((part["y"] == label).sum() - frac * total) <= 2, (label, frac)


def test_deterministic_by_seed() -> None:
    df = _frame({"a": 300, "b": 100})
    first, again, other = (split_frame(df, "y", seed=s) for s in (7, 7, 8))
    assert first.test.index.equals(again.test.index)
    assert first.train.index.equals(again.train.index)
    assert not first.test.index.equals(other.test.index)


def test_custom_sizes_and_empty_test() -> None:
    parts = split_frame(_frame({"a": 60, "b": 40}), "y", sizes=(0.8, 0.2, 0.0))
    assert parts.sizes() == (80, 20, 0)


def test_tiny_classes_do_not_crash() -> None:
    df = _frame({"a": 40, "b": 20, "rare1": 1, "rare2": 2})
    with pytest.warns(UserWarning, match="fewer than 3 rows.*'rare1'"):
        parts = split_frame(df, "y", seed=0)
    assert sum(parts.sizes()) == 63
    pooled = pd.concat([parts.train, parts.val, parts.test])
    assert (pooled["y"] == "rare2").sum() == 2


def test_wine_like_class_counts() -> None:
    df = _frame({"3": 30, "5": 2000, "9": 5})
    parts = split_frame(df, "y", seed=1)
    assert (parts.test["y"] == "9").sum() in (0, 1, 2)
    assert (parts.train["y"] == "9").sum() >= 3


@pytest.mark.parametrize(
    ("sizes", "match"),
    [
        ((0.5, 0.5), "three fractions"),
        ((0.7, 0.2, 0.2), "summing to 1"),
        ((0, 0.5, 0.5), "sizes must be"),
    ],
)
def test_bad_sizes(sizes: tuple, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        split_frame(_frame({"a": 5, "b": 5}), "y", sizes=sizes)


def test_bad_target() -> None:
    df = _frame({"a": 5, "b": 5})
    with pytest.raises(DataError, match="target column 'z' not found"):
        split_frame(df, "z")
    df.loc[0, "y"] = None
    with pytest.raises(DataError, match="1 missing values"):
        split_frame(df, "y")
    with pytest.raises(DataError, match="cannot split 2 rows into 3"):
        split_frame(_frame({"a": 1, "b": 1}), "y")

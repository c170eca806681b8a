"""The data a ``fit`` works on: the table (and held-out rows), the schema's special values, the
70/15/15 split, the classes, and the facts that let ``evaluate`` find the same rows again (a
fingerprint of the table and a hash of each split's row positions)."""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from distill2rules.data._registry import Dataset, load_dataset
from distill2rules.data._schema import validate_target
from distill2rules.data._special import (
    SpecialValuesWarning,
    codes_warning,
    merge_special_values,
    normalise_special_values,
    parse_special_values,
    undeclared_codes,
)
from distill2rules.data._split import Splits, split_frame
from distill2rules.errors import DataError

__all__ = [
    "FitData",
    "class_index",
    "data_fingerprint",
    "declare_special_values",
    "load_fit_data",
    "load_held_out",
    "load_inputs",
    "split_digest",
]

SPLITS = ("train", "val", "test")


def load_inputs(
    data: Any,
    target: str | None,
    schema: Any = None,
    *,
    sep: str | None = None,
    encoding: str | None = None,
) -> Dataset:
    """Dataset from a registry name, a path or a DataFrame, with a checked target."""
    ds = load_dataset(data, target=target, schema=schema, sep=sep, encoding=encoding)
    validate_target(ds.frame[ds.target], ds.target)
    return ds


def load_held_out(
    test_data: Any, ds: Dataset, *, sep: str | None = None, encoding: str | None = None
) -> Dataset:
    """Held-out rows read with the training data's schema and target (same columns required)."""
    test_ds = load_inputs(test_data, ds.target, ds.schema, sep=sep, encoding=encoding)
    missing = [c for c in ds.frame.columns if c not in test_ds.frame.columns]
    if missing:
        raise DataError(
            f"--test-data lacks {len(missing)} column(s) of the training data: {', '.join(map(str, missing[:6]))}.",
            hint="Give held-out rows with the same columns as --data.",
        )
    if len(test_ds.frame) == 0:
        raise DataError("--test-data has no rows.")
    return test_ds


def declare_special_values(ds: Dataset, given: Iterable[Any]) -> tuple[dict[str, Any], list[str]]:
    """Merge ``given`` special-value declarations (strings or mappings, in order) into the
    dataset's schema; returns the codes per column and a warning for each numeric column that
    looks like it carries undeclared codes (also issued as a :class:`SpecialValuesWarning`)."""
    for g in given:
        if g:
            extra = (
                parse_special_values(g)
                if isinstance(g, str)
                else normalise_special_values(g, "special_values")
            )
            ds.schema.special_values = merge_special_values(ds.schema.special_values, extra)
    resolved = ds.schema.special_values_by_column()
    numeric = [f.name for f in ds.schema.features if f.type == "numeric"]
    flagged = undeclared_codes(ds.frame, numeric, resolved)
    if not flagged:
        return resolved, []
    message = codes_warning(flagged)
    warnings.warn(message, SpecialValuesWarning, stacklevel=4)
    return resolved, [message]


def class_index(y: pd.Series, classes: np.ndarray) -> np.ndarray:
    """Labels → indices into ``classes`` (matched as text)."""
    lookup = {str(c): i for i, c in enumerate(classes)}
    return np.asarray([lookup[str(v)] for v in y], dtype=np.int64)


def data_fingerprint(frame: pd.DataFrame) -> str:
    """``sha256:…`` of a table's column names, dtypes' kinds and values (row order included)."""
    h = hashlib.sha256()
    h.update("\x1f".join(map(str, frame.columns)).encode("utf-8"))
    h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return f"sha256:{h.hexdigest()}"


def split_digest(positions: np.ndarray) -> str:
    """``sha256:…`` of a split's row positions (int64, in order)."""
    return "sha256:" + hashlib.sha256(np.asarray(positions, dtype=np.int64).tobytes()).hexdigest()


@dataclass
class FitData:
    """The rows of one fit: dataset, optional held-out set, splits, features, classes, labels."""

    ds: Dataset
    test_ds: Dataset | None
    splits: Splits
    features: list[str]
    classes: np.ndarray
    seed: int
    special_values: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    y_idx: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.y_idx = {
            k: class_index(getattr(self.splits, k)[self.ds.target], self.classes) for k in SPLITS
        }

    def X(self, split: str, columns: list[str] | None = None) -> pd.DataFrame:
        return getattr(self.splits, split)[columns if columns is not None else self.features]

    def y(self, split: str) -> pd.Series:
        return getattr(self.splits, split)[self.ds.target]

    def sizes(self) -> dict[str, int]:
        return {k: len(getattr(self.splits, k)) for k in SPLITS}

    def sources(self) -> dict[str, Any]:
        """Where each split's rows came from, so every reported metric can name its data."""
        n, ds, test_ds = self.sizes(), self.ds, self.test_ds
        src = {
            k: {"data": ds.name, "rows": n[k], "split": f"{k} split of the given data"}
            for k in ("train", "val")
        }
        if test_ds is not None:
            src["test"] = {
                "data": test_ds.name,
                "rows": n["test"],
                "split": "all rows of --test-data",
                "held_out": True,
            }
        else:
            src["test"] = {
                "data": ds.name,
                "rows": n["test"],
                "split": "test split of the given data",
                "held_out": False,
                "notice": (
                    "Test figures come from an internal split of the given data, which may hold the "
                    "teacher's own training rows: teacher metrics may be optimistic and student "
                    "fidelity may differ on new rows. Pass --test-data with rows the teacher never saw."
                ),
            }
        return src

    def split_record(self) -> dict[str, Any]:
        """The manifest's record of the split: seed, sizes and a hash of each part's row positions
        in the given data (``test``: of ``--test-data`` when given), so ``evaluate`` can tell
        that it has the same rows."""
        frame = self.ds.frame
        rows = {}
        for k in ("train", "val") + (() if self.test_ds is not None else ("test",)):
            rows[k] = split_digest(frame.index.get_indexer(getattr(self.splits, k).index))
        if self.test_ds is not None:
            rows["test"] = split_digest(np.arange(len(self.test_ds.frame)))
        return {
            "seed": int(self.seed),
            "sizes": list(split_sizes(self.test_ds is not None)),
            "rows_sha256": rows,
        }


def split_sizes(held_out: bool) -> tuple[float, float, float]:
    """70/15/15, or 85/15/0 when the test rows come from ``--test-data``."""
    return (0.85, 0.15, 0.0) if held_out else (0.7, 0.15, 0.15)


def load_fit_data(
    data: Any,
    target: str | None,
    schema: Any = None,
    *,
    seed: int = 0,
    sep: str | None = None,
    encoding: str | None = None,
    test_data: Any = None,
    special_values: Iterable[Any] = (),
    run: Any = None,
) -> FitData:
    """Read the data (and ``test_data``), declare special values, split by ``seed``, list the classes.

    ``run(name, fn)`` (optional) times each reading step, as the pipeline's progress does.
    """

    def step(name: str, fn: Any) -> Any:
        return run(name, fn) if run is not None else fn()

    ds = step("load data", lambda: load_inputs(data, target, schema, sep=sep, encoding=encoding))
    resolved, warned = declare_special_values(ds, special_values)
    test_ds = None
    if test_data is not None:
        test_ds = step(
            "load test data", lambda: load_held_out(test_data, ds, sep=sep, encoding=encoding)
        )
    splits = split_frame(ds.frame, ds.target, seed=seed, sizes=split_sizes(test_ds is not None))
    if test_ds is not None:
        splits.test = test_ds.frame[list(ds.frame.columns)]
    feats = [c for c in ds.frame.columns if c != ds.target]
    y_all = ds.frame[ds.target]
    classes = np.unique(y_all.astype(str)) if y_all.dtype == object else np.unique(y_all)
    return FitData(
        ds=ds,
        test_ds=test_ds,
        splits=splits,
        features=feats,
        classes=classes,
        seed=seed,
        special_values=resolved,
        warnings=warned,
    )

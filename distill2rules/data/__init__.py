"""The data wing: reading tables, the feature schema, splits and the dataset registry.

Knows nothing about models. Typical use::

    from distill2rules.data import load_dataset, split_frame

    ds = load_dataset("german_credit")          # or load_dataset("my.csv", target="y")
    parts = split_frame(ds.frame, ds.target, seed=0)
"""

from __future__ import annotations

from distill2rules.data._io import read_table
from distill2rules.data._registry import DATASETS, Dataset, download_dataset, load_dataset, locate_dataset
from distill2rules.data._schema import Feature, Schema, coerce_frame, infer_schema, validate_target
from distill2rules.data._split import Splits, split_frame

__all__ = [
    "DATASETS",
    "Dataset",
    "Feature",
    "Schema",
    "Splits",
    "coerce_frame",
    "download_dataset",
    "infer_schema",
    "load_dataset",
    "locate_dataset",
    "read_table",
    "split_frame",
    "validate_target",
]

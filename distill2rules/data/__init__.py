"""The data wing: reading tables, the feature schema, splits and the dataset registry.

Knows nothing about models. Typical use::

    from distill2rules.data import load_dataset, split_frame

    ds = load_dataset("german_credit")          # or load_dataset("my.csv", target="y")
    parts = split_frame(ds.frame, ds.target, seed=0)
"""

from __future__ import annotations

from distill2rules.data._chunks import CHUNK_ROWS, iter_table
from distill2rules.data._fit import (
    SPLITS,
    FitData,
    data_fingerprint,
    load_fit_data,
    load_inputs,
    split_digest,
)
from distill2rules.data._io import read_table
from distill2rules.data._registry import (
    DATASETS,
    Dataset,
    download_dataset,
    load_dataset,
    locate_dataset,
)
from distill2rules.data._schema import Feature, Schema, coerce_frame, infer_schema, validate_target
from distill2rules.data._special import (
    SpecialValuesWarning,
    codes_warning,
    join_codes,
    merge_special_values,
    normalise_special_values,
    parse_special_values,
    resolve_special_values,
    split_codes,
    undeclared_codes,
)
from distill2rules.data._split import Splits, split_frame

__all__ = [
    "CHUNK_ROWS",
    "DATASETS",
    "SPLITS",
    "Dataset",
    "Feature",
    "FitData",
    "Schema",
    "SpecialValuesWarning",
    "Splits",
    "codes_warning",
    "coerce_frame",
    "data_fingerprint",
    "download_dataset",
    "infer_schema",
    "iter_table",
    "join_codes",
    "load_dataset",
    "load_fit_data",
    "load_inputs",
    "locate_dataset",
    "merge_special_values",
    "normalise_special_values",
    "parse_special_values",
    "read_table",
    "resolve_special_values",
    "split_codes",
    "split_digest",
    "split_frame",
    "undeclared_codes",
    "validate_target",
]

"""What every spec kind shares: raw rows -> input tensors, links, decisions (plain numpy).

Numeric inputs are taken as float32 (the ONNX input type) and compared with thresholds in
float64, which is exact for float32 values: ``x >= e`` for a float32 ``x`` is the same as
``x >= round_up_to_float32(e)``, and ``x <= v`` the same as ``x <= round_down_to_float32(v)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from distill2rules.errors import SchemaError, SpecError

MISSING_CATEGORY = ""


# ----------------------------------------------------------------------------- inputs


def to_category_strings(values: Any) -> np.ndarray:
    """Canonical string form of categorical values: missing (None/NaN/NA) becomes ``""``.

    Integers stay integers (``3`` -> ``"3"``), integral floats lose their ``.0`` so a column
    read as float because of missing values still matches (``3.0`` -> ``"3"``).
    """
    import pandas as pd

    arr = np.asarray(values, dtype=object).ravel()
    out = np.empty(arr.shape[0], dtype=object)
    for i, v in enumerate(arr):
        if v is None:
            out[i] = MISSING_CATEGORY
        elif isinstance(v, (float, np.floating)):
            if np.isnan(v):
                out[i] = MISSING_CATEGORY
            elif float(v).is_integer():
                out[i] = str(int(v))
            else:
                out[i] = repr(float(v))
        elif isinstance(v, (bool, np.bool_)):
            out[i] = str(bool(v))
        elif isinstance(v, (int, np.integer)):
            out[i] = str(int(v))
        elif v is pd.NA or v is pd.NaT:
            out[i] = MISSING_CATEGORY
        else:
            out[i] = str(v).strip()
    return out


def to_numeric_float32(values: Any, column: str) -> np.ndarray:
    """Numeric column as float32; missing becomes NaN; non-numbers raise a clear error."""
    import pandas as pd

    if (
        isinstance(values, pd.Series)
        and pd.api.types.is_numeric_dtype(values.dtype)
        and not pd.api.types.is_bool_dtype(values.dtype)
    ):
        # fast path (a served row is usually already numeric): no per-value parsing
        out = values.to_numpy(dtype="float64", na_value=np.nan)
        with np.errstate(over="ignore"):
            return out.astype(np.float32)
    s = pd.Series(
        np.asarray(values, dtype=object).ravel() if not isinstance(values, pd.Series) else values
    )
    if s.dtype == bool or str(s.dtype) == "boolean":
        s = s.astype("float64")
    num = pd.to_numeric(s, errors="coerce")
    bad = num.isna() & ~s.isna()
    if bad.any():
        # values such as "?" or "NA" strings count as missing; anything else is an error
        raw = s[bad].astype(str).str.strip()
        markers = {"", "?", "NA", "N/A", "NaN", "nan", "null", "NULL", "None", "-", "."}
        really_bad = raw[~raw.isin(markers)]
        if len(really_bad):
            example = really_bad.iloc[0]
            raise SchemaError(
                f"column '{column}' should be numeric but holds {example!r}.",
                hint="Fix the value, or declare the column categorical in the schema JSON.",
            )
    out = num.to_numpy(dtype="float64", na_value=np.nan)
    with np.errstate(over="ignore"):
        return out.astype(np.float32)


def prepare_inputs(spec: Mapping[str, Any], X: Any) -> tuple[np.ndarray, np.ndarray]:
    """Turn raw rows (DataFrame or mapping of columns) into the two ONNX input tensors.

    Returns ``numeric`` float32 ``[n, d_num]`` and ``categorical`` object (str) ``[n, d_cat]``
    in the column order of ``spec["inputs"]``. Extra columns are ignored; missing ones raise.
    """
    import pandas as pd

    if isinstance(X, Mapping) and not isinstance(X, pd.DataFrame):
        X = pd.DataFrame(X)
    if not isinstance(X, pd.DataFrame):
        raise SchemaError(f"expected a pandas DataFrame of raw columns, got {type(X).__name__}.")
    num_cols = list(spec["inputs"].get("numeric", []))
    cat_cols = list(spec["inputs"].get("categorical", []))
    missing = [c for c in num_cols + cat_cols if c not in X.columns]
    if missing:
        raise SchemaError(
            f"the data lacks column(s) the student needs: {', '.join(map(str, missing[:5]))}.",
            hint="Pass rows with the same columns as the training data.",
        )
    n = len(X)
    num = np.empty((n, len(num_cols)), dtype=np.float32)
    if num_cols:
        block = X[num_cols]
        if all(
            pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t)
            for t in block.dtypes
        ):
            # one conversion for the whole block (the common case when serving rows)
            with np.errstate(over="ignore"):
                num[:] = block.to_numpy(dtype="float64", na_value=np.nan)
        else:
            for j, c in enumerate(num_cols):
                num[:, j] = to_numeric_float32(block.iloc[:, j], c)
    cat = np.empty((n, len(cat_cols)), dtype=object)
    if cat_cols:
        raw = X[cat_cols].to_numpy(dtype=object)
        for j in range(len(cat_cols)):
            cat[:, j] = to_category_strings(raw[:, j])
    return num, cat


# ----------------------------------------------------------------------------- links


def link_probabilities(scores: np.ndarray, link: str) -> np.ndarray:
    """Scores ``[n, K']`` -> probabilities ``[n, K]`` (logistic: K' = 1, K = 2)."""
    scores = np.asarray(scores, dtype=np.float64)
    if link == "logistic":
        s = scores[:, 0]
        p1 = np.empty_like(s)
        pos = s >= 0
        p1[pos] = 1.0 / (1.0 + np.exp(-s[pos]))
        e = np.exp(s[~pos])
        p1[~pos] = e / (1.0 + e)
        return np.column_stack([1.0 - p1, p1])
    if link == "softmax":
        z = scores - scores.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)
    raise SpecError(f"unknown link '{link}'; expected 'logistic' or 'softmax'.")


def column_lookup(spec: Mapping[str, Any]) -> dict[str, tuple[str, int]]:
    """``{input column: ("numeric" | "categorical", position in its tensor)}``."""
    lookup: dict[str, tuple[str, int]] = {}
    for j, c in enumerate(spec["inputs"].get("numeric", [])):
        lookup[c] = ("numeric", j)
    for j, c in enumerate(spec["inputs"].get("categorical", [])):
        lookup[c] = ("categorical", j)
    return lookup


def decide(spec: Mapping[str, Any], probs: np.ndarray) -> np.ndarray:
    """Class index per row: the first maximum of ``probs``, or, when the spec records a binary
    ``decision_threshold`` ``t``, class 1 iff ``probs[:, 1] > t`` (float64).

    Calibration that shifts log-odds (Platt) records the threshold that keeps the uncalibrated
    student's decisions: it changes the probabilities, never the decisions.
    """
    t = spec.get("decision_threshold")
    if t is None:
        return np.argmax(probs, axis=1).astype(np.int64)
    return (np.asarray(probs, dtype=np.float64)[:, 1] > float(t)).astype(np.int64)


def n_scores(spec: Mapping[str, Any]) -> int:
    """Number of score columns K' (1 for a logistic link)."""
    return 1 if spec.get("link") == "logistic" else len(spec["classes"])


def check_link(spec: Mapping[str, Any]) -> None:
    """The link of a score-based kind names a known function that fits the classes."""
    link = spec.get("link")
    if link not in ("logistic", "softmax"):
        raise SpecError(f"unknown link {link!r}.")
    if link == "logistic" and len(spec["classes"]) != 2:
        raise SpecError("a logistic link needs exactly two classes.")

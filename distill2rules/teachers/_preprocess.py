"""A teacher's own preprocessing: raw business columns -> the matrix the model reads.

Layout of the model input: the raw features in ``feature_names`` order, each expanded in
place:

* numeric (listed under ``preprocessing.numeric``): one column ``(x - mean) / scale``; a
  missing value is replaced by ``impute`` (raw units) first;
* categorical (listed under ``preprocessing.categorical``): one column per category (one-hot);
  a missing or unseen value gives all zeros;
* any other feature: passed through as a number (missing stays NaN).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from distill2rules.errors import SchemaError, TeacherError
from distill2rules.spec import to_category_strings

__all__ = [
    "Preprocessing",
    "category_codes",
    "category_strings",
    "is_numeric_dtype",
    "numeric_column",
]

_MISSING_MARKERS = {"", "?", "NA", "N/A", "NaN", "nan", "null", "NULL", "None", "-", "."}


def is_numeric_dtype(series: Any) -> bool:
    """True for int/float/bool columns (categoricals, strings and objects are not numeric)."""
    import pandas as pd

    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return False
    return bool(pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype))


def numeric_column(series: Any, name: str) -> np.ndarray:
    """A raw column as float64; missing markers (``?``, ``NA``, empty) become NaN.

    Raises
    ------
    SchemaError
        If the column holds text that is not a number or a missing marker.
    """
    import pandas as pd

    s = series if isinstance(series, pd.Series) else pd.Series(np.asarray(series, dtype=object))
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    if pd.api.types.is_bool_dtype(s.dtype):
        s = s.astype("float64")
    if pd.api.types.is_numeric_dtype(s.dtype):
        return s.to_numpy(dtype="float64", na_value=np.nan)
    num = pd.to_numeric(s, errors="coerce")
    bad = num.isna() & ~s.isna()
    if bad.any():
        raw = s[bad].astype(str).str.strip()
        really_bad = raw[~raw.isin(_MISSING_MARKERS)]
        if len(really_bad):
            raise SchemaError(
                f"column '{name}' should be numeric for the teacher but holds "
                f"{really_bad.iloc[0]!r}.",
                hint=(
                    "Encode it as a number, or list it under preprocessing.categorical in the "
                    "sidecar JSON."
                ),
            )
    return num.to_numpy(dtype="float64", na_value=np.nan)


def category_strings(series: Any) -> np.ndarray:
    """Canonical category strings (the spec's rules); missing becomes ``""``."""
    import pandas as pd

    s = series if isinstance(series, pd.Series) else pd.Series(np.asarray(series, dtype=object))
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    canon = to_category_strings(np.asarray(uniques, dtype=object))
    out = np.empty(len(codes), dtype=object)
    out[:] = ""
    known = codes >= 0
    out[known] = canon[codes[known]] if len(canon) else ""
    return out


def category_codes(series: Any, lookup: Mapping[str, int]) -> np.ndarray:
    """Index of each value in ``lookup`` (canonical category -> code); -1 if missing or unseen."""
    import pandas as pd

    s = series if isinstance(series, pd.Series) else pd.Series(np.asarray(series, dtype=object))
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    canon = to_category_strings(np.asarray(uniques, dtype=object))
    mapped = np.array([lookup.get(c, -1) for c in canon] + [-1], dtype=np.int64)
    return mapped[codes]  # the sentinel -1 picks the trailing -1


def canonical_categories(values: Sequence[Any]) -> list[str]:
    """Canonical string form of a list of category labels."""

    return [str(v) for v in to_category_strings(np.asarray(list(values), dtype=object))]


class Preprocessing:
    """Standardisation + one-hot encoding + pass-through, as recorded in a sidecar JSON.

    Parameters
    ----------
    feature_names : sequence of str
        Raw columns in model-input order. Empty means "anonymous pass-through": every column
        of the given frame, in order.
    numeric : mapping
        ``feature -> {"mean", "scale", "impute"}``.
    categorical : mapping
        ``feature -> list of categories`` (one-hot column order).
    """

    def __init__(
        self,
        feature_names: Sequence[str] = (),
        numeric: Mapping[str, Mapping[str, float]] | None = None,
        categorical: Mapping[str, Sequence[Any]] | None = None,
    ) -> None:
        self.feature_names = [str(f) for f in feature_names]
        self.numeric = {str(k): dict(v) for k, v in (numeric or {}).items()}
        self.categorical = {str(k): list(v) for k, v in (categorical or {}).items()}
        unknown = [f for f in [*self.numeric, *self.categorical] if f not in self.feature_names]
        if unknown:
            raise TeacherError(
                f"preprocessing lists features {', '.join(unknown[:5])} that are not in "
                "feature_names."
            )
        both = set(self.numeric) & set(self.categorical)
        if both:
            raise TeacherError(
                f"features {', '.join(sorted(both))} are listed as numeric and categorical."
            )
        for f, p in self.numeric.items():
            scale = float(p.get("scale", 1.0))
            if not np.isfinite(scale) or scale == 0:
                raise TeacherError(
                    f"numeric feature '{f}' has scale {scale}; it must be finite and non-zero."
                )
        self._lookup = {
            f: {c: j for j, c in enumerate(canonical_categories(cats))}
            for f, cats in self.categorical.items()
        }
        self._layout()

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_json(
        cls, feature_names: Sequence[str], spec: Mapping[str, Any] | None
    ) -> Preprocessing:
        """Build from the sidecar's ``preprocessing`` object (``None`` = pass-through)."""
        spec = spec or {}
        if not isinstance(spec, Mapping):
            raise TeacherError(
                "sidecar 'preprocessing' must be a JSON object with 'numeric'/'categorical' lists."
            )
        numeric: dict[str, dict[str, float]] = {}
        for item in spec.get("numeric", []) or []:
            if not isinstance(item, Mapping) or "feature" not in item:
                raise TeacherError("each preprocessing.numeric entry needs a 'feature' key.")
            mean = float(item.get("mean", 0.0))
            numeric[str(item["feature"])] = {
                "mean": mean,
                "scale": float(item.get("scale", 1.0)),
                "impute": float(item["impute"]) if item.get("impute") is not None else mean,
            }
        categorical: dict[str, list[Any]] = {}
        for item in spec.get("categorical", []) or []:
            if not isinstance(item, Mapping) or "feature" not in item or "categories" not in item:
                raise TeacherError(
                    "each preprocessing.categorical entry needs 'feature' and 'categories'."
                )
            categorical[str(item["feature"])] = list(item["categories"])
        return cls(feature_names, numeric, categorical)

    @classmethod
    def fit(cls, X: Any) -> Preprocessing:
        """Fit on training rows: numeric mean/std (impute = median), categories of the rest."""
        numeric: dict[str, dict[str, float]] = {}
        categorical: dict[str, list[str]] = {}
        for col in X.columns:
            name = str(col)
            if is_numeric_dtype(X[col]):
                x = numeric_column(X[col], name)
                finite = x[np.isfinite(x)]
                if finite.size == 0:
                    numeric[name] = {"mean": 0.0, "scale": 1.0, "impute": 0.0}
                    continue
                std = float(finite.std())
                numeric[name] = {
                    "mean": float(finite.mean()),
                    "scale": std if std > 0 else 1.0,
                    "impute": float(np.median(finite)),
                }
            else:
                cats = sorted({c for c in category_strings(X[col]) if c != ""})
                categorical[name] = cats
        return cls([str(c) for c in X.columns], numeric, categorical)

    def to_json(self) -> dict[str, Any]:
        """The sidecar ``preprocessing`` object."""
        return {
            "numeric": [
                {"feature": f, **{k: float(v) for k, v in p.items()}}
                for f, p in self.numeric.items()
            ],
            "categorical": [
                {"feature": f, "categories": list(c)} for f, c in self.categorical.items()
            ],
        }

    def renamed(self, mapping: Mapping[str, str]) -> Preprocessing:
        """A copy with features renamed by ``mapping`` (unlisted names unchanged)."""
        return Preprocessing(
            [mapping.get(f, f) for f in self.feature_names],
            {mapping.get(f, f): p for f, p in self.numeric.items()},
            {mapping.get(f, f): c for f, c in self.categorical.items()},
        )

    # ------------------------------------------------------------------ layout

    def _layout(self) -> None:
        names: list[str] = []
        groups: dict[str, list[int]] = {}
        for f in self.feature_names:
            if f in self.categorical:
                cats = canonical_categories(self.categorical[f])
                groups[f] = list(range(len(names), len(names) + len(cats)))
                names.extend(f"{f}={c}" for c in cats)
            else:
                groups[f] = [len(names)]
                names.append(f)
        self.model_input_names = names
        self.feature_groups = groups

    @property
    def n_model_inputs(self) -> int | None:
        """Width of the model input (``None`` for anonymous pass-through)."""
        return len(self.model_input_names) if self.feature_names else None

    @property
    def is_identity(self) -> bool:
        """True when every feature passes through unchanged."""
        return not self.numeric and not self.categorical

    # ------------------------------------------------------------------ apply

    def transform(self, frame: Any, dtype: Any = np.float32) -> np.ndarray:
        """Model input for the selected raw columns of ``frame`` (already in feature order)."""
        n = len(frame)
        if not self.feature_names:
            out = np.empty((n, frame.shape[1]), dtype=np.float64)
            for j in range(frame.shape[1]):
                out[:, j] = numeric_column(frame.iloc[:, j], str(frame.columns[j]))
            return out.astype(dtype, copy=False)
        out = np.zeros((n, len(self.model_input_names)), dtype=np.float64)
        for j, f in enumerate(self.feature_names):
            col = frame.iloc[:, j]
            idx = self.feature_groups[f]
            if f in self.categorical:
                lookup = self._lookup[f]
                codes = category_codes(col, lookup)
                hit = codes >= 0
                out[np.flatnonzero(hit), np.asarray(idx, dtype=np.int64)[codes[hit]]] = 1.0
                continue
            x = numeric_column(col, f)
            if f in self.numeric:
                p = self.numeric[f]
                x = np.where(np.isnan(x), p["impute"], x)
                x = (x - p["mean"]) / p["scale"]
            out[:, idx[0]] = x
        return out.astype(dtype, copy=False)


class PreprocessedInputs:
    """Teacher interface members for adapters whose model input is ``self.preprocessing`` applied to
    the raw columns (torch and ONNX teachers): one definition instead of one per adapter."""

    preprocessing: Preprocessing

    @property
    def model_input_names(self) -> list[str]:
        return list(self.preprocessing.model_input_names)

    @property
    def feature_groups(self) -> dict[str, list[int]]:
        return {f: list(i) for f, i in self.preprocessing.feature_groups.items()}

    def _on_names_bound(self) -> None:
        if not self.preprocessing.feature_names:
            self.preprocessing = Preprocessing(self.feature_names)  # type: ignore[attr-defined]

    def _on_names_renamed(self, mapping: dict[str, str]) -> None:
        self.preprocessing = self.preprocessing.renamed(mapping)

    def transform(self, X: Any) -> np.ndarray:
        """Float32 model input (standardised numerics, one-hot categoricals, pass-through)."""
        return self.preprocessing.transform(self.select(X), np.float32)  # type: ignore[attr-defined]

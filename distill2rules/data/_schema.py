"""The feature schema: which column is numeric, categorical or boolean, and the target.

A :class:`Schema` is plain data with a JSON round trip, so it can travel inside an
artifact's ``manifest.json`` and be re-applied to new rows with :func:`coerce_frame`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd

from distill2rules.data._io import MISSING_MARKERS, PathLike, _strip_cells
from distill2rules.data._special import (
    ALL_NUMERIC,
    normalise_missing_values,
    normalise_special_values,
    resolve_special_values,
)
from distill2rules.errors import DataError, SchemaError
from distill2rules.limits import SCHEMA_BYTES, read_capped

__all__ = [
    "Feature",
    "FeatureType",
    "Schema",
    "coerce_frame",
    "infer_schema",
    "validate_target",
]

FeatureType = Literal["numeric", "categorical", "boolean"]
FEATURE_TYPES: tuple[str, ...] = get_args(FeatureType)
SCHEMA_VERSION = 1
_SCHEMA_KEYS = {"version", "target", "features", "special_values", "missing_values"}

_TRUE = {"true", "yes", "1", "1.0"}
_FALSE = {"false", "no", "0", "0.0"}


def _preview(names: list[str], limit: int = 8) -> str:
    shown = ", ".join(repr(n if len(n) <= 40 else n[:37] + "...") for n in names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")


@dataclass(frozen=True)
class Feature:
    """One input column.

    Parameters
    ----------
    name : str
        Column name.
    type : {"numeric", "categorical", "boolean"}
        How the column is read: numeric and boolean columns become float64 (boolean
        as 0.0/1.0), categorical columns become stripped strings.
    """

    name: str
    type: FeatureType

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise SchemaError(f"feature name must be a non-empty string, got {self.name!r}.")
        if self.type not in FEATURE_TYPES:
            raise SchemaError(
                f"feature {self.name!r} has unknown type {self.type!r}.",
                hint=f"Use one of {', '.join(FEATURE_TYPES)}.",
            )


@dataclass
class Schema:
    """The input columns of a model, in order, plus the optional target column.

    Parameters
    ----------
    features : list of Feature
        Input columns in file order.
    target : str, optional
        Name of the label column (not a feature).
    special_values : dict, optional
        Codes in numeric columns that are levels, not quantities:
        ``{"months_since_delinq": {"-9": "no record"}}``, or ``{"*": {...}}`` for every numeric
        column (see :mod:`distill2rules.data._special`).
    missing_values : dict, optional
        Extra missing markers: ``{"*": ["-1"]}`` (every column) or ``{"income": ["-1"]}``.

    Examples
    --------
    >>> s = Schema([Feature("age", "numeric"), Feature("job", "categorical")], "y")
    >>> s.numeric_columns, s.categorical_columns
    (['age'], ['job'])
    >>> Schema.from_dict(s.to_dict()) == s
    True
    """

    features: list[Feature] = field(default_factory=list)
    target: str | None = None
    special_values: dict[str, dict[str, str]] = field(default_factory=dict)
    missing_values: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.features = list(self.features)
        self.special_values = normalise_special_values(self.special_values)
        self.missing_values = normalise_missing_values(self.missing_values)
        self.special_values_by_column()  # unknown / non-numeric columns fail here
        names = set(self.names)
        bad = [c for c in self.missing_values if c != ALL_NUMERIC and c not in names]
        if bad:
            raise SchemaError(
                f"missing_values names unknown column(s) {_preview(bad)}.",
                hint="Name schema features, or give a list for every column.",
            )
        listed = [f.name for f in self.features]
        dupes = sorted({n for n in listed if listed.count(n) > 1})
        if dupes:
            raise SchemaError(f"schema lists features more than once: {_preview(dupes)}.")
        if self.target is not None and self.target in names:
            raise SchemaError(
                f"target {self.target!r} is also listed as a feature.",
                hint="Remove it from the features.",
            )

    @property
    def names(self) -> list[str]:
        """All feature names, in order."""
        return [f.name for f in self.features]

    @property
    def numeric_columns(self) -> list[str]:
        """Numeric and boolean features (both are read as float64), in order."""
        return [f.name for f in self.features if f.type in ("numeric", "boolean")]

    @property
    def categorical_columns(self) -> list[str]:
        """Categorical features, in order."""
        return [f.name for f in self.features if f.type == "categorical"]

    def special_values_by_column(self) -> dict[str, dict[str, str]]:
        """Declared special values per numeric (non-boolean) column, ``"*"`` resolved."""
        numeric = [f.name for f in self.features if f.type == "numeric"]
        return resolve_special_values(self.special_values, numeric, self.names)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (JSON-serialisable)."""
        out: dict[str, Any] = {
            "version": SCHEMA_VERSION,
            "target": self.target,
            "features": [{"name": f.name, "type": f.type} for f in self.features],
        }
        if self.special_values:
            out["special_values"] = {c: dict(m) for c, m in self.special_values.items()}
        if self.missing_values:
            out["missing_values"] = {c: list(m) for c, m in self.missing_values.items()}
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Schema:
        """Build a schema from :meth:`to_dict` output; raise SchemaError if malformed."""
        if not isinstance(data, dict) or not isinstance(data.get("features"), list):
            raise SchemaError(
                "a schema must be an object with a 'features' list.",
                hint='Expected {"target": ..., "features": [{"name": ..., "type": ...}]}.',
            )
        unknown = sorted(set(data) - _SCHEMA_KEYS)
        if unknown:
            raise SchemaError(
                f"unknown schema key(s) {_preview([str(k) for k in unknown])}.",
                hint=f"A schema has only {', '.join(sorted(_SCHEMA_KEYS))} (see docs/data.md).",
            )
        version = data.get("version", SCHEMA_VERSION)
        if version != SCHEMA_VERSION:
            raise SchemaError(
                f"unsupported schema version {version!r}.",
                hint=f"This distill2rules reads version {SCHEMA_VERSION}.",
            )
        features = []
        for i, item in enumerate(data["features"]):
            if not isinstance(item, dict) or "name" not in item or "type" not in item:
                raise SchemaError(f"schema feature #{i} must have 'name' and 'type', got {item!r}.")
            extra = sorted(set(item) - {"name", "type"})
            if extra:
                raise SchemaError(
                    f"schema feature #{i} ({item['name']!r}) has unknown key(s) {_preview(extra)}.",
                    hint="A feature has only 'name' and 'type'; declare codes under the "
                    "top-level 'special_values' and markers under 'missing_values'.",
                )
            features.append(Feature(str(item["name"]), item["type"]))
        target = data.get("target")
        return cls(
            features,
            None if target is None else str(target),
            special_values=data.get("special_values") or {},
            missing_values=data.get("missing_values") or {},
        )

    def save(self, path: PathLike) -> None:
        """Write the schema as JSON."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: PathLike) -> Schema:
        """Read a schema written by :meth:`save`."""
        path = Path(path)
        if not path.exists() and not path.is_symlink():
            raise SchemaError(f"schema file {path} not found.", hint="Check the path.")
        raw = read_capped(path, SCHEMA_BYTES, SchemaError, "schema file", "Check the path.")
        try:
            data = json.loads(raw.decode("utf-8-sig"))
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise SchemaError(
                f"schema file {path} is not valid JSON: {err}.",
                hint="Fix the file or write it again with Schema.save().",
            ) from err
        except RecursionError:
            raise SchemaError(
                f"schema file {path} is not valid JSON: nested too deeply.",
                hint="Fix the file or write it again with Schema.save().",
            ) from None
        return cls.from_dict(data)

    def check_frame(self, df: pd.DataFrame) -> None:
        """Raise SchemaError unless ``df`` has exactly the schema's features (+ target).

        The target column may be present or absent.
        """
        columns = [str(c) for c in df.columns]
        missing = [n for n in self.names if n not in columns]
        unknown = [c for c in columns if c not in self.names and c != self.target]
        problems = []
        if missing:
            problems.append(f"missing columns {_preview(missing)}")
        if unknown:
            problems.append(f"unknown columns {_preview(unknown)}")
        if problems:
            raise SchemaError(
                f"the data does not match the schema: {'; '.join(problems)}.",
                hint="Rename or drop columns so they match the schema the model was fitted on.",
            )


# --------------------------------------------------------------------------- inference


def _is_bool_value(value: Any) -> bool:
    return isinstance(value, (bool, np.bool_))


def _infer_type(series: pd.Series) -> FeatureType:
    if pd.api.types.is_bool_dtype(series.dtype):
        return "boolean"
    if pd.api.types.is_numeric_dtype(series.dtype):
        return "numeric"
    distinct = pd.Series(pd.unique(series.dropna().to_numpy(dtype=object)), dtype=object)
    present = _strip_cells(distinct).dropna()
    if present.empty:
        return "numeric"
    if present.map(_is_bool_value).all():
        return "boolean"
    text = present.map(str)
    if set(text.str.lower()) <= {"true", "false"}:
        return "boolean"
    if pd.to_numeric(text, errors="coerce").notna().all():
        return "numeric"
    return "categorical"


def infer_schema(df: pd.DataFrame, target: str | None = None) -> Schema:
    """Guess each column's type.

    Numeric if every present value is a number (even when stored as text), boolean
    for a real bool column or one holding only True/False, otherwise categorical.
    Integer columns with few distinct values stay numeric; ``yes``/``no`` stays
    categorical.

    Parameters
    ----------
    df : DataFrame
        The data (features, and optionally the target).
    target : str, optional
        Label column, left out of the features.

    Returns
    -------
    Schema

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"a": ["1", "2.5"], "b": ["x", "y"], "y": [0, 1]})
    >>> [f.type for f in infer_schema(df, target="y").features]
    ['numeric', 'categorical']
    """
    columns = [str(c) for c in df.columns]
    if target is not None and target not in columns:
        raise DataError(
            f"target column {target!r} not found; available columns: {_preview(columns)}.",
            hint="Pass --target with one of them.",
        )
    features = [
        Feature(str(name), _infer_type(df[name])) for name in df.columns if str(name) != target
    ]
    return Schema(features, target)


# --------------------------------------------------------------------------- coercion


def _bool_text_to_number(value: Any) -> Any:
    if isinstance(value, str):
        low = value.lower()
        if low in _TRUE:
            return 1.0
        if low in _FALSE:
            return 0.0
    return value


def _to_float(series: pd.Series, feature: Feature) -> pd.Series:
    if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_numeric_dtype(series.dtype):
        values = pd.Series(series.to_numpy(dtype="float64", na_value=np.nan), index=series.index)
    else:
        text = _strip_cells(series.astype(object))
        text = text.map(lambda v: float(v) if _is_bool_value(v) else v)
        if feature.type == "boolean":
            text = text.map(_bool_text_to_number)
        values = pd.to_numeric(text, errors="coerce").astype("float64")
        bad = text.notna() & values.isna()
        if bad.any():
            row = bad.idxmax()
            raise SchemaError(
                f"column {feature.name!r} is {feature.type} but holds {text[row]!r} "
                f"(row {row if not isinstance(row, str) else repr(row)}, "
                f"{int(bad.sum())} such values).",
                hint="Fix those values, mark them missing, or declare the column categorical.",
            )
    if feature.type == "boolean":
        present = values.dropna()
        if not present.isin([0.0, 1.0]).all():
            example = float(present[~present.isin([0.0, 1.0])].iloc[0])
            raise SchemaError(
                f"column {feature.name!r} is boolean but holds {example!r}.",
                hint="Use 0/1 or True/False, or declare the column numeric.",
            )
    return values


def _mask_markers(series: pd.Series, markers: list[str]) -> pd.Series:
    """Cells equal to a declared missing marker (as stripped text, or as a number) -> missing."""
    text = series.astype(object).map(lambda v: None if v is None else str(v).strip())
    hit = text.isin(markers)
    numbers = pd.to_numeric(pd.Series(markers), errors="coerce").dropna()
    if (
        len(numbers)
        and pd.api.types.is_numeric_dtype(series.dtype)
        and not pd.api.types.is_bool_dtype(series.dtype)
    ):
        hit |= series.isin(numbers.tolist())
    if not hit.any():
        return series
    out = series.astype(object) if not pd.api.types.is_float_dtype(series.dtype) else series.copy()
    out[hit.to_numpy()] = np.nan
    return out


def _cell_to_text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    text = str(value).strip()
    return None if text in MISSING_MARKERS else text


def _to_text(series: pd.Series) -> pd.Series:
    if isinstance(series.dtype, pd.StringDtype):
        stripped = _strip_cells(series)
        out = stripped.astype(object)
        return out.where(stripped.notna(), None)
    return pd.Series(
        [_cell_to_text(v) for v in series.to_numpy(dtype=object)],
        index=series.index,
        dtype=object,
    )


def coerce_frame(df: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """Return the schema's columns with canonical dtypes (the target, if present, as is).

    Numeric and boolean features become float64 (missing markers -> NaN, infinities
    kept); categorical features become object columns of stripped strings with
    missing values as ``None``. Columns not in the schema are dropped.

    Raises
    ------
    SchemaError
        If a schema column is missing, or a numeric/boolean column holds text.
    """
    columns = [str(c) for c in df.columns]
    missing = [n for n in schema.names if n not in columns]
    if missing:
        raise SchemaError(
            f"the data lacks schema columns {_preview(missing)}.",
            hint="Pass data with the same columns the schema (and model) was built on.",
        )
    frame = df.copy()
    frame.columns = columns
    out: dict[str, pd.Series] = {}
    for feature in schema.features:
        column = frame[feature.name]
        markers = schema.missing_values.get(ALL_NUMERIC, []) + schema.missing_values.get(
            feature.name, []
        )
        if markers:
            column = _mask_markers(column, markers)
        if feature.type == "categorical":
            out[feature.name] = _to_text(column)
        else:
            out[feature.name] = _to_float(column, feature)
    if schema.target is not None and schema.target in frame.columns:
        out[schema.target] = frame[schema.target]
    return pd.DataFrame(out, index=frame.index)


def validate_target(y: pd.Series, name: str) -> None:
    """Raise DataError unless ``y`` is a usable classification target.

    Parameters
    ----------
    y : Series
        Labels.
    name : str
        Column name, for the message.

    Raises
    ------
    DataError
        Missing labels, fewer than two classes, or continuous (non-integer) numbers.
    """
    labels = _strip_cells(y.astype(object)) if not pd.api.types.is_numeric_dtype(y) else y
    n_missing = int(labels.isna().sum())
    if len(labels) == 0:
        raise DataError(f"target {name!r} is empty.", hint="Check that the data has rows.")
    if n_missing:
        raise DataError(
            f"target {name!r} has {n_missing} missing values.",
            hint="Drop those rows (or fill in their labels) first.",
        )
    if pd.api.types.is_float_dtype(labels.dtype):
        fractional = labels[(labels % 1) != 0]
        if len(fractional):
            raise DataError(
                f"target {name!r} holds non-integer numbers (e.g. {fractional.iloc[0]!r}).",
                hint="distill2rules distills classifiers: use class labels, not a score.",
            )
    classes = pd.unique(labels)
    if len(classes) < 2:
        raise DataError(
            f"target {name!r} has only one class ({classes[0]!r}).",
            hint="A classifier needs at least two classes; check the target column.",
        )

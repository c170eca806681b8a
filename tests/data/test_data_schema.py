"""Schema inference, JSON round trip, frame checks, coercion and target validation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from distill2rules.data import (
    Feature,
    Schema,
    coerce_frame,
    infer_schema,
    validate_target,
)
from distill2rules.errors import DataError, SchemaError


@pytest.fixture
def mixed() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "num_text": ["1", " 2.5", None, "1e3"],
            "small_int": [0, 1, 2, 1],
            "zero_one": [0, 1, 1, 0],
            "flag": [True, False, True, True],
            "obj_bool": pd.Series([True, None, False, True], dtype=object),
            "yes_no": ["yes", "no", "yes", "no"],
            "city": ["Rome", "Oslo", "?", "Rome"],
            "empty": [np.nan] * 4,
            "y": ["a", "b", "a", "b"],
        }
    )


def test_infer_schema_types(mixed: pd.DataFrame) -> None:
    schema = infer_schema(mixed, target="y")
    types = {f.name: f.type for f in schema.features}
    assert types == {
        "num_text": "numeric",
        "small_int": "numeric",
        "zero_one": "numeric",
        "flag": "boolean",
        "obj_bool": "boolean",
        "yes_no": "categorical",
        "city": "categorical",
        "empty": "numeric",
    }
    assert schema.target == "y"
    assert "y" not in schema.names
    assert schema.numeric_columns == [
        "num_text",
        "small_int",
        "zero_one",
        "flag",
        "obj_bool",
        "empty",
    ]
    assert schema.categorical_columns == ["yes_no", "city"]


def test_infer_schema_unknown_target(mixed: pd.DataFrame) -> None:
    with pytest.raises(DataError, match="target column 'label' not found.*'num_text'"):
        infer_schema(mixed, target="label")


def test_json_round_trip(tmp_path: Path, mixed: pd.DataFrame) -> None:
    schema = infer_schema(mixed, target="y")
    path = tmp_path / "schema.json"
    schema.save(path)
    data = json.loads(path.read_text())
    assert data["target"] == "y"
    assert data["features"][0] == {"name": "num_text", "type": "numeric"}
    assert Schema.load(path) == schema
    assert Schema.from_dict(schema.to_dict()) == schema


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("{not json", "not valid JSON"),
        ('{"features": [{"name": "a", "type": "ordinal"}]}', "unknown type 'ordinal'"),
        ('{"features": [{"name": "a"}]}', "must have 'name' and 'type'"),
        ('{"target": "y"}', "'features' list"),
        ('{"version": 9, "features": []}', "unsupported schema version 9"),
        ('{"features": [{"name": "a", "type": "numeric"}], "target": "a"}', "also listed"),
    ],
)
def test_bad_schema_json(tmp_path: Path, content: str, match: str) -> None:
    path = tmp_path / "schema.json"
    path.write_text(content)
    with pytest.raises(SchemaError, match=match):
        Schema.load(path)


def test_feature_rejects_unknown_type() -> None:
    with pytest.raises(SchemaError, match="unknown type 'text'"):
        Feature("a", "text")  # type: ignore[arg-type]


def test_check_frame_names_missing_and_unknown() -> None:
    schema = Schema([Feature("a", "numeric"), Feature("b", "categorical")], target="y")
    schema.check_frame(pd.DataFrame(columns=["a", "b", "y"]))
    schema.check_frame(pd.DataFrame(columns=["b", "a"]))  # order and target are free
    with pytest.raises(SchemaError, match="missing columns 'b'; unknown columns 'c'"):
        schema.check_frame(pd.DataFrame(columns=["a", "c"]))


def test_coerce_frame_dtypes_and_missing(mixed: pd.DataFrame) -> None:
    schema = infer_schema(mixed, target="y")
    out = coerce_frame(mixed, schema)
    assert list(out.columns) == schema.names + ["y"]
    for name in schema.numeric_columns:
        assert out[name].dtype == np.float64, name
    assert out["num_text"].tolist()[:2] == [1.0, 2.5] and np.isnan(out["num_text"].iloc[2])
    assert out["obj_bool"].isna().tolist() == [False, True, False, False]
    assert out["flag"].tolist() == [1.0, 0.0, 1.0, 1.0]
    assert out["city"].dtype == object
    assert out["city"].tolist() == ["Rome", "Oslo", None, "Rome"]


def test_coerce_frame_keeps_infinity_and_stringifies_codes() -> None:
    schema = Schema([Feature("x", "numeric"), Feature("code", "categorical")])
    df = pd.DataFrame({"x": ["inf", "-inf", "2"], "code": [1.0, np.nan, 3.0]})
    out = coerce_frame(df, schema)
    assert out["x"].tolist() == [np.inf, -np.inf, 2.0]
    assert out["code"].tolist() == ["1", None, "3"]


def test_coerce_frame_junk_in_numeric_column() -> None:
    schema = Schema([Feature("age", "numeric")])
    df = pd.DataFrame({"age": ["31", "forty", "?", "52"]})
    with pytest.raises(SchemaError, match=r"column 'age' is numeric but holds 'forty' \(row 1"):
        coerce_frame(df, schema)


def test_coerce_frame_boolean_text_and_bad_values() -> None:
    schema = Schema([Feature("b", "boolean")])
    out = coerce_frame(pd.DataFrame({"b": ["True", "false", None, "yes"]}), schema)
    assert out["b"].tolist()[:2] == [1.0, 0.0] and out["b"].iloc[3] == 1.0
    with pytest.raises(SchemaError, match="column 'b' is boolean but holds 2.0"):
        coerce_frame(pd.DataFrame({"b": [0, 1, 2]}), schema)


def test_coerce_frame_lacking_column() -> None:
    schema = Schema([Feature("a", "numeric"), Feature("b", "numeric")])
    with pytest.raises(SchemaError, match="lacks schema columns 'b'"):
        coerce_frame(pd.DataFrame({"a": [1]}), schema)


def test_validate_target() -> None:
    validate_target(pd.Series(["a", "b", "a"]), "y")
    validate_target(pd.Series([3, 5, 9]), "quality")
    with pytest.raises(DataError, match="target 'y' has 2 missing values.*Drop those rows"):
        validate_target(pd.Series(["a", None, "?", "b"]), "y")
    with pytest.raises(DataError, match="target 'y' has only one class \\('a'\\)"):
        validate_target(pd.Series(["a", "a"]), "y")
    with pytest.raises(DataError, match="non-integer numbers"):
        validate_target(pd.Series([0.0, 0.3, 1.0]), "y")
    with pytest.raises(DataError, match="is empty"):
        validate_target(pd.Series([], dtype=object), "y")

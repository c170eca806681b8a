"""Special values and missing markers in the schema (issue 13): declared, validated, round-tripped."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from distill2rules.data import Feature, Schema, coerce_frame
from distill2rules.data._special import (
    looks_like_codes,
    parse_special_values,
    resolve_special_values,
)
from distill2rules.errors import ConfigError, SchemaError

FEATURES = [
    {"name": "m", "type": "numeric"},
    {"name": "u", "type": "numeric"},
    {"name": "c", "type": "categorical"},
]


def test_special_values_round_trip_and_resolve_per_column():
    s = Schema.from_dict(
        {"features": FEATURES, "special_values": {"*": {"-9": "no record"}, "m": {-8: "no trades"}}}
    )
    assert Schema.from_dict(s.to_dict()) == s
    assert s.special_values_by_column() == {
        "m": {"-9": "no record", "-8": "no trades"},
        "u": {"-9": "no record"},
    }
    assert (
        "special_values" not in Schema([Feature("a", "numeric")]).to_dict()
    )  # old schemas unchanged


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"features": FEATURES, "special_value": {}}, "unknown schema key.*'special_value'"),
        ({"features": FEATURES, "missing": ["?"]}, "unknown schema key.*'missing'"),
        ({"features": [{"name": "m", "type": "numeric", "codes": [1]}]}, "unknown key.*'codes'"),
        ({"features": FEATURES, "special_values": {"c": {"-9": "x"}}}, "'c', which is not numeric"),
        ({"features": FEATURES, "special_values": {"zz": {"-9": "x"}}}, "unknown column 'zz'"),
        ({"features": FEATURES, "special_values": {"m": {"x": "y"}}}, "'x' is not a number"),
        (
            {"features": FEATURES, "special_values": {"m": {"-9": "a", "-8": "a"}}},
            "label 'a' to two codes",
        ),
        ({"features": FEATURES, "missing_values": {"zz": ["-1"]}}, "unknown column"),
    ],
)
def test_bad_schemas_fail_with_one_line(data, match):
    with pytest.raises(SchemaError, match=match):
        Schema.from_dict(data)


def test_missing_values_are_honoured():
    s = Schema.from_dict({"features": FEATURES, "missing_values": {"*": ["unknown"], "m": ["-1"]}})
    df = pd.DataFrame({"m": [1, -1, 5], "u": [-1.0, 2.0, 3.0], "c": ["a", "unknown", " unknown "]})
    out = coerce_frame(df, s)
    assert out["m"].isna().tolist() == [False, True, False]
    assert out["u"].tolist() == [-1.0, 2.0, 3.0]  # -1 is a marker of m only
    assert out["c"].tolist() == ["a", None, None]


def test_cli_syntax_all_numeric_and_per_column():
    assert parse_special_values("-9=no record, -8=no usable trades,-7") == {
        "*": {"-9": "no record", "-8": "no usable trades", "-7": "code -7"}
    }
    assert parse_special_values("m:-9=no record,-8=x; u: -1.5 = n/a") == {
        "m": {"-9": "no record", "-8": "x"},
        "u": {"-1.5": "n/a"},
    }
    for bad in ("", "m:", "m:abc=x", ";"):
        with pytest.raises(ConfigError):
            parse_special_values(bad)
    with pytest.raises(SchemaError, match="not numeric"):
        resolve_special_values({"c": {"-9": "x"}}, ["m"], ["m", "c"])


def test_looks_like_codes():
    rng = np.random.default_rng(0)
    months = rng.integers(0, 90, 2000).astype(float)
    months[rng.random(2000) < 0.1] = -9
    months[rng.random(2000) < 0.05] = -8
    assert looks_like_codes(months) == [-9.0, -8.0]
    assert looks_like_codes(rng.normal(size=500)) == []  # real negative numbers
    assert looks_like_codes(np.r_[[-1.0] * 50, [1.0] * 50]) == []  # a -1/1 coding, not codes
    rare = np.r_[months[months >= 0], [-9.0]]  # one stray row is not "real mass"
    assert looks_like_codes(rare) == []

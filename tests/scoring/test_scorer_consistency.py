"""One reading of a value on every path: ``score``, ``score_many``, ``explain`` and
``distill2rules predict`` (the pandas path) take the same numeric values and text forms, and
refuse the others with the same one-line RecordError (naming field and record)."""

from __future__ import annotations

import decimal
import fractions
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from distill2rules import RecordError, Scorer
from distill2rules.exporters import to_onnx
from distill2rules.spec import evaluate
from tests.exporters import hand_specs as hs
from tests.scoring.helpers import GOOD

FIELD = "duration"  # a numeric field of hs.scorecard_spec() and hs.rule_list_spec()


@pytest.fixture(
    scope="module", params=["scorecard-codes", "scorecard-tensors", "rules-codes", "mlp-codes"]
)
def scorer(request) -> Scorer:
    kind, inputs = request.param.split("-")
    spec = {"scorecard": hs.scorecard_spec, "rules": hs.rule_list_spec, "mlp": hs.mlp_spec}[kind]()
    return Scorer(to_onnx(spec, inputs=inputs).SerializeToString())


def _field(scorer: Scorer) -> str:
    return FIELD if FIELD in scorer.num_cols else scorer.num_cols[0]


def _rec(scorer: Scorer, value: Any) -> dict[str, Any]:
    base = {c: GOOD.get(c, 1.0 if c in scorer.num_cols else "x") for c in scorer.columns}
    return {**base, _field(scorer): value}


def _three_ways(scorer: Scorer, value: Any) -> tuple[Any, Any, Any]:
    """(score, score_many's row, explain's decision + probabilities) of a record holding
    ``value``, or each path's RecordError text (score_many's without its "record 1: ")."""
    rec = _rec(scorer, value)
    out: list[Any] = []
    for path in ("score", "many", "explain"):
        try:
            if path == "score":
                got: Any = scorer.score(rec)
            elif path == "many":
                got = scorer.score_many([_rec(scorer, 12), rec])[1]
            else:
                ex = scorer.explain(rec)
                got = {k: ex[k] for k in ("decision", "probability", "probabilities", "adverse")}
        except RecordError as err:
            assert err.field == _field(scorer) and err.row == (1 if path == "many" else None), err
            text = str(err)
            got = ("error", text.removeprefix("record 1: ") if path == "many" else text)
        out.append(got)
    return out[0], out[1], out[2]


def _agree(scorer: Scorer, value: Any) -> Any:
    score, many, explain = _three_ways(scorer, value)
    assert score == many == explain, (value, score, many, explain)
    return score


# ----------------------------------------------------------------------------- fix 1: types


@pytest.mark.parametrize(
    ("value", "same_as"),
    [
        (decimal.Decimal(36), 36.0),
        (decimal.Decimal("1.5"), 1.5),
        (decimal.Decimal("1E+400"), math.inf),
        (decimal.Decimal("-Infinity"), -math.inf),
        (decimal.Decimal("NaN"), None),
        (b"36", 36.0),
        (b" 1e3 ", 1000.0),
        (b"?", None),
        (b"", None),
        (fractions.Fraction(3, 2), 1.5),
        (np.bool_(True), 1.0),
        (np.float16(24.5), 24.5),
        (np.array(36.0), 36.0),
    ],
    ids=repr,
)
def test_numbers_of_other_types_score_alike_on_every_path(scorer, value, same_as):
    """Decimal (a database NUMERIC), bytes holding a number's text, Fraction, numpy bools and
    0-d arrays: ``score`` used to refuse them while ``score_many`` read them."""
    got = _agree(scorer, value)
    assert got == scorer.score(_rec(scorer, same_as))


@pytest.mark.parametrize(
    "value",
    [
        bytearray(b"36"),
        memoryview(b"36"),
        decimal.Decimal("sNaN"),
        b"\xff12",
        1 + 0j,
        np.array([36.0]),
        [36],
    ],
    ids=repr,
)
def test_values_that_are_no_number_are_one_error_on_every_path(scorer, value):
    got = _agree(scorer, value)
    assert got[0] == "error" and f"field '{_field(scorer)}' should be a number" in got[1]


def test_decimal_and_bytes_score_as_the_spec_evaluator_reads_them():
    """The pandas path (``evaluate`` on a DataFrame, as ``predict`` does) reads Decimal and
    bytes of a number's text as that number: the Scorer reads them the same."""
    spec = hs.scorecard_spec()
    scorer = Scorer(to_onnx(spec, inputs="codes").SerializeToString())
    values = [decimal.Decimal(36), decimal.Decimal("7.25"), b"40", b" 13 ", b"?", 50]
    records = [{**GOOD, FIELD: v} for v in values]
    frame = pd.DataFrame({c: pd.Series([r[c] for r in records], dtype=object) for c in GOOD})
    want = evaluate(spec, frame)
    got = scorer.score_many(records)
    assert got.label.tolist() == want["label"].tolist()
    np.testing.assert_allclose(got.probabilities, want["probabilities"], atol=1e-6, rtol=0)
    assert got.to_list() == [scorer.score(r) for r in records]

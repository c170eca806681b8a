"""One reading of a value on every path: ``score``, ``score_many``, ``explain`` and
``distill2rules predict`` (the pandas path) take the same numeric values and text forms, and
refuse the others with the same one-line RecordError (naming field and record)."""

from __future__ import annotations

import csv
import decimal
import fractions
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from distill2rules import RecordError, Scorer
from distill2rules.errors import Distill2RulesError
from distill2rules.exporters import to_onnx
from distill2rules.spec import evaluate
from tests.exporters import hand_specs as hs
from tests.scoring.helpers import GOOD, scorecard_artifact

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


def _id(value: Any) -> str:
    """A test id stable across processes (pytest-xdist workers must collect the same names)."""
    return f"memoryview({bytes(value)!r})" if isinstance(value, memoryview) else repr(value)


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
        b"1_000",
        b"\xff12",
        1 + 0j,
        np.array([36.0]),
        [36],
    ],
    ids=_id,
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


# ----------------------------------------------------------------------------- fix 2: texts

#: texts in a numeric field, each checked against `distill2rules predict` on a CSV holding it
TEXTS = [
    "12",
    " 12 ",
    "+5",
    ".5",
    "5.",
    "1.e3",
    "0012",
    "1e3",
    "1E3",
    "1e+3",
    "1.5E-07",
    "1e400",
    "-1e400",
    "inf",
    "-INF",
    "+Infinity",
    "iNfInItY",
    "\t7\n",
    "\xa012",
    "nan",
    "NaN",
    "?",
    "",
    "-",
    "NA",
    "null",
    "None",
    # refused by predict
    "1_000",
    "1__0",
    "_1",
    "12_",
    "NAN",
    "nAn",
    "+nan",
    "-nan",
    "١٢",
    "１２",
    "1,000",
    "1 000",
    "0x10",
    "1d3",
    ".e3",
    "1e",
    "infinit",
    "snan",
]


@pytest.fixture(scope="module")
def artifact(tmp_path_factory) -> Path:
    return scorecard_artifact(tmp_path_factory.mktemp("consistency") / "art")


def _predict(art: Path, tmp: Path, value: str) -> Any:
    """``distill2rules predict``'s probabilities for GOOD with ``value`` in FIELD (CSV), or
    "error" when it refuses the file."""
    from distill2rules.serve import predict_file

    src, dst = tmp / "in.csv", tmp / "out.csv"
    with open(src, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(list(GOOD))
        w.writerow([value if c == FIELD else GOOD[c] for c in GOOD])
        w.writerow(list(GOOD.values()))
    try:
        predict_file(art, src, dst)
    except Distill2RulesError:
        return "error"
    row = pd.read_csv(dst).iloc[0]
    return [float(row[c]) for c in row.index if str(c).startswith("p_")]


@pytest.mark.parametrize("text", TEXTS, ids=repr)
def test_numeric_text_is_read_as_predict_reads_it(artifact, tmp_path, text):
    """The Scorer takes exactly the numeric texts ``predict`` takes (``float()`` alone would also
    read "1_000" as 1000, "NAN" as missing and non-ASCII digits)."""
    want = _predict(artifact, tmp_path, text)
    scorer = Scorer.load(artifact)
    got = _agree(scorer, text)
    if want == "error":
        assert isinstance(got, tuple) and got[0] == "error", (text, got)
        assert got[1] == (
            f"field '{FIELD}' should be a number, got {text!r}. "
            "Send a number, or null when it is missing."
        )
    else:
        assert isinstance(got, dict), (text, got)
        np.testing.assert_allclose(list(got["probabilities"].values()), want, atol=1e-6)


# ----------------------------------------------------------------------------- fix 3: load


def test_load_of_a_graph_file_checks_the_manifest_beside_it(tmp_path):
    """``Scorer.load(DIR/student.onnx)`` checks the file against DIR's manifest, as
    ``Scorer.load(DIR)`` and ``serve`` do; a bare graph (no manifest beside it, or one that does
    not list it) loads as it is."""
    import shutil

    import onnx

    from distill2rules.errors import ArtifactError
    from distill2rules.server import make_server

    art = scorecard_artifact(tmp_path / "art", codes=False)  # load(DIR) reads student.onnx
    assert Scorer.load(art / "student.onnx").inputs == "tensors"
    bare = tmp_path / "bare"
    bare.mkdir()
    shutil.copy(art / "student.onnx", bare / "student.onnx")
    shutil.copy(art / "student.onnx", art / "mine.onnx")  # beside the manifest, not listed in it
    model = onnx.load_model_from_string((art / "student.onnx").read_bytes())
    model.doc_string = "edited after export"  # tampered, still a valid graph
    for path in (art / "student.onnx", bare / "student.onnx"):
        path.write_bytes(model.SerializeToString())
    for served in (art, art / "student.onnx"):  # what serve does with it
        with pytest.raises(ArtifactError, match="changed after it was written"):
            make_server(served, port=0)
    with pytest.raises(ArtifactError, match="does not match its sha256 in the manifest"):
        Scorer.load(art)
    with pytest.raises(
        ArtifactError, match=r"student\.onnx does not match its sha256 in the manifest"
    ):
        Scorer.load(art / "student.onnx")
    assert Scorer.load(bare / "student.onnx").kind == "additive"  # no manifest: a bare graph
    assert Scorer.load(art / "mine.onnx").kind == "additive"  # not listed: a bare graph (as serve)

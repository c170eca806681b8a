"""Hostile records through the Scorer: every bad input is ONE RecordError naming the field and
the record, never a stray OverflowError / TypeError, and odd-but-valid values score as the spec
evaluator reads them."""

from __future__ import annotations

import math

import numpy as np
import pytest

from distill2rules import RecordError, Scorer
from distill2rules.exporters import to_onnx
from tests.exporters import hand_specs as hs
from tests.scoring.helpers import GOOD


@pytest.fixture(scope="module", params=["scorecard", "rules", "mlp"])
def scorer(request):
    spec = {"scorecard": hs.scorecard_spec, "rules": hs.rule_list_spec, "mlp": hs.mlp_spec}[
        request.param
    ]()
    return Scorer(to_onnx(spec, inputs="codes").SerializeToString())


def _rec(scorer: Scorer, **kw) -> dict:
    base = {c: GOOD.get(c, 1.0 if c in scorer.num_cols else "x") for c in scorer.columns}
    return {**base, **kw}


@pytest.mark.parametrize("big", [10**400, -(10**400), 2**1100], ids=["1e400", "-1e400", "2^1100"])
def test_integers_beyond_float_range_score_as_infinity(scorer, big):
    """A JSON integer with hundreds of digits is a (huge) number: it scores like ±inf, as
    ``1e999`` does, instead of raising OverflowError (a 500 in the server)."""
    col = scorer.num_cols[0]
    inf = math.inf if big > 0 else -math.inf
    want = scorer.score(_rec(scorer, **{col: inf}))
    assert scorer.score(_rec(scorer, **{col: big})) == want
    many = scorer.score_many([_rec(scorer), _rec(scorer, **{col: big})])
    assert many[1] == want
    ex = scorer.explain(_rec(scorer, **{col: big}))
    assert ex["decision"] == want["decision"]
    for reason in ex["reasons"]:
        assert reason["text"]


def test_huge_integer_in_a_category_field_is_a_category(scorer):
    if not scorer.cat_cols:
        pytest.skip("no categorical field")
    col = scorer.cat_cols[0]
    unseen = scorer.score(_rec(scorer, **{col: "no such category"}))
    assert scorer.score(_rec(scorer, **{col: 10**400})) == unseen
    assert scorer.score_many([_rec(scorer, **{col: 10**400})])[0] == unseen


@pytest.mark.parametrize("bad", [None, 42, "abc", b"xy"])
def test_score_many_wants_a_list_of_records(scorer, bad):
    with pytest.raises(RecordError, match="list of records"):
        scorer.score_many(bad)


def test_score_many_of_one_record_says_use_score(scorer):
    with pytest.raises(RecordError, match=r"one record.*score\(\)"):
        scorer.score_many(_rec(scorer))


@pytest.mark.parametrize("top", [None, "x", 2.5])
def test_explain_top_must_be_a_whole_number(scorer, top):
    with pytest.raises(ValueError, match="top must be a whole number"):
        scorer.explain(_rec(scorer), top=top)


def test_explain_top_accepts_numeric_whole_numbers(scorer):
    assert scorer.explain(_rec(scorer), top=np.int64(2))["decision"] in scorer.classes

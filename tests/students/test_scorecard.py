"""Binned scorecard student (German credit, a real LightGBM teacher) and smooth EBM shapes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from distill2rules import spec as spec_mod
from distill2rules.errors import ConfigError
from distill2rules.students import make_student
from tests.conftest import needs_data

pytestmark = needs_data


@pytest.fixture(scope="module")
def german(german_gbt):
    from distill2rules.data import load_dataset, split_frame
    from distill2rules.kd import softmax
    from distill2rules.teachers import load_teacher

    ds = load_dataset("german_credit")
    sp = split_frame(ds.frame, ds.target, seed=0)
    feats = [c for c in ds.frame.columns if c != ds.target]
    teacher = load_teacher(german_gbt)
    p_tr = softmax(np.asarray(teacher.logits(sp.train[feats]), dtype=float))
    p_te = softmax(np.asarray(teacher.logits(sp.test[feats]), dtype=float))
    return sp.train[feats], sp.train[ds.target], p_tr, sp.test[feats], p_te


@pytest.fixture(scope="module")
def card_student(german):
    X, y, p, _, _ = german
    return make_student("scorecard", monotone="duration_months:-,credit_amount:-").fit(
        X, y, soft_targets=p
    )


def _group_counts(term: dict) -> tuple[list[int], int | None]:
    """Rows per scored unit of a term: numeric bins 1.., categorical groups (bin_groups), and the
    rows of the pooled rare levels' own group ("other": the group that scores unseen levels)."""
    counts = term["bin_counts"]
    if term["axes"][0]["kind"] == "numeric":
        return list(counts[1:]), None
    by: dict[int, int] = {}
    for b, g in enumerate(term["bin_groups"]):
        if b > 0 and g is not None:
            by[g] = by.get(g, 0) + counts[b]
    other = term["bin_groups"][-1]
    return [c for g, c in by.items() if g != other], by.get(other)


def test_scorecard_fits_german_credit_with_fidelity(german):
    X, y, p, Xte, pte = german
    est = make_student("scorecard").fit(X, y, soft_targets=p)
    spec = est.to_spec()
    spec_mod.validate(spec)
    assert spec["model"] == "scorecard" and spec["kind"] == "additive"
    assert all(t["type"] == "table" and len(t["axes"]) == 1 for t in spec["terms"])
    fid = float((est.predict_proba(Xte).argmax(1) == pte.argmax(1)).mean())
    assert fid >= 0.8, fid
    assert est.targets_used_ in ("decision", "soft")
    assert spec["meta"]["scorecard"]["targets"] == est.targets_used_
    # the spec's stored counts are the training rows per bin; event rates are teacher decisions
    for t in spec["terms"]:
        assert sum(t["bin_counts"]) == len(X)
        idx = spec_mod.axis_index(
            t["axes"][0], *spec_mod.prepare_inputs(spec, X), spec_mod.column_lookup(spec)
        )
        dec = p.argmax(1) == 1
        b = int(np.argmax(t["bin_counts"]))
        assert t["event_rates"][b] == pytest.approx(dec[idx == b].mean())


def test_bins_respect_the_minimum_share(german):
    X, y, p, _, _ = german
    for share in (0.05, 0.1):
        spec = make_student("scorecard", min_bin_share=share).fit(X, y, soft_targets=p).to_spec()
        need = math.ceil(share * len(X))
        for t in spec["terms"]:
            sizes, other = _group_counts(t)
            assert min(sizes) >= need, (t["name"], sizes, need)
            assert (
                other is None or other >= 30
            )  # rare levels pooled: a row of their own from 30 rows
            if t["axes"][0]["kind"] == "numeric":
                assert len(t["axes"][0]["edges"]) + 1 <= 20


def test_monotone_option_holds(card_student):
    spec = card_student.to_spec()
    for f in ("duration_months", "credit_amount"):
        terms = [t for t in spec["terms"] if t["name"] == f]
        assert terms, f
        s = np.asarray(terms[0]["scores"])[1:, 0]  # toward classes[1] = 'good'
        assert (np.diff(s) <= 1e-9).all(), (f, s)
        rates = [r for r, c in zip(terms[0]["event_rates"][1:], terms[0]["bin_counts"][1:]) if c]
        # pooled bins: the teacher's 'good' rate does not rise with duration/amount either (up to noise)
        assert rates[0] >= rates[-1]
    from distill2rules.exporters.rulecard import rulecard

    checks = {m["feature"]: m["holds"] for m in rulecard(spec)["monotone"]}
    assert checks == {"credit_amount": True, "duration_months": True}


def test_bad_parameters_are_config_errors(german):
    X, y, p, _, _ = german
    with pytest.raises(ConfigError, match="min_bin_share"):
        make_student("scorecard", min_bin_share=0.7).fit(X, y, soft_targets=p)
    with pytest.raises(ConfigError, match="targets"):
        make_student("scorecard", targets="hard").fit(X, y, soft_targets=p)
    with pytest.raises(ConfigError, match="points"):
        make_student("scorecard", points={"pdo": 20, "scale": 3}).fit(X, y, soft_targets=p)


def test_onnx_parity_with_missing_and_unseen(card_student, german):
    ort = pytest.importorskip("onnxruntime")
    from distill2rules.exporters.onnx import onnx_feeds, to_onnx

    _, _, _, Xte, _ = german
    X = Xte.copy()
    X.loc[X.index[:7], "duration_months"] = np.nan
    X.loc[X.index[7:12], "purpose"] = None
    X.loc[X.index[12:15], "purpose"] = "spaceship"
    spec = card_student.to_spec()
    sess = ort.InferenceSession(
        to_onnx(spec).SerializeToString(), providers=["CPUExecutionProvider"]
    )
    out = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, onnx_feeds(spec, X))))
    ref = spec_mod.evaluate(spec, X)
    assert np.abs(out["probabilities"] - ref["probabilities"]).max() < 1e-5
    assert (out["label"] == ref["label"]).all()


def test_rule_card_is_a_points_table(card_student):
    from distill2rules.exporters._scorecard_card import DEFAULT_POINTS
    from distill2rules.exporters.rulecard import render_html, render_markdown, rulecard

    spec = card_student.to_spec()
    card = rulecard(spec)
    m = card["model"]
    assert m["layout"] == "points_table"
    assert m["adverse_class"] == "bad" and m["favourable_class"] == "good"
    assert m["scaling"]["pdo"] == DEFAULT_POINTS["pdo"] and m["scaling"]["base_odds"] == 50
    ranges = [f["range"] for f in m["features"]]
    assert ranges == sorted(ranges, reverse=True) and ranges[0] > 0
    n = spec["meta"]["scorecard"]["n_rows"]
    for f in m["features"]:
        assert sum(r["count"] for r in f["rows"]) == n
        assert min(r["points"] for r in f["rows"] if r["count"]) == pytest.approx(0.0, abs=1e-9)
    # base points + the points of each row that applies = the spec's log-odds on the points scale
    sample = _sample_rows()
    rows = spec_mod.evaluate(spec, sample)
    num, cat = spec_mod.prepare_inputs(spec, sample)
    lookup = spec_mod.column_lookup(spec)
    total = np.full(len(num), m["base_points"])
    for f in m["features"]:
        term = next(t for t in spec["terms"] if t["name"] == f["term"])
        idx = spec_mod.axis_index(term["axes"][0], num, cat, lookup)
        pts = {b: r["points"] for r in f["rows"] for b in r["bins"]}
        total += np.asarray([pts[int(i)] for i in idx])
    logodds_good = np.log(rows["probabilities"][:, 1] / rows["probabilities"][:, 0])
    assert np.allclose(
        total, m["scaling"]["offset"] + m["scaling"]["points_per_logodds"] * logodds_good
    )
    md = render_markdown(card)
    assert (
        "| value | rows | share | event rate ('bad', teacher) | observed rate ('bad') | points | note |"
        in md
    )
    assert "Base points" in md and "odds of 50:1" in md
    assert "duration_months < " in md and "missing" in md
    assert "<table>" in render_html(card)


def _sample_rows():
    from distill2rules.data import load_dataset

    return load_dataset("german_credit").frame.iloc[:60]


def test_points_scaling_is_configurable(german):
    X, y, p, _, _ = german
    spec = (
        make_student("scorecard", points={"pdo": 40, "base_score": 500, "base_odds": 1})
        .fit(X, y, soft_targets=p)
        .to_spec()
    )
    from distill2rules.exporters.rulecard import rulecard

    m = rulecard(spec)["model"]
    assert m["scaling"]["offset"] == pytest.approx(500.0)
    assert m["scaling"]["points_per_logodds"] == pytest.approx(40 / math.log(2))


def test_ebm_min_bin_share_holds_on_a_real_fit(german):
    X, y, p, Xte, pte = german
    share = 0.05
    est = make_student(
        "ebm", interactions=0, outer_bags=1, max_rounds=300, min_bin_share=share
    ).fit(X, y, soft_targets=p)
    spec = est.to_spec()
    need = math.ceil(share * len(X))
    num, cat = spec_mod.prepare_inputs(spec, X)
    lookup = spec_mod.column_lookup(spec)
    for t in spec["terms"]:
        ax = t["axes"][0]
        counts = np.bincount(spec_mod.axis_index(ax, num, cat, lookup), minlength=len(t["scores"]))
        assert counts.tolist() == t["bin_counts"]
        s = np.asarray(t["scores"])[..., 0]
        if ax["kind"] == "numeric":
            assert counts[1:].min() >= need, (t["name"], counts)
        else:  # levels under the share share one pooled score
            rare = [b for b in range(1, len(ax["categories"]) + 1) if counts[b] < need]
            assert len({round(float(s[b]), 12) for b in rare}) <= 1
    raw = (
        make_student(
            "ebm", interactions=0, outer_bags=1, max_rounds=300, min_bin_share=0.0, merge_tol=0.0
        )
        .fit(X, y, soft_targets=p)
        .to_spec()
    )
    n_bins = sum(len(t["axes"][0].get("edges", [])) for t in spec["terms"])
    assert n_bins < sum(len(t["axes"][0].get("edges", [])) for t in raw["terms"])
    fid = float((est.predict_proba(Xte).argmax(1) == pte.argmax(1)).mean())
    assert fid >= 0.8

"""Rule cards (exporters/rulecard.py) on hand-built specs."""

from __future__ import annotations

import html
import json
import math
import re

import numpy as np
import pandas as pd
import pytest
from hand_specs import (
    applicants,
    ebm_spec,
    mlp_spec,
    monotone_spec,
    rule_list_spec,
    scorecard_spec,
    softmax_spec,
)

from distill2rules.exporters.reasons import explain_rows
from distill2rules.exporters.rulecard import render_html, render_markdown, rulecard, write_rulecard
from distill2rules.spec import evaluate

METRICS = {
    "test": {
        "student": {"accuracy": 0.74, "roc_auc": 0.781, "fidelity": 0.93},
        "teacher": {"accuracy": 0.76},
        "n_rows": 150,
    }
}
PPL = 20 / math.log(2)  # points per unit of log-odds


def _row_points(section: dict, row: pd.Series) -> float:
    """Score one applicant by reading the card's scorecard like a human would."""
    total = section["base_points"]
    for feat in section["features"]:
        f = feat["features"][0]
        v = row[f]
        if feat["type"] == "linear":
            lo, hi = (float(b) for b in feat["clip"])
            total += feat["per_unit"] * min(max(float(v), lo), hi)
        elif feat["type"] == "categories":
            total += next(r["points"] for r in feat["rows"] if r["value"] == v)
        else:
            total += next(
                r["points"]
                for r in feat["rows"]
                if r["lo"] is not None and float(r["lo"]) <= v < float(r["hi"])
            )
    return total


def test_scorecard_points_follow_the_stated_scaling():
    spec = scorecard_spec()
    card = rulecard(spec, metrics=METRICS)
    sec = card["model"]
    assert sec["layout"] == "scorecard" and sec["favourable_class"] == "good"
    assert sec["scaling"]["base_score"] == 600 and sec["scaling"]["pdo"] == 20
    assert sec["base_points"] == pytest.approx(600 + PPL * 1.0)  # intercept -1 toward 'bad'
    checking = next(f for f in sec["features"] if f["term"] == "checking_status")
    pts = {r["value"]: r["points"] for r in checking["rows"]}
    assert pts["no checking account"] == pytest.approx(0.8 * PPL)
    assert pts["< 0 DM"] == pytest.approx(-0.9 * PPL)
    # features ranked by their points range
    ranges = [f["range"] for f in sec["features"]]
    assert (
        ranges == sorted(ranges, reverse=True) and sec["features"][0]["term"] == "checking_status"
    )
    # adding the card's points reproduces the model (and the reason codes' total)
    X = applicants().iloc[:3]
    scores = evaluate(spec, X)["scores"][:, 0]
    reasons = explain_rows(spec, X, counterfactuals=False)
    for i in range(len(X)):
        total = _row_points(sec, X.iloc[i])
        assert total == pytest.approx(600 - PPL * scores[i])
        assert total == pytest.approx(reasons[i]["points"])
        assert (total > 600) == (reasons[i]["decision"] == "good")


def test_scorecard_markdown_reads_like_a_scorecard():
    md = render_markdown(rulecard(scorecard_spec(), metrics=METRICS))
    assert (
        "A total of 600 means even odds (1:1) of 'good'; every 20 more points double those odds"
        in md
    )
    assert "| Base points | 628.9 |" in md
    assert "| no checking account | +23.1 |  |" in md
    assert "| 24 ≤ duration < 36 | -11.5 |  |" in md
    assert "-0.0029 points per unit of credit_amount, values clipped to [250, 18424]" in md
    assert (
        "| credit_amount = 2300 | -6.6 |  |" in md
    )  # a representative value from the term's display quantiles
    assert "| **Fidelity (agreement with the teacher, test)** | 93.0 % |" in md
    assert "Retention (student / teacher accuracy, computed)** | 97.4 %" in md
    assert "| **Teacher fingerprint** | sha256:abc123 |" in md and "| **Temperature τ** | 3 |" in md
    assert (
        "age (-1): the probability of 'bad' never increases as age increases (holds in the model)"
        in md
    )
    assert "- Not validated for business loans over 20,000 DM." in md  # meta limits first
    assert "clipped at the training range: credit_amount to [250, 18424]" in md
    assert "a test split of 150 rows of the given data" in md


def test_provenance_argument_overrides_meta_and_unknown_keys_are_kept():
    card = rulecard(
        scorecard_spec(), provenance={"temperature": 4, "data": {"n_rows": 800}, "git": "abc"}
    )
    prov = {p["name"]: p["value"] for p in card["provenance"]}
    assert prov["Temperature τ"] == "4" and prov["Rows"] in ("1000", "800") and prov["git"] == "abc"
    assert card["metrics"] == [] and "metrics_all" not in card
    assert "No metrics recorded." in render_markdown(card)


def test_metrics_are_read_from_fit_metrics_fields():
    # FitMetrics fields, not guesses among key names: a top-level "fidelity" is not fit's test fidelity
    card = rulecard(
        scorecard_spec(), metrics={"fidelity": 0.9, "weird": {"nested": [1, 2]}, "test": None}
    )
    assert card["metrics"] == [] and card["metrics_all"]["fidelity"] == 0.9
    card = rulecard(scorecard_spec(), metrics={"test": {"student": {"fidelity": 0.9}}})
    assert [(m["name"], m["text"]) for m in card["metrics"]] == [("fidelity", "90.0 %")]
    card = rulecard(
        scorecard_spec(), metrics={"test": {"student": {"accuracy": 0.8, "retention": 0.95}}}
    )
    assert {m["name"]: m["value"] for m in card["metrics"]} == {"accuracy": 0.8, "retention": 0.95}


def test_violated_monotone_constraint_is_flagged():
    card = rulecard(monotone_spec({"income": 1}))
    assert card["monotone"] == [
        {
            "feature": "income",
            "direction": 1,
            "holds": False,
            "text": "the probability of 'good' never decreases as income increases",
        }
    ]
    assert "VIOLATED in the model" in render_markdown(card)


def test_ebm_card_has_score_tables_and_ranked_interactions():
    spec = ebm_spec()
    card = rulecard(spec)
    sec = card["model"]
    assert sec["layout"] == "score_tables" and sec["columns"] == ["log-odds of '1'"]
    assert [p["term"] for p in sec["interactions"]] == ["job x hours", "age x hours"]
    assert sec["interactions"][0]["range"] == pytest.approx(1.4)
    assert sec["interactions"][0]["grid"]["scores"][1] == [pytest.approx(-0.2), pytest.approx(0.9)]
    age = next(m for m in sec["mains"] if m["term"] == "age")
    assert len(age["rows"]) == 43  # JSON keeps every bin
    md = render_markdown(card)
    assert "### Top interactions (2 of 2, by score range)" in md
    assert "| manager | -0.20 | +0.90 |" in md
    age_md = md.split("### age")[1].split("###")[0]
    n_rows = sum(1 for line in age_md.splitlines() if line.startswith("| ") and "value" not in line)
    assert n_rows <= 17  # condensed: missing + at most 16 ranges
    assert (
        "| age < 21.1 |" in age_md and "age ≥ 78.45" in age_md
    )  # the condensed ranges still cover everything
    grid = sec["interactions"][1]["grid"]
    assert grid["rows"] == ["age < 30", "30 ≤ age < 50", "age ≥ 50"] and grid["cols"] == [
        "hours < 40",
        "hours ≥ 40",
    ]
    assert np.allclose(grid["scores"], np.asarray(spec["terms"][3]["scores"])[1:, 1:, 0])


def test_softmax_card_has_a_column_per_class():
    card = rulecard(softmax_spec())
    sec = card["model"]
    assert sec["columns"] == ["score of 'low'", "score of 'mid'", "score of 'high'"]
    md = render_markdown(card)
    assert "| x ≥ 1 | -1.000 | 0.000 | +1.200 |" in md
    assert "only differences between classes carry meaning" in md


def test_rule_list_markdown_lists_every_rule_in_order():
    spec = rule_list_spec()
    card = rulecard(spec)
    md = render_markdown(card)
    expected = [
        "1. IF checking_status in {< 0 DM, 0 <= X < 200 DM} AND duration > 24 THEN bad (p = 0.71, support 83)",
        "2. IF credit_amount > 10000 (or missing) THEN bad (p = 0.60, support 30)",
        "3. IF purpose = education AND duration ≤ 12.5 THEN good (p = 0.55, support 40)",
        "4. ELSE good (p = 0.80, support 600)",
    ]
    positions = [md.index(line) for line in expected]
    assert positions == sorted(positions)
    assert card["summary"]["n_rules"] == 3 and card["summary"]["n_conditions"] == 5
    assert "the first rule whose conditions all hold decides" in md
    page = render_html(card)
    for rule in card["model"]["rules"]:
        assert html.escape(rule["text"]) in page


def test_mlp_card_states_it_is_not_directly_readable():
    card = rulecard(mlp_spec())
    assert card["model"]["layer_sizes"] == [4, 3, 1]
    assert card["summary"]["n_params"] == 12 + 3 + 3 + 1
    md = render_markdown(card)
    assert "not directly readable" in md and "approximate" in md


@pytest.mark.parametrize("make", [scorecard_spec, ebm_spec, rule_list_spec, softmax_spec, mlp_spec])
def test_html_is_self_contained_and_json_round_trips(make):
    card = rulecard(make(), metrics=METRICS)
    text = json.dumps(card, allow_nan=False)
    back = json.loads(text)
    assert render_markdown(back) == render_markdown(card)
    page = render_html(card)
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    assert not re.search(r"\b(src|href)\s*=", page, flags=re.IGNORECASE)
    assert not re.search(r"https?://", page)
    assert "<script" not in page and "<link" not in page and "@import" not in page
    assert page.count("<table") == page.count("</table>") > 0


def test_html_escapes_category_text():
    spec = rule_list_spec()
    spec["rules"][0]["conditions"][0]["values"] = ["<script>alert(1)</script>", "a & b"]
    page = render_html(rulecard(spec))
    assert "<script>" not in page and "&lt;script&gt;" in page and "a &amp; b" in page


def test_write_rulecard_is_deterministic(tmp_path):
    spec = scorecard_spec()
    paths = write_rulecard(spec, tmp_path / "a", metrics=METRICS)
    assert [p.name for p in paths] == ["rulecard.md", "rulecard.html", "rulecard.json"]
    again = write_rulecard(spec, tmp_path / "b", metrics=METRICS)
    for p, q in zip(paths, again):
        assert p.read_bytes() == q.read_bytes()
    assert json.loads(paths[2].read_text(encoding="utf-8")) == rulecard(spec, metrics=METRICS)
    assert paths[0].read_text(encoding="utf-8") == render_markdown(rulecard(spec, metrics=METRICS))


def test_model_size_counts_parameters():
    s = rulecard(scorecard_spec())["summary"]
    # intercept 1 + non-zero scores: checking 4, duration 3, credit 1, purpose 4, age 4
    assert (s["n_terms"], s["n_pairs"], s["n_params"]) == (5, 0, 17)
    e = rulecard(ebm_spec())["summary"]
    assert e["n_pairs"] == 2
    assert np.isfinite(e["n_params"])

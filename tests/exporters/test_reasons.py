"""Reason codes and counterfactuals (exporters/reasons.py) on hand-built specs."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest
from hand_specs import (
    CHECKING,
    PURPOSE,
    applicants,
    ebm_spec,
    mlp_spec,
    monotone_spec,
    rule_list_spec,
    scorecard_spec,
    softmax_spec,
)

from distill2rules.errors import ConfigError
from distill2rules.exporters.reasons import (
    counterfactual,
    explain_rows,
    reasons_table,
    reasons_to_jsonl,
)
from distill2rules.spec import evaluate


def _decision(spec, row: dict) -> tuple[str, float]:
    out = evaluate(spec, pd.DataFrame({k: [v] for k, v in row.items()}))
    k = int(out["label"][0])
    return spec["classes"][k], float(out["probabilities"][0, k])


def _with(X: pd.DataFrame, i: int, feature: str, value) -> dict:
    row = X.iloc[i].to_dict()
    row[feature] = value
    return row


# ----------------------------------------------------------------------------- additive


def test_scorecard_reasons_rank_terms_by_distance_from_best_value():
    rows = explain_rows(
        scorecard_spec(), applicants(), protected="none"
    )  # age is protected by default
    r0 = rows[0]
    assert r0["decision"] == "bad" and r0["adverse"] and r0["adverse_class"] == "bad"
    assert [r["term"] for r in r0["reasons"]] == [
        "checking_status",
        "duration",
        "credit_amount",
        "age",
    ]
    assert [r["rank"] for r in r0["reasons"]] == [1, 2, 3, 4]
    impacts = [r["impact"] for r in r0["reasons"]]
    assert impacts == sorted(impacts, reverse=True)
    assert impacts[0] == pytest.approx(0.9 - (-0.8))  # '< 0 DM' vs best 'no checking account'
    assert impacts[1] == pytest.approx(0.9 - (-0.5))  # duration >= 36 vs best duration < 12
    assert impacts[2] == pytest.approx(1e-4 * (9000 - 250))  # linear: best end of the clip range
    refs = {r["term"]: r["reference"] for r in r0["reasons"]}
    assert refs == {
        "checking_status": "'no checking account'",
        "duration": "duration < 12",
        "credit_amount": "250",
        "age": "age ≥ 50",
    }
    first = r0["reasons"][0]
    assert first["value"] == "< 0 DM" and first["features"] == ["checking_status"]
    assert (
        "Checking" not in first["detail"]
        and "'< 0 DM'" in first["detail"]
        and "worse than reference" in first["detail"]
    )
    assert (
        first["text"] == "checking_status: < 0 DM" and "log-odds" not in first["text"]
    )  # applicant language
    assert (
        r0["reasons"][1]["text"] == "duration too high (36)"
        and r0["reasons"][1]["direction"] == "high"
    )
    assert first["points"] == pytest.approx(1.7 * 20 / np.log(2))


def _brute_force_best(spec, term_index: int, k: int) -> float:
    """Min over every realistic value of the term's score toward class k, by evaluating rows."""
    grid = {
        "checking_status": CHECKING,
        "purpose": PURPOSE,
        "duration": [5, 12, 20, 24, 30, 36, 60],
        "age": [18, 25, 30, 35, 45, 50, 70],
        "credit_amount": [0, 250, 1000, 18424, 50000],
    }
    cols = list(grid)
    X = pd.DataFrame(list(itertools.product(*grid.values())), columns=cols)
    c = evaluate(spec, X)["contributions"][:, term_index, 0]
    return float((c if k == 1 else -c).min())


def test_impacts_are_spec_contributions_minus_the_best_reference():
    spec = scorecard_spec()
    X = applicants()
    out = evaluate(spec, X)
    rows = explain_rows(spec, X, top=10)
    for i, row in enumerate(rows):
        k = row["decision_index"]
        assert k == int(out["label"][i])
        assert row["probability"] == pytest.approx(out["probabilities"][i, k])
        # the row's contributions are the ONNX `contributions` output: log-odds of classes[1]
        np.testing.assert_allclose(row["contributions"], out["contributions"][i, :, 0])
        sign = 1.0 if k == 1 else -1.0
        for reason in row["reasons"]:
            t = reason["term_index"]
            actual = sign * out["contributions"][i, t, 0]
            assert reason["contribution"] == pytest.approx(actual)
            assert reason["impact"] == pytest.approx(actual - _brute_force_best(spec, t, k))
            assert reason["impact"] > 0
        # scorecard total: 600 + 20/ln2 * log-odds of 'good' (classes[0])
        assert row["points"] == pytest.approx(600 - 20 / np.log(2) * out["scores"][i, 0])
        assert (row["points"] > 600) == (row["decision"] == "good")


def test_approved_and_missing_rows():
    rows = explain_rows(scorecard_spec(), applicants())
    good = rows[2]
    assert good["decision"] == "good" and not good["adverse"] and good["counterfactual"] is None
    assert all("favours 'good'" in r["detail"] for r in good["reasons"])
    odd = rows[3]
    texts = " | ".join(r["detail"] for r in odd["reasons"])
    assert "credit_amount is 30000, counted as 18424" in texts
    assert "checking_status is missing" in texts
    assert "'vacation', unseen in training" in texts


def test_top_limits_reasons_and_zero_reference():
    spec = scorecard_spec()
    X = applicants()
    assert len(explain_rows(spec, X, top=2)[0]["reasons"]) == 2
    zero = explain_rows(spec, X, reference="zero", counterfactuals=False)[0]
    out = evaluate(spec, X)
    # reference zero: impact is the raw contribution toward 'bad'; purpose 'car' (+0.3) now counts
    impacts = {r["term"]: r["impact"] for r in zero["reasons"]}
    assert impacts["purpose"] == pytest.approx(out["contributions"][0, 3, 0])
    assert "pushes toward 'bad'" in zero["reasons"][0]["detail"]


def test_pair_terms_name_both_features():
    spec = ebm_spec()
    X = pd.DataFrame({"age": [20.0, 45.0], "hours": [50.0, 30.0], "job": ["manager", "clerk"]})
    rows = explain_rows(spec, X)
    pair = next(r for r in rows[0]["reasons"] if r["term"] == "job x hours")
    assert pair["features"] == ["job", "hours"]
    assert pair["value"] == {"job": "manager", "hours": 50.0}
    assert pair["impact"] == pytest.approx(
        0.9 - (-0.5)
    )  # best cell for class 1's opposite: clerk & hours >= 40
    assert "job = 'clerk' and hours ≥ 40" in pair["reference"]


def test_softmax_reasons_use_the_predicted_class_scores():
    spec = softmax_spec()
    X = pd.DataFrame({"x": [-1.0, 0.5, 2.0], "z": [0.0, 1.0, 3.0], "c": ["a", "b", None]})
    out = evaluate(spec, X)
    rows = explain_rows(spec, X)
    for i, row in enumerate(rows):
        k = int(out["label"][i])
        np.testing.assert_allclose(row["contributions"], out["contributions"][i, :, k])
        assert not row["adverse"] and row["counterfactual"] is None
        assert row["reasons"] and all(r["points"] is None for r in row["reasons"])
    assert [r["term"] for r in rows[2]["reasons"]][:2] == ["z", "x"]
    assert rows[2]["reasons"][0]["impact"] == pytest.approx(0.4 * 3 - 0.4 * (-3))

    low = explain_rows(spec, X, adverse_class="low")
    assert low[0]["adverse"] and low[0]["decision"] == "low"
    cf = low[0]["counterfactual"]
    assert cf is not None and cf["new_decision"] != "low"
    assert _decision(spec, _with(X, 0, cf["feature"], cf["to"]))[0] == cf["new_decision"]


# ----------------------------------------------------------------------------- counterfactuals


def test_counterfactual_flips_the_decision_with_the_smallest_change():
    spec = scorecard_spec()
    X = applicants()
    cf = counterfactual(spec, X.iloc[[1]], protected="none")
    assert cf is not None
    # 0.1 log-odds above even: lowering the amount to < 4000 is the cheapest single change
    assert cf["feature"] == "credit_amount" and cf["from"] == 5000.0
    assert 3800 <= cf["to"] < 4000
    label, p = _decision(spec, _with(X, 1, "credit_amount", cf["to"]))
    assert label == "good" == cf["new_decision"] and p == pytest.approx(cf["new_probability"])
    for alt in cf["alternatives"]:
        assert alt["distance"] >= cf["distance"]
        assert _decision(spec, _with(X, 1, alt["feature"], alt["to"]))[0] == "good"
    alts = {a["feature"]: a for a in cf["alternatives"]}
    assert (
        alts["duration"]["to"] == 23
    )  # whole months for a whole-month applicant, below the 24 edge
    assert alts["age"]["to"] > alts["age"]["from"]  # monotone -1 on p(bad): only older helps
    assert "If credit_amount were" in cf["text"]


def test_counterfactual_respects_immutable_and_returns_none_for_approved_rows():
    spec = scorecard_spec()
    X = applicants()
    cf = counterfactual(spec, X.iloc[[1]], immutable=["credit_amount"])
    assert cf["feature"] == "duration"
    assert counterfactual(spec, X.iloc[2]) is None  # approved (Series input)
    assert counterfactual(spec, X.iloc[[0]]) is None  # no single change is enough
    with pytest.raises(ConfigError, match="immutable names unknown"):
        counterfactual(spec, X.iloc[[1]], immutable=["salary"])


@pytest.mark.parametrize(
    ("monotone", "expect_up"), [(None, False), ({"income": 1}, True), ({"income": -1}, False)]
)
def test_counterfactual_moves_only_in_the_monotone_direction(monotone, expect_up):
    spec = monotone_spec(monotone)
    row = {"income": 22.0}
    assert _decision(spec, row)[0] == "bad"
    cf = counterfactual(spec, row)
    assert cf is not None and cf["feature"] == "income"
    assert (cf["to"] > 22.0) == expect_up
    assert (30.0 <= cf["to"]) if expect_up else (10.0 <= cf["to"] < 20.0)
    assert _decision(spec, {"income": cf["to"]})[0] == "good"


def test_counterfactual_on_an_unclipped_linear_term():
    spec = monotone_spec(None)
    spec["inputs"]["numeric"].append("debt")
    spec["terms"].append(
        {
            "name": "debt",
            "type": "linear",
            "feature": "debt",
            "coef": [-0.1],
            "impute": 0.0,
            "clip": [None, None],
        }
    )
    row = {"income": 35.0, "debt": 12.5}  # score 1.0 - 1.25 < 0: bad; debt must fall below 10
    cf = counterfactual(spec, row)
    assert cf["feature"] == "debt" and 9.0 <= cf["to"] < 10.0
    assert _decision(spec, {"income": 35.0, "debt": cf["to"]})[0] == "good"
    assert cf["alternatives"] == []  # income is already in its best bin


# ----------------------------------------------------------------------------- rule lists


def test_rule_list_reasons_are_the_fired_rule_with_applicant_values():
    spec = rule_list_spec()
    X = pd.DataFrame(
        {
            "checking_status": ["< 0 DM", ">= 200 DM", None, ">= 200 DM"],
            "duration": [36, 10, 30, 18],
            "credit_amount": [1000, 20000, np.nan, 500],
            "purpose": ["car", "car", "education", "car"],
        }
    )
    out = evaluate(spec, X)
    rows = explain_rows(spec, X)
    assert [r["rule"]["index"] for r in rows] == out["rule"].tolist() == [0, 1, 1, 3]
    r0 = rows[0]
    assert r0["rule"]["name"] == "R1" and r0["rule"]["probability"] == pytest.approx(0.71)
    assert r0["rule"]["text"] == (
        "IF checking_status in {< 0 DM, 0 <= X < 200 DM} AND duration > 24 "
        "THEN bad (p = 0.71, support 83)"
    )
    assert [r["detail"] for r in r0["reasons"]] == [
        "checking_status = '< 0 DM', which is one of {< 0 DM, 0 <= X < 200 DM}",
        "duration = 36 > 24",
    ]
    assert [r["text"] for r in r0["reasons"]] == [
        "checking_status: < 0 DM",
        "duration too high (36)",
    ]
    assert "counts as meeting" in rows[2]["reasons"][0]["detail"]  # missing amount, missing=True
    assert rows[1]["rule"]["skipped"][0]["failed"] == (
        "checking_status = '>= 200 DM', which is not one of {< 0 DM, 0 <= X < 200 DM}"
    )
    default = rows[3]
    assert default["rule"]["is_default"] and default["decision"] == "good"
    # an approval by the default rule: the nearest rules that would have declined, never rules
    # pointing the same way (good)
    nearest = default["rule"]["nearest"]
    assert nearest and all(n["decision"] != "good" for n in nearest)
    assert {r["term"] for r in default["reasons"]} <= {n["rule"] for n in nearest}
    # counterfactual: the fired rule stops firing at duration 24 and the default says good
    cf = r0["counterfactual"]
    assert cf["feature"] == "duration" and cf["to"] == 24.0
    assert _decision(spec, _with(X, 0, "duration", 24.0))[0] == "good"
    assert evaluate(spec, pd.DataFrame([_with(X, 0, "duration", 24.0)]))["rule"][0] == 3


# ----------------------------------------------------------------------------- mlp


def test_mlp_reasons_are_approximate_occlusion():
    spec = mlp_spec()
    X = pd.DataFrame({"a": [14.0, 6.0], "b": [1.0, -2.0], "c": ["u", "v"]})
    rows = explain_rows(spec, X)
    r0 = rows[0]
    assert r0["approximate"] and "occlusion" in r0["method"]
    # identity network: score = 2 * (a - 10) / 2 - 0.5 * b + [c == 'u'] + 0.1
    assert [r["term"] for r in r0["reasons"]] == ["a", "c"]
    assert r0["reasons"][0]["impact"] == pytest.approx(4.0, rel=1e-6)
    assert r0["reasons"][1]["impact"] == pytest.approx(1.0, rel=1e-6)
    assert "approximate" in r0["reasons"][0]["detail"]
    r1 = rows[1]
    assert r1["decision"] == "no" and r1["adverse"]
    assert r1["reasons"][0]["term"] == "a" and r1["reasons"][0]["impact"] == pytest.approx(
        4.0, rel=1e-6
    )
    cf = r1["counterfactual"]
    assert cf is not None and _decision(spec, _with(X, 1, cf["feature"], cf["to"]))[0] == "yes"


# ----------------------------------------------------------------------------- output forms, errors


def test_jsonl_and_table():
    rows = explain_rows(scorecard_spec(), applicants())
    lines = reasons_to_jsonl(rows).splitlines()
    assert len(lines) == 4
    back = [json.loads(line) for line in lines]
    assert back[0]["reasons"][0]["term"] == "checking_status"
    assert back[1]["counterfactual"]["feature"] == "credit_amount"
    table = reasons_table(rows)
    assert table.splitlines()[0].split() == ["row", "decision", "p", "#", "reason"]
    assert "counterfactual: If credit_amount were" in table
    assert "log-odds" not in table  # the table shows the applicant-facing text
    assert sum(
        "worse than reference" in x["detail"] for r in rows if r["adverse"] for x in r["reasons"]
    ) == sum(len(r["reasons"]) for r in rows if r["adverse"])


def test_bad_arguments_raise_clear_errors():
    spec = scorecard_spec()
    X = applicants()
    with pytest.raises(ConfigError, match="reference must be one of"):
        explain_rows(spec, X, reference="largest")
    with pytest.raises(ConfigError, match="adverse class 'rejected' is not one of"):
        explain_rows(spec, X, adverse_class="rejected")
    with pytest.raises(ConfigError, match="top must be a positive"):
        explain_rows(spec, X, top=0)
    with pytest.raises(ConfigError, match="one row"):
        counterfactual(spec, X)


def test_adverse_class_defaults():
    spec = scorecard_spec()
    spec["meta"]["adverse_class"] = "good"
    rows = explain_rows(spec, applicants(), counterfactuals=False)
    assert [r["adverse"] for r in rows] == [False, False, True, False]
    spec2 = monotone_spec(None)
    spec2["classes"] = ["A", "B"]  # no negative-sounding label: ask for one
    with pytest.raises(ConfigError, match="--adverse-class"):
        explain_rows(spec2, pd.DataFrame({"income": [5.0]}))
    assert (
        explain_rows(spec2, pd.DataFrame({"income": [5.0]}), adverse_class="A")[0]["adverse_class"]
        == "A"
    )
    for classes, adverse in (
        ([0, 1], 1),
        ([False, True], True),
        (["no", "yes"], "no"),
        (["1", "0"], "1"),
    ):
        spec2["classes"] = classes
        assert explain_rows(spec2, pd.DataFrame({"income": [5.0]}))[0]["adverse_class"] == adverse


# ----------------------------------------------------------------------------- ONNX agreement


def _onnx_session(spec):
    pytest.importorskip("onnxruntime")
    try:
        from distill2rules.exporters.onnx import onnx_feeds, to_onnx
    except ImportError as exc:  # the ONNX exporter is optional for this module
        pytest.skip(f"ONNX exporter not available: {exc}")
    import onnxruntime as ort

    model = to_onnx(spec)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.log_severity_level = 3
    sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    return lambda X: dict(zip(names, sess.run(None, onnx_feeds(model, X))))


@pytest.mark.parametrize("make", [scorecard_spec, softmax_spec, ebm_spec])
def test_reason_contributions_match_onnx_outputs(make):
    spec = make()
    if make is scorecard_spec:
        X = applicants()
    elif make is softmax_spec:
        X = pd.DataFrame(
            {"x": [-1.0, 0.5, 2.0, np.nan], "z": [0.0, 1.0, 3.0, 9.0], "c": ["a", "b", None, "zz"]}
        )
    else:
        X = pd.DataFrame(
            {
                "age": [20.0, 45.0, 90.0],
                "hours": [50.0, 30.0, np.nan],
                "job": ["manager", "clerk", "x"],
            }
        )
    run = _onnx_session(spec)
    onnx_out = run(X)
    rows = explain_rows(spec, X, counterfactuals=False, top=50)
    np.testing.assert_array_equal([r["decision_index"] for r in rows], onnx_out["label"])
    np.testing.assert_allclose(
        [r["contributions"] for r in rows], onnx_out["contributions"], rtol=1e-6, atol=1e-6
    )


def test_fired_rule_matches_onnx_rule_output():
    spec = rule_list_spec()
    X = pd.DataFrame(
        {
            "checking_status": ["< 0 DM", ">= 200 DM", None, ">= 200 DM", "0 <= X < 200 DM"],
            "duration": [36, 10, 30, 18, 12.5],
            "credit_amount": [1000, 20000, np.nan, 500, 100],
            "purpose": ["car", "car", "education", "car", "education"],
        }
    )
    run = _onnx_session(spec)
    onnx_out = run(X)
    rows = explain_rows(spec, X, counterfactuals=False)
    np.testing.assert_array_equal([r["rule"]["index"] for r in rows], onnx_out["rule"])
    np.testing.assert_array_equal([r["decision_index"] for r in rows], onnx_out["label"])

"""Issue 14: credit-grade decisions on real German credit with a LightGBM teacher trained outside.

A 0/1 target (1 = bad) gets 1 as the adverse class with no flag; reasons come from the
catalogue in plain language, cite only well-supported references and never protected
features; counterfactuals flip the teacher too and never touch protected/immutable features.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hand_specs import CHECKING, applicants, rule_list_spec, scorecard_spec

from distill2rules.errors import ConfigError
from distill2rules.exporters._catalogue import load_catalogue, normalise_catalogue
from distill2rules.exporters._protected import resolve_protected
from distill2rules.exporters.reasons import explain_rows
from distill2rules.spec import evaluate

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CHECK_BAD = CHECKING[0]


@pytest.fixture(scope="module")
def german01(tmp_path_factory):
    """German credit with target `bad` (1 = bad) and a 60-tree LightGBM teacher fitted with lightgbm itself."""
    import lightgbm as lgb

    from distill2rules.data import load_dataset, split_frame

    d = tmp_path_factory.mktemp("german01")
    ds = load_dataset("german_credit")
    f = ds.frame.copy()
    f["bad"] = (f[ds.target].astype(str) == "bad").astype(int)
    f = f.drop(columns=[ds.target])
    f.to_csv(d / "data.csv", index=False)
    sp = split_frame(f, "bad", seed=0)
    X = sp.train.drop(columns=["bad"]).copy()
    for c in X.columns:
        if not pd.api.types.is_numeric_dtype(X[c]):
            X[c] = X[c].astype("category")
    booster = lgb.train(
        {
            "objective": "binary",
            "learning_rate": 0.1,
            "num_leaves": 15,
            "seed": 0,
            "deterministic": True,
            "num_threads": 1,
            "verbosity": -1,
        },
        lgb.Dataset(X, label=sp.train["bad"].to_numpy()),
        60,
    )
    booster.save_model(str(d / "model.txt"))
    sp.test.drop(columns=["bad"]).to_csv(d / "test.csv", index=False)
    return d


@pytest.fixture(scope="module")
def scorecard_artifact(german01):
    from distill2rules.cli.main import main

    out = german01 / "logreg"
    try:
        main(
            [
                "fit",
                "--teacher",
                str(german01 / "model.txt"),
                "--data",
                str(german01 / "data.csv"),
                "--target",
                "bad",
                "--student",
                "logreg",
                "--out",
                str(out),
                "--no-baseline",
                "--labels",
                str(EXAMPLES / "labels_german_credit.json"),
                "--exclude-features",
                "personal_status_sex,foreign_worker",
            ]
        )
    except SystemExit as exc:
        assert not exc.code
    return out


def test_zero_one_target_gets_one_as_adverse_class_on_the_card(scorecard_artifact, cli):
    card = (scorecard_artifact / "rulecard.md").read_text(encoding="utf-8")
    assert "Adverse (declined) class: 1." in card
    spec = json.loads((scorecard_artifact / "student.json").read_text(encoding="utf-8"))
    assert spec["meta"]["adverse_class"] == 1
    # the protected guard: age is used and flagged; the excluded columns are gone with their cost shown
    assert "Fair lending: protected features" in card and "USED: Age" in card
    assert "Excluded from the student: personal_status_sex, foreign_worker" in card
    assert not {"personal_status_sex", "foreign_worker"} & set(
        spec["inputs"]["numeric"] + spec["inputs"]["categorical"]
    )
    metrics = json.loads((scorecard_artifact / "metrics.json").read_text(encoding="utf-8"))
    cost = metrics["excluded_features"]["test"]
    assert cost["cost"] == pytest.approx(cost["fidelity_with_all"] - cost["fidelity_without"])
    # the catalogue travels in the spec, so the artifact still verifies
    assert spec["meta"]["reason_catalogue"]["features"]["duration_months"]["code"] == "G02"
    assert cli("verify", scorecard_artifact).code == 0


def test_declined_applicants_read_from_the_catalogue_and_hold_for_the_teacher(
    scorecard_artifact, german01
):
    from distill2rules.explain import explain_artifact

    X = pd.read_csv(german01 / "test.csv")
    res = explain_artifact(scorecard_artifact, X, immutable=["existing_credits"])
    assert res.teacher is not None  # the manifest's teacher is found and used
    declined = [r for r in res.rows if r["adverse"]][:20]
    assert len(declined) >= 10
    spec = json.loads((scorecard_artifact / "student.json").read_text(encoding="utf-8"))
    codes = {e.get("code") for e in spec["meta"]["reason_catalogue"]["features"].values()}
    for r in declined:
        assert r["decision"] == 1 and r["teacher"] is not None
        for reason in r["reasons"]:
            assert reason["impact"] > 0  # pushes toward the adverse decision
            assert (
                reason["code"] in codes
                and "log-odds" not in reason["text"]
                and "age" not in reason["features"]
            )
            assert reason["reference_share"] is None or reason["reference_share"] >= 0.05 - 1e-9
        assert r["reasons"][0]["text"][0].isupper()  # a catalogue statement, not a column name
    cfs = [r["counterfactual"] for r in declined if r["counterfactual"]]
    assert len(cfs) >= 0.9 * len(declined)
    flips = [c["teacher_flips"] for c in cfs]
    assert sum(flips) >= 0.9 * len(cfs), f"{sum(flips)}/{len(cfs)} flip the teacher"
    for c in cfs:
        touched = {ch["feature"] for ch in c["changes"]}
        assert not touched & {"age", "existing_credits"}  # protected (default) and immutable
        assert len(touched) <= 2 and ("student only" in c["text"]) == c["student_only"]
        assert "declined" not in c["text"] and "approved" in c["text"]


def test_explain_cli_shows_the_teacher_and_refuses_unknown_adverse_labels(
    scorecard_artifact, german01, cli, tmp_path
):
    r = cli(
        "explain",
        scorecard_artifact,
        "--data",
        german01 / "test.csv",
        "--limit",
        "3",
        "--reference",
        "median",
    )
    assert r.code == 0, r.err
    assert "flip the teacher too" in r.out and "log-odds" not in r.out
    bad = tmp_path / "ab.csv"
    pd.DataFrame({"x": np.arange(40.0), "y": ["A", "B"] * 20}).to_csv(bad, index=False)
    r = cli(
        "fit",
        "--teacher",
        german01 / "model.txt",
        "--data",
        bad,
        "--target",
        "y",
        "--out",
        tmp_path / "o",
    )
    assert r.code == 2 and "--adverse-class" in r.err and not (tmp_path / "o").exists()


# ----------------------------------------------------------------------------- units on hand specs


def test_reference_bins_need_a_minimum_share_of_training_rows():
    spec = scorecard_spec()
    term = next(
        t for t in spec["terms"] if t["name"] == "duration"
    )  # bins: missing, <12, 12-24, 24-36, >=36
    term["bin_counts"] = [0, 2, 400, 300, 298]  # the best bin (< 12) holds 0.2 % of the rows
    rows = explain_rows(spec, applicants(), protected="none", counterfactuals=False)
    dur = next(r for r in rows[0]["reasons"] if r["term"] == "duration")
    # alone, < 12 is too sparse: with its neighbour it is the best well-supported run
    assert dur["reference"] == "duration < 24" and dur["reference_share"] == pytest.approx(0.402)
    assert dur["impact"] == pytest.approx(0.9 - (2 * -0.5) / 402)  # row 0: duration 36
    loose = explain_rows(spec, applicants(), protected="none", counterfactuals=False, min_share=0.0)
    assert (
        next(r for r in loose[0]["reasons"] if r["term"] == "duration")["reference"]
        == "duration < 12"
    )
    mean = explain_rows(
        spec, applicants(), protected="none", counterfactuals=False, reference="mean"
    )
    assert (
        all(r["impact"] > 0 for r in mean[0]["reasons"])
        and "average applicant" in mean[0]["reasons"][0]["reference"]
    )


def test_default_rule_decline_cites_the_nearest_approving_rule():
    spec = rule_list_spec()
    spec["default"]["probabilities"] = [
        0.2,
        0.8,
    ]  # the default rule now declines (classes: good, bad)
    X = pd.DataFrame(
        {
            "checking_status": [">= 200 DM"],
            "duration": [18],
            "credit_amount": [500],
            "purpose": ["car"],
        }
    )
    assert evaluate(spec, X)["rule"][0] == len(spec["rules"])
    row = explain_rows(spec, X, counterfactuals=False)[0]
    assert row["adverse"] and row["rule"]["is_default"]
    nearest = row["rule"]["nearest"]
    assert nearest and all(n["decision"] == "good" for n in nearest)
    assert row["reasons"] and {r["term"] for r in row["reasons"]} <= {n["rule"] for n in nearest}
    assert not any("does not apply" in r["text"] for r in row["reasons"])


def test_catalogue_and_protected_names(tmp_path):
    cat = load_catalogue(EXAMPLES / "labels_german_credit.json")
    assert cat["features"]["credit_amount"]["high"].startswith("Credit amount too high")
    csv = tmp_path / "labels.csv"
    csv.write_text(
        "feature,label,code,high,special\nmonths_delinq,Months since delinquency,D1,Recent delinquency ({value}),"
        "-9=No credit file\n",
        encoding="utf-8",
    )
    c2 = load_catalogue(csv)
    assert c2["features"]["months_delinq"]["special"] == {"-9": "No credit file"}
    with pytest.raises(ConfigError, match="unknown placeholder"):
        normalise_catalogue({"features": {"x": {"high": "{amount} too high"}}})
    cols = [
        "Age",
        "age_years",
        "mileage",
        "average_balance",
        "marital-status",
        "native-country",
        "personal_status_sex",
        "SexCode",
        "income",
    ]
    assert resolve_protected(cols) == [
        "Age",
        "age_years",
        "marital-status",
        "native-country",
        "personal_status_sex",
        "SexCode",
    ]
    assert resolve_protected(cols, "none") == [] and resolve_protected(cols, "INCOME") == ["income"]
    with pytest.raises(ConfigError, match="unknown column"):
        resolve_protected(cols, "salary")


def test_fine_bins_reference_a_run_of_neighbours_holding_the_min_share():
    """EBM-like: 40 bins of 2.5 % each; the reference is a run of neighbours with >= 5 %."""
    spec = scorecard_spec()
    term = next(t for t in spec["terms"] if t["name"] == "duration")
    edges = [float(e) for e in range(2, 80, 2)]  # 39 edges -> 40 bins (+ missing)
    term["axes"][0]["edges"] = edges
    scores = np.linspace(-1.0, 1.0, 40)
    scores[5] = -3.0  # one very favourable but sparse bin
    term["scores"] = [[0.0]] + [[float(v)] for v in scores]
    term["bin_counts"] = [0] + [25] * 40
    for min_share in (0.05, 0.1):
        rows = explain_rows(
            spec, applicants(), protected="none", counterfactuals=False, min_share=min_share
        )
        dur = next(r for r in rows[0]["reasons"] if r["term"] == "duration")
        assert dur["reference_share"] >= min_share - 1e-9
        n = round(min_share * 40)
        # the best run holds the sparse favourable bin and its most favourable neighbours
        own = float(scores[np.searchsorted(edges, 36.0, side="right")])  # row 0: duration 36
        assert dur["impact"] == pytest.approx(
            own - min(np.convolve(scores, np.ones(n) / n, "valid"))
        )
    assert dur["reference"] == "4 ≤ duration < 12"  # 10 %: four bins ending with the sparse one


def test_reason_points_use_the_scorecard_own_scale():
    import math

    from distill2rules.exporters import to_onnx
    from distill2rules.scoring import Scorer

    spec = scorecard_spec()
    spec["meta"]["scorecard"] = {"points": {"pdo": 40.0, "base_score": 500.0, "base_odds": 20.0}}
    rows = explain_rows(spec, applicants(), protected="none", counterfactuals=False)
    factor = 40.0 / math.log(2.0)
    r0 = rows[0]
    for reason in r0["reasons"]:
        assert reason["points"] == pytest.approx(reason["impact"] * factor)
        assert f"{reason['impact'] * factor:.0f} points" in reason["detail"]
    # the total: the card's base_score at base_odds of the favourable class ('good', index 0)
    assert r0["points"] == pytest.approx(500.0 - factor * math.log(20.0) - factor * r0["score"])
    scorer = Scorer(to_onnx(spec).SerializeToString())
    assert scorer.metadata["points_per_logodds"] == pytest.approx(factor)
    rec = {k: (None if pd.isna(v) else v) for k, v in applicants().iloc[0].items()}
    got = scorer.explain(rec)
    assert got["reasons"] and all(
        r["points"] == pytest.approx(r["impact"] * factor) for r in got["reasons"]
    )


def test_scorer_rule_list_reasons_never_cite_protected_features():
    from distill2rules.exporters import to_onnx
    from distill2rules.scoring import Scorer

    spec = rule_list_spec()
    spec["meta"]["protected"] = ["duration"]  # as if declared --protected duration at fit
    scorer = Scorer(to_onnx(spec).SerializeToString())
    rec = {"checking_status": CHECK_BAD, "duration": 36.0, "credit_amount": 500.0, "purpose": "car"}
    got = scorer.explain(rec)
    assert got["rule"]["name"] == "R1"  # fires on checking_status and duration > 24
    assert got["reasons"] and all("duration" not in r["features"] for r in got["reasons"])
    spec["default"]["probabilities"] = [
        0.2,
        0.8,
    ]  # the default rule declines: failed conditions cited
    scorer = Scorer(to_onnx(spec).SerializeToString())
    got = scorer.explain(
        {"checking_status": ">= 200 DM", "duration": 18.0, "credit_amount": 500.0, "purpose": "car"}
    )
    assert got["rule"]["is_default"] and all(
        "duration" not in r["features"] for r in got["reasons"]
    )
    want = explain_rows(
        spec,
        pd.DataFrame(
            [
                {
                    "checking_status": CHECK_BAD,
                    "duration": 36.0,
                    "credit_amount": 500.0,
                    "purpose": "car",
                }
            ]
        ),
        counterfactuals=False,
    )[0]
    assert all("duration" not in r["features"] for r in want["reasons"])


def test_report_shows_declined_applicants_with_teacher_and_counterfactual(
    scorecard_artifact, german01, tmp_path, cli
):
    import shutil

    from distill2rules.explain import DECISIONS_FILE, save_decisions
    from distill2rules.report import render_report

    art = tmp_path / "art"
    shutil.copytree(scorecard_artifact, art)
    X = pd.read_csv(german01 / "test.csv")
    X.index = [f"<b>app{i}</b>" for i in range(len(X))]  # data reaches the page escaped
    save_decisions(art, X, n=5, immutable=["existing_credits"])
    rec = json.loads((art / DECISIONS_FILE).read_text(encoding="utf-8"))
    assert len(rec["applicants"]) == 5 and rec["teacher"] and rec["adverse_class"] == 1
    assert all(
        a["decision"] == 1 and a["reasons"] and a["teacher"] is not None for a in rec["applicants"]
    )
    assert cli("verify", art).code == 0  # decisions.json is hashed into the manifest
    doc = render_report(art, progress=False)
    sec = doc[doc.index('<section id="applicants">') :]
    sec = sec[: sec.index("</section>")]
    assert "&lt;b&gt;app" in sec and "<b>app" not in sec and "<script" not in doc
    first = rec["applicants"][0]
    assert first["reasons"][0]["text"].split(" (")[0].replace("'", "&#39;") in sec
    cf = first["counterfactual"]
    if cf:
        assert ("flips too" in sec) or ("student only" in sec)
    assert "counterfactuals flip the teacher" in sec

"""`distill2rules evaluate` on a real artifact (german_credit, LightGBM teacher, logreg student)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from tests.conftest import needs_data

pytestmark = needs_data

FAST = ("--shap-rows", "80", "--latency-calls", "20", "--sigmas", "0.01,0.05")


@pytest.fixture
def artifact(german_artifact, tmp_path):
    """A private copy (evaluate writes into it)."""
    dst = tmp_path / "art"
    shutil.copytree(german_artifact, dst)
    return dst


def test_evaluate_prints_and_stores_every_measure(cli, artifact):
    from distill2rules.artifact import read_manifest, verify_artifact

    r = cli("evaluate", artifact, "--data", "german_credit", "--quiet", *FAST)
    assert r.code == 0, r.err
    for label in (
        "accuracy",
        "ROC AUC",
        "ECE",
        "fidelity (agreement)",
        "SHAP cosine per row",
        "SHAP MAD",
        "stability σ=0.05",
        "parameter reduction (PRR)",
        "ONNX latency 1 row",
        "KD vs no-KD",
        "McNemar",
    ):
        assert label in r.out, label
    saved = json.loads((artifact / "evaluation.json").read_text())
    assert "evaluation.json" in read_manifest(artifact)["files"]
    verify_artifact(artifact)  # hashes re-computed atomically
    assert saved["data"] == {
        "name": "german_credit",
        "split": "test",
        "n_rows": 150,
        "teacher": saved["data"]["teacher"],
        "teacher_matches_manifest": True,
    }
    assert saved["config"]["shap_rows"] == 80
    assert saved["teacher"]["attributions"]["method"].startswith("shap.TreeExplainer")
    assert saved["student"]["attributions"]["method"].startswith("exact additive")
    assert -1 <= saved["alignment"]["cosine_mean"] <= 1
    assert set(saved["student"]["stability"]["per_sigma"]) == {"0.01", "0.05"}
    assert saved["student"]["onnx_latency"]["single_row"]["mean_ms"] > 0
    # the test split's accuracy agrees with what `fit` measured on the same split
    metrics = json.loads((artifact / "metrics.json").read_text())
    assert saved["student"]["predictive"]["accuracy"] == pytest.approx(
        metrics["test"]["student"]["accuracy"]
    )
    cmp_ = saved["kd_vs_no_kd"]
    assert cmp_["no_kd"]["accuracy"] == pytest.approx(metrics["test"]["baseline"]["accuracy"])
    assert cmp_["kd"]["cosine"] == pytest.approx(saved["alignment"]["cosine_mean"])
    assert saved["baseline"]["alignment"]["cosine_mean"] == pytest.approx(cmp_["no_kd"]["cosine"])
    mc = saved["mcnemar"]
    assert 0 <= mc["p_value"] <= 1 and mc["n"] == 150
    kd_right = round(cmp_["kd"]["accuracy"] * 150)
    base_right = round(cmp_["no_kd"]["accuracy"] * 150)
    assert mc["details"]["n01"] - mc["details"]["n10"] == kd_right - base_right


def test_evaluate_json_other_data_uses_all_rows(cli, artifact, tmp_path):
    from distill2rules.data import load_dataset

    csv = tmp_path / "rows.csv"
    load_dataset("german_credit").frame.iloc[:120].to_csv(csv, index=False)
    r = cli(
        "evaluate",
        artifact,
        "--data",
        csv,
        "--json",
        "--no-save",
        "--latency-calls",
        "0",
        "--shap-rows",
        "40",
        "--sigmas",
        "0.05",
    )
    assert r.code == 0, r.err
    res = json.loads(r.out)
    assert res["data"]["split"] == "all" and res["data"]["n_rows"] == 120
    assert "latency" not in res["student"]
    assert not (artifact / "evaluation.json").exists()


def test_evaluate_errors_are_one_line(cli, artifact, tmp_path):
    r = cli(
        "evaluate",
        artifact,
        "--data",
        "german_credit",
        "--teacher",
        tmp_path / "missing.txt",
        "--quiet",
    )
    assert r.code == 2 and "error:" in r.err and "Traceback" not in r.err
    r = cli("evaluate", artifact, "--data", "german_credit", "--split", "train")
    assert r.code == 2 and "--split must be 'test' or 'all'" in r.err
    r = cli("evaluate", artifact, "--data", "german_credit", "--sigmas", "a,b")
    assert r.code == 2 and "--sigmas" in r.err


def test_compare_students_shares_rows_with_evaluate_student(german_teacher, german_artifact):
    """The baseline block is computed on exactly the rows evaluate_student explains."""
    from distill2rules.experiments.runs import compare_students, prepare_eval_inputs
    from distill2rules.validation import evaluate_student

    inp = prepare_eval_inputs(german_artifact, "german_credit")
    full = evaluate_student(
        inp.teacher,
        inp.spec,
        inp.X,
        inp.y_idx,
        X_background=inp.X_background,
        shap_rows=50,
        sigmas=(0.05,),
        stability_rows=20,
        latency_calls=0,
        progress=False,
    )
    cmp_ = compare_students(
        inp.teacher,
        {"kd": inp.spec},
        inp.X,
        inp.y_idx,
        X_background=inp.X_background,
        shap_rows=50,
        sigmas=(0.05,),
        stability_rows=20,
    )
    kd = cmp_["students"]["kd"]
    assert kd["alignment"]["cosine_mean"] == pytest.approx(full["alignment"]["cosine_mean"])
    assert kd["stability"]["per_sigma"]["0.05"]["mean"] == pytest.approx(
        full["student"]["stability"]["per_sigma"]["0.05"]["mean"]
    )
    assert cmp_["teacher"]["stability"]["per_sigma"]["0.05"]["mean"] == pytest.approx(
        full["teacher"]["stability"]["per_sigma"]["0.05"]["mean"]
    )
    assert cmp_["correct"]["kd"].mean() == pytest.approx(full["student"]["predictive"]["accuracy"])
    assert cmp_["correct"]["teacher"].dtype == np.bool_

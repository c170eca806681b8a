"""`fit`, `predict`, `verify`, `explain` end to end through the real CLI entry point."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.skipif(
    __import__("os").environ.get("DISTILL2RULES_DATA") is None, reason="needs DISTILL2RULES_DATA"
)

EBM_FAST = ["-p", "interactions=2", "-p", "outer_bags=1", "-p", "max_bins=32"]


def test_every_command_has_help(cli):
    import typer.main

    from distill2rules.cli.main import app

    group = typer.main.get_command(app)
    names = sorted(group.commands)
    for want in ("fit", "predict", "quickstart", "teacher", "export", "verify", "explain", "data"):
        assert want in names
    for name in names:
        r = cli(name, "--help")
        assert r.code == 0, (name, r.err)
        assert "Usage" in r.out


@pytest.mark.parametrize("student,extra", [("logreg", []), ("ebm", EBM_FAST)])
def test_fit_writes_a_verified_artifact(cli, german_gbt, tmp_path, student, extra):
    out = tmp_path / student
    r = cli(
        "fit",
        "--teacher",
        german_gbt,
        "--student",
        student,
        "--data",
        "german_credit",
        "--out",
        out,
        "--temperature",
        "2",
        "--alpha",
        "0.1",
        "--quiet",
        "--json",
        *extra,
    )
    assert r.code == 0, r.err
    metrics = json.loads(r.out)
    test = metrics["test"]
    assert 0.5 < test["teacher"]["accuracy"] <= 1.0
    s = test["student"]
    assert s["fidelity"] > 0.7
    assert s["retention"] == pytest.approx(s["accuracy"] / test["teacher"]["accuracy"])
    assert "baseline" in test  # KD and no-KD side by side
    for name in (
        "manifest.json",
        "student.json",
        "metrics.json",
        "student.onnx",
        "rulecard.md",
        "baseline.json",
    ):
        assert (out / name).is_file(), name
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["files"]) >= {"student.json", "metrics.json", "student.onnx"}
    assert cli("verify", out).code == 0


def test_predict_writes_one_probability_column_per_class(cli, logreg_art, tmp_path):
    from distill2rules.data import load_dataset

    art = logreg_art
    rows = load_dataset("german_credit").X.head(25)
    rows.to_csv(tmp_path / "rows.csv", index=False)
    r = cli("predict", art, "--data", tmp_path / "rows.csv", "--out", tmp_path / "pred.csv")
    assert r.code == 0, r.err
    pred = pd.read_csv(tmp_path / "pred.csv")
    assert list(pred.columns) == ["p_bad", "p_good"]
    assert np.allclose(pred.sum(axis=1), 1.0, atol=1e-6)
    r = cli("explain", art, "--data", tmp_path / "rows.csv", "--top", "3", "--json")
    lines = [json.loads(l) for l in r.out.strip().splitlines()]
    assert len(lines) == 25 and all(len(l["reasons"]) <= 3 for l in lines)


def test_export_rulecard_to_one_named_file_or_a_directory(cli, logreg_art, tmp_path):
    art = logreg_art
    for name in ("card.md", "card.html", "card.json"):
        r = cli("export", art, "--format", "rulecard", "--out", tmp_path / name)
        assert r.code == 0, r.err
        assert (tmp_path / name).is_file(), name
    assert (tmp_path / "card.md").read_text().startswith("# Rule card")
    assert (tmp_path / "card.html").read_text().lstrip().lower().startswith("<!doctype html")
    assert "summary" in json.loads((tmp_path / "card.json").read_text())
    r = cli("export", art, "--format", "rulecard", "--out", tmp_path / "cards")
    assert r.code == 0 and sorted(p.name for p in (tmp_path / "cards").iterdir()) == [
        "rulecard.html",
        "rulecard.json",
        "rulecard.md",
    ]
    assert not list(tmp_path.glob(".*.tmp"))


def test_tampered_artifact_fails_verification(cli, logreg_art):
    art = logreg_art
    spec = json.loads((art / "student.json").read_text())
    spec["intercept"][0] += 1.0
    (art / "student.json").write_text(json.dumps(spec))
    r = cli("verify", art)
    assert r.code == 2
    assert "student.json does not match its sha256" in r.err


@pytest.fixture
def german_csv(tmp_path):
    from distill2rules.data import load_dataset

    df = load_dataset("german_credit").frame
    p = tmp_path / "german.csv"
    df.to_csv(p, index=False)
    return df, p


def _bad(cli, tmp_path, *args):
    out = tmp_path / "never"
    r = cli("fit", *args, "--out", out, "-q")
    assert r.code == 2, (r.code, r.err)
    lines = [l for l in r.err.strip().splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), r.err
    assert "Traceback" not in r.err
    assert not out.exists()
    return lines[0]


def test_bad_inputs_exit_2_with_one_line(cli, german_gbt, german_csv, tmp_path):
    df, p = german_csv
    t = str(german_gbt)
    assert "target" in _bad(cli, tmp_path, "--teacher", t, "--data", p, "--target", "nope")
    assert "unknown teacher format" in _bad(
        cli,
        tmp_path,
        "--teacher",
        t,
        "--data",
        p,
        "--target",
        "credit_risk",
        "--teacher-format",
        "weird",
    )
    nan_target = df.copy()
    nan_target.loc[3, "credit_risk"] = None
    nan_target.to_csv(tmp_path / "nan.csv", index=False)
    assert "missing" in _bad(
        cli, tmp_path, "--teacher", t, "--data", tmp_path / "nan.csv", "--target", "credit_risk"
    )
    one = df.assign(credit_risk="good")
    one.to_csv(tmp_path / "one.csv", index=False)
    assert "class" in _bad(
        cli, tmp_path, "--teacher", t, "--data", tmp_path / "one.csv", "--target", "credit_risk"
    )
    df.drop(columns=["duration_months"]).to_csv(tmp_path / "fewer.csv", index=False)
    assert "duration_months" in _bad(
        cli, tmp_path, "--teacher", t, "--data", tmp_path / "fewer.csv", "--target", "credit_risk"
    )
    assert "temperature" in _bad(
        cli, tmp_path, "--teacher", t, "--data", p, "--target", "credit_risk", "--temperature", "-1"
    )
    assert "alpha" in _bad(
        cli, tmp_path, "--teacher", t, "--data", p, "--target", "credit_risk", "--alpha", "1.5"
    )
    assert "student" in _bad(
        cli, tmp_path, "--teacher", t, "--data", p, "--target", "credit_risk", "--student", "forest"
    )
    assert "teacher" in _bad(
        cli, tmp_path, "--teacher", tmp_path / "missing.txt", "--data", p, "--target", "credit_risk"
    )

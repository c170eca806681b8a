"""--augment, --assistant, --temperature/--alpha auto and --sizes through distill() and the CLI.

The teacher is a real LightGBM Booster trained here on german_credit and saved as model.txt.
"""

from __future__ import annotations

import json
import os

import pandas as pd
import pytest

from distill2rules.errors import ConfigError

pytestmark = pytest.mark.skipif(
    not os.environ.get("DISTILL2RULES_DATA"), reason="needs DISTILL2RULES_DATA (german_credit)"
)


@pytest.fixture(scope="module")
def teacher(tmp_path_factory):
    import lightgbm as lgb

    from distill2rules.data import split_frame
    from distill2rules.pipeline import load_inputs

    ds = load_inputs("german_credit", None)
    train = split_frame(ds.frame, ds.target, seed=0).train
    X = train.drop(columns=[ds.target]).copy()
    for c in X.columns:
        if X[c].dtype == object or str(X[c].dtype).startswith("str"):
            X[c] = pd.Categorical(X[c].astype(object))
    y = (train[ds.target].astype(str) == "good").astype(int)  # classes sorted: bad, good
    booster = lgb.train(
        {
            "objective": "binary",
            "num_leaves": 8,
            "learning_rate": 0.1,
            "verbose": -1,
            "seed": 0,
            "num_threads": 1,
            "deterministic": True,
        },
        lgb.Dataset(X, y),
        num_boost_round=40,
    )
    path = tmp_path_factory.mktemp("teacher") / "model.txt"
    booster.save_model(str(path))
    return path


def _distill(teacher, **kw):
    from distill2rules.pipeline import distill

    return distill(teacher, "german_credit", progress=False, out=None, **kw)


def test_augment_records_its_effect(teacher):
    res = _distill(
        teacher, student="rules", augment=400, baseline=False, student_params={"max_rules": 5}
    )
    aug = res.metrics["augment"]
    assert aug["rows"] == 400 and sum(aug["methods"].values()) == 400
    for split in ("val", "test"):
        for which in ("with", "without"):
            assert 0.5 < aug["effect"][split][which]["fidelity"] <= 1.0
    assert res.metrics["test"]["student"]["fidelity"] == pytest.approx(
        aug["effect"]["test"]["with"]["fidelity"]
    )


def test_augment_auto_picks_the_multiplier_on_validation_fidelity(teacher):
    res = _distill(teacher, student="logreg", augment="auto", baseline=False)
    aug = res.metrics["augment"]
    n_train = res.metrics["split_sizes"]["train"]
    grid = aug["auto"]["grid"]
    assert [g["rows"] for g in grid] == [0, 5 * n_train, 20 * n_train] and aug[
        "rows"
    ] == 20 * n_train
    chosen = [g for g in grid if g["chosen"]]
    assert (
        len(chosen) == 1
        and chosen[0]["val_fidelity"] >= max(g["val_fidelity"] for g in grid) - 0.001
    )
    assert res.metrics["val"]["student"]["fidelity"] == pytest.approx(chosen[0]["val_fidelity"])
    assert res.metrics["val"]["n_rows"] == res.metrics["split_sizes"]["val"]  # real rows only
    assert aug["methods"]["marginal"] == 0 and aug["requested"] == "auto"
    assert set(aug["effect"]) == {"val", "test"}
    assert (
        res.metrics["temperature"] == 0.0
        and res.metrics["temperature_source"] == "default for logreg"
    )


def test_assistant_is_a_middle_stage(teacher, torch_one_thread):
    res = _distill(
        teacher,
        student="tree",
        assistant="mlp:16-8",
        student_params={"max_depth": 3},
        baseline=False,
    )
    a = res.metrics["assistant"]
    assert a["kind"] == "mlp" and a["size"]["layers"] == [16, 8, 1]
    assert a["fidelity_to_teacher"]["val"] > 0.75
    assert res.metrics["test"]["student"]["fidelity"] > 0.7  # still measured against the teacher


def test_temperature_and_alpha_auto(teacher):
    res = _distill(
        teacher,
        student="tree",
        temperature="auto",
        alpha="auto",
        student_params={"max_depth": 3},
        baseline=False,
    )
    tuned = res.metrics["autotune"]
    assert (
        tuned["searched"] == ["temperature", "alpha"] and len(tuned["grid"]) == 12
    )  # τ ∈ {0, 1, 2, 4} × 3 α
    chosen = [g for g in tuned["grid"] if g["chosen"]]
    assert len(chosen) == 1
    best = max(g["val_fidelity"] for g in tuned["grid"])
    assert chosen[0]["val_fidelity"] >= best - tuned["tie_tolerance"]
    assert (res.metrics["temperature"], res.metrics["alpha"]) == (
        chosen[0]["temperature"],
        chosen[0]["alpha"],
    )
    assert res.spec["meta"]["temperature"] == chosen[0]["temperature"]


def test_mlp_student_gets_the_exact_loss_and_autotuned_temperature(teacher, torch_one_thread):
    res = _distill(
        teacher,
        student="mlp",
        temperature="auto",
        student_params={"hidden": [8], "epochs": 10},
        baseline=False,
    )
    assert res.spec["meta"]["loss"] == "kd"
    assert res.spec["meta"]["temperature"] == res.metrics["temperature"] in (0.0, 1.0, 2.0, 4.0)


def test_pilot_sizes(teacher):
    from distill2rules.experiments.pilot import parse_sizes, pilot_sizes

    assert parse_sizes("logreg", "5,all") == [5, None]
    assert parse_sizes("mlp", "16,32-16") == [(16,), (32, 16)]
    assert parse_sizes("tree", "default") == [2, 3, 4, 6]
    with pytest.raises(ConfigError, match="max_rules sizes must be integers"):
        parse_sizes("rules", "5,ten")
    res = pilot_sizes(teacher, "german_credit", student="rules", sizes="2,6", baseline=True)
    assert [r["size"] for r in res.rows] == ["2", "6"]
    assert res.rows[0]["complexity"]["rules"] <= 2 and res.rows[1]["complexity"]["rules"] <= 6
    for r in res.rows:
        assert 0 < r["val"]["fidelity"] <= 1 and 0 < r["val_no_kd"]["accuracy"] <= 1


def test_cli_fit_with_the_new_options(teacher, tmp_path, cli):
    def fit(out, *args):
        """``distill2rules fit`` of the teacher on german_credit into ``tmp_path / out``."""
        r = cli(
            "fit", "--teacher", teacher, "--data", "german_credit", "--out", tmp_path / out, *args
        )
        return r.code, r

    code, cap = fit(
        "sizes",
        "--student",
        "tree",
        "--sizes",
        "2,3",
        "--json",
        "--quiet",
    )
    assert code == 0, cap.err
    pilot = json.loads(cap.out)
    assert pilot["param"] == "max_depth" and [r["size"] for r in pilot["rows"]] == ["2", "3"]
    assert not (tmp_path / "sizes").exists()  # a pilot writes nothing
    code, cap = fit(
        "art",
        "--student",
        "rules",
        "--augment",
        "200",
        "--assistant",
        "tree:max_depth=4",
        "--json",
        "--quiet",
        "--no-onnx",
    )
    assert code == 0, cap.err
    metrics = json.loads((tmp_path / "art" / "metrics.json").read_text())
    assert metrics["augment"]["rows"] == 200 and metrics["assistant"]["kind"] == "tree"
    code, cap = fit(
        "bad",
        "--student",
        "rules",
        "--assistant",
        "forest",
    )
    assert code == 2 and "unknown assistant kind" in cap.err
    code, cap = fit(
        "t0",
        "--student",
        "tree",
        "--temperature",
        "0",
        "--augment",
        "1x",
        "--json",
        "--quiet",
        "--no-baseline",
    )
    assert code == 0, cap.err
    metrics = json.loads((tmp_path / "t0" / "metrics.json").read_text())
    assert (
        metrics["temperature"] == 0
        and metrics["temperature_source"] == "given"
        and "decisions" in metrics["targets"]
    )
    assert (
        metrics["augment"]["rows"] == metrics["split_sizes"]["train"]
        and metrics["augment"]["requested"] == "1x"
    )
    card = (tmp_path / "t0" / "rulecard.md").read_text()
    assert "teacher's decisions" in card
    code, cap = fit(
        "bad2",
        "--augment",
        "lots",
    )
    assert code == 2 and "--augment 5x" in cap.err

"""`distill2rules benchmark paper` in smoke mode (breast_cancer, one seed) and the aggregation maths."""

from __future__ import annotations

import csv
import json

import pytest

from tests.conftest import needs_data


@needs_data
def test_benchmark_smoke_tables_and_files(cli, tmp_path):
    out = tmp_path / "paper"
    r = cli("benchmark", "paper", "--smoke", "--out", out, "--quiet")
    assert r.code == 0, r.err
    assert "Table 2" in r.out and "Table 3" in r.out and "Temperature curve" in r.out
    for model in (
        "| breast_cancer | teacher |",
        "| breast_cancer | student (no KD) |",
        "| breast_cancer | student (KD) |",
    ):
        assert model in r.out
    for measure in (
        "| breast_cancer | SHAP cosine |",
        "| breast_cancer | SHAP MAD |",
        "| breast_cancer | stability σ=0.05 |",
    ):
        assert measure in r.out
    res = json.loads((out / "paper_results.json").read_text())
    assert (
        res["settings"]["mode"] == "smoke"
        and res["settings"]["seeds"] == [0]
        and res["errors"] == []
    )
    assert [row["model"] for row in res["table2"]] == ["teacher", "student (no KD)", "student (KD)"]
    (run,) = res["runs"]
    assert run["split_sizes"][0] == 398 and sorted(run["split_sizes"][1:]) == [
        85,
        86,
    ]  # 70/15/15 of 569
    assert run["teacher"]["explainer"].startswith("shap.TreeExplainer")
    assert run["kd"]["explainer"].startswith("exact additive")
    for who in ("no_kd", "kd"):
        assert (
            0.8 < run[who]["accuracy"] <= 1
            and -1 <= run[who]["cosine"] <= 1
            and 0 <= run[who]["mad"] <= 1
        )
        assert run[who]["prr"] > 0.9  # LR vs 200 trees
    t3 = res["table3"][0]
    assert t3["cosine"]["kd"]["mean"] == pytest.approx(run["kd"]["cosine"])
    assert t3["cosine"]["test"]["p_value"] is None  # one seed: no test
    assert [c["temperature"] for c in res["temperature_curve"]] == [1.0, 4.0]
    # τ=4 in the curve is the configuration of the KD student (same seed): same accuracy
    assert res["temperature_curve"][1]["accuracy"] == pytest.approx(run["kd"]["accuracy"])
    assert (out / "table2.md").read_text().startswith("| dataset | model |")
    assert len(list(csv.DictReader(open(out / "runs.csv")))) == 3
    assert len(list(csv.DictReader(open(out / "temperature_curve.csv")))) == 2


def test_aggregate_paired_statistics():
    from distill2rules.experiments.paper import aggregate, format_table3

    def rec(seed, kd, no):
        base = {"accuracy": 0.9, "cosine": None, "stability": 0.8, "fidelity": None}
        return {
            "dataset": "d",
            "seed": seed,
            "teacher": base,
            "kd": {
                "accuracy": 0.8,
                "fidelity": 0.9,
                "cosine": kd,
                "global_cosine": kd,
                "mad": 0.1,
                "stability": 0.9,
            },
            "no_kd": {
                "accuracy": 0.8,
                "fidelity": 0.9,
                "cosine": no,
                "global_cosine": no,
                "mad": 0.1,
                "stability": 0.9,
            },
        }

    recs = [rec(0, 0.70, 0.60), rec(1, 0.72, 0.61), rec(2, 0.75, 0.66)]
    tables = aggregate(recs, ["d"])
    (row,) = tables["table3"]
    from scipy import stats

    p = stats.ttest_rel([0.70, 0.72, 0.75], [0.60, 0.61, 0.66]).pvalue
    assert row["cosine"]["test"]["p_value"] == pytest.approx(p)
    import numpy as np

    sp = np.sqrt((np.var([0.70, 0.72, 0.75], ddof=1) + np.var([0.60, 0.61, 0.66], ddof=1)) / 2)
    assert row["cosine"]["test"]["cohens_d"] == pytest.approx(
        (0.7233333 - 0.6233333) / sp, rel=1e-4
    )
    assert row["cosine"]["kd"]["mean"] == pytest.approx(0.7233333, rel=1e-6)
    assert row["accuracy"]["test"]["p_value"] is None  # identical values: t undefined
    assert [r["model"] for r in tables["table2"]] == ["teacher", "student (no KD)", "student (KD)"]
    assert tables["table2"][0]["cosine"]["mean"] is None
    md = format_table3(tables)
    assert "| d | SHAP cosine | 0.623 ± 0.032 | 0.723 ± 0.025 |" in md


def test_presets():
    from distill2rules.errors import ConfigError
    from distill2rules.experiments.paper import PaperSettings

    q = PaperSettings.preset(quick=True)
    assert q.seeds == (0, 1) and q.max_rows == {"adult": 8000} and q.shap_rows == 200
    full = PaperSettings.preset(seeds=5)
    assert full.seeds == (0, 1, 2, 3, 4) and full.shap_rows == 500 and full.max_rows == {}
    with pytest.raises(ConfigError, match="--seeds must be >= 1"):
        PaperSettings.preset(seeds=0)

"""`distill2rules sweep` with joblib (loky processes) and with a real Dask LocalCluster on loopback."""

from __future__ import annotations

import csv
import json

import pytest

from distill2rules.errors import ConfigError
from tests.conftest import needs_data

pytestmark = needs_data


def test_sweep_cli_joblib_writes_files_and_j(cli, german_teacher, tmp_path):
    out = tmp_path / "sweep"
    r = cli(
        "sweep",
        "--teacher",
        german_teacher,
        "--data",
        "german_credit",
        "--student",
        "logreg",
        "--seeds",
        "0",
        "--temperatures",
        "2",
        "--alphas",
        "0.5",
        "--sizes",
        "3,8",
        "--weights",
        "1,0.5,0.5",
        "--out",
        out,
        "--n-jobs",
        "2",
        "--alignment-rows",
        "60",
        "--latency-calls",
        "20",
        "--quiet",
    )
    assert r.code == 0, r.err
    assert "Pareto front" in r.out and "top 2 of 2" in r.out
    rows = list(csv.DictReader(open(out / "sweep.csv")))
    assert [json.loads(x["size"]) for x in rows] == [3, 8]
    assert all(x["error"] == "" for x in rows)
    res = json.loads((out / "sweep.json").read_text())
    runs = res["runs"]
    small, big = runs
    assert small["params"] < big["params"]
    # cost is normalised across the grid; J = P - 0.5 C + 0.5 I
    assert (small["cost"], big["cost"]) == (0.0, 1.0)
    for run in runs:
        assert run["J"] == pytest.approx(run["accuracy"] - 0.5 * run["cost"] + 0.5 * run["cosine"])
        assert 0 < run["cosine"] <= 1 and 0 <= run["fidelity"] <= 1 and run["latency_ms"] > 0
    front = json.loads((out / "pareto.json").read_text())
    assert front["objectives"] == {"accuracy": "max", "params": "min", "cosine": "max"}
    assert any(
        f["size"] == 3 for f in front["front"]
    )  # the cheapest configuration is never dominated
    assert res["top"][0]["J"] == max(run["J"] for run in runs)


def test_sweep_dask_local_cluster(german_teacher, tmp_path):
    from distributed import LocalCluster

    from distill2rules.experiments.sweep import run_sweep

    with LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=False,
        protocol="tcp",
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        res = run_sweep(
            german_teacher,
            "german_credit",
            student="logreg",
            seeds=[0, 1],
            temperatures=[4.0],
            alphas=[0.0],
            backend="dask",
            scheduler=cluster.scheduler_address,
            alignment_rows=40,
            latency_calls=10,
            out=tmp_path,
            progress=False,
        )
    assert res["n_failed"] == 0 and [r["seed"] for r in res["runs"]] == [0, 1]
    assert res["summary"][0]["n_seeds"] == 2 and res["summary"][0]["accuracy_sd"] >= 0
    assert res["config"]["backend"] == "dask"
    assert (tmp_path / "sweep.csv").is_file() and (tmp_path / "pareto.json").is_file()


def test_sweep_rejects_bad_inputs(german_teacher, tmp_path):
    from distill2rules.experiments.sweep import parse_size, run_sweep

    with pytest.raises(ConfigError, match="size parameter 'depth'"):
        run_sweep(
            german_teacher,
            "german_credit",
            student="logreg",
            sizes=["3"],
            size_param="depth",
            progress=False,
        )
    with pytest.raises(ConfigError, match="--performance"):
        run_sweep(
            german_teacher, "german_credit", student="logreg", performance="auc", progress=False
        )
    with pytest.raises(ConfigError, match="--backend"):
        run_sweep(
            german_teacher,
            "german_credit",
            student="logreg",
            seeds=[0],
            temperatures=[1],
            alphas=[0],
            backend="spark",
            progress=False,
        )
    assert parse_size("64-32", "hidden") == [64, 32]
    assert parse_size("0.5", "min_support") == 0.5 and parse_size("none", "max_terms") is None

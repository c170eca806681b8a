"""A real artifact (LightGBM teacher → logreg student on breast_cancer) with evaluation.json, shared by the report tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import data_dir


def _build_artifact(root: Path) -> Path:
    from distill2rules.experiments.runs import evaluate_artifact
    from distill2rules.pipeline import distill
    from distill2rules.quickstart import train_reference_teacher

    teacher = root / "teacher" / "model.txt"
    train_reference_teacher("gbt", "breast_cancer", teacher, seed=0, progress=False)
    art = root / "lr"
    distill(
        teacher, "breast_cancer", student="logreg", temperature=2.0, seed=0, out=art, progress=False
    )
    evaluate_artifact(
        art, "breast_cancer", shap_rows=40, sigmas=(0.05,), latency_calls=10, progress=False
    )
    return art


@pytest.fixture(scope="session")
def artifact(tmp_path_factory, worker_id) -> Path:
    """Built once per test run: pytest-xdist workers share it through a file lock (tests copy before changing it)."""
    if data_dir() is None:
        pytest.skip("DISTILL2RULES_DATA does not point at ../shared/datasets")
    if worker_id == "master":
        return _build_artifact(tmp_path_factory.mktemp("report"))
    from filelock import FileLock

    shared = tmp_path_factory.getbasetemp().parent / "report_artifact"
    with FileLock(str(shared) + ".lock"):
        done = shared / "lr" / "evaluation.json"
        if not done.is_file():
            shared.mkdir(exist_ok=True)
            _build_artifact(shared)
    return shared / "lr"


@pytest.fixture(scope="session")
def sweep_dir(tmp_path_factory) -> Path:
    """sweep.json / pareto.json in the layout `distill2rules sweep` writes (write_sweep), six configurations."""
    from distill2rules.experiments.pareto import pareto_front
    from distill2rules.experiments.sweep import write_sweep

    summary = []
    for t, size, acc, params, cos in (
        (1, 3, 0.92, 4, 0.60),
        (2, 3, 0.93, 4, 0.66),
        (4, 3, 0.91, 4, 0.58),
        (1, 10, 0.96, 11, 0.62),
        (2, 10, 0.97, 11, 0.59),
        (4, 10, 0.95, 11, 0.70),
    ):
        summary.append(
            {
                "temperature": float(t),
                "alpha": 0.0,
                "size": size,
                "n_seeds": 2,
                "seeds": [0, 1],
                "accuracy": acc,
                "accuracy_sd": 0.01,
                "fidelity": acc + 0.01,
                "fidelity_sd": 0.01,
                "params": float(params),
                "params_sd": 0.0,
                "cosine": cos,
                "cosine_sd": 0.02,
                "J": acc - 0.1,
            }
        )
    front = [summary[i] for i in pareto_front(summary)]
    d = tmp_path_factory.mktemp("sweep")
    write_sweep(
        {
            "config": {
                "student": "logreg",
                "size_param": "max_terms",
                "pareto_objectives": {"accuracy": "max", "params": "min", "cosine": "max"},
            },
            "runs": [],
            "summary": summary,
            "top": summary[:2],
            "pareto": front,
        },
        d,
    )
    assert json.loads((d / "pareto.json").read_text())["front"]
    return d


@pytest.fixture
def cli(capsys):
    """Run the real entry point in-process; returns (code, out, err)."""
    from types import SimpleNamespace

    from distill2rules.cli.main import main

    def run(*args):
        capsys.readouterr()
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        cap = capsys.readouterr()
        return SimpleNamespace(code=code, out=cap.out, err=cap.err)

    return run

"""Every example in examples/ runs with its small settings (in a subprocess), so none can rot."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import needs_data

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
pytestmark = [needs_data, pytest.mark.slow]


def run(script: str, *args: str, isolated: bool = False, timeout: int = 600) -> str:
    env = {
        **os.environ,
        "DISTILL2RULES_EXAMPLE_SMALL": "1",
        "MPLBACKEND": "Agg",
        "OMP_NUM_THREADS": "1",
    }
    cmd = [sys.executable, *(["-I"] if isolated else []), str(EXAMPLES / script), *args]
    p = subprocess.run(
        cmd, capture_output=True, text=True, env=env, timeout=timeout, cwd=ROOT, check=False
    )
    assert p.returncode == 0, f"{script} failed:\n{p.stdout[-2000:]}\n{p.stderr[-3000:]}"
    return p.stdout


@pytest.fixture(scope="module")
def loan(tmp_path_factory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("loan")
    return out, run("loan_decisions.py", "--small", "--out", str(out))


def test_loan_decisions(loan):
    out, stdout = loan
    assert "rule card" in stdout and "reason codes for" in stdout
    assert "decision" in stdout and "counterfactual" in stdout
    assert (out / "ebm" / "student.onnx").is_file() and (out / "declined_applicants.csv").is_file()


def test_edge_inference_uses_onnxruntime_only(loan):
    out, _ = loan
    # -I: isolated mode (no PYTHONPATH, no user site, no cwd on sys.path); the script reports sys.modules itself
    stdout = run(
        "edge_inference.py",
        "--small",
        str(out / "ebm" / "student.onnx"),
        str(out / "declined_applicants.csv"),
        isolated=True,
    )
    assert "decision 'bad'" in stdout and "reason 1:" in stdout
    assert stdout.rstrip().endswith("distill2rules imported: False")


def test_edge_inference_runs_with_only_numpy_and_onnxruntime(loan, tmp_path):
    """A sandbox holding numpy and onnxruntime alone (no site-packages: ``-S -E -s``): the
    edge device's environment. Any other import in the example would fail here."""
    import numpy
    import onnxruntime

    site = tmp_path / "site"
    site.mkdir()
    for mod in (numpy, onnxruntime):
        pkg = Path(mod.__file__).parent
        (site / pkg.name).symlink_to(pkg)
        libs = pkg.parent / f"{pkg.name}.libs"  # vendored shared libraries of manylinux wheels
        if libs.is_dir():
            (site / libs.name).symlink_to(libs)
    out, _ = loan
    boot = (
        "import runpy, sys; sys.path.insert(0, sys.argv.pop(1)); sys.argv = sys.argv[1:]; "
        "import importlib.util as u; assert u.find_spec('pandas') is None and u.find_spec('onnx') is None; "
        "runpy.run_path(sys.argv[0], run_name='__main__')"
    )
    cmd = [
        sys.executable,
        "-S",
        "-E",
        "-s",
        "-c",
        boot,
        str(site),
        str(EXAMPLES / "edge_inference.py"),
        "--small",
        str(out / "ebm" / "student.onnx"),
        str(out / "declined_applicants.csv"),
    ]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=tmp_path, check=False)
    assert p.returncode == 0, p.stderr[-3000:]
    assert "decision 'bad'" in p.stdout and "reason 1:" in p.stdout
    assert p.stdout.rstrip().endswith("distill2rules imported: False")


def test_edge_reasons_match_explain(loan):
    """The edge script's top reason per row is the one `distill2rules explain` gives (same spec, same reference)."""
    import re

    import pandas as pd

    from distill2rules.artifact import load_spec
    from distill2rules.exporters.reasons import explain_rows

    out, _ = loan
    stdout = run(
        "edge_inference.py",
        str(out / "ebm" / "student.onnx"),
        str(out / "declined_applicants.csv"),
        isolated=True,
    )
    edge_top = re.findall(r"reason 1: (.+?) pushes", stdout)
    rows = explain_rows(
        load_spec(out / "ebm"),
        pd.read_csv(out / "declined_applicants.csv"),
        top=1,
        adverse_class="bad",
        counterfactuals=False,
    )
    assert edge_top and len(edge_top) == len(rows)
    assert all(top == r["reasons"][0]["term"] for top, r in zip(edge_top, rows))


def test_healthcare_writes_a_report(tmp_path):
    stdout = run("healthcare.py", "--small", "--out", str(tmp_path))
    report = tmp_path / "ebm" / "report.html"
    assert "report:" in stdout and report.is_file()
    html = report.read_text(encoding="utf-8")
    assert "The student: shape functions" in html and html.count("data:image/png;base64,") >= 5


def test_byo_pytorch_teacher(tmp_path):
    stdout = run("byo_pytorch_teacher.py", "--small", "--out", str(tmp_path))
    assert "teacher.torchscript.pt" in stdout and "teacher.pt " in stdout
    assert stdout.count("logreg student acc") == 2


def test_paper_benchmark_smoke(tmp_path):
    stdout = run("paper_benchmark.py", "--small", "--out", str(tmp_path))
    assert "mode smoke" in stdout and "student (KD)" in stdout
    assert (tmp_path / "paper_results.json").is_file()


def test_every_example_is_tested():
    tested = {
        "loan_decisions.py",
        "edge_inference.py",
        "healthcare.py",
        "byo_pytorch_teacher.py",
        "paper_benchmark.py",
        "train_teacher_outside.py",
    }  # the last one is run by tests/teachers/test_teacher_example.py
    assert {p.name for p in EXAMPLES.glob("*.py")} <= tested

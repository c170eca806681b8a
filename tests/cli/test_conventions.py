"""CLI conventions: --version, python -m, '-' for stdin/stdout, versioned --json, --student choices,
missing optional dependencies named by their extra."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
ART = FIXTURES / "artifact_german_logreg"
ROWS = FIXTURES / "german_rows.csv"


def _module(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "distill2rules", *args],
        input=stdin,
        capture_output=True,
        timeout=300,
        check=False,
    )


def test_version_matches_the_distribution_metadata(cli):
    import importlib.metadata

    import distill2rules

    r = cli("--version")
    assert r.code == 0
    assert r.out.strip() == f"distill2rules {distill2rules.__version__}"
    assert distill2rules.__version__ == importlib.metadata.version("distill2rules")


def test_python_dash_m_and_stdin_stdout_round_trip(tmp_path):
    assert _module("--help").returncode == 0
    r = _module("predict", str(ART), "--data", "-", "--out", "-", stdin=ROWS.read_bytes())
    assert r.returncode == 0, r.stderr
    lines = r.stdout.decode().strip().splitlines()
    assert lines[0] == "p_bad,p_good" and len(lines) == 9
    r2 = _module("predict", str(ART), "--data", str(ROWS), "--out", str(tmp_path / "p.csv"))
    assert r2.returncode == 0
    assert (tmp_path / "p.csv").read_bytes() == r.stdout
    assert not Path("-").exists()


def test_export_onnx_to_stdout_is_the_graph(tmp_path):
    import onnx

    r = _module("export", str(ART), "--format", "onnx", "--out", "-")
    assert r.returncode == 0, r.stderr
    model = onnx.load_from_string(r.stdout)
    assert model.graph.output[0].name == "probabilities"
    card = _module("export", str(ART), "--format", "rulecard", "--out", "-")
    assert card.stdout.decode().startswith("# Rule card")


def test_every_json_output_names_its_format(cli):
    r = cli("verify", ART, "--json")
    assert r.code == 0
    assert json.loads(r.out)["format"] == "distill2rules.verify/1"
    r = cli("explain", ART, "--data", ROWS, "--json", "--no-counterfactuals")
    assert r.code == 0
    rows = [json.loads(line) for line in r.out.splitlines() if line.strip()]
    assert len(rows) == 8 and {row["format"] for row in rows} == {"distill2rules.explanation/1"}


def test_student_choices_come_from_the_registry(cli, tmp_path):
    from distill2rules.cli._choices import complete_student
    from distill2rules.students import STUDENTS

    assert complete_student("") == list(STUDENTS)
    assert complete_student("lo") == [s for s in STUDENTS if s.startswith("lo")]
    r = cli(
        "fit",
        "--teacher",
        tmp_path / "t.txt",
        "--data",
        ROWS,
        "--student",
        "forest",
        "--out",
        tmp_path / "o",
    )
    assert r.code == 2
    assert "forest" in r.err and "Traceback" not in r.err


def test_completion_is_offered(cli):
    assert "--install-completion" in cli("--help").out


def test_missing_optional_dependency_names_its_extra(cli, monkeypatch, tmp_path):
    from distill2rules._optional import MissingDependencyError, require

    with pytest.raises(MissingDependencyError, match=r"pip install 'distill2rules\[fit\]'"):
        require("lightgbm_is_not_a_module", extra="fit")
    teacher = tmp_path / "model.txt"
    teacher.write_text("tree\nversion=v4\nnum_class=1\n")
    monkeypatch.setitem(sys.modules, "lightgbm", None)  # as if not installed
    r = cli(
        "fit",
        "--teacher",
        teacher,
        "--data",
        "german_credit",
        "--student",
        "logreg",
        "--out",
        tmp_path / "o",
        "-q",
    )
    assert r.code == 2
    lines = r.err.strip().splitlines()
    assert len(lines) == 1 and "distill2rules[fit]" in lines[0] and "lightgbm" in lines[0], r.err

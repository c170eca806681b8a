"""docs/edge.md's Python snippet and examples/edge_inference.py on every student kind, and the
example's handling of CSVs a device really gets (a BOM, a missing column, text in a number)."""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from pathlib import Path

import pytest

from distill2rules.exporters import to_onnx
from tests.exporters import hand_specs as hs

ROOT = Path(__file__).resolve().parents[2]
SPECS = {"scorecard": hs.scorecard_spec, "rules": hs.rule_list_spec, "mlp": hs.mlp_spec}
ROWS = [
    {"duration": "36", "credit_amount": "9000", "age": "30", "checking_status": "< 0 DM"},
    {"duration": "6", "credit_amount": "", "age": "61", "checking_status": "no checking"},
]

FILL = {"purpose": "car"}  # columns ROWS leaves out: a category, else a number


def _artifact(tmp_path: Path, kind: str) -> Path:
    from distill2rules.artifact import write_artifact
    from distill2rules.spec import to_json

    spec = SPECS[kind]()
    files = {"student.json": to_json(spec), "student.onnx": to_onnx(spec).SerializeToString()}
    return write_artifact(tmp_path / "artifact", files, {"config": {}})


def _csv(path: Path, rows: list[dict], columns: list[str], bom: bool = False) -> Path:
    with open(path, "w", newline="", encoding="utf-8-sig" if bom else "utf-8") as f:
        w = csv.DictWriter(f, fieldnames=columns)
        w.writeheader()
        for r in rows:
            w.writerow({c: r.get(c, FILL.get(c, "1")) for c in columns})
    return path


@pytest.mark.parametrize("kind", list(SPECS))
def test_the_scorer_snippet_of_edge_md_runs_for_every_kind(kind, tmp_path, monkeypatch, capsys):
    """Rule lists and MLPs have reasons without an impact (None) or none at all: the snippet
    must not assume an additive student."""
    from distill2rules import Scorer

    art = _artifact(tmp_path, kind)
    _csv(tmp_path / "applicants.csv", ROWS, Scorer.load(art).columns)
    doc = (ROOT / "docs" / "edge.md").read_text(encoding="utf-8")
    (snippet,) = re.findall(r"```python\n(.*?)```", doc, re.DOTALL)
    monkeypatch.chdir(tmp_path)
    exec(compile(snippet, "docs/edge.md", "exec"), {})  # noqa: S102 - the doc's own snippet
    assert "unknown field" in capsys.readouterr().out


def _example(*args: str | Path) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, str(ROOT / "examples" / "edge_inference.py"), *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def test_edge_example_reads_a_bom_csv_like_a_plain_one(tmp_path):
    from distill2rules import Scorer

    art = _artifact(tmp_path, "scorecard")
    cols = Scorer.load(art).columns
    plain = _example(art / "student.onnx", _csv(tmp_path / "plain.csv", ROWS, cols))
    bom = _example(art / "student.onnx", _csv(tmp_path / "bom.csv", ROWS, cols, bom=True))
    assert plain.returncode == bom.returncode == 0, bom.stderr
    assert bom.stdout.replace("bom.csv", "plain.csv") == plain.stdout


def test_edge_example_refuses_a_csv_without_a_model_column(tmp_path):
    from distill2rules import Scorer

    art = _artifact(tmp_path, "scorecard")
    cols = [c for c in Scorer.load(art).columns if c != "checking_status"]
    run = _example(art / "student.onnx", _csv(tmp_path / "rows.csv", ROWS, cols))
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "lacks the column(s) checking_status" in run.stderr and run.stdout == ""


def test_edge_example_names_text_in_a_numeric_column(tmp_path):
    from distill2rules import Scorer

    art = _artifact(tmp_path, "scorecard")
    rows = [ROWS[0], {**ROWS[1], "age": "sixty"}, {**ROWS[1], "age": "NA"}]
    run = _example(
        art / "student.onnx", _csv(tmp_path / "rows.csv", rows, Scorer.load(art).columns)
    )
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "row 1: column 'age' should be a number, got 'sixty'" in run.stderr
    # the forms float() takes but `predict` and the Scorer refuse
    for text in ("1_000", "NAN"):
        rows = [ROWS[0], {**ROWS[1], "age": text}]
        run = _example(
            art / "student.onnx", _csv(tmp_path / "rows.csv", rows, Scorer.load(art).columns)
        )
        assert run.returncode == 2, text
        assert f"row 1: column 'age' should be a number, got '{text}'" in run.stderr

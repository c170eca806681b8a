"""The HTML report: content, self-containment, the CLI and the sweep/temperature figures."""

from __future__ import annotations

import base64
import json
import re
import shutil

import pytest

from distill2rules.errors import ArtifactError

PNG = b"\x89PNG\r\n\x1a\n"


def images(html: str) -> list[bytes]:
    return [
        base64.b64decode(m)
        for m in re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    ]


def test_report_sections_and_inline_figures(artifact, sweep_dir, tmp_path):
    from distill2rules.report import build_report

    out = build_report(artifact, sweep=sweep_dir, out=tmp_path / "r.html", progress=False)
    html = out.read_text(encoding="utf-8")
    for anchor in (
        "runs",
        "calibration",
        "attribution",
        "tradeoff",
        "temperature",
        "model",
        "rulecard",
    ):
        assert f'<section id="{anchor}">' in html, anchor
    imgs = images(html)
    # reliability, importance, cosine, stability, pareto, temperature, shape functions
    assert len(imgs) >= 7
    assert all(i.startswith(PNG) and len(i) > 5000 for i in imgs)
    assert "student, no KD (hard labels)" in html and "KD vs no KD" in html
    assert "McNemar" in html  # evaluation.json's side-by-side table
    assert "Pareto front (" in html and "max_terms=" in html
    assert "Rule card" in html and "<script" not in html.lower()


def test_report_has_no_external_assets(artifact, tmp_path):
    from distill2rules.report import render_report

    html = render_report(artifact, progress=False)
    external = re.findall(r'(?:src|href)\s*=\s*["\']?\s*(?:https?:)?//', html, flags=re.IGNORECASE)
    assert external == []
    assert not re.search(r"@import|url\(\s*['\"]?https?:", html, flags=re.IGNORECASE)
    # every src is an inline data URI, every href an in-page anchor
    assert all(s.startswith("data:image/png;base64,") for s in re.findall(r'src="([^"]*)"', html))
    assert all(h.startswith("#") for h in re.findall(r'href="([^"]*)"', html))


def test_report_into_artifact_keeps_it_verifiable(artifact, tmp_path, cli):
    art = tmp_path / "copy"
    shutil.copytree(artifact, art)
    r = cli("report", art, "--json")
    assert r.code == 0, r.err
    assert '"sections"' in r.out and (art / "report.html").is_file()
    v = cli("verify", art)
    assert v.code == 0, v.err  # report.html was added through update_artifact: hashes still match


def test_report_without_evaluation_points_to_evaluate(artifact, tmp_path):
    from distill2rules.report import render_report

    art = tmp_path / "bare"
    shutil.copytree(artifact, art)
    (
        art / "evaluation.json"
    ).unlink()  # an artifact that was never evaluated: its manifest does not list the file
    manifest = json.loads((art / "manifest.json").read_text())
    del manifest["files"]["evaluation.json"]
    (art / "manifest.json").write_text(json.dumps(manifest))
    html = render_report(art, progress=False)
    assert "distill2rules evaluate" in html
    assert '<section id="tradeoff">' not in html


def test_report_errors_are_one_line(tmp_path, cli):
    r = cli("report", tmp_path / "nope")
    assert r.code == 2 and "no artifact directory" in r.err
    (tmp_path / "half").mkdir()
    with pytest.raises(ArtifactError, match="manifest.json"):
        from distill2rules.report import load_run

        load_run(tmp_path / "half")


def test_sweep_points_read_the_front(sweep_dir):
    import json

    from distill2rules.report import sweep_points

    sweep = json.loads((sweep_dir / "sweep.json").read_text())
    pareto = json.loads((sweep_dir / "pareto.json").read_text())
    pts = sweep_points(sweep, pareto)
    assert len(pts) == 6
    front = {p["label"] for p in pts if p["on_front"]}
    assert front == {
        f"logreg τ={q['temperature']:g} α=0 max_terms={q['size']}" for q in pareto["front"]
    }
    assert all(p["params"] in (4.0, 11.0) and p["accuracy_sd"] == 0.01 for p in pts)


def test_shape_figure_covers_table_and_linear_terms():
    from distill2rules.report.figures import shape_figure, shape_terms, term_swing

    spec = {
        "kind": "additive",
        "link": "logistic",
        "classes": ["no", "yes"],
        "intercept": [0.0],
        "terms": [
            {
                "type": "table",
                "name": "age",
                "axes": [{"feature": "age", "kind": "numeric", "edges": [30.0, 50.0]}],
                "scores": [[0.1], [-0.5], [0.2], [0.7]],
            },
            {
                "type": "table",
                "name": "job",
                "axes": [{"feature": "job", "kind": "categorical", "categories": ["a", "b"]}],
                "scores": [[0.0], [0.3], [-0.3], [0.0]],
            },
            {
                "type": "linear",
                "name": "income",
                "feature": "income",
                "coef": [-0.01],
                "impute": 0.0,
                "clip": ["-inf", "inf"],
            },
        ],
    }
    terms = shape_terms(spec)
    assert [t["name"] for t in terms] == ["age", "job", "income"]
    assert term_swing(terms[0]) == pytest.approx(1.2)
    assert term_swing(terms[2], {"income": [0.0, 100.0]}) == pytest.approx(1.0, rel=0.1)
    png = shape_figure(spec, terms, ranges={"age": [18, 80], "income": [0, 100]})
    assert png.startswith(PNG) and len(png) > 10_000


def test_fit_with_report_flag(artifact, tmp_path, cli):
    teacher = artifact.parent / "teacher" / "model.txt"
    out = tmp_path / "fit"
    r = cli(
        "fit",
        "--teacher",
        teacher,
        "--data",
        "breast_cancer",
        "--student",
        "logreg",
        "--out",
        out,
        "--report",
        "--no-baseline",
        "--quiet",
    )
    assert r.code == 0, r.err
    assert (out / "evaluation.json").is_file() and (out / "report.html").is_file()
    html = (out / "report.html").read_text(encoding="utf-8")
    assert '<section id="attribution">' in html and "No <code>evaluation.json</code>" not in html
    # the declined test applicants (breast_cancer: 0/1 target, 1 adverse) with their reasons
    assert (out / "decisions.json").is_file() and '<section id="applicants">' in html
    assert cli("verify", out).code == 0


def test_temperature_curve_from_benchmark_and_sweep(sweep_dir):
    import json

    from distill2rules.report import temperature_curve

    paper = {
        "temperature_curve": [
            {
                "dataset": "breast_cancer",
                "seed": 0,
                "temperature": 1.0,
                "alpha": 0.5,
                "accuracy": 0.98,
                "fidelity": 1.0,
            },
            {
                "dataset": "breast_cancer",
                "seed": 0,
                "temperature": 4.0,
                "alpha": 0.5,
                "accuracy": 0.97,
                "fidelity": 0.99,
            },
        ]
    }
    rows, source = temperature_curve({"paper": paper})
    assert "paper_results.json" in source
    assert [(r["temperature"], r["accuracy"], r["series"]) for r in rows] == [
        (1.0, 0.98, "breast_cancer"),
        (4.0, 0.97, "breast_cancer"),
    ]
    rows, source = temperature_curve({"sweep": json.loads((sweep_dir / "sweep.json").read_text())})
    assert "sweep.json" in source and len(rows) == 6
    assert {r["series"] for r in rows} == {"logreg α=0 size=3", "logreg α=0 size=10"}
    assert all(
        r["accuracy_sd"] == 0.01 for r in rows
    )  # taken from the sweep summary, not recomputed

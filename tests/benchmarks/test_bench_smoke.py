"""Smoke test of the benchmarks: every section runs in quick mode on tiny inputs and renders a table.

No timing assertions: the numbers of a shared CI machine mean nothing; only the plumbing is checked
(real teachers, real ``distill2rules fit`` subprocess, real onnxruntime sessions).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.conftest import needs_data

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCH))

pytestmark = needs_data


@pytest.fixture(scope="module")
def ctx(tmp_path_factory, torch_one_thread):
    from _common import make_context

    c = make_context(
        quick=True, workdir=tmp_path_factory.mktemp("bench"), students=["logreg"], quick_rows=1000
    )
    c.rounds, c.n_calls, c.batch_rows = 1, 5, 200
    c.shap_rows = 0  # the SHAP probe is a second interpreter importing shap: full runs only
    return c


def _table_rows(md: str, first_cell: str) -> list[str]:
    return [ln for ln in md.splitlines() if ln.startswith(f"| {first_cell}")]


def test_toolkit_cost_fits_in_a_subprocess_and_reports_stages(ctx):
    import toolkit_cost

    sec = toolkit_cost.run(ctx)
    md = sec.markdown()
    assert "## Toolkit cost" in md
    row = _table_rows(md, "logreg")
    assert len(row) == 1
    assert "SHAP alignment cost not measured" in md
    assert ctx.fits["logreg"]["peak_rss_bytes"] > 10_000_000
    assert "fit logreg student (KD)" in ctx.fits["logreg"]["timings"]
    assert {t.status for t in sec.targets} <= {"PASS", "MISS"}


def test_inference_compares_student_teachers_peers_and_floor(ctx):
    import inference

    sec = inference.run(ctx)
    md = sec.markdown()
    for name in (
        "student logreg (ONNX)",
        "floor for logreg inputs",
        "teacher GBT (LightGBM native)",
        "teacher MLP (ONNX, torch.onnx)",
        "skl2onnx LogisticRegression",
    ):
        assert _table_rows(md, name), name
    assert "End to end" in md
    names = [t.name for t in sec.targets]
    assert "logreg: 1-row p50 / floor" in names and any("batch speed-up" in n for n in names)
    single = sec.data["single"]["student logreg (ONNX)"]
    assert single["calls"] == 5 and single["cpu_p50_ms"] > 0


def test_size_reports_parameters_bytes_and_memory(ctx):
    import size

    md = size.run(ctx).markdown()
    row = _table_rows(md, "student logreg (ONNX)")
    assert len(row) == 1 and "B" in row[0]
    assert _table_rows(md, "teacher GBT")


def test_scaling_and_run_all_document(ctx, tmp_path, monkeypatch):
    import run_all
    import scaling

    monkeypatch.setattr(scaling, "QUICK_SIZES", (300, 600))
    sec = scaling.run(ctx)
    assert len(_table_rows(sec.markdown(), "logreg")) == 2
    out = tmp_path / "perf.md"
    monkeypatch.setattr(run_all, "SECTIONS", {"scaling": scaling.run})
    assert (
        run_all.main(
            ["--quick", "--students", "logreg", "--workdir", str(ctx.workdir), "--out", str(out)]
        )
        == 0
    )
    doc = out.read_text()
    assert doc.startswith("# Performance") and "load average" in doc and "## Scaling" in doc
    assert "run_all.py --quick" in doc


def test_target_status_and_tables():
    from _common import Target, md_table, ratio

    assert Target("a", 2.0, 1.5, "<=").status == "MISS"
    assert Target("a", 4.0, 3.0).status == "PASS"
    assert Target("a", None, 3.0).status == "SKIP"
    assert ratio(1.0, 0.0) is None
    assert md_table(["x"], [["a|b"]]).splitlines()[-1] == "| a\\|b |"
    with pytest.raises(RuntimeError, match="exited 3"):
        from _common import PY, run_measured

        run_measured([PY, "-c", "import sys; sys.exit(3)"])


def test_additive_graph_encodes_categoricals_in_one_pass(ctx):
    """The inference hot-spot fix: one LabelEncoder for all categorical columns, exact parity."""
    from _common import fit_student_cli

    from distill2rules.exporters import to_onnx
    from distill2rules.exporters.onnx import check_onnx_parity

    fit_student_cli(ctx, "logreg")  # cached when the cost test ran first
    spec = ctx.specs["logreg"]
    assert spec["inputs"]["categorical"], "Adult has categorical columns"
    model = to_onnx(spec)
    ops = [n.op_type for n in model.graph.node]
    assert ops.count("LabelEncoder") == 1 and "Unsqueeze" not in ops
    report = check_onnx_parity(model, spec, n_rows=2000)
    assert report.label_mismatches == 0 and report.max_abs_probability < 1e-5


def test_ebm_peers_times_the_same_model_against_ebm2onnx_and_the_input_floor(ctx):
    """Both graphs come from one interpret object and agree before timing; the ceiling is ebm2onnx ÷ floor."""
    pytest.importorskip("ebm2onnx")
    import ebm_peers

    sec = ebm_peers.run(ctx)
    md = sec.markdown()
    assert "## EBM vs ebm2onnx" in md
    adult, wine = (
        _table_rows(md, "Adult, max_bins 256"),
        _table_rows(md, "Wine (good vs not), max_bins 256"),
    )
    assert len(adult) == 1 and len(wine) == 1
    assert "6 + 8" in adult[0] and "11 + 0" in wine[0]  # Adult feeds strings, Wine numbers only
    for case in sec.data.values():
        assert case["max_abs_dp"] <= 1e-5
        assert set(case["batch"]) == {"ours", "ebm2onnx", "input floor"}
    names = [t.name for t in sec.targets]
    assert sum(n.startswith("batch speed-up vs ebm2onnx") for n in names) == 2
    assert all("ceiling" in t.note for t in sec.targets if t.name.startswith("batch"))
    assert (
        "ns per cell here: input floor ÷ string cells" in md
    )  # measured, from Adult's string columns


def test_edge_times_scorer_teacher_and_server(ctx):
    import edge

    sec = edge.run(ctx)
    md = sec.markdown()
    for name in (
        "logreg: bare ONNX (prepared tensors)",
        "logreg: Scorer.explain(dict), top 4",
        "teacher: dict → row → Booster.predict(pred_contrib)",
        "logreg: Scorer.score_many",
    ):
        assert _table_rows(md, name), name
    assert "Adult (numeric + categorical): `distill2rules serve`" in md and "Wine Quality" in md
    names = [t.name for t in sec.targets]
    assert "Wine Quality logreg: end-to-end / bare ONNX" in names
    assert any("score_many" in n for n in names)
    for task in sec.data.values():
        assert task["http"]["logreg"]["statuses"] == {200: task["http"]["logreg"]["requests"]}
        assert task["cold"]["heavy_modules"] == []


def test_streaming_predict_measures_peak_memory_and_writes_every_row(ctx):
    import streaming

    sec = streaming.run(ctx, n_rows=3000)
    md = sec.markdown()
    assert "## Streaming predict" in md
    assert sec.data["rows_written"] == 3000
    assert sec.data["stream"]["peak_rss_bytes"] > 10_000_000
    assert {t.status for t in sec.targets} <= {"PASS", "MISS"}


def test_fidelity_compares_our_recipes_with_plain_ones(ctx):
    import fidelity

    s = fidelity.Settings.quick()
    sec = fidelity.run(ctx, s)
    md = sec.markdown()
    assert "## Fidelity (issue 18)" in md
    for recipe in (
        "before (τ = 1, no augmentation)",
        "new default",
        "sklearn LR, argmax (plain)",
        "sklearn tree depth 4",
    ):
        assert any(recipe in ln for ln in md.splitlines() if ln.startswith("| ")), recipe
    rows = sec.data["rows"]
    assert {r["student"] for r in rows} == {"logreg", "tree"} and all(
        0.5 < r["fidelity"] <= 1 for r in rows
    )
    assert {t.status for t in sec.targets} <= {"PASS", "MISS"}
    assert any(
        t.name.startswith("validation decisions moved") and t.status == "PASS" for t in sec.targets
    )

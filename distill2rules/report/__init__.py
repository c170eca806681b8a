"""The HTML report of a run: tables and figures a reviewer can take in at a glance.

The report reads results that other wings wrote as JSON and draws them; it computes no
metric. Sources, all optional except ``metrics.json`` and ``student.json``:

* the artifact directory (``distill2rules fit``): ``metrics.json`` (teacher / student / no-KD
  baseline on the validation and test splits, reliability bins, fidelity), ``student.json``
  (the spec: EBM shape functions, coefficients or the rule list come straight from it),
  ``manifest.json`` (data ranges, provenance), ``rulecard.html``, ``evaluation.json``
  (``distill2rules evaluate``: SHAP alignment, stability, efficiency) and
  ``paper_results.json`` (``distill2rules benchmark paper``: a temperature curve);
* a sweep directory (``distill2rules sweep``): ``sweep.json`` and ``pareto.json``.

>>> from distill2rules.report import build_report            # doctest: +SKIP
>>> build_report("runs/credit")                                # writes runs/credit/report.html
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from distill2rules.artifact import (
    check_hashes,
    dump_json,
    read_member,
    update_artifact,
    versions,
    write_file,
)
from distill2rules.errors import ArtifactError
from distill2rules.exporters import rule_text
from distill2rules.exporters.rulecard import card_blocks, rulecard
from distill2rules.report import figures
from distill2rules.report._applicants import applicants_section, save_run_decisions
from distill2rules.report.html import esc, image, page, rulecard_section, section, table
from distill2rules.results import Evaluation, FitMetrics, SweepRow
from distill2rules.spec import AdditiveSpec, KindTable, MLPSpec, RuleListSpec, kinds, to_json

__all__ = [
    "REPORT_FILE",
    "build_report",
    "load_run",
    "render_report",
    "report_after_fit",
    "sweep_points",
    "temperature_curve",
]

REPORT_FILE = "report.html"
MAX_SHAPES = 12


# ============================================================================ loading


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArtifactError(
            f"{path} is not valid JSON ({exc.msg if hasattr(exc, 'msg') else exc}).",
            hint="Re-create it with the command that wrote it.",
        ) from None


def load_run(artifact: str | Path, sweep: str | Path | None = None) -> dict[str, Any]:
    """Read every result file the report can use.

    Parameters
    ----------
    artifact : path
        Artifact directory written by ``distill2rules fit``.
    sweep : path, optional
        Directory written by ``distill2rules sweep`` (``sweep.json``, ``pareto.json``).

    Returns
    -------
    dict
        ``metrics``, ``spec``, ``manifest`` (required; every file's hash is checked first);
        ``baseline``, ``evaluation``, ``paper``, ``sweep``, ``pareto`` when present.
    """
    d = Path(artifact)
    if not d.is_dir():
        raise ArtifactError(
            f"no artifact directory at {d}.", hint="Run `distill2rules fit ... --out DIR` first."
        )
    manifest = check_hashes(d)  # a changed artifact is refused, never reported on (or re-blessed)
    listed = manifest.get("files", {})
    run: dict[str, Any] = {"dir": d, "manifest": manifest}
    for key, name, required in (
        ("metrics", "metrics.json", True),
        ("spec", "student.json", True),
        ("baseline", "baseline.json", False),
        ("evaluation", "evaluation.json", False),
        ("paper", "paper_results.json", False),
        ("decisions", "decisions.json", False),
    ):
        if name in listed:
            try:
                run[key] = json.loads(read_member(d, manifest, name).decode("utf-8"))
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise ArtifactError(
                    f"{d / name} is not valid JSON ({exc}).",
                    hint="Re-create it with the command that wrote it.",
                ) from None
        elif required:
            raise ArtifactError(
                f"{d} has no {name}; it is not a complete distill2rules artifact.",
                hint="Run `distill2rules fit ... --out DIR` to create one.",
            )
    if sweep is not None:
        s = Path(sweep)
        if not (s / "sweep.json").is_file():
            raise ArtifactError(
                f"{s} has no sweep.json.", hint="Pass the --out directory of `distill2rules sweep`."
            )
        run["sweep"] = _read_json(s / "sweep.json")
        if (s / "pareto.json").is_file():
            run["pareto"] = _read_json(s / "pareto.json")
        if "paper" not in run and (s / "paper_results.json").is_file():
            run["paper"] = _read_json(s / "paper_results.json")
    return run


# ============================================================================ typed reads


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _sweep_rows(sweep: Any) -> tuple[list[SweepRow], dict[str, Any]]:
    """The per-configuration ``summary`` (mean over seeds) of ``distill2rules sweep`` and its config."""
    if not isinstance(sweep, Mapping):
        return [], {}
    summary = sweep.get("summary")
    rows: list[Any] = summary if isinstance(summary, list) else []
    return [SweepRow.from_dict(r) for r in rows if isinstance(r, Mapping)], dict(
        sweep.get("config") or {}
    )


def _front_keys(sweep: Any, pareto: Any) -> set[tuple[Any, Any, Any]]:
    """(τ, α, size) of the Pareto-optimal configurations: ``pareto.json``'s ``front``, else ``sweep.json``'s ``pareto``."""
    rows = pareto.get("front") if isinstance(pareto, Mapping) else None
    if rows is None and isinstance(sweep, Mapping):
        rows = sweep.get("pareto")
    return {SweepRow.from_dict(r).config_key() for r in rows or [] if isinstance(r, Mapping)}


def sweep_points(sweep: Any, pareto: Any = None) -> list[dict[str, Any]]:
    """Sweep rows as plot points: ``accuracy``, ``params``, ``cosine``, ``fidelity``, ``temperature``,
    ``alpha``, ``size``, ``J`` (and ``*_sd``), ``on_front``, ``label``, ``kind`` — read as written.

    ``sweep.json`` of ``distill2rules sweep`` (``config``, ``runs``, ``summary`` mean ± sd over
    seeds, ``pareto``) is read through its ``summary`` (:class:`~distill2rules.results.SweepRow`);
    the front is ``pareto.json``'s ``front`` (or ``sweep.json``'s ``pareto``).
    """
    rows, cfg = _sweep_rows(sweep)
    front = _front_keys(sweep, pareto)
    size_name = cfg.get("size_param") or "size"
    pts = []
    for r in rows:
        student = r.student or cfg.get("student")
        t, a = r.temperature, r.alpha
        bits = [
            str(student) if student else "",
            f"τ={t:g}" if t is not None else "",
            f"α={a:g}" if a is not None else "",
            f"{size_name}={json.dumps(r.size)}" if r.size is not None else "",
        ]
        pt = {
            "accuracy": _fin(r.accuracy),
            "params": _fin(r.params),
            "cosine": _fin(r.cosine),
            "fidelity": _fin(r.fidelity),
            "temperature": t,
            "alpha": a,
            "size": r.size,
            "student": student,
            "J": _fin(r.J),
            "n_seeds": r.n_seeds,
            "on_front": r.config_key() in front,
            "label": " ".join(b for b in bits if b),
            "kind": "student",
        }
        for m in ("accuracy", "fidelity", "cosine", "params"):
            pt[f"{m}_sd"] = _fin(getattr(r, f"{m}_sd"))
        pts.append(pt)
    return pts


def _fin(v: Any) -> float | None:
    return float(v) if _is_number(v) else None


def temperature_curve(run: Mapping[str, Any]) -> tuple[list[dict[str, Any]], str]:
    """Rows ``{temperature, accuracy, fidelity, cosine, [*_sd], series}`` and where they came from.

    Prefers the benchmark's curve (``paper_results.json``: ``temperature_curve``, one row per τ
    and dataset), else the sweep rows when they vary τ (several rows at one τ, e.g. seeds, are
    shown as mean ± sd).
    """
    paper = run.get("paper")
    if (
        isinstance(paper, Mapping)
        and isinstance(paper.get("temperature_curve"), list)
        and paper["temperature_curve"]
    ):
        out = []
        for r in (
            SweepRow.from_dict(x) for x in paper["temperature_curve"] if isinstance(x, Mapping)
        ):
            out.append(
                {
                    "temperature": r.temperature,
                    "series": " ".join(str(x) for x in (r.extra.get("dataset"), r.student) if x),
                    "accuracy": _fin(r.accuracy),
                    "fidelity": _fin(r.fidelity),
                    "cosine": _fin(r.cosine),
                    "accuracy_sd": _fin(r.accuracy_sd),
                    "fidelity_sd": _fin(r.fidelity_sd),
                    "cosine_sd": _fin(r.cosine_sd),
                }
            )
        return out, "paper_results.json (distill2rules benchmark paper)"
    pts = (
        [
            p
            for p in sweep_points(run.get("sweep"), run.get("pareto"))
            if p["temperature"] is not None
        ]
        if run.get("sweep")
        else []
    )
    if len({p["temperature"] for p in pts}) < 2:
        return [], ""
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for p in pts:
        series = " ".join(
            x
            for x in (
                str(p["student"] or ""),
                f"α={p['alpha']:g}" if p["alpha"] is not None else "",
                f"size={json.dumps(p['size'])}" if p["size"] is not None else "",
            )
            if x
        )
        groups.setdefault((series, p["temperature"]), []).append(p)
    import numpy as np

    out = []
    for (series, t), ps in groups.items():
        row: dict[str, Any] = {"temperature": t, "series": series, "n": len(ps)}
        for m in ("accuracy", "fidelity", "cosine"):
            v = np.array([p[m] for p in ps if p[m] is not None], dtype=float)
            row[m] = float(v.mean()) if v.size else None
            row[f"{m}_sd"] = (
                ps[0].get(f"{m}_sd")
                if len(ps) == 1
                else (float(v.std(ddof=1)) if v.size > 1 else None)
            )
        out.append(row)
    return out, "sweep.json (distill2rules sweep)"


# ============================================================================ sections


def _metrics(run: Mapping[str, Any]) -> FitMetrics:
    return FitMetrics.from_dict(run.get("metrics"))


def _evaluation(run: Mapping[str, Any]) -> Evaluation | None:
    return Evaluation.from_dict(run.get("evaluation"))


def _title(run: Mapping[str, Any]) -> tuple[str, str]:
    m, spec = _metrics(run), run["spec"]
    meta = spec.get("meta") or {}
    teacher = (meta.get("teacher") or {}).get("kind") or (
        (run.get("manifest") or {}).get("teacher") or {}
    ).get("kind", "?")
    dataset = meta.get("dataset") or ((run.get("manifest") or {}).get("data") or {}).get(
        "name", "?"
    )
    title = f"distill2rules report: {m.student or spec.get('model', '?')} student of a {teacher} teacher on {dataset}"
    sizes = m.split_sizes
    sub = (
        f"Target <code>{_e(meta.get('target', '?'))}</code>, classes {_e(', '.join(map(str, spec.get('classes', []))))}; "
        f"temperature τ = {_e(m.temperature)}, α = {_e(m.alpha)}, seed {_e(m.seed)}; "
        f"split train/val/test = {_e(sizes.get('train', '?'))}/{_e(sizes.get('val', '?'))}/{_e(sizes.get('test', '?'))} rows."
    )
    return title, sub


def _e(x: Any) -> str:
    return esc(x)


_PRED_COLS = (
    ("accuracy", "accuracy"),
    ("balanced_accuracy", "bal. accuracy"),
    ("roc_auc", "ROC AUC"),
    ("log_loss", "log loss"),
    ("brier", "Brier"),
    ("ece", "ECE"),
)


def _run_tables(run: Mapping[str, Any]) -> str:
    m = _metrics(run)
    parts = []
    for split in ("test", "val"):
        block = getattr(m, split)
        if block is None:
            continue
        head = (
            ["model"]
            + [h for _, h in _PRED_COLS]
            + ["fidelity", "boundary fid.", "KL(T‖S)", "retention"]
        )
        rows = []
        for key, name in (
            ("teacher", "teacher"),
            ("student", f"student, KD (τ={m.temperature}, α={m.alpha})"),
            ("baseline", "student, no KD (hard labels)"),
        ):
            b = getattr(block, key)
            if b is None:
                continue
            fd = b.fidelity_detail or {}
            rows.append(
                [name]
                + [getattr(b, k) for k, _ in _PRED_COLS]
                + [b.fidelity, fd.get("boundary_agreement"), fd.get("kl"), b.retention]
            )
        label = "Test split" if split == "test" else "Validation split (used for calibration)"
        parts.append(
            f"<h3>{label} — {_e(block.n_rows if block.n_rows is not None else '?')} rows</h3>"
            + table(head, rows)
        )
    st = m.size.get("student") or {}
    srows = [
        ["teacher", m.size.get("teacher_parameters"), "–", "–"],
        [
            "student",
            st.get("parameters"),
            st.get("terms", st.get("rules", "–")),
            st.get("pairs", "–"),
        ],
    ]
    parts.append("<h3>Size</h3>" + table(["model", "parameters", "terms / rules", "pairs"], srows))
    parts.append(_kd_note(m))
    cal = m.calibration
    if isinstance(cal, Mapping):
        parts.append(
            f"<p>Calibration: {_e(cal.get('method'))} scaling fitted on the {_e(cal.get('fitted_on', 'validation split'))} "
            f"(scale {_e(_r(cal.get('scale')))}; validation log loss {_e(_r(cal.get('val_log_loss_before')))} → "
            f"{_e(_r(cal.get('val_log_loss_after')))}), folded into the student.</p>"
        )
    if m.timings:
        parts.append(
            "<h3>Time per step (s)</h3>"
            + table(list(m.timings), [list(m.timings.values())], digits=2)
        )
    return "".join(parts)


def _r(v: Any, d: int = 4) -> str:
    return f"{v:.{d}f}" if _is_number(v) else "–"


def _kd_note(m: FitMetrics) -> str:
    """Plain statement of what distillation changed against the no-KD baseline (read off metrics.json)."""
    test = m.split("test")
    s, b = test.student, test.baseline
    if s is None or b is None:
        return '<p class="note">No no-KD baseline in this run (fit with <code>--baseline</code> to compare).</p>'
    n = test.n_rows or 0
    bits = []
    for key, label in (("accuracy", "accuracy"), ("fidelity", "fidelity to the teacher")):
        sv, bv = getattr(s, key), getattr(b, key)
        if _is_number(sv) and _is_number(bv):
            d = 100 * (sv - bv)
            word = "higher" if d > 0 else "lower" if d < 0 else "the same"
            bits.append(
                f"{label} {sv:.4f} vs {bv:.4f} ({abs(d):.1f} points {word})"
                if d
                else f"{label} the same ({sv:.4f})"
            )
    one_row = (
        f" One test row is {100 / n:.1f} points on this split, so differences of a few rows are noise; use "
        f"<code>distill2rules sweep</code> over seeds for a test of significance."
        if n
        else ""
    )
    good = _is_number(s.fidelity) and _is_number(b.fidelity) and s.fidelity > b.fidelity  # type: ignore[operator]
    return (
        f'<p class="note{" good" if good else ""}"><b>KD vs no KD (test split):</b> the distilled student has '
        + "; ".join(bits)
        + " than the same student fitted on the hard labels."
        + one_row
        + "</p>"
    )


def _reliability(run: Mapping[str, Any]) -> str:
    test = _metrics(run).split("test")
    curves = {}
    for key, name in (
        ("teacher", "teacher"),
        ("student", "student (KD)"),
        ("baseline", "student (no KD)"),
    ):
        b = getattr(test, key)
        if b is not None and b.reliability:
            curves[f"{name}, ECE {_r(b.ece, 3)}"] = b.reliability
    if not curves:
        return "<p>No reliability bins in metrics.json.</p>"
    png = figures.reliability_figure(
        curves, title=f"Reliability diagram (test split, {test.n_rows or '?'} rows)"
    )
    return image(
        png,
        "reliability diagram",
        "Top: observed accuracy against mean predicted confidence per bin "
        "(10 equal-width bins; points on the dashed line are perfectly calibrated). Bottom: rows per bin. "
        "Empty bins are not drawn.",
    )


def _attribution(run: Mapping[str, Any]) -> str:
    ev = _evaluation(run)
    if ev is None:
        return (
            '<p class="note">No <code>evaluation.json</code> in the artifact: run <code>distill2rules evaluate '
            f"{_e(run['dir'])}</code> (SHAP alignment, stability, latency), then <code>distill2rules report</code> again.</p>"
        )
    parts = []
    t, s = ev.teacher, ev.student
    ta, sa, al = t.attributions, s.attributions, ev.alignment
    names = al.get("feature_names") or ta.get("feature_names")
    ti = al.get("teacher_importance") or ta.get("importance")
    si = al.get("student_importance")
    if si is None and sa.get("importance") is not None and sa.get("feature_names") == names:
        si = sa.get("importance")
    base_al = (ev.baseline or {}).get("alignment") or {}
    bi = base_al.get("student_importance") if base_al.get("feature_names") == names else None
    if names and ti and si:
        png = figures.importance_figure(
            names, ti, si, baseline=bi, output=str(ta.get("output") or "")
        )
        parts.append(
            image(
                png,
                "teacher vs student feature importance",
                f"Mean |SHAP| per feature as a share of each model's total (teacher: {ta.get('method', '?')}, "
                f"student: {sa.get('method', '?')}; {ta.get('n_rows', '?')} test rows).",
            )
        )
    if al:
        parts.append(
            image(
                figures.cosine_figure(al, None),
                "per-row SHAP cosine",
                "Cosine between the teacher's and the student's attribution vectors, row by row.",
            )
        )
        parts.append(
            table(
                ["alignment measure", "value"],
                [
                    ["per-row cosine (mean)", al.get("cosine_mean")],
                    ["per-row cosine (sd)", al.get("cosine_sd")],
                    ["cosine of global importances", al.get("global_cosine")],
                    ["MAD of normalised importances", al.get("mad")],
                    ["Spearman rank of importances", al.get("spearman")],
                    [f"top-{al.get('top_k', '?')} overlap", al.get("topk_overlap")],
                    ["teacher's top features", ", ".join(map(str, al.get("teacher_top") or []))],
                    ["student's top features", ", ".join(map(str, al.get("student_top") or []))],
                ],
            )
        )
    if t.stability or s.stability:
        parts.append(
            image(
                figures.stability_figure(t.stability, s.stability),
                "explanation stability",
                "Mean ± sd over rows of 1 − ‖φ(x) − φ(x+ε)‖/‖φ(x)‖ with Gaussian noise ε on numeric features.",
            )
        )
    parts.append(_efficiency(ev))
    if ev.kd_vs_no_kd is not None:
        parts.append(_kd_eval_table(ev))
    return "".join(parts)


def _kd_eval_table(ev: Evaluation) -> str:
    """KD student vs no-KD baseline on the evaluated rows, with McNemar's test (from evaluation.json)."""
    c = ev.kd_vs_no_kd or {}
    kd, nokd = c.get("kd") or {}, c.get("no_kd") or {}
    labels = (
        ("accuracy", "accuracy"),
        ("fidelity", "fidelity"),
        ("cosine", "SHAP cosine per row (mean)"),
        ("global_cosine", "SHAP cosine of importances"),
        ("mad", "SHAP MAD (lower is closer)"),
        ("stability", f"stability σ={c.get('sigma')}"),
        ("n_parameters", "parameters"),
    )
    rows = [[label, kd.get(k), nokd.get(k)] for k, label in labels]
    m = ev.mcnemar or {}
    det = m.get("details") or {}
    rows.append(["McNemar p-value (per-row correctness)", m.get("p_value"), None])
    rows.append(["rows only this model gets right", det.get("n01"), det.get("n10")])
    d = ev.data or {}
    return (
        f"<h3>KD vs no KD, explanations included ({_e(d.get('split', '?'))} rows: {_e(d.get('n_rows', '?'))})</h3>"
        + table(["measure", "student (KD)", "student (no KD)"], rows)
    )


def _efficiency(ev: Evaluation) -> str:
    t, s = ev.teacher, ev.student
    rows: list[list[Any]] = [
        ["parameters", t.n_parameters, s.n_parameters],
        ["size (MB)", t.memory_mb, s.memory_mb],
        ["latency, 1 row, p50 (ms, Python)", t.p50_ms(), s.p50_ms()],
    ]
    if s.onnx_latency is not None:
        rows.append(["latency, 1 row, p50 (ms, ONNX Runtime)", None, s.p50_ms("onnx_latency")])
    for bs, v in (s.onnx_latency or {}).get("batch", {}).items():
        if bs != "1":
            rows.append(
                [f"latency, {bs} rows, mean (ms, ONNX Runtime)", None, (v or {}).get("mean_ms")]
            )
    rows.append(["parameter reduction (PRR)", None, ev.prr])
    return "<h3>Efficiency</h3>" + table(["measure", "teacher", "student"], rows)


def _tradeoff(run: Mapping[str, Any]) -> str:
    pts = sweep_points(run.get("sweep"), run.get("pareto"))
    usable = [p for p in pts if p["accuracy"] is not None and p["params"] is not None]
    if not usable:
        return '<p class="note">sweep.json holds no rows with both an accuracy and a parameter count.</p>'
    students = {p["student"] for p in usable}
    if len(students) == 1:  # one student kind: its name on every label is noise
        for p in usable:
            p["label"] = p["label"].replace(f"{next(iter(students))} ", "", 1)
    png = figures.pareto_figure(usable)
    front = [p for p in usable if p["on_front"]]
    rows = [
        [p["label"], p["accuracy"], p["fidelity"], p["params"], p["cosine"], p["J"]]
        for p in sorted(front, key=lambda p: p["params"])
    ]
    return image(
        png,
        "accuracy, cost and interpretability trade-off with the Pareto front",
        f"{len(usable)} configurations. x: student parameters; y: test accuracy; colour: SHAP alignment. "
        "Ringed points are Pareto-optimal (no other configuration is at least as good on accuracy, size and "
        "alignment and better on one).",
    ) + (
        f"<h3>Pareto front ({len(front)} configurations)</h3>"
        + table(["configuration", "accuracy", "fidelity", "parameters", "alignment", "J"], rows)
        if front
        else ""
    )


def _temperature(run: Mapping[str, Any]) -> str:
    curve, source = temperature_curve(run)
    if not curve:
        return ""
    png = figures.temperature_figure(
        curve,
        labels={"accuracy": "test accuracy", "fidelity": "fidelity", "cosine": "SHAP alignment"},
    )
    return image(
        png, "temperature curve", f"Source: {source}. Error bars: sd over seeds where available."
    )


def _model(run: Mapping[str, Any]) -> str:
    """The model section, drawn by the spec kind's entry of :data:`MODEL_SECTIONS`."""
    spec = run["spec"]
    draw = MODEL_SECTIONS.get(spec) if spec.get("kind") in kinds() else None
    if draw is None:
        return f"<p>Unknown spec kind {_e(spec.get('kind'))}.</p>"
    return str(draw(run, spec))


def _model_additive(run: Mapping[str, Any], spec: Mapping[str, Any]) -> str:
    ranges = ((run.get("manifest") or {}).get("data") or {}).get("numeric_ranges")
    terms = figures.shape_terms(spec)
    ordered = sorted(terms, key=lambda t: -figures.term_swing(t, ranges))
    shown = ordered[:MAX_SHAPES]
    parts = []
    if shown:
        png = figures.shape_figure(spec, shown, ranges=ranges)
        more = (
            f" The other {len(ordered) - len(shown)} terms are in the rule card."
            if len(ordered) > len(shown)
            else ""
        )
        parts.append(
            image(
                png,
                "shape functions",
                f"Each panel: a term's contribution to the score against its feature "
                f"(x: the training range), the {len(shown)} terms with the largest swing.{more}",
            )
        )
    pairs = [
        t for t in spec.get("terms", []) if t.get("type") == "table" and len(t.get("axes", [])) == 2
    ]
    if pairs:
        rows = [
            [t.get("name"), figures.term_swing(t)]
            for t in sorted(pairs, key=lambda t: -figures.term_swing(t))
        ]
        parts.append(
            "<h3>Pairwise interactions</h3>" + table(["pair term", "score range (max − min)"], rows)
        )
    parts.append(f"<p>Intercept: {_e(spec.get('intercept'))}; link: {_e(spec.get('link'))}.</p>")
    return "".join(parts)


def _model_rule_list(run: Mapping[str, Any], spec: Mapping[str, Any]) -> str:
    items = "".join(f"<li>{_e(rule_text(spec, r))}</li>" for r in spec.get("rules", []))
    items += f"<li>{_e(rule_text(spec, spec.get('default', {}), default=True))}</li>"
    return f'<p>The first rule whose conditions hold decides.</p><ol class="rules">{items}</ol>'


def _model_mlp(run: Mapping[str, Any], spec: Mapping[str, Any]) -> str:
    rows = [
        [i, len(L.get("bias", [])), L.get("activation")]
        for i, L in enumerate(spec.get("layers", []))
    ]
    return table(["layer", "units", "activation"], rows)


#: the report's model section per spec kind: ``draw(run, spec) -> html``
MODEL_SECTIONS: KindTable[Callable[[Mapping[str, Any], Mapping[str, Any]], str]] = KindTable(
    "report model section"
)
MODEL_SECTIONS.add(AdditiveSpec, _model_additive)
MODEL_SECTIONS.add(RuleListSpec, _model_rule_list)
MODEL_SECTIONS.add(MLPSpec, _model_mlp)


def _rulecard(run: Mapping[str, Any]) -> str:
    """The rule card rendered from the spec (never pasted from ``rulecard.html``), through an autoescaped template."""
    manifest = run.get("manifest") or {}
    provenance = {
        "teacher": manifest.get("teacher"),
        "dataset": (manifest.get("data") or {}).get("name"),
        **(manifest.get("config") or {}),
    }
    card = rulecard(
        run["spec"], metrics=run["metrics"], evaluation=run.get("evaluation"), provenance=provenance
    )
    return rulecard_section([b for b in card_blocks(card) if b[0] != "footer"])


# ============================================================================ assembly


def _steps(
    run: Mapping[str, Any],
) -> list[tuple[str, str, Callable[[Mapping[str, Any]], str], str]]:
    steps: list[tuple[str, str, Callable[[Mapping[str, Any]], str], str]] = [
        (
            "runs",
            "Run: teacher vs student, KD vs no KD",
            _run_tables,
            "Predictive quality and fidelity, from metrics.json.",
        ),
        ("calibration", "Calibration", _reliability, ""),
        (
            "attribution",
            "Do they explain alike? Teacher vs student attributions",
            _attribution,
            "From evaluation.json.",
        ),
    ]
    if run.get("sweep") is not None:
        steps.append(
            (
                "tradeoff",
                "Accuracy / cost / interpretability trade-off",
                _tradeoff,
                "From sweep.json and pareto.json.",
            )
        )
    steps.append(("temperature", "Temperature curve", _temperature, ""))
    model_title = {
        "additive": "The student: shape functions",
        "rule_list": "The student: rule list",
        "mlp": "The student: network",
    }.get(run["spec"].get("kind"), "The student")
    steps.append(
        (
            "model",
            model_title,
            _model,
            "Read straight from student.json (the spec the ONNX graph runs).",
        )
    )
    steps.append(("rulecard", "Rule card", _rulecard, ""))
    if run.get("decisions") is not None:
        steps.append(
            (
                "applicants",
                "Declined applicants: reasons, teacher vs student, counterfactuals",
                applicants_section,
                "From decisions.json (the explain wing, on the test split).",
            )
        )
    return steps


def render_report(
    artifact: str | Path, *, sweep: str | Path | None = None, progress: bool = True
) -> str:
    """The report of ``artifact`` (and optionally a sweep) as one self-contained HTML string.

    Parameters
    ----------
    artifact : path
        Artifact directory written by ``distill2rules fit``.
    sweep : path, optional
        Output directory of ``distill2rules sweep``.
    progress : bool
        Show a rich progress bar on stderr.
    """
    return render_run(
        load_run(artifact, sweep),
        name=Path(artifact).name,
        sweep_name=Path(sweep).name if sweep else None,
        progress=progress,
    )


def render_run(
    run: Mapping[str, Any], *, name: str, sweep_name: str | None = None, progress: bool = True
) -> str:
    """The report of a run as :func:`load_run` returns it (read from disk, or assembled in memory by ``fit --report``)."""
    from markupsafe import Markup

    sections = []
    steps = _steps(run)
    with _Progress(len(steps), progress) as bar:
        for anchor, title, fn, lead in steps:
            bar.update(title)
            body = fn(run)
            if body:
                sections.append((anchor, title, section(anchor, title, body, lead)))
            bar.advance()
    title, sub = _title(run)  # sub: our markup, every data value escaped by _e
    version = ((run.get("manifest") or {}).get("versions") or {}).get("distill2rules", "")
    footer = (
        f"Generated by distill2rules {_e(version)} from the files in {_e(name)}/"
        + (f" and {_e(sweep_name)}/" if sweep_name else "")
        + ". Self-contained: no external assets."
    )
    return page(title, sections, subtitle=Markup(sub), footer=Markup(footer))


def build_report(
    artifact: str | Path,
    *,
    sweep: str | Path | None = None,
    out: str | Path | None = None,
    progress: bool = True,
) -> Path:
    """Write the HTML report: into the artifact (``report.html``, manifest re-hashed) unless ``out`` is given.

    Returns
    -------
    Path
        The written file.
    """
    doc = render_report(artifact, sweep=sweep, progress=progress)
    if out is None:
        update_artifact(artifact, {REPORT_FILE: doc})
        return Path(artifact) / REPORT_FILE
    path = Path(out)
    if path.is_dir():
        path = path / REPORT_FILE
    return write_file(path, doc)


class _Progress:
    """A transient rich progress bar over report sections (silent when disabled)."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.enabled = total, enabled
        self._p: Any = None
        self._task: Any = None

    def __enter__(self) -> _Progress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self._p = Progress(
                TextColumn("[bold]report[/bold] {task.description}"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total}"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._p.__enter__()
            self._task = self._p.add_task("", total=self.total)
        return self

    def update(self, text: str) -> None:
        if self._p is not None:
            self._p.update(self._task, description=re.sub(r"[\[\]]", "", text))

    def advance(self) -> None:
        if self._p is not None:
            self._p.advance(self._task)

    def __exit__(self, *exc: object) -> None:
        if self._p is not None:
            self._p.__exit__(*exc)


def report_after_fit(
    run: Any,
    out: str | Path,
    *,
    evaluate: bool = True,
    shap_rows: int = 200,
    latency_calls: int = 200,
    seed: int = 0,
    export_onnx: bool = True,
    progress: bool = True,
) -> Path:
    """What ``fit --report`` does, in memory: evaluate the fitted run (``evaluation.json``), render
    ``report.html``, and write the artifact once (with both) to ``out``.

    ``run`` is the :class:`~distill2rules.pipeline.DistillRun` that ``distill`` returned (fitted
    without ``out``): its teacher, splits and specs are used as they are, nothing is reloaded.
    The evaluation is :func:`distill2rules.experiments.runs.evaluate_inputs` on the test split
    (smaller SHAP and latency samples than ``distill2rules evaluate``'s defaults).
    """
    evaluation = None
    if evaluate:
        from distill2rules.experiments.runs import (  # lazy: pulls pandas
            eval_inputs_from_run,
            evaluate_inputs,
        )

        onnx = run.artifact(export_onnx=export_onnx).files.get("student.onnx")
        evaluation = evaluate_inputs(
            eval_inputs_from_run(run),
            onnx_model=onnx,
            shap_rows=shap_rows,
            latency_calls=latency_calls,
            seed=seed,
            progress=progress,
        )
    builder = run.artifact(export_onnx=export_onnx, evaluation=evaluation)
    as_read: dict[str, Any] = {  # what load_run would read back from the written files
        "dir": Path(out),
        "manifest": {**builder.manifest, "versions": versions()},
        "metrics": json.loads(dump_json(run.metrics)),
        "spec": json.loads(to_json(run.spec)),
    }
    if run.baseline_spec is not None:
        as_read["baseline"] = json.loads(to_json(run.baseline_spec))
    if evaluation is not None:
        as_read["evaluation"] = json.loads(dump_json(evaluation))
    builder.add(REPORT_FILE, render_run(as_read, name=Path(out).name, progress=progress))
    builder.write(out)
    if save_run_decisions(run, out):  # the per-applicant section needs the written artifact
        return build_report(out, progress=progress)
    return Path(out) / REPORT_FILE

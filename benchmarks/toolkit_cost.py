"""Toolkit cost: wall time and peak memory of ``distill2rules fit`` (each student) and of SHAP alignment.

Each ``fit`` runs in a fresh process (``python -m distill2rules.cli.main fit ... --json``) with
the 200-tree GBT teacher on Adult; the stage breakdown is the pipeline's own ``timings``
(load data, load teacher, score teacher, fit KD, fit no-KD, measure, write artifact incl.
ONNX export and rule card); "startup + other" is the wall time not covered by a stage
(interpreter start, imports). Peak memory is the child's ``ru_maxrss``. SHAP alignment runs
the validation suite (teacher SHAP, student SHAP, alignment) on 1,000 test rows.

Run alone:  python benchmarks/toolkit_cost.py [--quick]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (
    PY,
    Context,
    Section,
    Target,
    data_env,
    fit_all,
    fmt_bytes,
    make_context,
    run_measured,
)

PROBE = Path(__file__).resolve().parent / "_alignment_probe.py"
STAGES = [
    "load data",
    "load teacher",
    "score teacher",
    "fit {s} student (KD)",
    "fit {s} student (no KD)",
    "measure",
    "write artifact",
]
SHAP_STUDENTS = (
    "logreg",
    "ebm",
)  # additive students have exact SHAP; the others use permutation SHAP (slow)


def fit_rows(ctx: Context) -> tuple[list[list[str]], list[Target], list[str]]:
    rows, targets, notes = [], [], []
    for s in ctx.students:
        info = ctx.fits.get(s)
        if info is None:
            notes.append(
                f"`fit --student {s}` failed: {ctx.extra.get('fit_errors', {}).get(s, '?')}"
            )
            continue
        t = info["timings"]
        stages = [float(t.get(name.format(s=s), 0.0)) for name in STAGES]
        other = info["wall_s"] - sum(stages)
        rows.append(
            [
                s,
                f"{info['wall_s']:.1f}",
                f"{info['cpu_s']:.1f}",
                *(f"{x:.2f}" for x in stages),
                f"{other:.1f}",
                fmt_bytes(info["peak_rss_bytes"]),
            ]
        )
        goal = {"ebm": 120.0, "logreg": 30.0}.get(s)
        if goal is not None:
            targets.append(Target(f"fit --student {s} wall time", info["wall_s"], goal, "<=", " s"))
        targets.append(
            Target(f"fit --student {s} peak memory", info["peak_rss_bytes"] / 1e9, 4.0, "<=", " GB")
        )
    if ctx.fits:
        notes.append("Command: `" + next(iter(ctx.fits.values()))["command"] + "` (per student).")
    return rows, targets, notes


def shap_rows(ctx: Context) -> tuple[list[list[str]], list[str]]:
    rows, notes = [], []
    n = ctx.shap_rows
    if n <= 0:
        return rows, ["SHAP alignment cost not measured (shap_rows = 0)."]
    for s in SHAP_STUDENTS:
        if s not in ctx.fits:
            continue
        spec_path = ctx.workdir / "fit" / s / "student.json"
        try:
            res = run_measured(
                [
                    PY,
                    str(PROBE),
                    str(ctx.teacher_paths["gbt"]),
                    str(spec_path),
                    ctx.data_arg,
                    ctx.target,
                    str(n),
                ],
                env=data_env(),
            )
        except RuntimeError as exc:
            notes.append(f"SHAP alignment for `{s}` failed: {str(exc)[-200:]}")
            continue
        out = json.loads(res["stdout"].strip().splitlines()[-1])
        sec = out["seconds"]
        shap_s = sum(float(sec.get(k, 0.0)) for k in ("teacher SHAP", "student SHAP", "alignment"))
        rows.append(
            [
                s,
                str(out["shap_rows"]),
                f"{res['wall_s']:.1f}",
                f"{res['cpu_s']:.1f}",
                f"{out['setup_s']:.1f}",
                f"{float(sec.get('predict', 0)) + float(sec.get('metrics', 0)):.2f}",
                f"{float(sec.get('teacher SHAP', 0)):.2f}",
                f"{float(sec.get('student SHAP', 0)):.2f}",
                f"{float(sec.get('alignment', 0)):.2f}",
                f"{shap_s:.2f}",
                fmt_bytes(res["peak_rss_bytes"]),
            ]
        )
    notes.append(
        f"SHAP alignment measured for {', '.join(SHAP_STUDENTS)} (exact additive SHAP for the student; "
        "TreeExplainer for the GBT teacher); other students fall back to permutation SHAP and are "
        "not timed here."
    )
    return rows, notes


def run(ctx: Context) -> Section:
    fit_all(ctx)
    frows, targets, notes = fit_rows(ctx)
    srows, snotes = shap_rows(ctx)
    header = [
        "student",
        "wall s",
        "CPU s (user+sys)",
        *[n.replace(" {s} student", "") for n in STAGES],
        "startup + other s",
        "peak RSS",
    ]
    return Section(
        title="Toolkit cost",
        intro=(
            "`distill2rules fit` on Adult with the GBT teacher, each student in a fresh process; "
            "stage seconds from the pipeline's `timings` (fit KD = distilled student, fit no KD = the "
            "hard-label baseline fitted side by side; measure = validation metrics on val/test). Stage times "
            "and the targets are wall-clock; the CPU column (user + sys of the process, both cores) shows how "
            "much of the wall time was work rather than waiting for the shared machine."
        ),
        tables=[
            ("fit", header, frows),
            (
                "SHAP alignment (validation suite, fresh process)",
                [
                    "student",
                    "rows",
                    "wall s",
                    "CPU s",
                    "setup s",
                    "predict + metrics s",
                    "teacher SHAP s",
                    "student SHAP s",
                    "alignment s",
                    "SHAP total s",
                    "peak RSS",
                ],
                srows,
            ),
        ],
        targets=targets,
        notes=notes + snotes,
    )


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    print(run(make_context(quick=ap.parse_args().quick)).markdown())

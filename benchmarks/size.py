"""Size: parameters (PRR), serialized bytes, and resident memory of a loaded model.

Parameters: ``spec_n_parameters`` for students (nonzero coefficients/scores + intercepts,
conditions + rule probabilities, weights + biases) and ``teacher.n_parameters()`` (LightGBM:
splits + leaves; torch: ``numel``). PRR = 1 − |θ_S| / |θ_T| against the GBT teacher the
students were distilled from. Resident memory: RSS growth when a fresh process (runtime
already imported) loads the model and runs one row (median of ``repeats`` processes).

Run alone:  python benchmarks/size.py [--quick]
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import PY, Context, Section, fit_all, fmt_bytes, make_context

PROBE = Path(__file__).resolve().parent / "_rss_probe.py"


def rss_delta(mode: str, path: Path, repeats: int) -> float:
    """Median RSS growth (bytes) of loading ``path`` in ``repeats`` fresh processes."""
    vals = []
    for _ in range(repeats):
        p = subprocess.run(
            [PY, str(PROBE), mode, str(path)], capture_output=True, text=True, timeout=600
        )
        if p.returncode != 0:
            raise RuntimeError(p.stderr[-500:])
        vals.append(json.loads(p.stdout.strip().splitlines()[-1])["rss_delta_bytes"])
    return float(np.median(vals))


def mlp_teacher_onnx(ctx: Context) -> bytes:
    import torch

    mlp = ctx.teachers["mlp"]
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            mlp.module.eval(),
            (torch.zeros(1, len(mlp.model_input_names)),),
            buf,
            dynamo=False,
            input_names=["x"],
            output_names=["y"],
            dynamic_axes={"x": {0: "N"}, "y": {0: "N"}},
            opset_version=17,
        )
    return buf.getvalue()


def run(ctx: Context) -> Section:
    from distill2rules.validation.efficiency import prr, spec_n_parameters

    fit_all(ctx)
    repeats = 1 if ctx.quick else 3
    d = ctx.workdir / "size"
    d.mkdir(parents=True, exist_ok=True)
    gbt, mlp = ctx.teachers["gbt"], ctx.teachers["mlp"]
    n_gbt, n_mlp = gbt.n_parameters(), mlp.n_parameters()
    rows, notes = [], []
    gbt_file = ctx.teacher_paths["gbt"]

    def teacher_rss(
        mode: str, path: Path
    ) -> str:  # importing torch/lightgbm in probes is slow: full runs only
        return "skipped (quick)" if ctx.quick else fmt_bytes(rss_delta(mode, path, repeats))

    rows.append(
        [
            f"teacher GBT ({gbt.booster.num_trees()} trees, LightGBM model.txt)",
            f"{n_gbt:,}",
            "—",
            fmt_bytes(gbt_file.stat().st_size) + " (text)",
            teacher_rss("lightgbm", gbt_file) + " (LightGBM)",
        ]
    )
    mlp_onnx = d / "teacher_mlp.onnx"
    mlp_onnx.write_bytes(mlp_teacher_onnx(ctx))
    hidden = "-".join(
        str(m.out_features) for m in mlp.module.modules() if hasattr(m, "out_features")
    )
    rows.append(
        [
            f"teacher MLP ({hidden}, torch)",
            f"{n_mlp:,}",
            "—",
            f"{fmt_bytes(ctx.teacher_paths['mlp'].stat().st_size)} (.pt), {fmt_bytes(mlp_onnx.stat().st_size)} (ONNX)",
            f"{teacher_rss('torch', ctx.teacher_paths['mlp'])} (torch), {teacher_rss('onnx', mlp_onnx)} (ORT)",
        ]
    )
    for s in ctx.students:
        if s not in ctx.specs:
            notes.append(
                f"student `{s}` skipped: {ctx.extra.get('fit_errors', {}).get(s, 'not fitted')}"
            )
            continue
        n_s = spec_n_parameters(ctx.specs[s])
        path = d / f"student_{s}.onnx"
        path.write_bytes(ctx.onnx[s])
        p = prr(n_s, n_gbt)
        rows.append(
            [
                f"student {s} (ONNX)",
                f"{n_s:,}",
                f"{p:.4f}",
                fmt_bytes(len(ctx.onnx[s])),
                fmt_bytes(rss_delta("onnx", path, repeats)) + " (ORT)",
            ]
        )
    return Section(
        title="Size",
        intro=(
            "Parameters and PRR against the GBT teacher; serialized size; RSS growth of a fresh process "
            f"loading the model and running one row (runtime imported first; median of {repeats} processes)."
        ),
        tables=[
            (
                "",
                ["model", "parameters", "PRR vs GBT", "file bytes", "resident memory (RSS delta)"],
                rows,
            )
        ],
        notes=notes
        + [
            "Teacher MLP PRR of a student = 1 − |θ_S| / "
            f"{n_mlp:,} (the students here were distilled from the GBT teacher)."
        ],
    )


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    print(run(make_context(quick=ap.parse_args().quick)).markdown())

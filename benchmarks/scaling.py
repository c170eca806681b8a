"""Scaling: how ``fit`` time grows with rows (synthetic data, 10 numeric features, LightGBM teacher).

``sklearn.datasets.make_classification`` (10 features, 6 informative, seed 0); a 200-tree
GBT teacher (``train_teacher("gbt")``) trained once on 20k rows; then ``distill`` in-process
on the first n rows for each student (default parameters, no baseline, no artifact), timed by
the pipeline's stages.

Run alone:  python benchmarks/scaling.py [--quick]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Context, Section, make_context, student_params

SIZES = (10_000, 50_000, 150_000)
QUICK_SIZES = (500, 1_000, 2_000)
STUDENTS = ("logreg", "ebm")


def synthetic(n: int, seed: int = 0):
    import pandas as pd
    from sklearn.datasets import make_classification

    X, y = make_classification(
        n_samples=n,
        n_features=10,
        n_informative=6,
        n_redundant=2,
        flip_y=0.05,
        class_sep=0.8,
        random_state=seed,
    )
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(10)])
    df["y"] = y
    return df


def run(ctx: Context) -> Section:
    from distill2rules.pipeline import distill
    from distill2rules.teachers import load_teacher, train_teacher

    sizes = QUICK_SIZES if ctx.quick else SIZES
    frame = synthetic(max(sizes))
    tpath = ctx.workdir / "scaling" / "teacher" / "model.txt"
    if not tpath.exists():
        tpath.parent.mkdir(parents=True, exist_ok=True)
        tr = frame.iloc[: min(20_000, len(frame))]
        train_teacher(
            "gbt",
            tr.drop(columns="y"),
            tr["y"],
            out=tpath,
            seed=0,
            progress=False,
            n_estimators=20 if ctx.quick else 200,
        )
    teacher = load_teacher(tpath)
    rows, data = [], {}
    for s in [s for s in STUDENTS if s in ctx.students]:
        for n in sizes:
            t0 = time.perf_counter()
            res = distill(
                teacher,
                frame.iloc[:n].reset_index(drop=True),
                target="y",
                student=s,
                seed=0,
                baseline=False,
                progress=False,
                student_params=student_params(ctx, s),
            )
            wall = time.perf_counter() - t0
            t = res.timings
            fit_s = float(t.get(f"fit {s} student (KD)", np.nan))
            data[f"{s}/{n}"] = {"wall_s": wall, **t}
            rows.append(
                [
                    s,
                    f"{n:,}",
                    f"{int(n * 0.7):,}",
                    f"{wall:.2f}",
                    f"{t.get('score teacher', 0):.2f}",
                    f"{fit_s:.2f}",
                    f"{t.get('measure', 0):.2f}",
                    f"{fit_s / (n * 0.7) * 1e6:.1f}",
                ]
            )
    return Section(
        title="Scaling",
        intro=(
            "Synthetic binary data, 10 numeric features; `distill(..., baseline=False)` in-process "
            "(70 % of the rows train the student). Per-row cost = fit seconds / training rows."
        ),
        tables=[
            (
                "",
                [
                    "student",
                    "rows",
                    "train rows",
                    "distill wall s",
                    "score teacher s",
                    "fit (KD) s",
                    "measure s",
                    "fit µs / train row",
                ],
                rows,
            )
        ],
        data=data,
    )


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    print(run(make_context(quick=ap.parse_args().quick)).markdown())

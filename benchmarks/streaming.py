"""Streaming predict: peak memory of ``distill2rules predict`` on 1M rows (issue 15 target: <= 300 MB).

The Adult feature rows are tiled to ``n_rows`` (1,000,000; 20,000 in quick mode) and written as one
CSV; ``distill2rules predict`` scores it with the logreg artifact ``fit`` wrote, in a fresh
measured process (peak RSS = the child's ``ru_maxrss``). For comparison the whole-file path
(``read_table`` + ``predict_frame``, what ``predict`` did before it streamed) runs on the same file.

Run alone:  python benchmarks/streaming.py [--quick]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (
    PY,
    Context,
    Section,
    Target,
    cli,
    data_env,
    fit_student_cli,
    fmt_bytes,
    make_context,
    run_measured,
)

TARGET_MB = 300.0
_WHOLE_FILE = (
    "import sys; from distill2rules.data import read_table; from distill2rules.serve import predict_frame; "
    "predict_frame(sys.argv[1], read_table(sys.argv[2])).to_csv(sys.argv[3], index=False, float_format='%.8g')"
)


def big_csv(ctx: Context, n_rows: int) -> Path:
    """``n_rows`` feature rows (the test split tiled), written in blocks; cached per size."""
    path = ctx.workdir / "streaming" / f"rows_{n_rows}.csv"
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    block = ctx.test[[c for c in ctx.features]].reset_index(drop=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        written = 0
        while written < n_rows:
            part = block.iloc[: n_rows - written]
            part.to_csv(f, index=False, header=written == 0)
            written += len(part)
    tmp.replace(path)
    return path


def run(ctx: Context, n_rows: int | None = None) -> Section:
    n = n_rows or (20_000 if ctx.quick else 1_000_000)
    student = "logreg" if "logreg" in ctx.students else ctx.students[0]
    fit_student_cli(ctx, student)
    art = ctx.workdir / "fit" / student
    data = big_csv(ctx, n)
    out = ctx.workdir / "streaming" / "predictions.csv"
    stream = run_measured(
        cli("predict", str(art), "--data", str(data), "--out", str(out)), env=data_env()
    )
    with open(out, encoding="utf-8") as f:
        n_out = sum(1 for _ in f) - 1
    whole = run_measured([PY, "-c", _WHOLE_FILE, str(art), str(data), str(out)], env=data_env())
    peak_mb = stream["peak_rss_bytes"] / 1e6
    rows = [
        [
            "`distill2rules predict` (streaming, 50,000-row chunks)",
            f"{n:,}",
            fmt_bytes(stream["peak_rss_bytes"]),
            f"{stream['wall_s']:.1f} s",
            f"{stream['peak_rss_bytes'] / n:.0f} B",
        ],
        [
            "whole file in memory (`read_table` + `predict_frame`, the old path)",
            f"{n:,}",
            fmt_bytes(whole["peak_rss_bytes"]),
            f"{whole['wall_s']:.1f} s",
            f"{whole['peak_rss_bytes'] / n:.0f} B",
        ],
    ]
    return Section(
        title="Streaming predict",
        intro=(
            f"Peak resident memory (`ru_maxrss` of a fresh process, interpreter and imports included) of scoring "
            f"{n:,} Adult rows ({fmt_bytes(data.stat().st_size)} CSV, the test split tiled) with the `{student}` "
            "artifact; predictions written as CSV."
        ),
        tables=[("", ["path", "rows", "peak RSS", "wall time", "peak RSS per row"], rows)],
        targets=[
            Target(
                f"predict {n:,} rows: peak RSS",
                peak_mb,
                TARGET_MB,
                op="<=",
                unit=" MB",
                note="informative (quick mode)" if ctx.quick else "",
            )
        ],
        notes=[f"{n_out:,} prediction rows written (must equal the input rows)."],
        data={"rows": n, "stream": stream, "whole_file": whole, "rows_written": n_out},
    )


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    print(run(make_context(quick=ap.parse_args().quick, students=["logreg"])).markdown())

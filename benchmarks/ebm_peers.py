"""EBM student's ONNX vs the same EBM converted by ebm2onnx, over data shape and bin count.

ebm2onnx compares every value with every bin edge, so its cost grows with the bins; our
graph searches them in one tree ensemble, so its cost grows with their logarithm. Both take
the raw business values, so both also pay onnxruntime's conversion of the inputs, which for
string columns is the same fixed cost per cell whatever the graph does. This section
measures, for each case:

* our ``student.onnx`` (main effects: ebm2onnx 3.3 cannot convert pairs in the regressors
  the student fits, so both sides drop the same pair terms);
* ebm2onnx on the same fitted EBM (``interpret`` object; parity checked to 1e-5);
* the input floor: :func:`inference.floor_model` (our inputs in, the numeric one out as is),
  i.e. feeding them.

and reports the batch and single-row speed-ups plus the *ceiling*: ebm2onnx's batch time over
the input floor, the best ratio any graph taking these inputs could reach.

Cases: Adult (6 numeric + 8 string columns) and Wine Quality as "good" (quality >= 7) vs not
(11 numeric columns), each with the product's default ``max_bins=256`` and with interpret's
own default ``max_bins=1024``, every EBM fitted by ``distill`` from a 200-tree LightGBM teacher
trained on that data (seed 0).

Run alone:  python benchmarks/ebm_peers.py [--quick]
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (
    Context,
    Section,
    Target,
    compare_latency,
    fmt_us,
    make_context,
    ratio,
    student_params,
)

GOAL_BATCH = 5.0  # issue 7: >= 5x faster than ebm2onnx on a 10k batch, no slower single-row


def _wine(ctx: Context) -> tuple[Any, str, Path]:
    """Wine Quality as a binary frame ("good": quality >= 7) and its GBT teacher (cached)."""
    from distill2rules.data import load_dataset, split_frame
    from distill2rules.teachers import train_teacher

    frame = load_dataset("wine_quality").frame.copy()
    frame["grade"] = np.where(frame.pop("quality") >= 7, "good", "not_good")
    if ctx.quick:
        frame = frame.sample(n=min(2000, len(frame)), random_state=0).reset_index(drop=True)
    path = ctx.workdir / "teachers" / "wine_gbt" / "model.txt"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tr = split_frame(frame, "grade", seed=0).train
        train_teacher(
            "gbt",
            tr.drop(columns=["grade"]),
            tr["grade"],
            out=path,
            seed=0,
            progress=False,
            n_estimators=20 if ctx.quick else 200,
        )
    return frame, "grade", path


def _fit(teacher: Path, frame: Any, target: str, max_bins: int, ctx: Context) -> Any:
    from distill2rules.pipeline import distill

    params = {**student_params(ctx, "ebm"), "max_bins": max_bins}
    return distill(
        teacher,
        frame,
        target=target,
        student="ebm",
        seed=0,
        baseline=False,
        progress=False,
        student_params=params,
    ).student


def _case(name: str, est: Any, X: Any, n_rows: int) -> dict[str, Any]:
    """Build the three graphs for one fitted EBM; returns contestants and facts of the case."""
    import ebm2onnx
    from inference import floor_model, fresh_strings, session

    from distill2rules.exporters import to_onnx
    from distill2rules.exporters.onnx import onnx_feeds
    from distill2rules.spec import prepare_inputs

    model = copy.deepcopy(est.ebm_models_[0])
    pairs = [model.term_names_[i] for i, f in enumerate(model.term_features_) if len(f) > 1]
    if pairs:
        model.remove_terms(pairs)
    # our graph from the very same interpret object (the student's spec also folds in its
    # calibration scale, which ebm2onnx never sees)
    spec = {
        **est._lower([(model, None)], 2),
        **{k: est.spec_[k] for k in ("format", "model", "classes", "inputs")},
    }
    num_cols, cat_cols = list(spec["inputs"]["numeric"]), list(spec["inputs"]["categorical"])
    peer = ebm2onnx.to_onnx(
        model, dtype={**{c: "double" for c in num_cols}, **{c: "str" for c in cat_cols}}
    )
    Xb = X.iloc[np.arange(n_rows) % len(X)].reset_index(drop=True)
    ours_feeds = fresh_strings(onnx_feeds(spec, Xb))
    num, cat = prepare_inputs(spec, Xb)
    cols = [num[:, [j]].astype(np.float64) for j in range(len(num_cols))] + [
        cat[:, [j]] for j in range(len(cat_cols))
    ]
    peer_sess = session(peer)
    ins = peer_sess.get_inputs()  # ebm2onnx sanitises names, same order
    peer_feeds = fresh_strings(
        {i.name: (v if len(i.shape) == 2 else v[:, 0]) for i, v in zip(ins, cols)}
    )
    ours_sess = session(to_onnx(spec))
    p_ours = ours_sess.run(["probabilities"], ours_feeds)[0][:, 1]
    score = np.asarray(
        peer_sess.run(None, peer_feeds)[0], dtype=np.float64
    ).ravel()  # a regressor: log-odds
    p_peer = 1.0 / (1.0 + np.exp(-score))
    complete = (
        ~Xb.isna().any(axis=1).to_numpy()
    )  # ebm2onnx reads a missing string as an unseen category
    gap = float(np.max(np.abs(p_ours - p_peer)[complete]))
    if gap > 1e-5:
        raise RuntimeError(
            f"{name}: ebm2onnx and our graph disagree by {gap:.2e}; not the same model"
        )
    floor_sess = session(floor_model(ours_feeds))
    runs = {
        "ours": (ours_sess, ours_feeds),
        "ebm2onnx": (peer_sess, peer_feeds),
        "input floor": (floor_sess, ours_feeds),
    }
    edges = [
        len(t["axes"][0]["edges"])
        for t in spec["terms"]
        if t["type"] == "table" and t["axes"][0]["kind"] == "numeric"
    ]
    return {
        "runs": runs,
        "gap": gap,
        "pairs": len(pairs),
        "n_num": len(num_cols),
        "n_cat": len(cat_cols),
        "edges": edges,
    }


def run(ctx: Context) -> Section:
    try:
        import ebm2onnx  # noqa: F401
    except ImportError:
        return Section(
            title="EBM vs ebm2onnx", notes=["ebm2onnx is not installed: section skipped."]
        )
    from inference import _rows

    from distill2rules.data import split_frame

    n_rows = ctx.batch_rows
    wine, wine_target, wine_teacher = _wine(ctx)
    bins = (256,) if ctx.quick else (256, 1024)
    datasets = [
        ("Adult", ctx.frame, ctx.target, ctx.teacher_paths["gbt"]),
        ("Wine (good vs not)", wine, wine_target, wine_teacher),
    ]
    rows, targets, data, per_cell = [], [], {}, []
    for label, frame, target, teacher in datasets:
        test = split_frame(frame, target, seed=0).test.drop(columns=[target])
        for b in bins:
            name = f"{label}, max_bins {b}" + (
                " (product default)" if b == 256 else " (interpret's default)"
            )
            print(f"[bench]   ebm peers: {name} …", file=sys.stderr, flush=True)
            case = _case(name, _fit(teacher, frame, target, b, ctx), test, n_rows)
            runs = case["runs"]
            batch = compare_latency(
                {k: ((lambda f, s=s: s.run(None, f)), [f]) for k, (s, f) in runs.items()},
                n_calls=3 if not ctx.quick else 1,
                rounds=ctx.rounds,
            )
            single = compare_latency(
                {
                    k: ((lambda f, s=s: s.run(None, f)), _rows(f, 200))
                    for k, (s, f) in runs.items()
                    if k != "input floor"
                },
                n_calls=ctx.n_calls,
                rounds=ctx.rounds,
            )
            ours_b, peer_b, floor_b = (
                batch[k]["cpu_p50_ms"] for k in ("ours", "ebm2onnx", "input floor")
            )
            speed = ratio(peer_b, ours_b)
            ceiling = ratio(peer_b, floor_b)
            one = ratio(single["ebm2onnx"]["cpu_p50_ms"], single["ours"]["cpu_p50_ms"])
            e = case["edges"]
            rows.append(
                [
                    name,
                    f"{case['n_num']} + {case['n_cat']}",
                    f"{int(np.median(e)) if e else 0} / {max(e, default=0)}",
                    fmt_us(ours_b),
                    fmt_us(peer_b),
                    fmt_us(floor_b),
                    f"{speed:.2f}×",
                    f"{ceiling:.2f}×",
                    fmt_us(single["ours"]["cpu_p50_ms"]),
                    fmt_us(single["ebm2onnx"]["cpu_p50_ms"]),
                    f"{one:.2f}×",
                ]
            )
            targets.append(
                Target(
                    f"batch speed-up vs ebm2onnx: {name}",
                    speed,
                    GOAL_BATCH,
                    note=f"ceiling with these inputs {ceiling:.2f}×",
                )
            )
            targets.append(Target(f"1-row speed-up vs ebm2onnx: {name}", one, 1.0))
            data[name] = {
                "batch": batch,
                "single": single,
                "max_abs_dp": case["gap"],
                "pairs_dropped": case["pairs"],
            }
            if case["n_cat"]:
                per_cell.append(floor_b * 1e6 / (n_rows * case["n_cat"]))  # ns per string cell
    header = [
        "case",
        "numeric + string columns",
        "edges per numeric term (median / max)",
        f"ours, batch {n_rows:,}",
        f"ebm2onnx, batch {n_rows:,}",
        "input floor (feeding only)",
        "batch speed-up",
        "ceiling (ebm2onnx ÷ floor)",
        "ours, 1 row",
        "ebm2onnx, 1 row",
        "1-row speed-up",
    ]
    sec = Section(
        title="EBM vs ebm2onnx",
        intro=(
            "The same fitted EBM exported by `distill2rules.exporters` and by ebm2onnx, main effects only on both "
            "sides (ebm2onnx cannot convert the pair terms of the regressors the student fits); predictions agree "
            "to 1e-5 before timing (rows without missing values: ebm2onnx reads a missing string as an unseen "
            "category). CPU time of the calling thread, onnxruntime single-threaded, median of "
            f"{ctx.rounds} interleaved rounds; single-row p50 over 200 distinct rows. *Input floor*: a graph that "
            "only takes our inputs (`numeric` float32, `categorical` strings) and returns `numeric` as is, i.e. what "
            "onnxruntime spends converting them; ebm2onnx's inputs carry the same strings. *Ceiling*: ebm2onnx's "
            "batch time over that floor, the highest speed-up any graph fed these inputs can show."
        ),
        tables=[("", header, rows)],
        targets=targets,
        notes=[
            (
                "String columns: onnxruntime converts every Python string of a fed array ("
                + (
                    f"{min(per_cell):.0f}–{max(per_cell):.0f} ns per cell here: input floor ÷ string cells"
                    if per_cell
                    else "no string columns in this run"
                )
                + "), before any node runs, for both graphs; on Adult's 8 string columns that fixed cost is a large part "
                "of ebm2onnx's own time, so the 5× goal is out of reach for any graph with these inputs (see the "
                "ceiling). Numeric inputs cost next to nothing to feed, and there the gap follows the bin count."
            )
        ],
        data=data,
    )
    return sec


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    print(run(make_context(quick=a.quick, students=["ebm"])).markdown())

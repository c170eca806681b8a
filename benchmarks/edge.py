"""Edge scoring: a plain record (dict) in, the decision and its top-4 reasons out.

For every student kind, on Adult (numeric + categorical columns; the students ``fit`` wrote for
the other sections) and on Wine Quality as a numeric-only binary task (quality >= 6; teacher
and students fitted here), timed side by side with interleaved rounds on the calling thread's
CPU clock (see ``_common.compare_latency``):

* ``bare ONNX``: ``InferenceSession.run`` of the student's ``inputs="codes"`` graph on already
  prepared 1-row tensors (float32 numbers, int64 category codes) — the floor the scorer calls;
* ``Scorer.score``: dict in, validated, converted, graph run, decision out;
* ``Scorer.explain``: the same plus the top-4 reasons from the graph's ``contributions`` /
  ``rule`` outputs (MLPs: occlusion, rows of the same call) — the end-to-end path;
* the LightGBM teacher: the same dict turned into a 1-row float64 row (numbers as they are,
  categories by the teacher's own code tables) and ``Booster.predict(num_threads=1)``; its
  "decision + top-4 reasons" path asks ``pred_contrib=True`` (TreeSHAP) and ranks the features.

Batch: ``Scorer.score_many`` on 10,000 dicts against the teacher building the 10,000-row
matrix from the same dicts and predicting. Then ``distill2rules serve`` on loopback: requests/s
and latency from 4 keep-alive clients (``server.load_test``).

Run alone:  python benchmarks/edge.py [--quick]
"""

from __future__ import annotations

import math
import operator
import sys
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (
    PY,
    Context,
    Section,
    Target,
    compare_latency,
    fit_all,
    fmt_bytes,
    fmt_us,
    make_context,
    ratio,
    student_params,
)

SINGLE = 200  # distinct records cycled through by the single-record calls
TEACHERS = ("gbt",)  # the LightGBM teacher only (run_all trains no MLP teacher for this section)
CLOCK = "cpu_p50_ms"
TOP = 4
FLOOR = "floor: read every field of the dicts (itemgetter, no conversion)"


# ----------------------------------------------------------------------------- data


def wine_task(ctx: Context) -> dict[str, Any]:
    """Wine Quality as a numeric-only binary task: a 200-tree LightGBM teacher and every student."""
    from distill2rules.data import load_dataset, split_frame
    from distill2rules.pipeline import distill
    from distill2rules.spec import from_json, to_json
    from distill2rules.teachers import load_teacher, train_teacher

    ds = load_dataset("wine_quality")
    frame = ds.frame.copy()
    frame["good"] = np.where(frame.pop(ds.target).astype(float) >= 6, "yes", "no")
    if ctx.quick:
        frame = frame.sample(n=min(1500, len(frame)), random_state=0).reset_index(drop=True)
    wd = ctx.workdir / "edge" / "wine"
    wd.mkdir(parents=True, exist_ok=True)
    teacher = wd / "model.txt"
    splits = split_frame(frame, "good", seed=0)
    if not teacher.exists():
        X, y = splits.train.drop(columns=["good"]), splits.train["good"]
        train_teacher(
            "gbt",
            X,
            y,
            out=teacher,
            seed=0,
            n_estimators=20 if ctx.quick else 200,
            n_jobs=1,
            progress=False,
        )
    specs, errors = {}, {}
    for s in ctx.students:
        cached = wd / f"{s}.json"
        if cached.exists():
            specs[s] = from_json(cached.read_text())
            continue
        try:
            res = distill(
                teacher,
                frame,
                target="good",
                student=s,
                seed=0,
                baseline=False,
                progress=False,
                student_params=student_params(ctx, s),
            )
        except Exception as exc:  # noqa: BLE001 - one student failing is reported, not fatal
            errors[s] = f"{type(exc).__name__}: {str(exc)[:200]}"
            continue
        specs[s] = res.spec
        cached.write_text(to_json(res.spec))
    return {
        "name": "Wine Quality (numeric only)",
        "teacher": load_teacher(teacher),
        "specs": specs,
        "records": splits.test.drop(columns=["good"]).to_dict("records"),
        "errors": errors,
    }


def adult_task(ctx: Context) -> dict[str, Any]:
    fit_all(ctx)
    X = ctx.test[ctx.features]
    return {
        "name": "Adult (numeric + categorical)",
        "teacher": ctx.teachers["gbt"],
        "specs": dict(ctx.specs),
        "records": X.to_dict("records"),
        "errors": dict(ctx.extra.get("fit_errors", {})),
    }


def batch_records(records: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    """``n`` distinct dict objects (copies), cycling through ``records``."""
    return [dict(records[i % len(records)]) for i in range(n)]


# ----------------------------------------------------------------------------- the teacher's path


class TeacherPath:
    """A LightGBM teacher fed plain dicts: the row is built in Python, then ``Booster.predict``."""

    def __init__(self, teacher: Any) -> None:
        self.booster = teacher.booster
        self.names = list(teacher.feature_names)
        self.classes = list(teacher.classes_) if teacher.classes_ is not None else [0, 1]
        self.lookups = {
            self.names[j]: lk for j, lk in teacher._lookups.items()
        }  # canonical string -> code

    def _value(self, name: str, v: Any) -> float:
        lk = self.lookups.get(name)
        if lk is not None:
            code = lk.get(v if isinstance(v, str) else ("" if v is None else str(v)))
            return math.nan if code is None else float(code)
        return math.nan if v is None else float(v)

    def row(self, record: dict[str, Any]) -> np.ndarray:
        return np.array([[self._value(c, record[c]) for c in self.names]], dtype=np.float64)

    def matrix(self, records: list[dict[str, Any]]) -> np.ndarray:
        out = np.empty((len(records), len(self.names)), dtype=np.float64)
        for j, c in enumerate(self.names):
            col = [r[c] for r in records]
            if c in self.lookups:
                lk = self.lookups[c]
                out[:, j] = [math.nan if (k := lk.get(v)) is None else k for v in col]
            else:
                out[:, j] = col
        return out

    def decide(self, record: dict[str, Any]) -> Any:
        raw = self.booster.predict(self.row(record), raw_score=True, num_threads=1)
        return (
            self.classes[int(raw[0] > 0)] if raw.ndim == 1 else self.classes[int(np.argmax(raw[0]))]
        )

    def explain(self, record: dict[str, Any]) -> tuple[Any, float, list[tuple[str, float]]]:
        """Decision, probability and the top-4 features by TreeSHAP toward the decision."""
        contrib = self.booster.predict(self.row(record), pred_contrib=True, num_threads=1)[0]
        if len(contrib) != len(self.names) + 1:  # multiclass: not used by these tasks
            raise ValueError("binary teachers only")
        score = float(contrib.sum())
        k = int(score > 0)
        p1 = 1.0 / (1.0 + math.exp(-score))
        toward = contrib[:-1] if k == 1 else -contrib[:-1]
        top = np.argsort(-toward)[:TOP]
        return (
            self.classes[k],
            (p1 if k else 1 - p1),
            [(self.names[j], float(toward[j])) for j in top if toward[j] > 0],
        )

    def predict_many(self, records: list[dict[str, Any]]) -> np.ndarray:
        return self.booster.predict(self.matrix(records), raw_score=True, num_threads=1)


# ----------------------------------------------------------------------------- one task


def measure(ctx: Context, task: dict[str, Any]) -> dict[str, Any]:
    from distill2rules.exporters import to_onnx
    from distill2rules.scoring import Scorer

    records = task["records"][:SINGLE]
    teacher = TeacherPath(task["teacher"])
    single: dict[str, tuple[Callable[[Any], Any], list[Any]]] = {}
    scorers = {}
    sizes = {}
    for s, spec in task["specs"].items():
        codes = to_onnx(spec, inputs="codes").SerializeToString()
        strings = to_onnx(spec, inputs="tensors").SerializeToString()
        sizes[s] = (len(codes), len(strings))
        sc = Scorer(codes)
        scorers[s] = sc
        num, cat = sc.prepare(records)
        feeds = [
            sc._feeds(num[i : i + 1].copy(), cat[i : i + 1].copy()) for i in range(len(records))
        ]
        sess = sc._sess
        single[f"{s}: bare ONNX (prepared tensors)"] = (lambda f, se=sess: se.run(None, f), feeds)
        single[f"{s}: Scorer.score(dict)"] = (sc.score, records)
        single[f"{s}: Scorer.explain(dict), top {TOP}"] = (
            lambda r, sc=sc: sc.explain(r, top=TOP),
            records,
        )
        st = Scorer(strings)
        single[f"{s}: Scorer.explain(dict), strings graph"] = (
            lambda r, st=st: st.explain(r, top=TOP),
            records,
        )
    single["teacher: dict → row → Booster.predict (decision)"] = (teacher.decide, records)
    single[f"teacher: dict → row → Booster.predict(pred_contrib) (decision + top {TOP})"] = (
        teacher.explain,
        records,
    )
    lat = compare_latency(single, n_calls=ctx.n_calls, rounds=ctx.rounds)

    many = batch_records(task["records"], ctx.batch_rows)
    batch: dict[str, tuple[Callable[[Any], Any], list[Any]]] = {}
    for s, sc in scorers.items():
        batch[f"{s}: Scorer.score_many"] = (sc.score_many, [many])
        num, cat = sc.prepare(many)
        batch[f"{s}: bare ONNX on the prepared tensors"] = (
            lambda f, sc=sc: sc._sess.run(sc._score_outputs, f),
            [sc._feeds(num, cat)],
        )
    # what any dict-fed path pays before converting anything: one C pass reading every field
    read_all = operator.itemgetter(*teacher.names)
    # nothing is kept: a list of 10k tuples would add the garbage collector's passes over
    # every live object of this process (the Scorer keeps no per-record object either)
    batch[FLOOR] = (lambda rs: deque(map(read_all, rs), maxlen=0), [many])
    batch["teacher: dicts → matrix → Booster.predict"] = (teacher.predict_many, [many])
    prebuilt = teacher.matrix(many)
    batch["teacher: Booster.predict on the prebuilt matrix"] = (
        lambda x: teacher.booster.predict(x, raw_score=True, num_threads=1),
        [prebuilt],
    )
    blat = compare_latency(batch, n_calls=1 if ctx.quick else 3, rounds=ctx.rounds)

    http = {}
    for s, sc in scorers.items():
        http[s] = serve_load(sc, task["records"][:SINGLE], requests=200 if ctx.quick else 2000)
    first = next(iter(task["specs"]), None)
    cold = None
    if first is not None:
        cold = cold_start(
            ctx, to_onnx(task["specs"][first], inputs="codes").SerializeToString(), records[0]
        )
        cold["student"] = first
    return {"single": lat, "batch": blat, "http": http, "sizes": sizes, "cold": cold}


_RSS_PROBE = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from distill2rules.scoring import Scorer
s = Scorer.load(sys.argv[1])
r = json.loads(sys.argv[2])
s.explain(r)
mods = sorted(m for m in ("pandas", "scipy", "sklearn", "torch", "lightgbm", "onnx") if sys.modules.get(m))
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over fork + exec, so it would report the parent's size
hwm = [int(l.split()[1]) * 1024 for l in open("/proc/self/status") if l.startswith("VmHWM:")]
print(json.dumps({"seconds": time.perf_counter() - t0,
                  "peak_rss_bytes": hwm[0] if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                  "heavy_modules": mods}))
"""


def cold_start(ctx: Context, model: bytes, record: dict[str, Any]) -> dict[str, Any]:
    """A fresh interpreter: import the scorer, load the graph, explain one record (time, peak RSS)."""
    import json
    import subprocess

    path = ctx.workdir / "edge" / "probe.codes.onnx"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(model)
    p = subprocess.run(
        [PY, "-c", _RSS_PROBE, str(path), json.dumps(record, default=float)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(p.stdout.strip().splitlines()[-1])


def serve_load(scorer: Any, records: list[dict[str, Any]], requests: int) -> dict[str, Any]:
    """``distill2rules serve`` on loopback: POST /explain from 4 keep-alive clients."""
    from distill2rules.server import ScoringServer, load_test

    server = ScoringServer(("127.0.0.1", 0), scorer, workers=4, queue=16)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        res = load_test(server.url, records, requests=requests, threads=4, path="/explain")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    res.pop("answers")
    return res


# ----------------------------------------------------------------------------- report


def run(ctx: Context) -> Section:
    tasks = [adult_task(ctx), wine_task(ctx)]
    results = {t["name"]: measure(ctx, t) for t in tasks}
    sec = Section(
        title="Edge scoring (dict in, decision and reasons out)",
        intro=(
            '`distill2rules.Scorer` (numpy + onnxruntime only) on the `inputs="codes"` graph of every student, '
            f"{SINGLE} distinct test records as Python dicts, {ctx.n_calls} calls × {ctx.rounds} interleaved rounds, "
            "CPU time of the calling thread (onnxruntime 1 intra-op thread, LightGBM `num_threads=1`). "
            "`bare ONNX` is the graph alone on prepared tensors; `Scorer.explain` is the whole path: validation, "
            f"string → code conversion, the graph, the top-{TOP} reasons. The teacher gets the same dicts, turned "
            "into its own float64 row (categories by its code tables) in Python, then `Booster.predict`; its "
            f'"decision + top {TOP}" path uses TreeSHAP (`pred_contrib=True`). Batch: {ctx.batch_rows:,} dicts.'
        ),
    )
    for t in tasks:
        name = t["name"]
        r = results[name]
        lat, blat = r["single"], r["batch"]
        t_dec = lat["teacher: dict → row → Booster.predict (decision)"][CLOCK]
        t_exp = lat[f"teacher: dict → row → Booster.predict(pred_contrib) (decision + top {TOP})"][
            CLOCK
        ]
        rows = []
        for k, v in lat.items():
            rows.append(
                [
                    k,
                    fmt_us(v["cpu_p50_ms"]),
                    fmt_us(v["cpu_p99_ms"]),
                    fmt_us(v["p50_ms"]),
                    f"{ratio(t_exp, v[CLOCK]):.2f}×",
                    f"{ratio(t_dec, v[CLOCK]):.2f}×",
                ]
            )
        sec.tables.append(
            (
                f"{name}: one record",
                [
                    "path",
                    "p50 (CPU)",
                    "p99 (CPU)",
                    "p50 (wall)",
                    f"speed-up vs teacher decision + top {TOP}",
                    "speed-up vs teacher decision only",
                ],
                rows,
            )
        )
        t_batch = blat["teacher: dicts → matrix → Booster.predict"][CLOCK]
        t_floor = blat[FLOOR][CLOCK]
        sec.tables.append(
            (
                f"{name}: {ctx.batch_rows:,} records",
                ["path", "CPU", "wall", "records/s (CPU)", "speed-up vs teacher"],
                [
                    [
                        k,
                        fmt_us(v[CLOCK]),
                        fmt_us(v["p50_ms"]),
                        f"{ctx.batch_rows / (v[CLOCK] / 1e3):,.0f}",
                        f"{ratio(t_batch, v[CLOCK]):.2f}×",
                    ]
                    for k, v in blat.items()
                ],
            )
        )
        sec.tables.append(
            (
                f"{name}: `distill2rules serve` on loopback, POST /explain, 4 keep-alive clients",
                [
                    "student",
                    "requests",
                    "requests/s",
                    "p50",
                    "p99",
                    "statuses",
                    "graph size (codes / strings)",
                ],
                [
                    [
                        s,
                        h["requests"],
                        f"{h['throughput_rps']:,.0f}",
                        f"{h['p50_ms']:.2f} ms",
                        f"{h['p99_ms']:.2f} ms",
                        ", ".join(f"{k}: {n}" for k, n in sorted(h["statuses"].items())),
                        f"{r['sizes'][s][0] / 1e3:.1f} kB / {r['sizes'][s][1] / 1e3:.1f} kB",
                    ]
                    for s, h in r["http"].items()
                ],
            )
        )
        if r["cold"]:
            c = r["cold"]
            sec.notes.append(
                f"{name}: a fresh interpreter importing the scorer, loading the `{c['student']}` codes "
                f"graph and explaining one record took {c['seconds']:.2f} s with peak RSS "
                f"{fmt_bytes(c['peak_rss_bytes'])}; heavy modules loaded: "
                f"{', '.join(c['heavy_modules']) or 'none (numpy + onnxruntime only)'}."
            )
        numeric_only = "numeric only" in name
        for s in t["specs"]:
            bare = lat[f"{s}: bare ONNX (prepared tensors)"][CLOCK]
            e2e = lat[f"{s}: Scorer.explain(dict), top {TOP}"][CLOCK]
            short = name.split(" (")[0]
            sec.targets.append(
                Target(
                    f"{short} {s}: end-to-end / bare ONNX",
                    ratio(e2e, bare),
                    3.0,
                    "<=",
                    note="numeric-only target" if numeric_only else "informative: categorical data",
                )
            )
            sec.targets.append(
                Target(
                    f"{short} {s}: end-to-end speed-up vs teacher (decision + top {TOP})",
                    ratio(t_exp, e2e),
                    5.0,
                    note=f"vs teacher decision only: {ratio(t_dec, e2e):.2f}×",
                )
            )
            sm = blat[f"{s}: Scorer.score_many"][CLOCK]
            graph = blat[f"{s}: bare ONNX on the prepared tensors"][CLOCK]
            sec.targets.append(
                Target(
                    f"{short} {s}: score_many {ctx.batch_rows:,} speed-up vs teacher",
                    ratio(t_batch, sm),
                    10.0,
                    note=f"graph {graph / sm:.0%} of score_many; ceiling teacher ÷ "
                    f"(reading the fields + graph) {ratio(t_batch, t_floor + graph):.1f}×",
                )
            )
        for s, err in t["errors"].items():
            sec.notes.append(f"{name}: student `{s}` skipped: {err}")
    sec.notes.append(
        f"Batch rows: `bare ONNX on the prepared tensors` is the graph alone on the {ctx.batch_rows:,} "
        "rows `Scorer.prepare` made; `floor` only reads every field of every dict (one "
        "`operator.itemgetter` call per record, nothing converted, validated or kept), which any "
        "path fed "
        "with dicts pays first; `Booster.predict on the prebuilt matrix` is the teacher without its "
        "matrix build. The score_many targets' note gives the ceiling those two leave: the teacher's "
        "whole path ÷ (reading the fields + the student's graph)."
    )
    sec.notes.append(
        "Reasons: additive students rank the graph's `contributions` against each term's reference "
        "(the reason codes of `distill2rules explain`); rule lists read the `rule` output; MLPs use "
        "occlusion (in the decision's own graph call: one extra row per feature)."
    )
    sec.data = {k: {kk: vv for kk, vv in v.items()} for k, v in results.items()}
    return sec


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    print(run(make_context(quick=a.quick, teachers=TEACHERS)).markdown())

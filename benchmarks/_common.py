"""Shared helpers of the benchmarks: machine facts, timing, subprocess cost, Markdown tables.

Every benchmark module exposes ``run(ctx) -> Section``; ``run_all.py`` builds one
:class:`Context` (teachers, data, fitted students) and renders every section into
``docs/performance.md``. ``--quick`` shrinks everything to tiny inputs (smoke test, CI).
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
PY = sys.executable
#: where teachers, artifacts and scratch files of a benchmark run go (git-ignored)
DEFAULT_WORKDIR = REPO / "runs" / "bench"


# ----------------------------------------------------------------------------- results


@dataclasses.dataclass
class Target:
    """One target of issue 6: ``value`` compared with ``threshold`` (``op`` is ``<=`` or ``>=``)."""

    name: str
    value: float | None
    threshold: float
    op: str = ">="
    unit: str = "×"
    note: str = ""

    @property
    def status(self) -> str:
        if self.value is None or not np.isfinite(self.value):
            return "SKIP"
        ok = self.value >= self.threshold if self.op == ">=" else self.value <= self.threshold
        return "PASS" if ok else "MISS"

    def row(self) -> list[str]:
        val = "n/a" if self.value is None else f"{self.value:.3g}{self.unit}"
        return [self.name, val, f"{self.op} {self.threshold:g}{self.unit}", self.status, self.note]


@dataclasses.dataclass
class Section:
    """A titled part of the report: prose, tables (header, rows) and targets."""

    title: str
    intro: str = ""
    tables: list[tuple[str, list[str], list[list[str]]]] = dataclasses.field(default_factory=list)
    targets: list[Target] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)
    data: dict[str, Any] = dataclasses.field(default_factory=dict)

    def markdown(self) -> str:
        out = [f"## {self.title}", ""]
        if self.intro:
            out += [self.intro, ""]
        for caption, header, rows in self.tables:
            if caption:
                out += [f"**{caption}**", ""]
            out += [md_table(header, rows), ""]
        if self.targets:
            out += ["**Targets**", ""]
            out += [
                md_table(
                    ["target", "measured", "goal", "status", "note"],
                    [t.row() for t in self.targets],
                ),
                "",
            ]
        for n in self.notes:
            out.append(f"- {n}")
        if self.notes:
            out.append("")
        return "\n".join(out)


def md_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub Markdown table (``|`` in cells escaped)."""

    def cell(v: Any) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")

    lines = [
        "| " + " | ".join(cell(h) for h in header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    lines += ["| " + " | ".join(cell(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)


def fmt_us(ms: float | None) -> str:
    """Milliseconds as a short µs/ms string."""
    if ms is None or not np.isfinite(ms):
        return "n/a"
    return f"{ms * 1000:.1f} µs" if ms < 1 else f"{ms:.2f} ms"


def fmt_bytes(n: float | None) -> str:
    if n is None or not np.isfinite(n):
        return "n/a"
    for unit, size in (("MB", 1e6), ("kB", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n:.0f} B"


def ratio(a: float | None, b: float | None) -> float | None:
    """``a / b`` or None."""
    if a is None or b is None or not b or not np.isfinite(a) or not np.isfinite(b):
        return None
    return float(a) / float(b)


# ----------------------------------------------------------------------------- machine


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> str:
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in (
        "distill2rules",
        "numpy",
        "pandas",
        "scikit-learn",
        "lightgbm",
        "torch",
        "interpret-core",
        "onnx",
        "onnxruntime",
        "skl2onnx",
        "ebm2onnx",
        "onnxmltools",
        "shap",
    ):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def machine() -> dict[str, Any]:
    """CPU model, logical cores, load average, OS and thread environment."""
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "load_average": load_average(),
        "os": f"{platform.system()} {platform.release()}",
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "unset"),
    }


# ----------------------------------------------------------------------------- timing


def _once(fn: Callable[[Any], Any], x: Any) -> tuple[float, float]:
    c0, t0 = time.thread_time(), time.perf_counter()
    fn(x)
    t1, c1 = time.perf_counter(), time.thread_time()
    return t1 - t0, c1 - c0


def compare_latency(
    contestants: Mapping[str, tuple[Callable[[Any], Any], Sequence[Any]]],
    *,
    n_calls: int,
    rounds: int,
) -> dict[str, dict[str, float]]:
    """Interleaved single-call timing: per round, ``n_calls`` calls of each contestant in turn.

    ``contestants[name] = (fn, inputs)``; calls cycle through ``inputs`` (prepared in
    advance, so slicing is not timed). Interleaving spreads the machine's background load
    evenly over the contestants. Two clocks per call: wall (``perf_counter``) and the calling
    thread's CPU time (``thread_time``), which a loaded machine inflates far less than wall
    time; it is exact for single-threaded runtimes that compute on the calling thread
    (onnxruntime with ``intra_op_num_threads=1``, LightGBM ``num_threads=1``, torch with one
    thread). Returns, per contestant, the median over rounds of each round's p50 / p99 / mean
    in milliseconds (``p50_ms``: wall, ``cpu_p50_ms``: CPU) and the number of calls.
    """
    keys = ("p50_ms", "p99_ms", "mean_ms", "cpu_p50_ms", "cpu_p99_ms", "cpu_mean_ms")
    stats: dict[str, dict[str, list[float]]] = {k: {q: [] for q in keys} for k in contestants}
    for fn, inputs in contestants.values():  # warm-up: lazy init, caches, allocator
        for x in list(inputs)[:5]:
            fn(x)
    for _ in range(rounds):
        for name, (fn, inputs) in contestants.items():
            t = np.asarray([_once(fn, inputs[i % len(inputs)]) for i in range(n_calls)]) * 1e3
            for col, prefix in ((0, ""), (1, "cpu_")):
                stats[name][f"{prefix}p50_ms"].append(float(np.percentile(t[:, col], 50)))
                stats[name][f"{prefix}p99_ms"].append(float(np.percentile(t[:, col], 99)))
                stats[name][f"{prefix}mean_ms"].append(float(t[:, col].mean()))
    return {
        k: {**{q: float(np.median(v[q])) for q in keys}, "calls": n_calls * rounds}
        for k, v in stats.items()
    }


# ----------------------------------------------------------------------------- subprocess cost


_MEASURE = r"""
import json, resource, subprocess, sys, time
t0 = time.perf_counter()
p = subprocess.run(sys.argv[1:], capture_output=True, text=True)
wall = time.perf_counter() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"rc": p.returncode, "wall_s": wall, "peak_rss_bytes": ru.ru_maxrss * 1024,
                  "cpu_s": ru.ru_utime + ru.ru_stime,
                  "stdout": p.stdout, "stderr": p.stderr[-4000:]}))
"""


def run_measured(
    cmd: Sequence[str], *, env: Mapping[str, str] | None = None, timeout: float = 3600
) -> dict[str, Any]:
    """Run ``cmd`` in a fresh process: wall time, CPU time (user + sys) and peak RSS (``ru_maxrss``) of that child."""
    full_env = {**os.environ, **dict(env or {})}
    p = subprocess.run(
        [PY, "-c", _MEASURE, *map(str, cmd)],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        cwd=REPO,
    )
    if p.returncode != 0:
        raise RuntimeError(f"measuring {cmd[:3]} failed: {p.stderr[-2000:]}")
    out = json.loads(p.stdout.strip().splitlines()[-1])
    if out["rc"] != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} exited {out['rc']}: {out['stderr'][-2000:]}")
    return out


# ----------------------------------------------------------------------------- data and teachers


def data_env() -> dict[str, str]:
    """``DISTILL2RULES_DATA`` pointing at the shared datasets when not set (like the Makefile)."""
    env = {}
    if not os.environ.get("DISTILL2RULES_DATA"):
        shared = REPO.parent / "shared" / "datasets"
        if shared.is_dir():
            env["DISTILL2RULES_DATA"] = str(shared)
    return env


def cli(*args: str) -> list[str]:
    """``distill2rules ARGS`` as an argv run with this interpreter."""
    return [PY, "-m", "distill2rules.cli.main", *args]


@dataclasses.dataclass
class Context:
    """Everything the benchmark modules share: options, data, teachers, fitted students."""

    quick: bool
    workdir: Path
    rounds: int
    n_calls: int
    batch_rows: int
    students: list[str]
    shap_rows: int = 1000  # rows explained by the SHAP-alignment cost measure (0 skips it)
    frame: Any = None  # full dataset frame (raw columns + target)
    target: str = ""
    features: list[str] = dataclasses.field(default_factory=list)
    train: Any = None
    test: Any = None
    teacher_paths: dict[str, Path] = dataclasses.field(default_factory=dict)
    teachers: dict[str, Any] = dataclasses.field(default_factory=dict)
    fits: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)  # student -> fit info
    specs: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    onnx: dict[str, bytes] = dataclasses.field(default_factory=dict)
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def data_arg(self) -> str:
        """What ``fit --data`` gets: the registry name, or the quick subsample CSV."""
        return "adult" if not self.quick else str(self.workdir / "adult_small.csv")


def registered_students() -> list[str]:
    from distill2rules.students import STUDENTS

    return list(STUDENTS)


def make_context(
    *,
    quick: bool,
    workdir: Path | None = None,
    students: Sequence[str] | None = None,
    quick_rows: int = 3000,
    teachers: Sequence[str] = ("gbt", "mlp"),
) -> Context:
    """Load Adult (a ``quick_rows`` sample when ``quick``) and train or reuse the teachers."""
    os.environ.update(data_env())
    wd = Path(workdir or (DEFAULT_WORKDIR if not quick else DEFAULT_WORKDIR / "quick"))
    wd.mkdir(parents=True, exist_ok=True)
    ctx = Context(
        quick=quick,
        workdir=wd,
        rounds=3 if quick else 7,
        n_calls=50 if quick else 500,
        batch_rows=1000 if quick else 10_000,
        students=list(students or registered_students()),
        shap_rows=50 if quick else 1000,
    )
    from distill2rules.data import load_dataset, split_frame

    ds = load_dataset("adult")
    frame = ds.frame
    if quick:
        frame = frame.sample(n=min(quick_rows, len(frame)), random_state=0).reset_index(drop=True)
        frame.to_csv(ctx.data_arg, index=False)
    ctx.frame, ctx.target = frame, ds.target
    ctx.extra["adverse_class"] = (
        ds.positive_class
    )  # the event class (>50K): a CSV's labels do not say it
    ctx.features = [c for c in frame.columns if c != ds.target]
    splits = split_frame(frame, ds.target, seed=0)
    ctx.train, ctx.test = splits.train, splits.test
    ensure_teachers(ctx, teachers)
    return ctx


def ensure_teachers(ctx: Context, kinds: Sequence[str] = ("gbt", "mlp")) -> None:
    """Train the GBT and MLP teachers on the context's data (reused if already on disk);
    ``kinds`` limits it to the teachers the chosen sections use (a module's ``TEACHERS``)."""
    from distill2rules.teachers import load_teacher, train_teacher

    for kind, fname in (("gbt", "model.txt"), ("mlp", "model.pt")):
        if kind not in kinds:
            continue
        path = ctx.workdir / "teachers" / kind / fname
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            if ctx.quick:
                X, y = ctx.train[ctx.features], ctx.train[ctx.target]
                kw = (
                    {"n_estimators": 20} if kind == "gbt" else {"hidden": (32, 16), "max_epochs": 2}
                )
                train_teacher(kind, X, y, out=path, seed=0, progress=False, **kw)
            else:  # the product's reference teachers: GBT 200 trees, MLP 512-256-128-64-32
                subprocess.run(
                    cli(
                        "teacher",
                        "train",
                        "--kind",
                        kind,
                        "--data",
                        "adult",
                        "--out",
                        str(path),
                        "-q",
                    ),
                    check=True,
                    cwd=REPO,
                    env={**os.environ, **data_env()},
                    capture_output=True,
                )
        ctx.teacher_paths[kind] = path
        ctx.teachers[kind] = load_teacher(path)


#: tiny students for ``--quick`` (smoke test); the full run uses the product defaults
QUICK_PARAMS: dict[str, dict[str, Any]] = {
    "ebm": {"interactions": 0, "outer_bags": 1, "max_rounds": 300}
}


def student_params(ctx: Context, student: str) -> dict[str, Any]:
    """Student parameters: tiny in quick mode, the product defaults otherwise."""
    return dict(QUICK_PARAMS.get(student, {})) if ctx.quick else {}


def param_args(params: Mapping[str, Any]) -> list[str]:
    """``-p KEY=VALUE`` options of ``distill2rules fit``."""
    return [a for k, v in params.items() for a in ("-p", f"{k}={v}")]


def fit_student_cli(ctx: Context, student: str) -> dict[str, Any]:
    """``distill2rules fit`` with the GBT teacher, in a fresh measured process (cached per run).

    Returns wall time, peak RSS, the pipeline's per-stage ``timings`` (from ``--json``) and
    fills ``ctx.specs`` / ``ctx.onnx`` from the artifact it wrote.
    """
    if student in ctx.fits:
        return ctx.fits[student]
    out = ctx.workdir / "fit" / student
    cmd = cli(
        "fit",
        "--teacher",
        str(ctx.teacher_paths["gbt"]),
        "--data",
        ctx.data_arg,
        "--target",
        ctx.target,
        "--student",
        student,
        "--out",
        str(out),
        "--seed",
        "0",
        "--json",
        *param_args(student_params(ctx, student)),
        *(
            ["--adverse-class", str(ctx.extra["adverse_class"])]
            if ctx.extra.get("adverse_class")
            else []
        ),
    )
    res = run_measured(cmd, env=data_env())
    metrics = json.loads(res["stdout"])
    info = {
        "wall_s": res["wall_s"],
        "cpu_s": res["cpu_s"],
        "peak_rss_bytes": res["peak_rss_bytes"],
        "timings": metrics.get("timings", {}),
        "command": "distill2rules " + " ".join(cmd[3:]),
        "metrics": metrics,
    }
    from distill2rules.spec import from_json

    ctx.specs[student] = from_json((out / "student.json").read_text())
    ctx.onnx[student] = (out / "student.onnx").read_bytes()
    ctx.fits[student] = info
    return info


def fit_all(ctx: Context) -> None:
    """Fit every student of the context (failures are recorded, not raised)."""
    for s in ctx.students:
        try:
            fit_student_cli(ctx, s)
        except Exception as exc:  # noqa: BLE001 - one broken student must not sink the report
            ctx.extra.setdefault("fit_errors", {})[s] = f"{type(exc).__name__}: {str(exc)[-300:]}"


def json_dump(obj: Any) -> str:
    return json.dumps(
        obj, indent=1, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o)
    )

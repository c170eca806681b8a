"""Grid sweeps: seeds × τ × α × student size, composite objective J and the Pareto front.

Each configuration is one :func:`~distill2rules.pipeline.distill` call (no artifact) followed
by cheap measures: test accuracy, fidelity, ECE (from the pipeline), parameter count, ONNX
single-row latency, and the alignment of global SHAP importances on ``alignment_rows`` test
rows (teacher explained once per seed and worker; the student with exact additive values, or
a permutation explainer for rule lists / MLPs). Configurations run in parallel through
joblib (loky processes) or on a Dask cluster (``backend="dask"``).

``J = α_P·P − β_C·C + γ_I·I`` with ``P`` test accuracy (or fidelity), ``C`` the parameter
count (or latency) min-max normalised to [0, 1] across the grid, ``I`` the cosine of the
teacher's and student's mean-|φ| importances.
"""

from __future__ import annotations

import csv
import functools
import inspect
import itertools
import json
import math
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from distill2rules._optional import require
from distill2rules.data import split_frame
from distill2rules.errors import ConfigError
from distill2rules.experiments.pareto import (
    composite_objective,
    normalise_cost,
    pareto_front,
    parse_weights,
)
from distill2rules.experiments.runs import sample_rows
from distill2rules.exporters import to_onnx
from distill2rules.kd import check_alpha, check_temperature
from distill2rules.pipeline import distill, load_inputs
from distill2rules.results import jsonable
from distill2rules.spec import evaluate
from distill2rules.students import STUDENTS, student_class
from distill2rules.teachers import load_teacher, trust_code_default
from distill2rules.validation import (
    alignment,
    latency,
    n_parameters,
    onnx_latency,
    student_attributions,
    teacher_attributions,
)

__all__ = [
    "MEASURES",
    "SweepResult",
    "build_grid",
    "parse_size",
    "run_config",
    "run_sweep",
    "summarise",
]

#: per-run measures averaged over seeds in the summary
MEASURES = (
    "accuracy",
    "fidelity",
    "ece",
    "params",
    "latency_ms",
    "cosine",
    "cosine_row",
    "cost",
    "J",
)
_CSV_FIELDS = (
    "seed",
    "temperature",
    "alpha",
    "size",
    "accuracy",
    "balanced_accuracy",
    "fidelity",
    "ece",
    "params",
    "latency_ms",
    "cosine",
    "cosine_row",
    "mad",
    "cost",
    "J",
    "seconds",
    "error",
)


def parse_size(value: Any, param: str | None) -> Any:
    """One ``--sizes`` entry: ``"64-32"`` → ``[64, 32]`` for ``hidden``; ``"10"`` → 10; ``"none"`` → None."""
    if not isinstance(value, str):
        return value
    v = value.strip()
    if v.lower() in ("none", "null"):
        return None
    if param == "hidden":
        try:
            return [int(p) for p in v.replace("x", "-").split("-") if p]
        except ValueError:
            raise ConfigError(
                f"an MLP size is widths joined by '-', like 64-32; got {value!r}."
            ) from None
    try:
        f = float(v)
    except ValueError:
        return v
    return int(f) if f.is_integer() else f


def _size_param(student: str, size_param: str | None) -> str:
    cls = student_class(student)
    name = size_param or STUDENTS.get(student).size_param
    accepted = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    if name is None or name not in accepted:
        raise ConfigError(
            f"student {student!r} has no size parameter {name!r}.",
            hint=f"Pass --size-param, one of: {', '.join(accepted)}.",
        )
    return name


def build_grid(
    seeds: Sequence[int],
    temperatures: Sequence[float],
    alphas: Sequence[float],
    sizes: Sequence[Any] | None,
) -> list[dict[str, Any]]:
    """The cartesian product as a list of ``{"seed", "temperature", "alpha", "size"}`` (seed-major)."""

    for t in temperatures:
        check_temperature(float(t))
    for a in alphas:
        check_alpha(float(a))
    size_list = list(sizes) if sizes else [None]
    return [
        {"seed": int(s), "temperature": float(t), "alpha": float(a), "size": z}
        for s, t, a, z in itertools.product(seeds, temperatures, alphas, size_list)
    ]


# ----------------------------------------------------------------------------- one configuration (runs in a worker)


@functools.lru_cache(maxsize=4)
def _load(teacher: str, data: str, target: str | None, trust_code: bool = False) -> tuple[Any, Any]:
    return load_teacher(teacher, trust_code=trust_code), load_inputs(data, target)


@functools.lru_cache(maxsize=16)
def _seed_context(
    teacher: str, data: str, target: str | None, seed: int, rows: int, trust_code: bool = False
) -> dict[str, Any]:
    """Split by seed; explain the teacher once on ``rows`` test rows (kept for every config of the seed)."""

    t, ds = _load(teacher, data, target, trust_code)
    parts = split_frame(ds.frame, ds.target, seed=seed)
    feats = list(t.feature_names or [c for c in ds.frame.columns if c != ds.target])
    X_test = parts.test[feats].reset_index(drop=True)
    X_bg = parts.train[feats].iloc[sample_rows(len(parts.train), 200, seed)].reset_index(drop=True)
    ctx: dict[str, Any] = {"X_test": X_test, "X_bg": X_bg, "phi_t": None, "cls": None}
    if rows > 0:
        X_exp = X_test.iloc[sample_rows(len(X_test), rows, seed)]
        cls = None
        if int(t.n_classes) > 2:
            cls = np.asarray(t.logits(X_exp)).argmax(1)
        ctx.update(
            X_exp=X_exp,
            cls=cls,
            phi_t=teacher_attributions(t, X_exp, X_bg, class_index=cls, seed=seed),
        )
    return ctx


def _latency_ms(spec: Mapping[str, Any], X: Any, n_calls: int) -> float:
    """Mean single-row latency of the student's ONNX graph (the Python spec if export fails)."""

    if n_calls <= 0:
        return float("nan")
    X = X.iloc[: min(len(X), n_calls)]
    try:
        blob = to_onnx(spec).SerializeToString()
        lat = onnx_latency(blob, spec, X, n_calls=n_calls, batch_sizes=(1,), max_seconds=2.0)
    except Exception:  # noqa: BLE001 - a student without an exporter is timed in Python
        lat = latency(
            lambda R: evaluate(spec, R)["probabilities"],
            X,
            n_calls=n_calls,
            batch_sizes=(1,),
            max_seconds=2.0,
        )
    return float(lat.single_row["mean_ms"])


def run_config(ctx: Mapping[str, Any], task: Mapping[str, Any]) -> dict[str, Any]:
    """Distill and measure one configuration (a module-level function: picklable for loky and Dask).

    ``ctx`` holds the fixed inputs (``teacher`` path, ``data``, ``target``, ``student``,
    ``size_param``, ``student_params``, ``alignment_rows``, ``latency_calls``, ``threads``);
    ``task`` one grid point. Errors are caught and reported in the row's ``error``.
    """
    start = time.perf_counter()
    row: dict[str, Any] = {k: task[k] for k in ("seed", "temperature", "alpha", "size")}
    try:
        if ctx.get("threads"):
            import sys

            if "torch" in sys.modules or ctx["student"] == "mlp":
                import torch

                torch.set_num_threads(int(ctx["threads"]))
        row.update(_measure(ctx, task))
        row["error"] = None
    except Exception as exc:  # noqa: BLE001 - one failing config must not end the sweep
        row["error"] = f"{type(exc).__name__}: {exc}"
    row["seconds"] = round(time.perf_counter() - start, 3)
    return row


def _measure(ctx: Mapping[str, Any], task: Mapping[str, Any]) -> dict[str, Any]:
    teacher, ds = _load(ctx["teacher"], ctx["data"], ctx.get("target"), bool(ctx.get("trust_code")))
    seed = int(task["seed"])
    params = dict(ctx.get("student_params") or {})
    if task.get("size") is not None:
        params[ctx["size_param"]] = task["size"]
    res = distill(
        teacher,
        ds.frame,
        target=ds.target,
        schema=ds.schema,
        student=ctx["student"],
        temperature=float(task["temperature"]),
        alpha=float(task["alpha"]),
        seed=seed,
        student_params=params,
        baseline=False,
        progress=False,
        out=None,
    )
    m = res.metrics["test"]["student"]
    out = {
        "accuracy": m["accuracy"],
        "balanced_accuracy": m.get("balanced_accuracy"),
        "fidelity": m["fidelity"],
        "ece": m.get("ece"),
        "params": int(n_parameters(res.spec)),
    }
    sc = _seed_context(
        ctx["teacher"],
        ctx["data"],
        ctx.get("target"),
        seed,
        int(ctx.get("alignment_rows", 200)),
        bool(ctx.get("trust_code")),
    )
    out["latency_ms"] = _latency_ms(res.spec, sc["X_test"], int(ctx.get("latency_calls", 200)))
    if sc["phi_t"] is not None:
        phi_s = student_attributions(
            res.spec,
            sc["X_exp"],
            sc["X_bg"],
            class_index=sc["cls"],
            feature_names=sc["phi_t"].feature_names,
            seed=seed,
        )
        al = alignment(sc["phi_t"], phi_s)
        out.update(cosine=al.global_cosine, cosine_row=al.cosine_mean, mad=al.mad)
    else:
        out.update(cosine=float("nan"), cosine_row=float("nan"), mad=float("nan"))
    return out


# ----------------------------------------------------------------------------- the grid


class SweepResult(dict):
    """``runs`` (one row per configuration and seed), ``summary`` (mean/sd over seeds), ``top``, ``pareto``, ``config``."""


def _num(v: Any) -> float:
    return float("nan") if v is None else float(v)


def score_runs(
    runs: list[dict[str, Any]], *, weights: Sequence[float], performance: str, cost: str
) -> None:
    """Add ``cost`` (normalised across the grid) and ``J`` to every run, in place."""
    ok = [r for r in runs if not r.get("error")]
    raw = "params" if cost == "params" else "latency_ms"
    C = normalise_cost([_num(r.get(raw)) for r in ok])
    J = composite_objective(
        [_num(r.get(performance)) for r in ok], C, [_num(r.get("cosine")) for r in ok], weights
    )
    for r, c, j in zip(ok, C, J):
        r["cost"], r["J"] = float(c), float(j)
    for r in runs:
        if r.get("error"):
            r["cost"], r["J"] = float("nan"), float("nan")


def _key(r: Mapping[str, Any]) -> tuple[float, float, str]:
    return (r["temperature"], r["alpha"], json.dumps(r["size"]))


def summarise(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean and sd (ddof 1) of every measure over seeds, per (τ, α, size); failed runs are left out."""
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for r in runs:
        if not r.get("error"):
            groups.setdefault(_key(r), []).append(r)
    out = []
    for rs in groups.values():
        s: dict[str, Any] = {
            "temperature": rs[0]["temperature"],
            "alpha": rs[0]["alpha"],
            "size": rs[0]["size"],
            "n_seeds": len(rs),
            "seeds": sorted(r["seed"] for r in rs),
        }
        for m in MEASURES:
            v = np.array([_num(r.get(m)) for r in rs])
            v = v[np.isfinite(v)]
            s[m] = float(v.mean()) if v.size else float("nan")
            s[f"{m}_sd"] = float(v.std(ddof=1)) if v.size > 1 else float("nan")
        out.append(s)
    return out


def _execute(
    ctx: dict[str, Any],
    grid: list[dict[str, Any]],
    *,
    backend: str,
    n_jobs: int,
    scheduler: Any,
    progress: bool,
) -> list[dict[str, Any]]:
    if backend == "joblib":
        if n_jobs == 1:
            return [run_config(ctx, t) for t in _progress(grid, progress)]
        from joblib import Parallel, delayed

        gen = Parallel(n_jobs=n_jobs, backend="loky", return_as="generator")(
            delayed(run_config)(ctx, t) for t in grid
        )
        return list(_progress(gen, progress, total=len(grid)))
    if backend == "dask":
        return _execute_dask(ctx, grid, n_jobs=n_jobs, scheduler=scheduler, progress=progress)
    raise ConfigError(f"--backend must be 'joblib' or 'dask', got {backend!r}.")


def _execute_dask(
    ctx: dict[str, Any], grid: list[dict[str, Any]], *, n_jobs: int, scheduler: Any, progress: bool
) -> list[dict[str, Any]]:
    require("distributed", purpose="the dask backend")
    from distributed import Client, LocalCluster, as_completed

    own_cluster = None
    if scheduler is None:
        own_cluster = LocalCluster(
            n_workers=max(1, n_jobs),
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        )
        client = Client(own_cluster)
    elif isinstance(scheduler, Client):
        client = scheduler
    else:
        try:
            client = Client(str(scheduler), timeout="20s")
        except OSError as exc:
            raise ConfigError(
                f"cannot reach the Dask scheduler at {scheduler}: {exc}.",
                hint="Start one (`dask scheduler`, `dask worker ADDRESS`) or omit --scheduler.",
            ) from None
    try:
        futures = client.map(run_config, [ctx] * len(grid), grid, pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        results: list[Any] = [None] * len(grid)
        for fut in _progress(as_completed(futures), progress, total=len(grid)):
            results[index[fut.key]] = fut.result()
        return results
    finally:
        if client is not scheduler:
            client.close()
        if own_cluster is not None:
            own_cluster.close()


def _progress(it: Any, enabled: bool, total: int | None = None) -> Any:
    if not enabled:
        yield from it
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    total = total if total is not None else len(it)
    with Progress(
        TextColumn("[bold]sweep"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("sweep", total=total)
        for x in it:
            yield x
            bar.advance(task)


def _trust_code(flag: bool | None) -> bool:
    """``flag``, or the :func:`~distill2rules.teachers.trusting_code` setting (workers cannot see it)."""
    if flag is not None:
        return bool(flag)
    return trust_code_default()


def run_sweep(
    teacher: str | Path,
    data: str | Path,
    *,
    student: str,
    target: str | None = None,
    seeds: Sequence[int] = (0, 1, 2),
    temperatures: Sequence[float] = (1, 2, 4),
    alphas: Sequence[float] = (0, 0.5),
    sizes: Sequence[Any] | None = None,
    size_param: str | None = None,
    student_params: Mapping[str, Any] | None = None,
    weights: Sequence[float] | str = (1.0, 0.5, 0.5),
    performance: str = "accuracy",
    cost: str = "params",
    alignment_rows: int = 200,
    latency_calls: int = 200,
    n_jobs: int = 2,
    backend: str = "joblib",
    scheduler: Any = None,
    out: str | Path | None = None,
    top: int = 5,
    progress: bool = True,
    trust_code: bool | None = None,
) -> SweepResult:
    """Distill every grid configuration, score J, find the Pareto front and (optionally) write files.

    Long because it declares and documents each of its 23 options; the work is in
    ``_execute`` (the runs), ``score_runs``, ``summarise`` and ``pareto_front``.

    Parameters
    ----------
    teacher : path
        Teacher file (workers load it themselves, so it must be readable where they run).
    data : str or path
        Registry name or table path (as for ``fit``).
    student : str
        Registered student name.
    seeds, temperatures, alphas : sequences
        Grid axes (α = weight of the true labels; 1 = no distillation).
    sizes : sequence, optional
        Values of the student's size parameter (the plug-in's ``size_param`` or ``size_param``).
    weights : (α_P, β_C, γ_I)
        Weights of J.
    performance : {"accuracy", "fidelity"}
        P in J.
    cost : {"params", "latency"}
        C in J (normalised to [0, 1] across the grid).
    alignment_rows : int
        Test rows explained per seed for I (0 disables alignment: I = NaN).
    latency_calls : int
        Single-row ONNX calls timed per configuration (0 skips latency).
    n_jobs : int
        Parallel workers (joblib processes, or workers of the local Dask cluster).
    backend : {"joblib", "dask"}
        ``dask`` uses ``scheduler`` (address or ``distributed.Client``), or a local cluster.
    out : path, optional
        Directory for ``sweep.csv``, ``sweep.json`` and ``pareto.json``.

    Returns
    -------
    SweepResult
    """
    _check_options(performance, cost, n_jobs)
    w = parse_weights(weights)
    STUDENTS.get(student)  # an unknown student: one line naming the choices
    param = _size_param(student, size_param) if sizes else size_param
    sizes = [parse_size(s, param) for s in sizes] if sizes else None
    grid = build_grid(seeds, temperatures, alphas, sizes)
    parallel = n_jobs > 1 or backend == "dask"
    sp = _worker_params(student, student_params, parallel)
    tpath = Path(teacher)
    if not tpath.exists():
        raise ConfigError(f"no teacher file at {tpath}.")
    ctx = {
        "teacher": str(tpath.resolve()),
        "data": str(data),
        "target": target,
        "student": student,
        "size_param": param,
        "student_params": sp,
        "alignment_rows": int(alignment_rows),
        "latency_calls": int(latency_calls),
        "threads": 1 if parallel else None,
        "trust_code": _trust_code(trust_code),
    }
    start = time.perf_counter()
    runs = _execute(
        ctx, grid, backend=backend, n_jobs=n_jobs, scheduler=scheduler, progress=progress
    )
    failed = [r for r in runs if r.get("error")]
    if len(failed) == len(runs):
        raise ConfigError(f"every sweep configuration failed; first error: {failed[0]['error']}")
    score_runs(runs, weights=w, performance=performance, cost=cost)
    summary = summarise(runs)
    ranked = sorted(summary, key=lambda s: -s["J"] if math.isfinite(s["J"]) else math.inf)
    front_idx = pareto_front(summary, _PARETO_OBJECTIVES)
    front = sorted((summary[i] for i in front_idx), key=lambda s: (s["params"], -s["accuracy"]))
    config = {
        **{k: ctx[k] for k in ("teacher", "data", "target", "student", "size_param")},
        "student_params": sp,
        "seeds": list(seeds),
        "temperatures": [float(t) for t in temperatures],
        "alphas": [float(a) for a in alphas],
        "sizes": sizes,
        "weights": list(w),
        "performance": performance,
        "cost": cost,
        "alignment_rows": alignment_rows,
        "latency_calls": latency_calls,
        "backend": backend,
        "n_jobs": n_jobs,
        "objective": "J = α_P·P − β_C·C + γ_I·I",
        "pareto_objectives": dict(_PARETO_OBJECTIVES),
    }
    result = SweepResult(
        config=config,
        runs=runs,
        summary=summary,
        top=ranked[:top],
        pareto=front,
        n_failed=len(failed),
        seconds=round(time.perf_counter() - start, 2),
    )
    if out is not None:
        write_sweep(result, out)
    return result


_PARETO_OBJECTIVES = {"accuracy": "max", "params": "min", "cosine": "max"}


def _check_options(performance: str, cost: str, n_jobs: int) -> None:
    if performance not in ("accuracy", "fidelity"):
        raise ConfigError(f"--performance must be 'accuracy' or 'fidelity', got {performance!r}.")
    if cost not in ("params", "latency"):
        raise ConfigError(f"--cost must be 'params' or 'latency', got {cost!r}.")
    if n_jobs < 1:
        raise ConfigError(f"--n-jobs must be >= 1, got {n_jobs}.")


def _worker_params(
    student: str, student_params: Mapping[str, Any] | None, parallel: bool
) -> dict[str, Any]:
    """The student's parameters as each worker gets them: one core per worker when parallel."""
    sp = dict(student_params or {})
    accepted = inspect.signature(student_class(student).__init__).parameters
    if parallel:
        for key in ("n_jobs", "n_threads"):
            if key in accepted:
                sp.setdefault(key, 1)
    return sp


def write_sweep(result: Mapping[str, Any], out: str | Path) -> Path:
    """``sweep.csv`` (one row per run), ``sweep.json`` (everything), ``pareto.json`` (the front)."""

    d = Path(out)
    d.mkdir(parents=True, exist_ok=True)
    with open(d / "sweep.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(_CSV_FIELDS), extrasaction="ignore")
        w.writeheader()
        for r in result["runs"]:
            w.writerow(
                {k: (json.dumps(r.get(k)) if k == "size" else r.get(k)) for k in _CSV_FIELDS}
            )
    (d / "sweep.json").write_text(
        json.dumps(jsonable(dict(result)), indent=1, allow_nan=False) + "\n", encoding="utf-8"
    )
    pareto = {"objectives": result["config"]["pareto_objectives"], "front": result["pareto"]}
    (d / "pareto.json").write_text(
        json.dumps(jsonable(pareto), indent=1, allow_nan=False) + "\n", encoding="utf-8"
    )
    return d

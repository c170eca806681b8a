"""`distill2rules sweep`: seeds × τ × α × size grid, composite objective J and the Pareto front."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from distill2rules.cli._choices import sizes_help
from distill2rules.cli._common import check_student_params, console, fmt, parse_params
from distill2rules.cli._io import echo_json
from distill2rules.cli._options import QuietBar, StudentOpt, TargetOpt, TrustCode
from distill2rules.cli.cmd_evaluate import parse_floats
from distill2rules.errors import ConfigError


def _ints(text: str, option: str) -> list[int]:
    try:
        vals = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ConfigError(f"{option} expects comma-separated integers, got {text!r}.") from None
    if not vals or min(vals) < 0:
        raise ConfigError(f"{option} expects integers >= 0, got {text!r}.")
    return vals


def _table(rows: list[dict[str, Any]], title: str, performance: str) -> Any:
    from rich.table import Table

    t = Table(title=title)
    for col in (
        "τ",
        "α",
        "size",
        "accuracy",
        "fidelity",
        "ECE",
        "params",
        "latency ms",
        "cosine",
        "J",
        "seeds",
    ):
        t.add_column(col, justify="right")
    for r in rows:

        def pm(key: str) -> str:
            sd = r.get(f"{key}_sd")
            return fmt(r.get(key), 3) + ("" if sd is None or sd != sd else f"±{sd:.3f}")  # noqa: PLR0124 - sd != sd: NaN

        t.add_row(
            f"{r['temperature']:g}",
            f"{r['alpha']:g}",
            str(r["size"]),
            pm("accuracy"),
            pm("fidelity"),
            fmt(r.get("ece")),
            fmt(r.get("params"), 1),
            fmt(r.get("latency_ms"), 4),
            pm("cosine"),
            pm("J"),
            str(r.get("n_seeds")),
        )
    return t


# Options whose help takes several lines, declared once here so the signature reads as a list.
Teacher = Annotated[
    Path, typer.Option(help="Teacher file (LightGBM model.txt, .pt + sidecar, .onnx, ...).")
]
Out = Annotated[Path, typer.Option(help="Directory for sweep.csv, sweep.json and pareto.json.")]
Alphas = Annotated[
    str, typer.Option(help="Weights α of the true labels (1 = no KD), comma-separated.")
]
Sizes = Annotated[str | None, typer.Option(help=sizes_help("Student size values, comma-separated"))]
SizeParam = Annotated[
    str | None,
    typer.Option(help="Student parameter that --sizes sets (default per student)."),
]
Param = Annotated[
    list[str] | None,
    typer.Option("--param", "-p", help="Fixed student parameter KEY=VALUE (repeatable)."),
]
Performance = Annotated[
    str, typer.Option(help="P in J: accuracy (test) or fidelity (agreement with the teacher).")
]
Cost = Annotated[
    str,
    typer.Option(
        help="C in J: params or latency (ONNX single row), min-max normalised across the grid."
    ),
]
AlignmentRows = Annotated[
    int,
    typer.Option(
        help="Test rows explained per seed for I (cosine of global SHAP importances); 0 = skip."
    ),
]
LatencyCalls = Annotated[
    int, typer.Option(help="Single-row ONNX calls timed per configuration (0 = skip).")
]
Scheduler = Annotated[
    str | None,
    typer.Option(help="Dask scheduler address (tcp://host:8786); default: a local cluster."),
]


def sweep(
    teacher: Teacher,
    data: Annotated[str, typer.Option(help="Registry name or CSV/Parquet path.")],
    student: StudentOpt,
    out: Out,
    target: TargetOpt = None,
    seeds: Annotated[
        str, typer.Option(help="Seeds (split and student), comma-separated.")
    ] = "0,1,2",
    temperatures: Annotated[str, typer.Option(help="Temperatures τ, comma-separated.")] = "1,2,4",
    alphas: Alphas = "0,0.5",
    sizes: Sizes = None,
    size_param: SizeParam = None,
    param: Param = None,
    weights: Annotated[
        str, typer.Option(help="α_P,β_C,γ_I of J = α_P·P − β_C·C + γ_I·I.")
    ] = "1,0.5,0.5",
    performance: Performance = "accuracy",
    cost: Cost = "params",
    alignment_rows: AlignmentRows = 200,
    latency_calls: LatencyCalls = 200,
    n_jobs: Annotated[int, typer.Option(help="Parallel workers.")] = 2,
    backend: Annotated[str, typer.Option(help="joblib (local processes) or dask.")] = "joblib",
    scheduler: Scheduler = None,
    top: Annotated[int, typer.Option(help="Configurations shown in the ranking.")] = 5,
    quiet: QuietBar = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print top and Pareto front as JSON.")
    ] = False,
    trust_code: TrustCode = False,
) -> None:
    """Sweep seeds × τ × α × student size; rank by J and print the Pareto front (accuracy ↑, params ↓, alignment ↑)."""
    from distill2rules.experiments.sweep import run_sweep  # lazy: pulls pandas; keeps --help fast

    if backend != "dask" and scheduler:
        raise ConfigError("--scheduler needs --backend dask.")
    res = run_sweep(
        teacher,
        data,
        student=student,
        target=target,
        seeds=_ints(seeds, "--seeds"),
        temperatures=parse_floats(temperatures, "--temperatures"),
        alphas=parse_floats(alphas, "--alphas"),
        sizes=[s for s in sizes.split(",") if s.strip()] if sizes else None,
        size_param=size_param,
        student_params=check_student_params(student, parse_params(param)),
        weights=weights,
        performance=performance,
        cost=cost,
        alignment_rows=alignment_rows,
        latency_calls=latency_calls,
        n_jobs=n_jobs,
        backend=backend,
        scheduler=scheduler,
        out=out,
        top=top,
        progress=not quiet and not as_json,
        trust_code=trust_code,
    )
    if as_json:
        echo_json(
            "sweep", {"top": res["top"], "pareto": res["pareto"], "n_failed": res["n_failed"]}
        )
    else:
        _print_sweep(res, performance=performance, cost=cost, weights=weights, out=out)


def _print_sweep(
    res: dict[str, Any], *, performance: str, cost: str, weights: str, out: Path
) -> None:
    """The top configurations by J, the Pareto front, failed runs, and where the files went."""
    con = console()
    n = len(res["runs"])
    con.print(
        _table(
            res["top"],
            f"top {len(res['top'])} of {len(res['summary'])} configurations by J "
            f"(P={performance}, C={cost}, weights {weights}; mean ± sd over seeds)",
            performance,
        )
    )
    con.print(
        _table(res["pareto"], "Pareto front: accuracy ↑, parameters ↓, cosine ↑", performance)
    )
    if res["n_failed"]:
        first = next(r for r in res["runs"] if r.get("error"))
        con.print(f"[yellow]{res['n_failed']} of {n} runs failed[/yellow]; first: {first['error']}")
    con.print(f"{n} runs in {res['seconds']:.1f} s → {out}/sweep.csv, sweep.json, pareto.json")


def register(app: typer.Typer) -> None:
    app.command("sweep")(sweep)

"""`distill2rules benchmark paper`: the paper's Table 1 set-up, Tables 2 and 3, a temperature curve."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from distill2rules.cli._common import console

benchmark_app = typer.Typer(no_args_is_help=True, help="Reproducible benchmarks.")


@benchmark_app.command("paper")
def paper(
    seeds: Annotated[
        int | None, typer.Option(help="Number of seeds (0..N-1); default 5, or 2 with --quick.")
    ] = None,
    quick: Annotated[
        bool,
        typer.Option(
            "--quick",
            help="2 seeds, Adult subsampled to 8,000 rows, short training, 200 SHAP rows (< 10 min on 2 cores).",
        ),
    ] = False,
    out: Annotated[
        Path,
        typer.Option(
            help="Directory for paper_results.json, table2.md, table3.md, temperature_curve.csv/json, runs.csv, teachers/."
        ),
    ] = Path("paper-benchmark"),
    datasets: Annotated[
        str | None,
        typer.Option(help="Subset of adult,breast_cancer,wine_quality (comma-separated)."),
    ] = None,
    temperature: Annotated[float, typer.Option(help="τ of the KD student.")] = 4.0,
    alpha: Annotated[
        float,
        typer.Option(
            help="α (weight of the true labels) of the KD student; the no-KD student uses hard labels (α = 1)."
        ),
    ] = 0.5,
    smoke: Annotated[
        bool,
        typer.Option(
            "--smoke",
            help="Test mode: breast_cancer only, 1 seed, τ curve {1, 4}, 60 SHAP rows (seconds).",
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
) -> None:
    """Reproduce the paper's benchmark: teacher vs student without / with KD over seeds (Tables 2, 3)."""
    from distill2rules.experiments.paper import (  # lazy: pulls pandas; keeps --help fast
        PaperSettings,
        format_curve,
        format_table2,
        format_table3,
        run_paper_benchmark,
    )
    from distill2rules.kd import check_alpha, check_temperature  # lazy: keeps --help fast

    s = PaperSettings.preset(quick=quick, seeds=seeds, smoke=smoke)
    if datasets:
        s.datasets = tuple(d.strip() for d in datasets.split(",") if d.strip())
    s.temperature, s.alpha = check_temperature(temperature), check_alpha(alpha)
    res = run_paper_benchmark(s, out=out, progress=not quiet)
    sigma = s.headline_sigma
    typer.echo(
        f"\nTable 2 — test split, mean ± sd over {len(s.seeds)} seed(s); KD: τ={s.temperature:g}, α={s.alpha:g}\n"
    )
    typer.echo(format_table2(res, sigma))
    typer.echo(
        "Table 3 — KD vs no-KD across seeds (paired t test, Cohen's d = (μ_KD − μ_noKD)/s_pooled)\n"
    )
    typer.echo(format_table3(res, sigma))
    if res["temperature_curve"]:
        typer.echo(f"Temperature curve (KD student, seed {s.curve_seed})\n")
        typer.echo(format_curve(res["temperature_curve"]))
    for e in res["errors"]:
        console(stderr=True).print(
            f"[red]failed[/red] {e['dataset']} seed {e['seed']}: {e['error']} (left out of the tables)"
        )
    console().print(f"{res['seconds']:.0f} s; results in [bold]{out}[/bold]")


def register(app: typer.Typer) -> None:
    app.add_typer(benchmark_app, name="benchmark")

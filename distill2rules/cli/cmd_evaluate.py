"""`distill2rules evaluate`: every validation measure for an artifact, KD vs no-KD side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from distill2rules.cli._common import console
from distill2rules.cli._io import echo_json
from distill2rules.cli._options import ArtifactDir, QuietBar, TrustCode, TrustPickle
from distill2rules.errors import ConfigError
from distill2rules.teachers import trusting_code


def parse_floats(text: str, option: str) -> list[float]:
    """``"0.01,0.05"`` → ``[0.01, 0.05]`` (ConfigError naming the option otherwise)."""

    try:
        vals = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ConfigError(f"{option} expects comma-separated numbers, got {text!r}.") from None
    if not vals:
        raise ConfigError(f"{option} needs at least one number.")
    return vals


Split = Annotated[
    str,
    typer.Option(
        help="test: re-split with the manifest's seed when DATA is the fitted dataset (else all rows); all: every row."
    ),
]


def evaluate(
    artifact: ArtifactDir,
    data: Annotated[
        str, typer.Option(help="Rows to evaluate on: a registry name or a CSV/Parquet path.")
    ],
    target: Annotated[
        str | None, typer.Option(help="Target column (default: the manifest's).")
    ] = None,
    teacher: Annotated[
        Path | None,
        typer.Option(help="Teacher file (default: the one recorded in the manifest)."),
    ] = None,
    split: Split = "test",
    shap_rows: Annotated[
        int, typer.Option(help="Test rows explained with SHAP for the alignment.")
    ] = 500,
    sigmas: Annotated[
        str, typer.Option(help="Noise levels (in column sd) for the stability index.")
    ] = "0.01,0.05,0.1",
    latency_calls: Annotated[
        int, typer.Option(help="Single-row calls per latency measurement (0 skips latency).")
    ] = 1000,
    seed: Annotated[
        int, typer.Option(min=0, help="Seed of the SHAP row sample, explainers and noise.")
    ] = 0,
    trust_pickle: TrustPickle = False,
    trust_code: TrustCode = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the full result as JSON instead of tables.")
    ] = False,
    quiet: QuietBar = False,
    save: Annotated[
        bool, typer.Option("--save/--no-save", help="Write evaluation.json into the artifact.")
    ] = True,
) -> None:
    """Validate an artifact's student against its teacher: accuracy, fidelity, SHAP alignment, stability, size, latency."""
    from distill2rules.experiments.runs import (  # lazy: pulls pandas; keeps --help fast
        evaluate_artifact,
    )

    if shap_rows < 1:
        raise ConfigError(f"--shap-rows must be >= 1, got {shap_rows}.")
    with trusting_code(trust_code):
        result = evaluate_artifact(
            artifact,
            data,
            target=target,
            teacher=teacher,
            split=split,
            shap_rows=shap_rows,
            sigmas=parse_floats(sigmas, "--sigmas"),
            latency_calls=max(0, latency_calls),
            seed=seed,
            save=save,
            progress=not quiet and not as_json,
            trust_pickle=trust_pickle,
        )
    if as_json:
        echo_json("evaluation", result, default=None)
    else:
        _print_evaluation(result, artifact, quiet=quiet, save=save)


def _print_evaluation(result: dict[str, Any], artifact: Path, *, quiet: bool, save: bool) -> None:
    """The validation tables, a warning when the teacher is not the fitted one, the data line."""
    from distill2rules.experiments.runs import kd_table  # lazy: pulls pandas; keeps --help fast
    from distill2rules.validation import format_table  # lazy: keeps --help fast

    con = console()
    con.print(format_table(result))
    if "kd_vs_no_kd" in result:
        con.print(kd_table(result))
    d = result["data"]
    if d.get("teacher_matches_manifest") is False:
        con.print(
            "[yellow]warning:[/yellow] this teacher's fingerprint differs from the one the artifact was fitted with."
        )
    if not quiet:
        con.print(
            f"data: {d['name']} ({d['split']}, {d['n_rows']} rows); teacher: {d['teacher']}"
            + (f"; saved {artifact / 'evaluation.json'}" if save else "")
        )


def register(app: typer.Typer) -> None:
    app.command("evaluate")(evaluate)

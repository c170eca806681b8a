"""`distill2rules report`: a self-contained HTML report of an artifact (and optionally a sweep)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from distill2rules.cli._io import echo_json


def report(
    artifact: Annotated[
        Path,
        typer.Argument(
            help="Artifact directory written by `fit` (evaluation.json from `evaluate` is used if present)."
        ),
    ],
    sweep: Annotated[
        Path | None,
        typer.Option(
            help="Output directory of `distill2rules sweep`: adds the accuracy/cost/interpretability trade-off and Pareto front."
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Write the HTML here (a file or a directory) instead of ARTIFACT/report.html."
        ),
    ] = None,
    open_: Annotated[
        bool, typer.Option("--open", help="Open the report in the default web browser.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help='Print {"report": path, "bytes": n, "sections": [...]} as JSON.'
        ),
    ] = False,
) -> None:
    """Write an HTML report: run tables, KD vs no KD, attributions, Pareto front, reliability, the model, the rule card."""
    from distill2rules.report import build_report  # lazy: keeps --help fast

    path = build_report(artifact, sweep=sweep, out=out, progress=not quiet and not as_json)
    if as_json:
        import re

        text = path.read_text(encoding="utf-8")
        sections = re.findall(r'<section id="([^"]+)"', text)

        echo_json(
            "report",
            {"report": str(path), "bytes": len(text.encode("utf-8")), "sections": sections},
            indent=None,
        )
    elif not quiet:
        typer.echo(str(path))
    if open_:
        import webbrowser

        webbrowser.open(path.resolve().as_uri())


def register(app: typer.Typer) -> None:
    app.command("report")(report)

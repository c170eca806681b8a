"""`distill2rules explain`: loan-decision reason codes and counterfactuals for rows."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer


def explain(
    artifact: Annotated[Path, typer.Argument(help="Artifact directory written by `fit`.")],
    data: Annotated[Path, typer.Option(help="CSV/Parquet with the rows (applicants) to explain ('-': stdin).")],
    top: Annotated[int, typer.Option(help="Number of reason codes per row.")] = 4,
    adverse_class: Annotated[Optional[str], typer.Option(help="The adverse outcome (e.g. 'bad'); default from the spec or the negative-looking class.")] = None,
    counterfactuals: Annotated[bool, typer.Option(help="Search the smallest one-feature change that flips each adverse decision.")] = True,
    out: Annotated[Optional[Path], typer.Option(help="Also write one JSON object per row (JSON lines) to this file ('-': stdout).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print only JSON lines (one object per row).")] = False,
    limit: Annotated[int, typer.Option(help="Rows shown in the table (all rows go to JSON).")] = 20,
) -> None:
    """Explain decisions: probability, ranked reason codes, the rule that fired, a counterfactual."""
    from distill2rules._stream import explain_stream
    from distill2rules.artifact import load_spec
    from distill2rules.cli._io import input_path, is_stdio, with_format
    from distill2rules.errors import ConfigError
    from distill2rules.exporters.reasons import explain_rows, reasons_table

    if top < 1:
        raise ConfigError(f"--top must be >= 1, got {top}.")
    spec = load_spec(artifact)
    if is_stdio(out):
        as_json, out = True, None

    def explain_chunk(X):  # every JSON line names its format
        rows = explain_rows(spec, X, top=top, adverse_class=adverse_class, counterfactuals=counterfactuals)
        return [with_format("explanation", r) for r in rows]

    with input_path(data) as src:
        head, n = explain_stream(  # chunk by chunk: memory stays flat on large files
            src, explain_chunk, out=out, echo=typer.echo if as_json else None, keep=max(limit, 0))
    if as_json:
        return
    typer.echo(reasons_table(head))
    if n > limit:
        typer.echo(f"... {n - limit} more row(s); use --json or --out for all of them")
    if out is not None:
        typer.echo(f"JSON lines written to {out}")


def register(app: typer.Typer) -> None:
    app.command("explain")(explain)

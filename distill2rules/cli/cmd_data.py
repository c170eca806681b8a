"""`distill2rules data list|download`: the dataset registry from the command line."""

from __future__ import annotations

from typing import Annotated

import typer

from distill2rules.cli._io import echo_json

data_app = typer.Typer(
    no_args_is_help=True, help="List or download the registry datasets (adult, german_credit, ...)."
)


@data_app.command("list")
def data_list(
    data_dir: Annotated[
        str | None,
        typer.Option(
            help="Data folder to look in (default: $DISTILL2RULES_DATA or the user cache)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON.")] = False,
) -> None:
    """List the registry datasets: target, whether their files were found, and where."""
    from rich.console import Console
    from rich.table import Table

    from distill2rules.data import DATASETS, locate_dataset  # lazy: pulls pandas; keeps --help fast

    found = {name: locate_dataset(name, data_dir=data_dir) for name in DATASETS}
    first = next(iter(found.values()), {})
    if as_json:
        echo_json(
            "datasets",
            {
                "data_dir": first.get("data_dir"),
                "data_dir_from": first.get("data_dir_from"),
                "datasets": [
                    {**loc, "target": DATASETS[n].target, "description": DATASETS[n].description}
                    for n, loc in found.items()
                ],
            },
        )
        return
    t = Table(
        title="dataset registry",
        caption=f"data folder: {first.get('data_dir')} (from {first.get('data_dir_from')}); "
        "get a missing one with `distill2rules data download NAME`",
    )
    for col in ("name", "target", "status", "where", "description"):
        t.add_column(col, overflow="fold")
    for name, info in DATASETS.items():
        loc = found[name]
        status = {"found": "[green]found[/green]", "bundled": "[green]bundled[/green]"}.get(
            loc["status"], "[red]missing[/red]"
        )
        t.add_row(
            name,
            str(getattr(info, "target", "")),
            status,
            loc["where"],
            str(getattr(info, "description", ""))[:60],
        )
    Console(width=max(120, Console().width)).print(t)


@data_app.command("download")
def data_download(
    name: Annotated[str, typer.Argument(help="Registry name, e.g. adult.")],
    data_dir: Annotated[
        str | None,
        typer.Option(help="Folder to write to (default: $DISTILL2RULES_DATA or the user cache)."),
    ] = None,
) -> None:
    """Download a registry dataset from the UCI archive (checksummed) into the data folder."""
    from distill2rules.data import download_dataset  # lazy: pulls pandas; keeps --help fast

    path = download_dataset(name, data_dir=data_dir)
    typer.echo(f"{name}: {path}")


def register(app: typer.Typer) -> None:
    app.add_typer(data_app, name="data")

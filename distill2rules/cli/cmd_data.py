"""`distill2rules data list|download`: the dataset registry from the command line."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

data_app = typer.Typer(no_args_is_help=True, help="List or download the registry datasets (adult, german_credit, ...).")


@data_app.command("list")
def data_list() -> None:
    """List the registry datasets, their target and where they are read from."""
    from rich.console import Console
    from rich.table import Table

    from distill2rules.data import DATASETS

    t = Table(title="dataset registry")
    for col in ("name", "target", "description"):
        t.add_column(col)
    for name, info in DATASETS.items():
        t.add_row(name, str(getattr(info, "target", "")), str(getattr(info, "description", ""))[:80])
    Console().print(t)


@data_app.command("download")
def data_download(
    name: Annotated[str, typer.Argument(help="Registry name, e.g. adult.")],
    data_dir: Annotated[Optional[str], typer.Option(help="Folder to write to (default: $DISTILL2RULES_DATA or the user cache).")] = None,
) -> None:
    """Download a registry dataset from the UCI archive (checksummed) into the data folder."""
    from distill2rules.data import download_dataset

    path = download_dataset(name, data_dir=data_dir)
    typer.echo(f"{name}: {path}")


def register(app: typer.Typer) -> None:
    app.add_typer(data_app, name="data")

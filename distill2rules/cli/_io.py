"""CLI conventions shared by the commands: ``-`` for stdin/stdout, versioned ``--json`` output.

* Where a command reads a file (``--data``), ``-`` reads it from stdin (CSV, or Parquet when
  the bytes start with ``PAR1``); where it writes one (``--out``), ``-`` writes to stdout.
* Every ``--json`` output carries ``"format": "distill2rules.<kind>/1"`` as its first key, so a
  consumer can check what it parses and its version.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sys
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import typer

__all__ = [
    "JSON_VERSION",
    "STDIO",
    "echo_json",
    "input_path",
    "is_stdio",
    "jsonl_with_format",
    "output_path",
    "stdin_to_file",
    "with_format",
]

STDIO = "-"
JSON_VERSION = 1


def is_stdio(path: Any) -> bool:
    """True when a path option is ``-`` (stdin or stdout)."""
    return path is not None and str(path) == STDIO


def with_format(kind: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """``payload`` with ``"format": "distill2rules.<kind>/1"`` first (an existing format is kept)."""
    fmt = payload.get("format") or f"distill2rules.{kind}/{JSON_VERSION}"
    return {"format": fmt, **{k: v for k, v in payload.items() if k != "format"}}


def echo_json(
    kind: str, payload: Mapping[str, Any], *, indent: int | None = 1, default: Any = str
) -> None:
    """Print ``payload`` as JSON with its format tag (see :func:`with_format`)."""
    typer.echo(json.dumps(with_format(kind, payload), indent=indent, default=default))


@contextlib.contextmanager
def input_path(path: str | Path, *, suffix: str = ".csv") -> Iterator[Path]:
    """A readable file for ``path``; ``-`` copies stdin into a temporary file first.

    Stdin starting with the Parquet magic ``PAR1`` becomes a ``.parquet`` file, else ``suffix``.
    """
    if not is_stdio(path):
        yield Path(path)
        return
    src = sys.stdin.buffer
    head = src.read(4)
    with tempfile.TemporaryDirectory(prefix="distill2rules-stdin-") as tmp:
        target = Path(tmp) / ("stdin.parquet" if head == b"PAR1" else f"stdin{suffix}")
        with open(target, "wb") as fh:
            fh.write(head)
            shutil.copyfileobj(src, fh)
        yield target


@contextlib.contextmanager
def output_path(path: str | Path, *, name: str) -> Iterator[Path]:
    """A file to write for ``path``; for ``-`` a temporary file named ``name`` whose bytes go to
    stdout once the block succeeds (nothing is printed if it fails)."""
    if not is_stdio(path):
        yield Path(path)
        return
    with tempfile.TemporaryDirectory(prefix="distill2rules-stdout-") as tmp:
        target = Path(tmp) / name
        yield target
        sys.stdout.flush()
        with open(target, "rb") as fh:
            shutil.copyfileobj(fh, sys.stdout.buffer)
        sys.stdout.buffer.flush()


def stdin_to_file(path: str) -> str:
    """For an option that is a path or a name: ``-`` becomes a temporary file holding stdin
    (removed when the process exits); anything else is returned unchanged."""
    if not is_stdio(path):
        return path
    import atexit

    stack = contextlib.ExitStack()
    atexit.register(stack.close)
    return str(stack.enter_context(input_path(path)))


def jsonl_with_format(kind: str, jsonl: str) -> str:
    """JSON lines (one object per line) with the format tag added to each object."""
    lines = [
        json.dumps(with_format(kind, json.loads(line)), default=str)
        for line in jsonl.splitlines()
        if line.strip()
    ]
    return "".join(line + "\n" for line in lines)

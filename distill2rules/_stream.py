"""Streaming ``predict``: read rows in chunks, score each chunk, write it, so memory stays flat.

:func:`iter_table` yields a data file as DataFrames of at most ``chunk_rows`` rows, cleaned as
:func:`distill2rules.data.read_table` cleans a whole file (same delimiter sniffing, missing
markers, decimal commas, compressed text, Parquet by row groups). :func:`predict_file` scores
each chunk with the artifact's spec (after checking the artifact's hashes) and appends
``p_<class>`` columns to a temp file renamed into place at the end (or writes straight to a
character device / FIFO such as ``/dev/stdout``). Non-finite probabilities stop it with an
error naming the first bad row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from distill2rules import spec as spec_mod
from distill2rules.artifact import load_spec, write_file
from distill2rules.data import CHUNK_ROWS, iter_table
from distill2rules.errors import ArtifactError
from distill2rules.exporters.reasons import reasons_to_jsonl

__all__ = ["CHUNK_ROWS", "explain_stream", "iter_table", "predict_file"]


def check_probabilities(proba: np.ndarray, offset: int) -> None:
    bad = ~np.isfinite(proba).all(axis=1)
    if bad.any():
        row = offset + int(np.argmax(bad))
        raise ArtifactError(
            f"the student gave non-finite probabilities for {int(bad.sum())} row(s) "
            f"(first: data row {row + 1}); the artifact's spec is broken.",
            hint="Run `distill2rules verify` on it and re-run `distill2rules fit`.",
        )


def predict_file(
    art_dir: str | Path,
    data: str | Path,
    out: str | Path,
    *,
    sep: str | None = None,
    encoding: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> int:
    """Score a CSV/Parquet file chunk by chunk; write ``p_<class>`` columns to ``out``. Returns the row count."""
    spec = load_spec(art_dir)  # checks the artifact's hashes first
    columns = [f"p_{c}" for c in spec["classes"]]
    chunks = iter_table(data, sep=sep, encoding=encoding, chunk_rows=chunk_rows)
    first = next(chunks)  # data errors surface before anything is written
    n = 0

    def write(path: Path) -> None:
        nonlocal n
        with open(path, "w", encoding="utf-8", newline="") as f:
            header = True
            for X in _chain(first, chunks):
                proba = np.asarray(spec_mod.evaluate(spec, X)["probabilities"], dtype=np.float64)
                check_probabilities(proba, n)
                pd.DataFrame(proba, columns=columns).to_csv(
                    f, index=False, header=header, float_format="%.8g"
                )
                header = False
                n += len(X)

    write_file(out, write)
    return n


def explain_stream(
    data: str | Path,
    explain_chunk: Callable[[pd.DataFrame], list[dict[str, Any]]],
    *,
    out: str | Path | None = None,
    echo: Callable[[str], None] | None = None,
    keep: int = 20,
    sep: str | None = None,
    encoding: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> tuple[list[dict[str, Any]], int]:
    """Explain a data file chunk by chunk, so memory stays flat.

    ``explain_chunk(X)`` returns one result dict per row of ``X`` (e.g. a partial of
    :func:`distill2rules.exporters.reasons.explain_rows`); each chunk's JSON lines go to ``out``
    (a temp file renamed into place at the end) and/or to ``echo`` as they are made. ``row`` is
    renumbered across chunks (``index`` is already the row's number in the file). Returns the first
    ``keep`` results (for a table) and the number of rows.
    """
    head: list[dict[str, Any]] = []
    chunks = iter_table(data, sep=sep, encoding=encoding, chunk_rows=chunk_rows)
    first = next(chunks)  # data errors surface before anything is written
    n = 0

    def run(f: IO[str] | None) -> None:
        nonlocal n
        for X in _chain(first, chunks):
            res = explain_chunk(X)
            for r in res:
                if isinstance(r.get("row"), int):
                    r["row"] += n
            text = reasons_to_jsonl(res)
            if f is not None:
                f.write(text)
            if echo is not None and text:
                echo(text.rstrip("\n"))
            if len(head) < keep:
                head.extend(res[: keep - len(head)])
            n += len(X)

    if out is not None:

        def write(path: Path) -> None:
            with open(path, "w", encoding="utf-8") as f:
                run(f)

        write_file(out, write)
    else:
        run(None)
    return head, n


def _chain(first: Any, rest: Iterator[Any]) -> Iterator[Any]:
    yield first
    yield from rest

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

import bz2
import gzip
import io
import lzma
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from distill2rules.errors import ArtifactError, DataError

__all__ = ["CHUNK_ROWS", "explain_stream", "iter_table", "predict_file"]

CHUNK_ROWS = 50_000
_OPENERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}


def _open_text(path: Path, encoding: str | None) -> IO[str]:
    opener = _OPENERS.get(path.suffix.lower())
    if opener is None:
        with open(path, "rb") as f:
            if f.read(2) == b"\x1f\x8b":
                opener = gzip.open
    codec = encoding or "utf-8-sig"
    try:
        "".encode(codec)
    except LookupError:
        raise DataError(f"unknown encoding {encoding!r}.", hint="Pass e.g. --encoding latin-1 or utf-8.") from None
    if opener is None:
        return open(path, encoding=codec, newline="")
    return io.TextIOWrapper(opener(path, "rb"), encoding=codec, newline="")


def _sample(path: Path, encoding: str | None) -> list[str]:
    from distill2rules.data import _io

    lines: list[str] = []
    try:
        with _open_text(path, encoding) as f:
            for line in f:
                if line.strip():
                    lines.append(line.rstrip("\r\n"))
                    if len(lines) >= _io._SAMPLE_LINES:
                        break
    except UnicodeDecodeError:
        hint = ("Pass --encoding latin-1 (or the file's real encoding), or re-save it as UTF-8." if encoding is None
                else "Pass the file's real encoding with --encoding.")
        raise DataError(f"{path} is not valid {(encoding or 'utf-8').upper()} near the top of the file.", hint=hint) from None
    except (OSError, EOFError, lzma.LZMAError) as err:
        raise DataError(f"cannot read {path}: {err}.", hint="Check that the file is not truncated.") from None
    return lines


def iter_table(source: str | Path, *, sep: str | None = None, encoding: str | None = None,
               chunk_rows: int = CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    """Yield the rows of a CSV/text/Parquet file as cleaned DataFrames of <= ``chunk_rows`` rows.

    Raises
    ------
    DataError
        As :func:`distill2rules.data.read_table` (missing/empty/undecodable file, bad delimiter,
        no header, duplicated columns).
    """
    from distill2rules.data import _io

    path = Path(source)
    if not path.is_file():
        what = "is a directory, not a file" if path.is_dir() else "not found (or not a regular file)"
        raise DataError(f"{path}: {what}.", hint="Check the path.")
    if path.suffix.lower() in _io._PARQUET_SUFFIXES:
        yield from _iter_parquet(path, chunk_rows)
        return
    sample = _sample(path, encoding)
    if not sample:
        raise DataError(f"{path} is empty.", hint="Check that it is the right file.")
    if sep is None:
        sep = _io._sniff(sample)
    header = [h.strip() for h in _io._split_line(sample[0], sep)]
    _io._check_header(path, header)
    _io._check_unique_columns(header, str(path))
    _io._check_delimiter(path, sample, sep, n_columns=len(header))
    decimal = "," if sep != "," and _io._uses_decimal_comma(sample[1:], sep) else "."
    n = 0
    with _open_text(path, encoding) as f:
        try:
            reader = pd.read_csv(f, sep=sep, skipinitialspace=True, na_values=list(_io.MISSING_MARKERS),
                                 keep_default_na=False, decimal=decimal, chunksize=chunk_rows,
                                 engine="python" if len(sep) > 1 and sep != _io._WHITESPACE else "c")
            for chunk in reader:
                chunk.columns = [str(c).strip() for c in chunk.columns]
                chunk.index = pd.RangeIndex(n, n + len(chunk))  # the row's number in the whole file
                n += len(chunk)
                yield _io._clean(chunk)
        except (pd.errors.ParserError, ValueError) as err:
            if isinstance(err, UnicodeDecodeError):
                raise DataError(f"{path} is not valid {(encoding or 'utf-8').upper()} (after row {n}).",
                                hint="Pass the file's real encoding with --encoding.") from None
            raise DataError(f"cannot parse {path} with delimiter {sep!r} (after row {n}): {_io._reason(err)}.",
                            hint="Check the delimiter (pass --sep) and the quoting of fields.") from None
        except (OSError, EOFError, lzma.LZMAError) as err:
            raise DataError(f"cannot read {path} (after row {n}): {err}.", hint="Check that the file is not truncated.") from None
    if n == 0:
        raise DataError(f"{path} has no data rows.", hint="Check that it is the right file.")


def _iter_parquet(path: Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    from distill2rules.data import _io

    try:
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(path)
    except Exception as err:  # noqa: BLE001 - pyarrow raises many types
        raise DataError(f"cannot read Parquet file {path}: {_io._reason(err)}.",
                        hint="Check that the file is valid Parquet, or export it as CSV.") from None
    n = 0
    for batch in pf.iter_batches(batch_size=chunk_rows):
        frame = batch.to_pandas()
        frame.columns = [str(c).strip() for c in frame.columns]
        _io._check_unique_columns(list(frame.columns), str(path))
        frame.index = pd.RangeIndex(n, n + len(frame))
        n += len(frame)
        yield _io._clean(frame)
    if n == 0:
        raise DataError(f"{path} has no data rows.", hint="Check that it is the right file.")


def _check_probabilities(proba: np.ndarray, offset: int) -> None:
    bad = ~np.isfinite(proba).all(axis=1)
    if bad.any():
        row = offset + int(np.argmax(bad))
        raise ArtifactError(f"the student gave non-finite probabilities for {int(bad.sum())} row(s) "
                            f"(first: data row {row + 1}); the artifact's spec is broken.",
                            hint="Run `distill2rules verify` on it and re-run `distill2rules fit`.")


def predict_file(art_dir: str | Path, data: str | Path, out: str | Path, *, sep: str | None = None,
                 encoding: str | None = None, chunk_rows: int = CHUNK_ROWS) -> int:
    """Score a CSV/Parquet file chunk by chunk; write ``p_<class>`` columns to ``out``. Returns the row count."""
    from distill2rules import spec as spec_mod
    from distill2rules.artifact import load_spec, write_file

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
                _check_probabilities(proba, n)
                pd.DataFrame(proba, columns=columns).to_csv(f, index=False, header=header, float_format="%.8g")
                header = False
                n += len(X)

    write_file(out, write)
    return n


def explain_stream(data: str | Path, explain_chunk: Callable[[pd.DataFrame], list[dict[str, Any]]], *,
                   out: str | Path | None = None, echo: Callable[[str], None] | None = None, keep: int = 20,
                   sep: str | None = None, encoding: str | None = None,
                   chunk_rows: int = CHUNK_ROWS) -> tuple[list[dict[str, Any]], int]:
    """Explain a data file chunk by chunk, so memory stays flat.

    ``explain_chunk(X)`` returns one result dict per row of ``X`` (e.g. a partial of
    :func:`distill2rules.exporters.reasons.explain_rows`); each chunk's JSON lines go to ``out``
    (a temp file renamed into place at the end) and/or to ``echo`` as they are made. ``row`` is
    renumbered across chunks (``index`` is already the row's number in the file). Returns the first
    ``keep`` results (for a table) and the number of rows.
    """
    from distill2rules.artifact import write_file
    from distill2rules.exporters.reasons import reasons_to_jsonl

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

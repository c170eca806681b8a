"""Reading a data file in chunks (:func:`iter_table`), cleaned as :func:`read_table` cleans a
whole file: same delimiter sniffing, missing markers, decimal commas, compressed text, Parquet
by row groups. Streaming ``predict`` / ``explain`` (:mod:`distill2rules._stream`) use it.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import pandas as pd

from distill2rules.data._io import (
    _PARQUET_SUFFIXES,
    _SAMPLE_LINES,
    _WHITESPACE,
    MISSING_MARKERS,
    _check_delimiter,
    _check_header,
    _check_unique_columns,
    _clean,
    _reason,
    _sniff,
    _split_line,
    _uses_decimal_comma,
    iter_parquet_batches,
    open_parquet,
)
from distill2rules.errors import DataError

__all__ = ["CHUNK_ROWS", "iter_table"]

CHUNK_ROWS = 50_000
_OPENERS: dict[str, Callable[..., Any]] = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}


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
        raise DataError(
            f"unknown encoding {encoding!r}.", hint="Pass e.g. --encoding latin-1 or utf-8."
        ) from None
    if opener is None:
        return open(path, encoding=codec, newline="")
    return io.TextIOWrapper(opener(path, "rb"), encoding=codec, newline="")


def _sample(path: Path, encoding: str | None) -> list[str]:
    lines: list[str] = []
    try:
        with _open_text(path, encoding) as f:
            for line in f:
                if line.strip():
                    lines.append(line.rstrip("\r\n"))
                    if len(lines) >= _SAMPLE_LINES:
                        break
    except UnicodeDecodeError:
        hint = (
            "Pass --encoding latin-1 (or the file's real encoding), or re-save it as UTF-8."
            if encoding is None
            else "Pass the file's real encoding with --encoding."
        )
        raise DataError(
            f"{path} is not valid {(encoding or 'utf-8').upper()} near the top of the file.",
            hint=hint,
        ) from None
    except (OSError, EOFError, lzma.LZMAError) as err:
        raise DataError(
            f"cannot read {path}: {err}.", hint="Check that the file is not truncated."
        ) from None
    return lines


def iter_table(
    source: str | Path,
    *,
    sep: str | None = None,
    encoding: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> Iterator[pd.DataFrame]:
    """Yield the rows of a CSV/text/Parquet file as cleaned DataFrames of <= ``chunk_rows`` rows.

    Raises
    ------
    DataError
        As :func:`distill2rules.data.read_table` (missing/empty/undecodable file, bad delimiter,
        no header, duplicated columns).
    """
    path = Path(source)
    if not path.is_file():
        what = (
            "is a directory, not a file" if path.is_dir() else "not found (or not a regular file)"
        )
        raise DataError(f"{path}: {what}.", hint="Check the path.")
    if path.suffix.lower() in _PARQUET_SUFFIXES:
        yield from _iter_parquet(path, chunk_rows)
        return
    sample = _sample(path, encoding)
    if not sample:
        raise DataError(f"{path} is empty.", hint="Check that it is the right file.")
    if sep is None:
        sep = _sniff(sample)
    header = [h.strip() for h in _split_line(sample[0], sep)]
    _check_header(path, header)
    _check_unique_columns(header, str(path))
    _check_delimiter(path, sample, sep, n_columns=len(header))
    decimal = "," if sep != "," and _uses_decimal_comma(sample[1:], sep) else "."
    n = 0
    with _open_text(path, encoding) as f:
        try:
            reader = pd.read_csv(
                f,
                sep=sep,
                skipinitialspace=True,
                na_values=list(MISSING_MARKERS),
                keep_default_na=False,
                decimal=decimal,
                chunksize=chunk_rows,
                engine="python" if len(sep) > 1 and sep != _WHITESPACE else "c",
            )
            for chunk in reader:
                chunk.columns = [str(c).strip() for c in chunk.columns]
                chunk.index = pd.RangeIndex(n, n + len(chunk))  # the row's number in the whole file
                n += len(chunk)
                yield _clean(chunk)
        except (pd.errors.ParserError, ValueError) as err:
            if isinstance(err, UnicodeDecodeError):
                raise DataError(
                    f"{path} is not valid {(encoding or 'utf-8').upper()} (after row {n}).",
                    hint="Pass the file's real encoding with --encoding.",
                ) from None
            raise DataError(
                f"cannot parse {path} with delimiter {sep!r} (after row {n}): {_reason(err)}.",
                hint="Check the delimiter (pass --sep) and the quoting of fields.",
            ) from None
        except (OSError, EOFError, lzma.LZMAError) as err:
            raise DataError(
                f"cannot read {path} (after row {n}): {err}.",
                hint="Check that the file is not truncated.",
            ) from None
    if n == 0:
        raise DataError(f"{path} has no data rows.", hint="Check that it is the right file.")


def _iter_parquet(path: Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    pf = open_parquet(path, whole=False)  # each row group under the decompression caps
    n = 0
    for batch in iter_parquet_batches(path, pf, chunk_rows, whole=False):
        frame = batch.to_pandas()
        frame.columns = [str(c).strip() for c in frame.columns]
        _check_unique_columns(list(frame.columns), str(path))
        frame.index = pd.RangeIndex(n, n + len(frame))
        n += len(frame)
        yield _clean(frame)
    if n == 0:
        raise DataError(f"{path} has no data rows.", hint="Check that it is the right file.")

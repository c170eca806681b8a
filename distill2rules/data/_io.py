"""Reading tables: CSV/TSV/text (optionally compressed), Parquet, or a DataFrame.

Every source is normalised the same way: column names become stripped strings,
string cells are stripped, the missing markers in :data:`MISSING_MARKERS` become
NaN, and text columns whose every value is a number become numeric.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import lzma
import re
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, Union, cast

import numpy as np
import pandas as pd

from distill2rules._optional import require
from distill2rules.errors import DataError
from distill2rules.limits import (
    DATA_BYTES,
    check_expansion,
    check_file_size,
    check_regular_file,
)

__all__ = ["MISSING_MARKERS", "PathLike", "read_table"]

PathLike = Union[str, Path]  # noqa: UP007 - a runtime alias other modules import

#: Cell values read as missing (after stripping whitespace).
MISSING_MARKERS: tuple[str, ...] = ("?", "NA", "N/A", "", "null", "NaN")

#: Delimiters tried by the sniffer, in order of preference ("\\s+" = runs of spaces).
_DELIMITERS: tuple[str, ...] = (",", ";", "\t", "|")
_WHITESPACE = r"\s+"
_SAMPLE_LINES = 50
_DECIMAL_COMMA = re.compile(r"^[-+]?\d+,\d+$")
_DECIMAL_DOT = re.compile(r"^[-+]?\d*\.\d+$")
_NUMBER = re.compile(r"^[-+]?(\d+([.,]\d*)?|[.,]\d+)([eE][-+]?\d+)?$")
_PARQUET_SUFFIXES = {".parquet", ".pq"}
_OPENERS: dict[str, Callable[[Path], IO[bytes]]] = {
    ".gz": lambda p: cast(IO[bytes], gzip.open(p, "rb")),  # noqa: SIM115 - closed by _read_bytes
    ".bz2": lambda p: bz2.open(p, "rb"),  # noqa: SIM115
    ".xz": lambda p: lzma.open(p, "rb"),  # noqa: SIM115
}
_CHUNK = 1 << 20


def read_table(
    source: PathLike | pd.DataFrame,
    *,
    sep: str | None = None,
    encoding: str | None = None,
) -> pd.DataFrame:
    """Read a table from a file or copy a DataFrame, with uniform cleaning.

    Parameters
    ----------
    source : str, Path or DataFrame
        A CSV/TSV/text file (``.csv``, ``.tsv``, ``.txt``, ... optionally ``.gz``,
        ``.bz2``, ``.xz`` or single-member ``.zip`` compressed, decompressed as a stream under
        the caps of :mod:`distill2rules.limits`), a Parquet file (``.parquet``/``.pq``), or a
        DataFrame (copied, never modified). Text files must have a header row.
    sep : str, optional
        Field delimiter. ``None`` sniffs one of ``,`` ``;`` tab ``|`` or runs of spaces.
    encoding : str, optional
        Text encoding. ``None`` means UTF-8 (a byte-order mark is allowed); bytes that
        are not valid UTF-8 raise :class:`DataError` instead of being guessed.

    Returns
    -------
    DataFrame
        Stripped string column names and cells; missing markers (``?``, ``NA``,
        ``N/A``, empty, ``null``, ``NaN``) as NaN.

    Raises
    ------
    DataError
        Missing, empty, undecodable or unparsable file, a wrong delimiter, duplicated
        column names, or an unreadable Parquet file.

    Examples
    --------
    >>> import pandas as pd
    >>> read_table(pd.DataFrame({" a ": [" x", "?"]}))["a"].tolist()
    ['x', nan]
    """
    if isinstance(source, pd.DataFrame):
        frame = source.copy()
        frame.columns = [str(c).strip() for c in frame.columns]
        _check_unique_columns(list(frame.columns), "the DataFrame")
        return _clean(frame)
    path = Path(source)
    if not path.exists() and not path.is_symlink():
        raise DataError(f"{path}: not found.", hint="Check the path (or pass a DataFrame).")
    st = check_regular_file(path, DataError, "data file", "Check the path (or pass a DataFrame).")
    check_file_size(st, DATA_BYTES, DataError, f"data file {path.name}")
    if path.suffix.lower() in _PARQUET_SUFFIXES:
        frame = _read_parquet(path)
    else:
        frame = _read_text(path, sep=sep, encoding=encoding)
    if len(frame) == 0:
        raise DataError(f"{path} has no data rows.", hint="Check that it is the right file.")
    return _clean(frame)


# --------------------------------------------------------------------------- parquet


#: rows per Parquet batch: decoded bytes are counted batch by batch against the caps
PARQUET_BATCH_ROWS = 65_536


def open_parquet(path: Path, *, whole: bool = True) -> Any:
    """A ``pyarrow.parquet.ParquetFile`` whose footer passed the decompression caps.

    The footer's uncompressed sizes are checked against
    :data:`~distill2rules.limits.DECOMPRESSED_BYTES` and the ratio cap before a single page is
    decompressed: their sum over the row groups when the file is read ``whole``, each row
    group's alone when it is streamed (memory then holds one batch at a time). Readers also
    count the decoded bytes as they go (:func:`iter_parquet_batches`), so a footer that
    understates them is caught too.
    """
    if path.stat().st_size == 0:
        raise DataError(f"{path} is empty.", hint="Check that it is the right file.")
    pq = require("pyarrow.parquet", extra="parquet")
    try:
        pf = pq.ParquetFile(path)
        md = pf.metadata
        groups = []  # (uncompressed, compressed) bytes per row group, as the footer states them
        for i in range(md.num_row_groups):
            rg = md.row_group(i)
            cols = [rg.column(j) for j in range(rg.num_columns)]
            raw = sum(max(c.total_uncompressed_size, 0) for c in cols)
            groups.append(
                (
                    max(rg.total_byte_size, raw, 0),
                    sum(max(c.total_compressed_size, 0) for c in cols),
                )
            )
    except Exception as err:  # noqa: BLE001 - pyarrow raises many types (ArrowInvalid, OSError, ...)
        raise DataError(
            f"cannot read Parquet file {path}: {_reason(err)}.",
            hint="Check that the file is valid Parquet, or export it as CSV.",
        ) from None
    subject = f"decompressing {path.name}"
    if whole:
        check_expansion(sum(u for u, _ in groups), path.stat().st_size, DataError, subject)
    else:
        for u, c in groups:
            check_expansion(u, c, DataError, subject)
    return pf


def iter_parquet_batches(
    path: Path, pf: Any, batch_rows: int = PARQUET_BATCH_ROWS, *, whole: bool = True
) -> Iterator[Any]:
    """``pf``'s record batches; the decoded bytes (so far when read ``whole``, else of each
    batch) are checked against the caps."""
    stored, total = path.stat().st_size, 0
    batches = pf.iter_batches(batch_size=batch_rows)
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except Exception as err:  # noqa: BLE001 - pyarrow raises many types
            raise DataError(
                f"cannot read Parquet file {path}: {_reason(err)}.",
                hint="Check that the file is valid Parquet, or export it as CSV.",
            ) from None
        total = total + batch.nbytes if whole else batch.nbytes
        check_expansion(total, stored, DataError, f"decompressing {path.name}")
        yield batch


def _read_parquet(path: Path) -> pd.DataFrame:
    import pyarrow as pa

    pf = open_parquet(path)
    batches = list(iter_parquet_batches(path, pf))
    try:
        table = pa.Table.from_batches(batches, schema=pf.schema_arrow)
        frame = table.to_pandas()
    except Exception as err:  # noqa: BLE001 - pyarrow raises many types
        raise DataError(
            f"cannot read Parquet file {path}: {_reason(err)}.",
            hint="Check that the file is valid Parquet, or export it as CSV.",
        ) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    _check_unique_columns(list(frame.columns), str(path))
    return frame


# --------------------------------------------------------------------------- text


def _read_text(path: Path, *, sep: str | None, encoding: str | None) -> pd.DataFrame:
    text = _decode(path, _read_bytes(path), encoding)
    if not text.strip():
        raise DataError(f"{path} is empty.", hint="Check that it is the right file.")
    sample = _sample_lines(text)
    if sep is None:
        sep = _sniff(sample)
    header = [h.strip() for h in _split_line(sample[0], sep)]
    _check_header(path, header)
    _check_unique_columns(header, str(path))
    _check_delimiter(path, sample, sep, n_columns=len(header))
    decimal = "," if sep != "," and _uses_decimal_comma(sample[1:], sep) else "."
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            skipinitialspace=True,
            na_values=list(MISSING_MARKERS),
            keep_default_na=False,
            decimal=decimal,
            engine="python" if len(sep) > 1 and sep != _WHITESPACE else "c",
        )
    except (pd.errors.ParserError, ValueError) as err:
        raise DataError(
            f"cannot parse {path} with delimiter {sep!r}: {_reason(err)}.",
            hint="Check the delimiter (pass --sep) and the quoting of fields.",
        ) from err
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _reason(err: BaseException, limit: int = 160) -> str:
    """First non-empty line of an exception message, shortened, without a final period."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    text = (lines[0] if lines else type(err).__name__).rstrip(".")
    return text if len(text) <= limit else text[: limit - 5].rstrip() + " (...)"


def _uses_decimal_comma(rows: list[str], sep: str) -> bool:
    """True if numbers in the sample are written ``3,14`` and never ``3.14``."""
    fields = [f.strip() for row in rows for f in _split_line(row, sep)]
    commas = sum(bool(_DECIMAL_COMMA.match(f)) for f in fields)
    dots = sum(bool(_DECIMAL_DOT.match(f)) for f in fields)
    return commas > 0 and dots == 0


def _open_compressed(path: Path) -> IO[bytes] | None:
    """A streaming reader of the decompressed bytes, or None for an uncompressed file."""
    suffix = path.suffix.lower()
    if suffix == ".zip" or (suffix not in _OPENERS and zipfile.is_zipfile(path)):
        zf = zipfile.ZipFile(path)
        members = [i for i in zf.infolist() if not i.is_dir()]
        if len(members) != 1:
            zf.close()
            raise DataError(
                f"{path} holds {len(members)} files; a zipped table must hold exactly one.",
                hint="Unzip it and pass the table file.",
            )
        return zf.open(members[0])
    opener = _OPENERS.get(suffix)
    if opener is None:
        with open(path, "rb") as fh:
            if fh.read(2) == b"\x1f\x8b":
                opener = _OPENERS[".gz"]
    return opener(path) if opener is not None else None


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, decompressed in 1 MiB chunks under the size and ratio caps."""
    try:
        stream = _open_compressed(path)
    except (OSError, zipfile.BadZipFile) as err:
        raise DataError(f"cannot read {path}: {err}.", hint="Check the file.") from err
    if stream is None:
        return path.read_bytes()
    stored = max(path.stat().st_size, 1)
    parts: list[bytes] = []
    total = 0
    try:
        with stream:
            while chunk := stream.read(_CHUNK):
                total += len(chunk)
                check_expansion(total, stored, DataError, f"decompressing {path.name}")
                parts.append(chunk)
    except (OSError, EOFError, lzma.LZMAError, zipfile.BadZipFile) as err:
        raise DataError(
            f"cannot decompress {path}: {err}.", hint="Check that the file is not truncated."
        ) from err
    return b"".join(parts)


def _decode(path: Path, raw: bytes, encoding: str | None) -> str:
    codec = encoding or "utf-8-sig"
    try:
        return raw.decode(codec)
    except LookupError as err:
        raise DataError(
            f"unknown encoding {encoding!r}.", hint="Pass e.g. --encoding latin-1 or utf-8."
        ) from err
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        bad = raw[err.start : err.start + 1].hex()
        if encoding is None:
            hint = "Pass --encoding latin-1 (or the file's real encoding), or re-save it as UTF-8."
        else:
            hint = "Pass the file's real encoding with --encoding."
        raise DataError(
            f"{path} is not valid {codec.replace('-sig', '').upper()}: "
            f"byte 0x{bad} at offset {err.start} (line {line}).",
            hint=hint,
        ) from err


def _sample_lines(text: str) -> list[str]:
    lines: list[str] = []
    for line in io.StringIO(text):
        if line.strip():
            lines.append(line.rstrip("\r\n"))
            if len(lines) >= _SAMPLE_LINES:
                break
    return lines


def _split_line(line: str, sep: str) -> list[str]:
    if sep == _WHITESPACE:
        return line.split()
    if len(sep) != 1:
        return line.split(sep)
    return next(csv.reader([line], delimiter=sep, skipinitialspace=True), [])


def _field_counts(lines: list[str], sep: str) -> Counter[int]:
    return Counter(len(_split_line(line, sep)) for line in lines)


def _consistent_width(lines: list[str], sep: str) -> int:
    """Number of fields per line if ``sep`` splits at least 90% of lines alike, else 1."""
    width, hits = _field_counts(lines, sep).most_common(1)[0]
    return width if hits >= 0.9 * len(lines) else 1


def _sniff(lines: list[str]) -> str:
    """Pick the delimiter giving the most columns consistently; spaces come last."""
    best, best_width = ",", 1
    for sep in _DELIMITERS:
        width = _consistent_width(lines, sep)
        if width > best_width:
            best, best_width = sep, width
    if best_width == 1 and _consistent_width(lines, _WHITESPACE) > 1:
        return _WHITESPACE
    return best


def _check_header(path: Path, header: list[str]) -> None:
    """Refuse a first line made only of numbers: the file has no header row."""
    if header and all(_NUMBER.match(h) for h in header):
        shown = " ".join(header[:6]) + (" ..." if len(header) > 6 else "")
        raise DataError(
            f"{path} has no header row: its first line ({shown}) is all numbers.",
            hint="Add a first line naming the columns.",
        )


def _check_delimiter(path: Path, lines: list[str], sep: str, *, n_columns: int) -> None:
    """Refuse a one-column parse when the lines evidently hold another delimiter."""
    if n_columns > 1:
        return
    for other in (*_DELIMITERS, _WHITESPACE):
        if other == sep or len(_split_line(lines[0], other)) < 2:
            continue
        counts = _field_counts(lines, other)
        split_lines = sum(n for width, n in counts.items() if width > 1)
        if split_lines >= 0.5 * len(lines):
            shown = "a space" if other == _WHITESPACE else repr(other)
            raise DataError(
                f"{path} parsed into a single column, but its lines contain {shown}: "
                "wrong delimiter?",
                hint=f"Pass --sep {shown if other != _WHITESPACE else repr(' ')} "
                "(or fix the file so every line has the same number of fields).",
            )


# --------------------------------------------------------------------------- cleaning


def _check_unique_columns(columns: list[str], where: str) -> None:
    dupes = sorted({c for c in columns if columns.count(c) > 1})
    if dupes:
        raise DataError(
            f"duplicated column names in {where}: {', '.join(map(repr, dupes))}.",
            hint="Rename the columns so that every name is unique.",
        )


def _is_text(series: pd.Series) -> bool:
    return series.dtype == object or isinstance(series.dtype, pd.StringDtype)


def _strip_cells(series: pd.Series) -> pd.Series:
    """Strip strings and turn missing markers into NaN; other values are untouched."""
    if isinstance(series.dtype, pd.StringDtype):
        stripped = series.str.strip()
    else:
        stripped = series.map(lambda v: v.strip() if isinstance(v, str) else v)
    return stripped.mask(stripped.isin(MISSING_MARKERS), np.nan)


def _maybe_numeric(series: pd.Series) -> pd.Series:
    """Return the column as numbers if every present value is a number (not a bool)."""
    present = series.dropna()
    if present.empty or not all(isinstance(v, str) for v in present.head(1000)):
        return series
    numbers = pd.to_numeric(series, errors="coerce")
    if int(numbers.notna().sum()) == len(present):
        return numbers
    return series


def _clean(frame: pd.DataFrame) -> pd.DataFrame:
    for name in frame.columns:
        if _is_text(frame[name]):
            frame[name] = _maybe_numeric(_strip_cells(frame[name]))
    return frame

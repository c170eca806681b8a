"""The dataset registry: named public datasets, or any CSV/Parquet file, as a :class:`Dataset`.

Named datasets are read from a data directory laid out like the UCI archive
(``adult/adult.data.gz``, ``wine_quality/winequality-red.csv.gz``, ...; gzipped or
not). The directory is, in order: the ``data_dir`` argument, the environment
variable ``DISTILL2RULES_DATA``, or the user cache directory. Missing files can be
fetched from the UCI archive with :func:`download_dataset` (checked by sha256).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from distill2rules._optional import require
from distill2rules.data._german import GERMAN_CODES, GERMAN_COLUMNS, GERMAN_TARGET_LABELS
from distill2rules.data._io import MISSING_MARKERS, PathLike, _is_text, read_table
from distill2rules.data._schema import (
    Schema,
    _preview,
    _to_text,
    coerce_frame,
    infer_schema,
    validate_target,
)
from distill2rules.errors import DataError

__all__ = ["DATASETS", "DATA_ENV_VAR", "Dataset", "DatasetInfo", "download_dataset", "load_dataset"]

DATA_ENV_VAR = "DISTILL2RULES_DATA"
_UCI = "https://archive.ics.uci.edu/ml/machine-learning-databases"
_DOWNLOAD_TIMEOUT_S = 60


@dataclass(frozen=True)
class RemoteFile:
    """One published file: where it lives in the data dir and where to fetch it.

    ``path`` is the un-gzipped name relative to the data dir; ``sha256`` is the hash of
    the raw (un-gzipped) bytes; ``member`` names the file inside a zip at ``url``.
    """

    path: str
    url: str
    sha256: str
    member: str | None = None


@dataclass(frozen=True)
class DatasetInfo:
    """A registry entry.

    ``parts`` are the files read (with rows to skip at the top) and stacked;
    ``read_options`` go to :func:`pandas.read_csv`; ``finish`` turns the stacked raw
    table into the final one (names, labels). ``builtin`` replaces all of that for
    data shipped with a library.
    """

    name: str
    target: str
    description: str
    files: tuple[RemoteFile, ...] = ()
    parts: tuple[tuple[str, int], ...] = ()
    read_options: Mapping[str, Any] = field(default_factory=dict)
    finish: Callable[[pd.DataFrame], pd.DataFrame] | None = None
    builtin: Callable[[], pd.DataFrame] | None = None
    positive_class: str | None = None


@dataclass
class Dataset:
    """A loaded dataset: a coerced frame (features then target) plus its schema.

    Attributes
    ----------
    name : str
        Registry name, or the file's stem.
    frame : DataFrame
        Features (coerced by the schema) and the target column.
    target : str
        Label column.
    schema : Schema
        Feature types (its target is ``target``).
    source : str
        Where the data came from (files or library).
    description : str
        Origin, licence and caveats.
    positive_class : str, optional
        The class of interest for binary tasks (e.g. ``">50K"``).
    """

    name: str
    frame: pd.DataFrame
    target: str
    schema: Schema
    source: str
    description: str = ""
    positive_class: str | None = None

    @property
    def X(self) -> pd.DataFrame:
        """Feature columns, in schema order."""
        return self.frame[self.schema.names]

    @property
    def y(self) -> pd.Series:
        """Target column."""
        return self.frame[self.target]

    @property
    def classes(self) -> list[Any]:
        """Sorted distinct labels."""
        return sorted(pd.unique(self.y).tolist())

    def __repr__(self) -> str:
        return (
            f"Dataset(name={self.name!r}, rows={len(self.frame)}, "
            f"features={len(self.schema.names)}, target={self.target!r})"
        )


# --------------------------------------------------------------------------- finishers


def _strip_test_full_stop(frame: pd.DataFrame) -> pd.DataFrame:
    frame["income"] = frame["income"].str.strip().str.rstrip(".")
    return frame


def _decode_german(frame: pd.DataFrame) -> pd.DataFrame:
    frame.columns = list(GERMAN_COLUMNS)
    for column, codes in GERMAN_CODES.items():
        decoded = frame[column].map(codes)
        unknown = frame[column][decoded.isna()]
        if len(unknown):
            raise DataError(
                f"german_credit: unknown code {unknown.iloc[0]!r} in {column!r}.",
                hint="Check that german.data is the original UCI file.",
            )
        frame[column] = decoded
    frame["credit_risk"] = frame["credit_risk"].map(GERMAN_TARGET_LABELS)
    return frame


def _breast_cancer() -> pd.DataFrame:
    require("sklearn", purpose="the breast_cancer dataset")
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer(as_frame=True)
    frame = bunch.data.copy()
    frame["diagnosis"] = pd.Series(bunch.target_names[bunch.target.to_numpy()], dtype=object)
    return frame


# --------------------------------------------------------------------------- the registry

_ADULT_COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education-num", "marital-status",
    "occupation", "relationship", "race", "sex", "capital-gain", "capital-loss",
    "hours-per-week", "native-country", "income",
]  # fmt: skip

_CITE_UCI = "UCI Machine Learning Repository, licence CC BY 4.0."

DATASETS: dict[str, DatasetInfo] = {
    info.name: info
    for info in [
        DatasetInfo(
            name="breast_cancer",
            target="diagnosis",
            description=(
                "Breast Cancer Wisconsin (Diagnostic), as shipped with scikit-learn: 569 rows, "
                "30 numeric features, diagnosis malignant (212) / benign (357). " + _CITE_UCI
            ),
            builtin=_breast_cancer,
            positive_class="malignant",
        ),
        DatasetInfo(
            name="adult",
            target="income",
            description=(
                "Adult / Census Income (Becker & Kohavi 1996), adult.data + adult.test: 48,842 "
                "rows, 14 features, income <=50K / >50K; '?' marks missing workclass, "
                "occupation, native-country. " + _CITE_UCI
            ),
            files=(
                RemoteFile(
                    "adult/adult.data",
                    f"{_UCI}/adult/adult.data",
                    "5b00264637dbfec36bdeaab5676b0b309ff9eb788d63554ca0a249491c86603d",
                ),
                RemoteFile(
                    "adult/adult.test",
                    f"{_UCI}/adult/adult.test",
                    "a2a9044bc167a35b2361efbabec64e89d69ce82d9790d2980119aac5fd7e9c05",
                ),
                RemoteFile(
                    "adult/adult.names",
                    f"{_UCI}/adult/adult.names",
                    "c248284c0b5de30c9e1958d6cdd168a34a654758b620e68f46aefa83fc0a576a",
                ),
            ),
            parts=(("adult/adult.data", 0), ("adult/adult.test", 1)),
            read_options={"header": None, "names": _ADULT_COLUMNS},
            finish=_strip_test_full_stop,
            positive_class=">50K",
        ),
        DatasetInfo(
            name="german_credit",
            target="credit_risk",
            description=(
                "Statlog German Credit (Hofmann 1994), german.data with A-codes decoded from "
                "german.doc: 1,000 rows, 20 features (7 numeric), credit_risk good (700) / "
                "bad (300). Cost matrix: a bad customer classed good costs 5, the reverse 1. "
                + _CITE_UCI
            ),
            files=(
                RemoteFile(
                    "german_credit/german.data",
                    f"{_UCI}/statlog/german/german.data",
                    "b21f3d81db8071257d5ff1deaeba1fd4303b62712e6fcc9715c7a86202cb5871",
                ),
                RemoteFile(
                    "german_credit/german.doc",
                    f"{_UCI}/statlog/german/german.doc",
                    "69b92cb551111bc37098698288849c96f0fd87ce81a2e54451ff39aa1e53fe49",
                ),
            ),
            parts=(("german_credit/german.data", 0),),
            read_options={"header": None, "sep": r"\s+"},
            finish=_decode_german,
            positive_class="bad",
        ),
        DatasetInfo(
            name="wine_quality",
            target="quality",
            description=(
                "Wine Quality (Cortez et al. 2009), red (1,599) then white (4,898) stacked: "
                "6,497 rows, 11 numeric features, quality as integer classes 3-9 (heavily "
                "imbalanced; 3 and 9 are rare). " + _CITE_UCI
            ),
            files=(
                RemoteFile(
                    "wine_quality/winequality-red.csv",
                    f"{_UCI}/wine-quality/winequality-red.csv",
                    "4a402cf041b025d4566d954c3b9ba8635a3a8a01e039005d97d6a710278cf05e",
                ),
                RemoteFile(
                    "wine_quality/winequality-white.csv",
                    f"{_UCI}/wine-quality/winequality-white.csv",
                    "76c3f809815c17c07212622f776311faeb31e87610d52c26d87d6e361b169836",
                ),
                RemoteFile(
                    "wine_quality/winequality.names",
                    f"{_UCI}/wine-quality/winequality.names",
                    "15d215e73b39105952380fd487e4ce1bf5a6b83a425abb285c2ec55193d3ca92",
                ),
            ),
            parts=(
                ("wine_quality/winequality-red.csv", 0),
                ("wine_quality/winequality-white.csv", 0),
            ),
            read_options={"sep": ";"},
        ),
        DatasetInfo(
            name="bank_marketing",
            target="y",
            description=(
                "Bank Marketing, bank-additional-full (Moro et al. 2014): 41,188 rows, "
                "20 features, y no / yes (11.3%); 'unknown' is kept as a category; pdays=999 "
                "means not contacted before. Note: duration is known only after the call and "
                "leaks the label; drop it (pass a schema without it) for a realistic model. "
                + _CITE_UCI
            ),
            files=tuple(
                RemoteFile(
                    f"bank_marketing/{member}",
                    f"{_UCI}/00222/bank-additional.zip",
                    sha,
                    member=f"bank-additional/{member}",
                )
                for member, sha in [
                    (
                        "bank-additional-full.csv",
                        "74adfc578bf77a7ff4bb1ba4a9f8709d9e3c6907342959c2c8416847e0afb4d8",
                    ),
                    (
                        "bank-additional.csv",
                        "7e59cf650004d65d1c9d6b08553bad2ee9a9ad70d594f536e3c584ee6ed5df50",
                    ),
                    (
                        "bank-additional-names.txt",
                        "10045462a4c026f858dffa159370c4270510230c1fc63c6c91ca51bba4b3df26",
                    ),
                ]
            ),
            parts=(("bank_marketing/bank-additional-full.csv", 0),),
            read_options={"sep": ";"},
            positive_class="yes",
        ),
    ]
}


# --------------------------------------------------------------------------- data dir


def _data_home(data_dir: PathLike | None) -> Path:
    if data_dir is not None:
        return Path(data_dir).expanduser()
    env = os.environ.get(DATA_ENV_VAR, "").strip()
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("distill2rules"))


def _find_file(root: Path, relpath: str) -> Path | None:
    for candidate in (root / f"{relpath}.gz", root / relpath):
        if candidate.is_file():
            return candidate
    return None


def _require_file(info: DatasetInfo, root: Path, relpath: str) -> Path:
    found = _find_file(root, relpath)
    if found is None:
        raise DataError(
            f"{info.name}: file not found: {root / relpath}.gz (or un-gzipped).",
            hint=f"Set {DATA_ENV_VAR} to a folder holding {relpath}.gz, or run "
            f"`distill2rules data download {info.name}` (or pass download=True).",
        )
    return found


def _get_info(name: str) -> DatasetInfo:
    try:
        return DATASETS[name]
    except KeyError:
        raise DataError(
            f"unknown dataset {name!r}.",
            hint=f"Choose one of {', '.join(DATASETS)}, or pass a path to a CSV/Parquet file.",
        ) from None


# --------------------------------------------------------------------------- download


def _fetch(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=_DOWNLOAD_TIMEOUT_S) as response:
            return response.read()
    except (urllib.error.URLError, OSError) as err:
        raise DataError(
            f"cannot download {url}: {getattr(err, 'reason', err)}.",
            hint="Check the network, or download the file by hand into the data dir.",
        ) from err


def _unzip(blob: bytes, member: str, url: str) -> bytes:
    try:
        with zipfile.ZipFile(io.BytesIO(blob)) as archive:
            return archive.read(member)
    except (zipfile.BadZipFile, KeyError) as err:
        raise DataError(
            f"{url} is not a zip holding {member}: {err}.",
            hint="The archive may have moved; download the file by hand.",
        ) from err


def _write_gzip_atomic(target: Path, raw: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with (
            os.fdopen(fd, "wb") as handle,
            gzip.GzipFile(fileobj=handle, mode="wb", compresslevel=9, mtime=0, filename="") as gz,
        ):
            gz.write(raw)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def download_dataset(name: str, data_dir: PathLike | None = None) -> Path:
    """Fetch a registry dataset's files from the UCI archive into the data directory.

    Files already present (gzipped or not) are kept. Each download is checked
    against the published sha256 of the raw file before it is written (gzipped,
    atomically) as ``<data_dir>/<dataset>/<file>.gz``.

    Parameters
    ----------
    name : str
        Registry name (see ``DATASETS``).
    data_dir : str or Path, optional
        Target directory; default ``$DISTILL2RULES_DATA`` or the user cache dir.

    Returns
    -------
    Path
        The data directory.

    Raises
    ------
    DataError
        Unknown name, network failure, or a checksum mismatch.
    """
    info = _get_info(name)
    root = _data_home(data_dir)
    blobs: dict[str, bytes] = {}
    for remote in info.files:
        if _find_file(root, remote.path) is not None:
            continue
        if remote.url not in blobs:
            blobs[remote.url] = _fetch(remote.url)
        raw = blobs[remote.url]
        if remote.member is not None:
            raw = _unzip(raw, remote.member, remote.url)
        digest = hashlib.sha256(raw).hexdigest()
        if digest != remote.sha256:
            raise DataError(
                f"{name}: {remote.url} has sha256 {digest}, expected {remote.sha256}.",
                hint="The published file changed or the download is corrupt; nothing was "
                "written. Report it, or place a verified copy in the data dir by hand.",
            )
        _write_gzip_atomic(root / f"{remote.path}.gz", raw)
    return root


# --------------------------------------------------------------------------- loading


def _read_registry_frame(info: DatasetInfo, root: Path) -> tuple[pd.DataFrame, str]:
    if info.builtin is not None:
        return info.builtin(), "scikit-learn (bundled)"
    paths = [(_require_file(info, root, rel), skip) for rel, skip in info.parts]
    options = {
        "skipinitialspace": True,
        "na_values": list(MISSING_MARKERS),
        "keep_default_na": False,
        **info.read_options,
    }
    parts = [pd.read_csv(path, skiprows=skip, **options) for path, skip in paths]
    frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    if info.finish is not None:
        frame = info.finish(frame)
    return frame, ", ".join(str(p) for p, _ in paths)


def _resolve_schema(schema: Schema | PathLike | None, frame: pd.DataFrame, target: str) -> Schema:
    if schema is None:
        return infer_schema(frame, target=target)
    if not isinstance(schema, Schema):
        schema = Schema.load(schema)
    if schema.target not in (None, target):
        raise DataError(
            f"the schema's target {schema.target!r} differs from the dataset's {target!r}.",
            hint="Use a schema written for this dataset.",
        )
    return Schema(
        schema.features,
        target,
        special_values=schema.special_values,
        missing_values=schema.missing_values,
    )


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (".gz", ".bz2", ".xz"):
        name = name.removesuffix(suffix)
    return Path(name).stem


def _looks_like_name(text: str) -> bool:
    return not Path(text).suffix and os.sep not in text and "/" not in text


def load_dataset(
    name_or_path: str | PathLike | pd.DataFrame,
    target: str | None = None,
    *,
    schema: Schema | PathLike | None = None,
    data_dir: PathLike | None = None,
    download: bool = False,
    sep: str | None = None,
    encoding: str | None = None,
) -> Dataset:
    """Load a registry dataset by name, or any table by path (or DataFrame).

    Parameters
    ----------
    name_or_path : str, Path or DataFrame
        A name in ``DATASETS`` (``breast_cancer``, ``adult``, ``german_credit``,
        ``wine_quality``, ``bank_marketing``), or a file read by :func:`read_table`.
    target : str, optional
        Label column; required for files, optional (must match) for registry names.
    schema : Schema or path to schema JSON, optional
        Feature types to apply. By default they are inferred. A schema listing only
        some columns keeps only those (e.g. drop ``duration`` from bank_marketing).
    data_dir : str or Path, optional
        Where registry files live; default ``$DISTILL2RULES_DATA``, else the user
        cache directory.
    download : bool, default False
        Fetch missing registry files from the UCI archive first (needs network).
    sep, encoding : str, optional
        Delimiter and text encoding of a file (see :func:`read_table`); ignored for
        registry names and DataFrames.

    Returns
    -------
    Dataset

    Raises
    ------
    DataError
        Unknown name, missing file (naming the expected path and how to get it),
        missing target column, or an unusable target.

    Examples
    --------
    >>> ds = load_dataset("breast_cancer")
    >>> ds.X.shape, ds.positive_class
    ((569, 30), 'malignant')
    """
    if isinstance(name_or_path, str) and name_or_path in DATASETS:
        info = DATASETS[name_or_path]
        if target not in (None, info.target):
            raise DataError(
                f"dataset {info.name!r} has target {info.target!r}, not {target!r}.",
                hint="Omit target for registry datasets.",
            )
        root = _data_home(data_dir)
        if download and info.files:
            download_dataset(info.name, root)
        raw, source = _read_registry_frame(info, root)
        return _build(info.name, raw, info.target, schema, source, info.description,
                      info.positive_class)  # fmt: skip
    if isinstance(name_or_path, pd.DataFrame):
        name, source = "frame", "DataFrame"
    else:
        path = Path(name_or_path)
        if not path.exists() and _looks_like_name(str(name_or_path)):
            _get_info(str(name_or_path))  # raises "unknown dataset"
        name, source = _stem(path), str(path)
    raw = read_table(name_or_path, sep=sep, encoding=encoding)
    if target is None or target not in raw.columns:
        problem = "needs a target column" if target is None else f"has no column {target!r}"
        hint = "Pass target=... (CLI: --target) naming the label column."
        if raw.shape[1] == 1 and target is not None and target in str(raw.columns[0]):
            problem = f"was read as one column, so it has no column {target!r} (wrong delimiter?)"
            hint = "Pass the file's delimiter with sep=... (CLI: --sep), e.g. --sep '#'."
        raise DataError(
            f"{source} {problem}; available columns: {_preview([str(c) for c in raw.columns])}.",
            hint=hint,
        )
    return _build(name, raw, target, schema, source, "", None)


def _build(
    name: str,
    raw: pd.DataFrame,
    target: str,
    schema: Schema | PathLike | None,
    source: str,
    description: str,
    positive_class: str | None,
) -> Dataset:
    validate_target(raw[target], target)
    resolved = _resolve_schema(schema, raw, target)
    frame = coerce_frame(raw, resolved)
    if _is_text(frame[target]):
        frame[target] = _to_text(frame[target])
    return Dataset(name, frame, target, resolved, source, description, positive_class)


def locate_dataset(name: str, data_dir: PathLike | None = None) -> dict[str, Any]:
    """Where a registry dataset would be read from, and whether its files are there.

    Returns ``{"name", "status", "where", "missing", "data_dir", "data_dir_from"}``: ``status``
    is ``"found"``, ``"missing"`` (``missing`` lists the absent files) or ``"bundled"`` (shipped
    with a library); ``where`` the files found (or expected); ``data_dir_from`` says where the
    folder came from (``argument``, ``$DISTILL2RULES_DATA`` or ``user cache``).
    """
    info = _get_info(name)
    root = _data_home(data_dir)
    origin = (
        "argument"
        if data_dir is not None
        else f"${DATA_ENV_VAR}"
        if os.environ.get(DATA_ENV_VAR, "").strip()
        else "user cache"
    )
    out: dict[str, Any] = {"name": info.name, "data_dir": str(root), "data_dir_from": origin}
    if info.builtin is not None:
        import importlib.util

        if importlib.util.find_spec("sklearn") is None:
            return {
                **out,
                "status": "missing",
                "where": "scikit-learn: pip install 'distill2rules[fit]'",
                "missing": ["scikit-learn"],
            }
        return {**out, "status": "bundled", "where": "scikit-learn (bundled)", "missing": []}
    found, missing = [], []
    for rel, _ in info.parts:
        p = _find_file(root, rel)
        (found.append(str(p)) if p is not None else missing.append(str(root / f"{rel}.gz")))
    return {
        **out,
        "status": "missing" if missing else "found",
        "where": ", ".join(found or missing),
        "missing": missing,
    }

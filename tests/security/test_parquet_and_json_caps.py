"""Parquet decompression and the small JSON inputs (teacher sidecar, schema) are capped.

Issue 15 leftovers: a Parquet file was decompressed without any cap (the CSV/gzip caps did not
apply), and a sidecar or schema JSON was read whole, whatever its size, nesting or file kind.
Each refusal is a one-line exit-2 error naming the environment variable that raises the limit.
"""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pandas as pd
import pytest
from security_helpers import fit_args, one_line_error

pq = pytest.importorskip("pyarrow.parquet")


# ----------------------------------------------------------------------------- Parquet


def _zeros_parquet(path, rows=300_000, row_group_size=None):
    """~2.4 MB of float64 zeros per column, plain-encoded: a few kB on disk (ratio >> 100)."""
    table = pd.DataFrame({"a": np.zeros(rows), "y": np.zeros(rows, dtype=np.int64)})
    table.to_parquet(
        path,
        compression="zstd",
        index=False,
        row_group_size=row_group_size,
        use_dictionary=False,
        column_encoding={"a": "PLAIN", "y": "PLAIN"},
    )
    return path


def test_parquet_size_cap_is_checked_from_the_footer_before_decompressing(tmp_path, monkeypatch):
    from distill2rules.data import read_table
    from distill2rules.errors import DataError

    path = _zeros_parquet(tmp_path / "zeros.parquet")
    assert len(read_table(path)) == 300_000  # within the default caps it reads
    monkeypatch.setenv("DISTILL2RULES_MAX_DECOMPRESSED_BYTES", "1000000")

    def no_decompression(*a, **k):
        raise AssertionError("pages were decompressed before the footer check")

    monkeypatch.setattr(pq.ParquetFile, "iter_batches", no_decompression)
    with pytest.raises(
        DataError, match="decompressed data size limit.*DISTILL2RULES_MAX_DECOMPRESSED_BYTES"
    ):
        read_table(path)


def test_parquet_bomb_stops_at_the_ratio_cap(tmp_path, monkeypatch):
    from distill2rules import limits
    from distill2rules.data import read_table
    from distill2rules.errors import DataError

    path = _zeros_parquet(tmp_path / "bomb.parquet")
    assert path.stat().st_size < 50_000
    monkeypatch.setattr(
        limits, "RATIO_FLOOR_BYTES", 1 << 20
    )  # the 64 MiB floor, scaled down for a fast test
    with pytest.raises(
        DataError, match="decompression ratio limit.*DISTILL2RULES_MAX_DECOMPRESSION_RATIO"
    ):
        read_table(path)


def test_parquet_decoded_bytes_are_counted_when_the_footer_looks_small(tmp_path, monkeypatch):
    """Dictionary + RLE: one long string repeated is tiny in the footer, large once decoded."""
    from distill2rules.data import read_table
    from distill2rules.errors import DataError

    path = tmp_path / "rle.parquet"
    pd.DataFrame({"s": ["x" * 1000] * 5000, "y": np.zeros(5000, dtype=np.int64)}).to_parquet(
        path, index=False
    )
    md = pq.ParquetFile(path).metadata
    footer = sum(md.row_group(i).total_byte_size for i in range(md.num_row_groups))
    assert footer < 200_000  # the footer says little ...
    monkeypatch.setenv("DISTILL2RULES_MAX_DECOMPRESSED_BYTES", "1000000")
    with pytest.raises(DataError, match="decompressed data size limit"):  # ... 5 MB once decoded
        read_table(path)


def test_streamed_parquet_is_capped_per_row_group(tmp_path, monkeypatch):
    from distill2rules._stream import iter_table
    from distill2rules.errors import DataError

    path = _zeros_parquet(tmp_path / "groups.parquet", rows=120_000, row_group_size=20_000)
    monkeypatch.setenv(
        "DISTILL2RULES_MAX_DECOMPRESSED_BYTES", "1000000"
    )  # > one row group, < the file
    assert (
        sum(len(c) for c in iter_table(path, chunk_rows=10_000)) == 120_000
    )  # streaming holds a group at a time
    monkeypatch.setenv("DISTILL2RULES_MAX_DECOMPRESSED_BYTES", "100000")
    with pytest.raises(DataError, match="DISTILL2RULES_MAX_DECOMPRESSED_BYTES"):
        next(iter_table(path))


def test_parquet_cap_through_the_cli(cli, tmp_path, lgb_txt, small_frame, monkeypatch):
    path = tmp_path / "data.parquet"
    small_frame.to_parquet(path, index=False)
    monkeypatch.setenv("DISTILL2RULES_MAX_DECOMPRESSED_BYTES", "1000")
    r = cli(*fit_args(lgb_txt, path, tmp_path / "art"))
    assert r.code == 2
    line = one_line_error(r.err)
    assert "decompressed data size limit" in line and "DISTILL2RULES_MAX_DECOMPRESSED_BYTES" in line
    assert not (tmp_path / "art").exists()


# ----------------------------------------------------------------------------- sidecar JSON


@pytest.fixture
def teacher_dir(tmp_path, lgb_txt):
    d = tmp_path / "teacher"
    d.mkdir()
    shutil.copy(lgb_txt, d / "model.txt")
    return d


def test_sidecar_size_cap(cli, teacher_dir, small_csv, tmp_path, monkeypatch):
    side = teacher_dir / "model.json"
    side.write_text(json.dumps({"format": "distill2rules.teacher/1", "meta": {"pad": "x" * 5000}}))
    monkeypatch.setenv("DISTILL2RULES_MAX_SIDECAR_BYTES", "1000")
    r = cli(*fit_args(teacher_dir / "model.txt", small_csv, tmp_path / "art"))
    assert r.code == 2
    line = one_line_error(r.err)
    assert "teacher sidecar JSON size limit" in line and "DISTILL2RULES_MAX_SIDECAR_BYTES" in line
    assert not (tmp_path / "art").exists()


def test_sidecar_nesting_and_file_kind(teacher_dir):
    from distill2rules.errors import TeacherError
    from distill2rules.teachers._sidecar import find_sidecar, read_sidecar

    deep = teacher_dir / "deep.json"
    deep.write_text('{"meta": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(TeacherError, match="not valid JSON"):
        read_sidecar(deep)
    if hasattr(os, "mkfifo"):  # refused from its kind (stat), never opened: no blocking read
        os.mkfifo(teacher_dir / "model.json")
        with pytest.raises(TeacherError, match="FIFO"):
            find_sidecar(teacher_dir / "model.txt")


def test_default_json_caps_are_finite():
    from distill2rules.limits import LIMITS, SCHEMA_BYTES, SIDECAR_BYTES

    assert SIDECAR_BYTES in LIMITS and SCHEMA_BYTES in LIMITS
    assert (
        1 << 20 <= SIDECAR_BYTES.value() <= 1 << 30 and 1 << 20 <= SCHEMA_BYTES.value() <= 1 << 30
    )


# ----------------------------------------------------------------------------- schema JSON


def _schema(path, pad=0):
    doc = {
        "features": [{"name": c, "type": "numeric"} for c in "abcd"],
        "target": "y",
        **({"meta_pad": "x" * pad} if pad else {}),
    }
    path.write_text(json.dumps(doc))
    return path


def test_schema_size_cap(cli, tmp_path, lgb_txt, small_csv, monkeypatch):
    from distill2rules.data import Schema
    from distill2rules.errors import SchemaError

    schema = _schema(tmp_path / "schema.json", pad=5000)
    monkeypatch.setenv("DISTILL2RULES_MAX_SCHEMA_BYTES", "1000")
    with pytest.raises(SchemaError, match="schema JSON size limit.*DISTILL2RULES_MAX_SCHEMA_BYTES"):
        Schema.load(schema)
    r = cli(*fit_args(lgb_txt, small_csv, tmp_path / "art", "--schema", schema))
    assert r.code == 2
    assert "DISTILL2RULES_MAX_SCHEMA_BYTES" in one_line_error(r.err)
    assert not (tmp_path / "art").exists()


def test_schema_nesting_and_file_kind(tmp_path):
    from distill2rules.data import Schema
    from distill2rules.errors import SchemaError

    deep = tmp_path / "deep.json"
    deep.write_text('{"features": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(SchemaError, match="not valid JSON"):
        Schema.load(deep)
    with pytest.raises(SchemaError, match="is a device, not a regular file"):
        Schema.load("/dev/zero")


# ----------------------------------------------------------------------------- reason catalogue


def test_catalogue_size_cap(cli, tmp_path, lgb_txt, small_csv, monkeypatch):
    from distill2rules.errors import ConfigError
    from distill2rules.exporters import load_catalogue

    labels = tmp_path / "labels.json"
    labels.write_text(json.dumps({"features": {"a": {"label": "x" * 5000}}}))
    monkeypatch.setenv("DISTILL2RULES_MAX_CATALOGUE_BYTES", "1000")
    with pytest.raises(ConfigError, match="reason catalogue size limit.*MAX_CATALOGUE_BYTES"):
        load_catalogue(labels)
    r = cli(*fit_args(lgb_txt, small_csv, tmp_path / "art", "--labels", labels))
    assert r.code == 2
    assert "DISTILL2RULES_MAX_CATALOGUE_BYTES" in one_line_error(r.err)
    assert not (tmp_path / "art").exists()


def test_catalogue_nesting_and_file_kind(tmp_path):
    from distill2rules.errors import ConfigError
    from distill2rules.exporters import load_catalogue

    deep = tmp_path / "labels.json"
    deep.write_text('{"features": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(ConfigError, match="not valid JSON|nesting depth"):
        load_catalogue(deep)
    shallow_but_deep = tmp_path / "deep2.json"
    shallow_but_deep.write_text('{"features": ' + "[" * 200 + "]" * 200 + "}")
    with pytest.raises(ConfigError, match="nesting depth"):
        load_catalogue(shallow_but_deep)
    with pytest.raises(ConfigError, match="is a device, not a regular file"):
        load_catalogue("/dev/zero")

"""Inputs are regular files of bounded size; decompression, --augment and specs are capped.

Issue 15: a FIFO as teacher hung, /dev/zero was read without end, a 12.5 MB gzip expanded to
4.3 GB, --augment had no upper bound, a 47 MB student.json took 1.1 GB to verify. Each limit
gives a one-line exit-2 error naming the environment variable that raises it.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import resource
import subprocess
import zipfile

import pytest
from security_helpers import cli_command, fit_args, one_line_error

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs")


def _cap_memory():  # a child that reads without end dies here instead of eating the machine
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def _run_guarded(*args, timeout=60):
    try:
        return subprocess.run(
            [*cli_command(), *map(str, args)],
            capture_output=True,
            text=True,
            timeout=timeout,
            preexec_fn=_cap_memory,
            check=False,
            env={**os.environ, "OMP_NUM_THREADS": "1"},
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"the CLI blocked on {args}")


def test_fifo_teacher_is_refused_without_blocking(tmp_path, small_csv):
    fifo = tmp_path / "model.txt"
    os.mkfifo(fifo)
    proc = _run_guarded(*fit_args(fifo, small_csv, tmp_path / "art"), timeout=60)
    assert proc.returncode == 2, proc.stderr[-400:]
    assert "FIFO" in one_line_error(proc.stderr)


def test_dev_zero_teacher_is_refused(tmp_path, small_csv):
    proc = _run_guarded(
        *fit_args("/dev/zero", small_csv, tmp_path / "art", "--teacher-format", "lightgbm")
    )
    assert proc.returncode == 2, proc.stderr[-400:]
    assert "is a device, not a regular file" in one_line_error(proc.stderr)


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_non_regular_data_is_refused(cli, tmp_path, lgb_txt, kind):
    if kind == "fifo":
        data = tmp_path / "data.csv"
        os.mkfifo(data)
    else:
        data = "/dev/zero"
    r = cli(*fit_args(lgb_txt, data, tmp_path / "art"))
    assert r.code == 2
    line = one_line_error(r.err)
    assert ("FIFO" if kind == "fifo" else "a device") in line and "regular file" in line


def test_teacher_size_cap(cli, tmp_path, lgb_txt, small_csv, monkeypatch):
    monkeypatch.setenv("DISTILL2RULES_MAX_TEACHER_BYTES", "1000")
    r = cli(*fit_args(lgb_txt, small_csv, tmp_path / "art"))
    assert r.code == 2
    line = one_line_error(r.err)
    assert "teacher file size limit" in line and "DISTILL2RULES_MAX_TEACHER_BYTES" in line


def _csv_bytes(rows: int) -> bytes:
    return b"a,b,c,d,y\n" + b"0.1,0.2,0.3,0.4,1\n" * rows


def _write_compressed(path, raw: bytes):
    suffix = path.suffix
    if suffix == ".gz":
        path.write_bytes(gzip.compress(raw, compresslevel=1))
    elif suffix == ".bz2":
        path.write_bytes(bz2.compress(raw, compresslevel=1))
    elif suffix == ".xz":
        path.write_bytes(lzma.compress(raw, preset=0))
    else:
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("data.csv", raw)
    return path


@pytest.mark.parametrize("suffix", [".gz", ".bz2", ".xz", ".zip"])
def test_decompressed_size_cap(tmp_path, monkeypatch, suffix):
    from distill2rules.data import read_table
    from distill2rules.errors import DataError

    path = _write_compressed(tmp_path / f"data.csv{suffix}", _csv_bytes(200_000))  # 3.6 MB
    monkeypatch.setenv("DISTILL2RULES_MAX_DECOMPRESSED_BYTES", "1000000")
    with pytest.raises(
        DataError, match="decompressed data size limit.*DISTILL2RULES_MAX_DECOMPRESSED_BYTES"
    ):
        read_table(path)
    monkeypatch.delenv("DISTILL2RULES_MAX_DECOMPRESSED_BYTES")
    assert len(read_table(path)) == 200_000  # within the default caps it reads


def test_gzip_bomb_stops_at_the_ratio_cap(tmp_path):
    """~70 MB of one repeated line in a ~0.3 MB gzip: refused once 64 MiB are out (ratio > 100)."""
    from distill2rules.data import read_table
    from distill2rules.errors import DataError

    path = _write_compressed(tmp_path / "bomb.csv.gz", _csv_bytes(4_000_000))
    assert path.stat().st_size < 1_000_000
    with pytest.raises(
        DataError, match="decompression ratio limit.*DISTILL2RULES_MAX_DECOMPRESSION_RATIO"
    ):
        read_table(path)


def test_augment_cap(cli, tmp_path, lgb_txt, small_csv, monkeypatch):
    monkeypatch.setenv("DISTILL2RULES_MAX_AUGMENT_ROWS", "100")
    r = cli(*fit_args(lgb_txt, small_csv, tmp_path / "art", "--augment", "1000"))
    assert r.code == 2
    line = one_line_error(r.err)
    assert "--augment rows limit" in line and "DISTILL2RULES_MAX_AUGMENT_ROWS" in line
    assert not (tmp_path / "art").exists()


def test_default_augment_cap_is_finite():
    from distill2rules.limits import AUGMENT_ROWS

    assert 100_000 <= AUGMENT_ROWS.value() <= 50_000_000


@pytest.fixture(scope="module")
def real_spec(small_frame, lgb_txt):
    from distill2rules.pipeline import distill

    return distill(
        str(lgb_txt),
        small_frame,
        target="y",
        student="logreg",
        baseline=False,
        export_onnx=False,
        progress=False,
    ).spec


def test_spec_nesting_cap(real_spec):
    from distill2rules import spec as spec_mod
    from distill2rules.errors import SpecError

    text = spec_mod.to_json(real_spec)
    assert spec_mod.from_json(text)  # the real spec loads
    deep = text.rstrip().rstrip("}") + ', "zz_nested": ' + "[" * 200 + "]" * 200 + "}"
    with pytest.raises(SpecError, match="nesting depth limit.*DISTILL2RULES_MAX_SPEC_DEPTH"):
        spec_mod.from_json(deep)
    very_deep = text.rstrip().rstrip("}") + ', "zz_nested": ' + "[" * 100_000 + "]" * 100_000 + "}"
    with pytest.raises(SpecError, match="DISTILL2RULES_MAX_SPEC_DEPTH"):
        spec_mod.from_json(very_deep)


def test_spec_size_cap(real_spec, tmp_path, monkeypatch):
    from distill2rules import spec as spec_mod
    from distill2rules.errors import SpecError

    path = tmp_path / "student.json"
    spec_mod.save(real_spec, path)
    monkeypatch.setenv("DISTILL2RULES_MAX_SPEC_BYTES", "500")
    with pytest.raises(SpecError, match="student spec size limit.*DISTILL2RULES_MAX_SPEC_BYTES"):
        spec_mod.load(path)


def test_bad_limit_value_is_a_one_line_error(cli, tmp_path, lgb_txt, small_csv, monkeypatch):
    monkeypatch.setenv("DISTILL2RULES_MAX_TEACHER_BYTES", "lots")
    r = cli(*fit_args(lgb_txt, small_csv, tmp_path / "art"))
    assert r.code == 2
    assert "DISTILL2RULES_MAX_TEACHER_BYTES" in one_line_error(r.err)

"""Atomic, verifiable artifacts: SIGKILL at any point leaves the old artifact (or the new one),
never a partial one; `verify` exits non-zero on any tampering."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from reliability_helpers import console_script, leftovers, needs_data

pytestmark = needs_data


def _complete(out: Path) -> dict:
    """The artifact at ``out`` passes verify (hashes, spec, ONNX parity); returns its manifest."""
    from distill2rules.artifact import read_manifest, verify_artifact

    verify_artifact(out, n_parity_rows=500)
    return read_manifest(out)


@pytest.mark.slow
def test_sigkill_mid_fit_leaves_old_or_new_artifact(
    german_artifact, german_csv, german_gbt, tmp_path
):
    out = tmp_path / "art"
    shutil.copytree(german_artifact, out)
    old_files = _complete(out)["files"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [
        *console_script(),
        "fit",
        "--teacher",
        str(german_gbt),
        "--data",
        str(german_csv),
        "--target",
        "credit_risk",
        "--student",
        "logreg",
        "--temperature",
        "3",
        "--out",
        str(out),
        "-q",
    ]
    seen = set()
    for delay in (0.5, 1.5, 3.0, 4.5, 6.0):
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        files = _complete(out)["files"]  # never partial: old or new, and verify passes
        seen.add("old" if files == old_files else "new")
    assert "old" in seen  # the early kills hit before the swap
    from distill2rules.artifact import write_artifact

    write_artifact(
        out, {"student.json": (out / "student.json").read_text()}, {}
    )  # next writer cleans up
    assert leftovers(out) == []


_KILL_SCRIPT = """
import os, signal, sys
from pathlib import Path
import distill2rules.artifact as A
out, point = Path(sys.argv[1]), sys.argv[2]
die = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)
files = {"student.json": (out / "student.json").read_text(), "a.txt": "new"}
if point == "writing":
    files["b.bin"] = die
elif point == "before-swap":
    A._exchange = die
elif point == "between-renames":
    A._exchange = lambda a, b: False
    real, calls = os.rename, []
    def rename(a, b):
        calls.append(a)
        if len(calls) == 2:
            die()
        real(a, b)
    A.os.rename = rename
A.write_artifact(out, files, {"note": "new"})
"""


@pytest.mark.parametrize("point", ["writing", "before-swap", "between-renames"])
def test_sigkill_inside_write_artifact(german_artifact, tmp_path, point):
    """Deterministic kills at the three delicate points of write_artifact."""
    from distill2rules.artifact import read_manifest, write_artifact

    out = tmp_path / "art"
    shutil.copytree(german_artifact, out)
    before = read_manifest(out)
    proc = subprocess.run(
        [sys.executable, "-c", _KILL_SCRIPT, str(out), point], capture_output=True, timeout=60
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-500:]
    assert leftovers(out), "the killed writer should have left its temp dir"
    if point == "between-renames":
        assert not out.exists()  # the window without renameat2: the old artifact waits in .old-PID
    else:
        assert read_manifest(out) == before
        _complete(out)
    write_artifact(
        out, {"student.json": (german_artifact / "student.json").read_text()}, {"note": "next"}
    )
    assert leftovers(out) == [] and read_manifest(out)["note"] == "next"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="renameat2 is Linux-only")
def test_replacing_an_artifact_is_one_atomic_exchange(tmp_path):
    from distill2rules.artifact import _exchange

    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    (a / "x").write_text("a"), (b / "x").write_text("b")
    assert _exchange(a, b)
    assert (a / "x").read_text() == "b" and (b / "x").read_text() == "a"


@pytest.fixture(scope="module")
def other_onnx(german_gbt, tmp_path_factory) -> bytes:
    from distill2rules.pipeline import distill

    out = tmp_path_factory.mktemp("other") / "o"
    distill(
        german_gbt,
        "german_credit",
        student="logreg",
        alpha=1.0,
        seed=3,
        baseline=False,
        out=out,
        progress=False,
    )
    return (out / "student.onnx").read_bytes()


def _rehash(art: Path, name: str) -> None:
    from distill2rules.artifact import sha256_file

    m = json.loads((art / "manifest.json").read_text())
    m["files"][name] = sha256_file(art / name)
    (art / "manifest.json").write_text(json.dumps(m))


def _modified(art, _):
    spec = json.loads((art / "student.json").read_text())
    spec["intercept"][0] += 0.5
    (art / "student.json").write_text(json.dumps(spec))


def _bad_json(art, _):
    (art / "student.json").write_text('{"spec_version": 1, "kind": ')
    _rehash(art, "student.json")


def _other_onnx(art, onnx_bytes):
    (art / "student.onnx").write_bytes(onnx_bytes)
    _rehash(art, "student.onnx")


TAMPER = {
    "modified file": (_modified, r"student\.json does not match its sha256"),
    "missing file": (lambda a, _: (a / "metrics.json").unlink(), r"metrics\.json is missing"),
    "extra file": (
        lambda a, _: (a / "payload.py").write_text("print(1)"),
        r"unlisted file\(s\): payload\.py",
    ),
    "spec is bad JSON (rehashed)": (_bad_json, r"student\.json: "),
    "ONNX of another student (rehashed)": (
        _other_onnx,
        r"student\.onnx disagrees with student\.json",
    ),
    "manifest is bad JSON": (
        lambda a, _: (a / "manifest.json").write_text("{oops"),
        r"manifest\.json is not valid JSON",
    ),
}


@pytest.mark.parametrize("name", list(TAMPER))
def test_verify_fails_on_tampering(cli, german_artifact, other_onnx, tmp_path, name):
    art = tmp_path / "art"
    shutil.copytree(german_artifact, art)
    assert cli("verify", art).code == 0
    tamper, match = TAMPER[name]
    tamper(art, other_onnx)
    r = cli("verify", art)
    assert r.code == 2, r.err
    assert len(r.err.strip().splitlines()) == 1 and pytest.importorskip("re").search(
        match, r.err
    ), r.err

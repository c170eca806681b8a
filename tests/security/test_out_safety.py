"""`--out` only replaces what is ours; nothing is ever renamed over a special file.

Attack class: `fit --out` pointed at a foreign folder (a web extension / PWA folder has a
`manifest.json` too) or at a device/FIFO (`--out /dev/stdout` as root renamed a temp file over
the device node). Refused folders must keep every file.
"""

from __future__ import annotations

import json
import os
import stat
import threading

import pytest

from distill2rules.errors import ArtifactError


def _snapshot(d):
    return {
        p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()
    }


def _fit(cli, teacher, out):
    return cli(
        "fit",
        "--teacher",
        teacher,
        "--data",
        "german_credit",
        "--student",
        "logreg",
        "--out",
        out,
        "-q",
        "--no-baseline",
        "--no-onnx",
    )


def test_fit_refuses_a_pwa_folder_with_a_manifest(cli, german_gbt, tmp_path):
    pwa = tmp_path / "webapp"
    pwa.mkdir()
    (pwa / "manifest.json").write_text(
        json.dumps({"name": "My App", "start_url": "/", "icons": []})
    )
    (pwa / "index.html").write_text("<h1>keep me</h1>")
    (pwa / "sw.js").write_text("self.addEventListener('fetch', () => {})")
    before = _snapshot(pwa)
    r = _fit(cli, german_gbt, pwa)
    assert r.code == 2, r.out + r.err
    assert "refusing to replace" in r.err and "internal error" not in r.err
    assert _snapshot(pwa) == before


@pytest.mark.parametrize(
    "case", ["other-version", "extra-file", "missing-file", "symlink", "subfolder"]
)
def test_write_artifact_refuses_anything_but_a_matching_artifact(tmp_path, case):
    from distill2rules.artifact import write_artifact

    out = tmp_path / "art"
    write_artifact(out, {"student.json": "{}", "metrics.json": "{}"}, {"note": "old"})
    m = json.loads((out / "manifest.json").read_text())
    if case == "other-version":
        m["format"] = "distill2rules.artifact/99"
        (out / "manifest.json").write_text(json.dumps(m))
    elif case == "extra-file":
        (out / "thesis.docx").write_bytes(b"years of work")
    elif case == "missing-file":
        (out / "metrics.json").unlink()
    elif case == "symlink":
        (out / "link").symlink_to(tmp_path)
    else:
        (out / "photos").mkdir()
        (out / "photos" / "a.jpg").write_bytes(b"jpeg")
    before = _snapshot(out)
    with pytest.raises(ArtifactError, match="refusing to replace"):
        write_artifact(out, {"student.json": "{}"}, {"note": "new"})
    assert _snapshot(out) == before


def test_a_matching_artifact_and_an_empty_folder_are_replaced(tmp_path):
    from distill2rules.artifact import write_artifact

    out = tmp_path / "art"
    write_artifact(out, {"student.json": "{}", "metrics.json": "{}"}, {"note": "old"})
    write_artifact(out, {"student.json": "{}"}, {"note": "new"})
    assert json.loads((out / "manifest.json").read_text())["note"] == "new"
    assert not (out / "metrics.json").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    write_artifact(empty, {"student.json": "{}"}, {})
    assert (empty / "manifest.json").is_file()


def test_predict_writes_into_a_fifo_instead_of_renaming_over_it(
    cli, logreg_artifact, rows_csv, tmp_path
):
    fifo = tmp_path / "stdout.fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []

    def reader():
        with open(fifo, "rb") as f:
            received.append(f.read())

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    r = cli("predict", logreg_artifact, "--data", rows_csv, "--out", fifo)
    if (
        r.code == 0 and not received
    ):  # the old code renamed a file over the FIFO: unblock the reader
        try:
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            os.close(fd)
        except OSError:
            pass
    t.join(timeout=20)
    assert r.code == 0, r.err
    assert stat.S_ISFIFO(os.stat(fifo).st_mode), "the FIFO was replaced by a regular file"
    assert received and received[0].decode().startswith("p_bad,p_good")
    assert len(received[0].decode().splitlines()) == 41


def test_export_refuses_a_directory_as_onnx_file(cli, logreg_artifact, tmp_path):
    d = tmp_path / "somedir"
    d.mkdir()
    (d / "keep.txt").write_text("keep")
    r = cli("export", logreg_artifact, "--format", "onnx", "--out", d)
    assert r.code == 2 and "internal error" not in r.err
    assert (d / "keep.txt").read_text() == "keep"


def test_write_file_refuses_block_devices_and_sockets(tmp_path):
    import socket

    from distill2rules.artifact import write_file

    sock_path = tmp_path / "s.sock"
    s = socket.socket(socket.AF_UNIX)
    try:
        s.bind(str(sock_path))
        with pytest.raises(ArtifactError, match="not a regular file"):
            write_file(sock_path, "x")
        assert stat.S_ISSOCK(os.stat(sock_path).st_mode)
    finally:
        s.close()

"""Shared set-up of the scorer and server tests: one good record, a scorecard artifact, a server."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from distill2rules.artifact import write_artifact
from distill2rules.exporters import to_onnx
from distill2rules.server import make_server
from distill2rules.spec import to_json
from tests.exporters import hand_specs as hs

#: a valid record for ``hs.scorecard_spec()``
GOOD = {
    "duration": 36,
    "credit_amount": 9000.0,
    "age": 30,
    "checking_status": "< 0 DM",
    "purpose": "car",
}


def scorecard_artifact(out: Path, *, codes: bool = True) -> Path:
    """``hs.scorecard_spec()`` written as an artifact (with its codes graph unless ``codes=False``)."""
    spec = hs.scorecard_spec()
    files = {"student.json": to_json(spec), "student.onnx": to_onnx(spec).SerializeToString()}
    if codes:
        files["student.codes.onnx"] = to_onnx(spec, inputs="codes").SerializeToString()
    return write_artifact(out, files, {"config": {}})


def start_server(artifact: Path, **kw: Any) -> tuple[Any, threading.Thread]:
    """``make_server`` on a free loopback port, serving from a daemon thread."""
    server = make_server(artifact, host="127.0.0.1", port=0, **kw)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    return server, thread


def stop_server(server: Any, thread: threading.Thread) -> None:
    server.shutdown()
    server.server_close()
    thread.join(5)

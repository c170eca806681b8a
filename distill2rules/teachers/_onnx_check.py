"""Vet an ONNX teacher before onnxruntime runs it, and run its load-time probe under a time limit.

Unless ``trust_code=True`` (``--trust-code``):

* every operator (in the main graph, in ``If`` branches and in model-local functions) must be
  in a standard domain (``ai.onnx`` / ``""`` or ``ai.onnx.ml``) or call a function the model
  itself defines from standard operators — custom domains (operators implemented by a native
  library, ``com.microsoft`` contrib ops...) are refused;
* ``Loop`` and ``Scan`` are refused anywhere (their trip count is data: a loop can be endless);
* external tensor data must live beside the model (no absolute path, no ``..``).

Whatever the flag, the probe that learns the output shape at load time is run with
``onnxruntime.RunOptions.terminate`` set after :data:`distill2rules.limits.PROBE_SECONDS`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from distill2rules.errors import TeacherError, UnsafeFileError
from distill2rules.limits import PROBE_SECONDS

__all__ = ["STANDARD_DOMAINS", "UNBOUNDED_OPS", "check_onnx_model", "run_with_time_limit"]

STANDARD_DOMAINS = frozenset({"", "ai.onnx", "ai.onnx.ml"})
UNBOUNDED_OPS = frozenset({"Loop", "Scan"})


def _unsafe(path: Path, why: str) -> UnsafeFileError:
    return UnsafeFileError(
        f"{path.name} {why};",
        hint="re-export the model with standard ONNX operators and no loops, or pass --trust-code "
        "if you trust its origin (see docs/security.md).",
    )


def _subgraphs(node: Any) -> Iterator[Any]:
    import onnx

    for attr in node.attribute:
        if attr.type == onnx.AttributeProto.GRAPH:
            yield attr.g
        elif attr.type == onnx.AttributeProto.GRAPHS:
            yield from attr.graphs


def _nodes(graph: Any) -> Iterator[Any]:
    for node in graph.node:
        yield node
        for sub in _subgraphs(node):
            yield from _nodes(sub)


def _tensors(graph: Any) -> Iterator[Any]:
    yield from graph.initializer
    for node in graph.node:
        for attr in node.attribute:
            if attr.HasField("t"):
                yield attr.t
            yield from attr.tensors
        for sub in _subgraphs(node):
            yield from _tensors(sub)


def _check_external(model: Any, path: Path) -> None:
    import onnx

    for t in _tensors(model.graph):
        if t.data_location != onnx.TensorProto.EXTERNAL:
            continue
        loc = next((e.value for e in t.external_data if e.key == "location"), "")
        norm = loc.replace("\\", "/")
        if not norm or norm.startswith("/") or ".." in PurePosixPath(norm).parts or ":" in norm:
            raise _unsafe(path, f"reads tensor data from {loc!r}, outside the model's folder")


def check_onnx_model(path: str | Path, trust_code: bool = False) -> None:
    """Refuse custom-domain operators, ``Loop``/``Scan`` and escaping external data paths.

    Raises
    ------
    UnsafeFileError
        One line naming the operator (or path) and ``--trust-code``.

    A file that does not parse as ONNX is left to onnxruntime, which reports it as corrupted.
    """
    import onnx

    p = Path(path)
    try:
        model = onnx.load_model(str(p), load_external_data=False)
    except Exception:  # noqa: BLE001 - protobuf raises several types; onnxruntime reports it
        return
    if trust_code:
        return
    _check_external(model, p)
    local = {(f.domain, f.name) for f in model.functions}
    graphs: list[tuple[str, Sequence[Any]]] = [("graph", list(_nodes(model.graph)))]
    for f in model.functions:
        body = [n for node in f.node for n in [node, *_nodes_of_subgraphs(node)]]
        graphs.append((f"function {f.name}", body))
    for _where, nodes in graphs:
        for node in nodes:
            if (node.domain, node.op_type) in local:
                continue
            if node.domain not in STANDARD_DOMAINS:
                raise _unsafe(
                    p, f"uses operator {node.op_type} from the custom domain {node.domain!r}"
                )
            if node.op_type in UNBOUNDED_OPS:
                raise _unsafe(p, f"has a {node.op_type} node, which can run without end")


def _nodes_of_subgraphs(node: Any) -> Iterator[Any]:
    for sub in _subgraphs(node):
        yield from _nodes(sub)


def run_with_time_limit(session: Any, outputs: list[str], feeds: dict[str, Any], what: str) -> Any:
    """``session.run`` that onnxruntime aborts after :data:`~distill2rules.limits.PROBE_SECONDS`."""
    import onnxruntime as ort

    seconds = PROBE_SECONDS.value()
    options = ort.RunOptions()
    options.log_severity_level = 4  # the abort is reported by us, in one line
    timer = None
    fired = threading.Event()
    if seconds != float("inf"):

        def stop() -> None:
            fired.set()
            options.terminate = True

        timer = threading.Timer(seconds, stop)
        timer.daemon = True
        timer.start()
    start = time.perf_counter()
    try:
        return session.run(outputs, feeds, options)
    except Exception:
        if fired.is_set():
            elapsed = time.perf_counter() - start
            raise TeacherError(
                f"{what} was stopped after {elapsed:.1f} s, past the {PROBE_SECONDS.what} "
                f"limit ({seconds:g} s);",
                hint=f"raise it with the environment variable {PROBE_SECONDS.env} (0 = no limit) "
                "if you trust the model.",
            ) from None
        raise
    finally:
        if timer is not None:
            timer.cancel()

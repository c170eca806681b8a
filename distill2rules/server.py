"""A small HTTP scoring service over :class:`distill2rules.Scorer` (standard library only).

``distill2rules serve DIR`` runs it. Endpoints (JSON in, JSON out):

* ``POST /score``: a record (JSON object) -> ``{"decision", "probability", "probabilities",
  "adverse"}``; a JSON array of records -> ``{"results": [...]}`` (one graph call).
* ``POST /explain`` (``?top=N``, default 4): the same plus ``reasons`` (and ``rule``).
* ``GET /health``: ``{"status": "ok", ...}``; ``GET /model``: the rule card as JSON and the
  record schema.

Limits: bodies above ``max_body`` bytes get 413 (without being read), batches above
``max_records`` records 413; a body not received within ``body_timeout`` seconds in all 408 (a
client trickling bytes cannot hold a worker); malformed or too deeply nested JSON 400; records
that do not fit the model 422 naming the field (and the record's position in a batch); unknown
paths 404, wrong methods 405 (unknown ones 501), ``HEAD`` and ``OPTIONS`` answered; every error,
protocol errors included, is a JSON ``{"error": ...}``. At most
``workers`` requests are handled at once and ``queue`` more wait; beyond that a connection gets
503 at once (``Retry-After: 1``), so a burst never piles up unbounded threads or memory.

Built on :class:`http.server.ThreadingHTTPServer` with a fixed worker pool instead of a thread
per connection; onnxruntime releases the GIL while the graph runs. HTTP/1.1 keep-alive is
supported (idle connections are closed after ``idle_timeout`` seconds). No TLS and no
authentication: bind to loopback (the default) or put it behind a reverse proxy.
"""

from __future__ import annotations

import http.client
import json
import math
import socket
import sys
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

from distill2rules.artifact import MANIFEST, check_hashes, read_member
from distill2rules.exporters.rulecard import rulecard
from distill2rules.scoring import RecordError, Scorer
from distill2rules.spec import from_json, jsonable

__all__ = ["ScoringServer", "make_server", "serve", "verified_artifact"]

MAX_BODY = 1 << 20  # 1 MiB
MAX_RECORDS = 1000
MAX_TOP = 50
BODY_TIMEOUT = 10.0  # seconds to receive a whole request body (a trickling client gets 408)
#: what each path answers to (the ``Allow`` header of 405 and OPTIONS)
_ALLOW = {
    "/score": "POST, OPTIONS",
    "/explain": "POST, OPTIONS",
    "/health": "GET, HEAD, OPTIONS",
    "/model": "GET, HEAD, OPTIONS",
}
_ENDPOINTS = "POST /score, POST /explain, GET /health, GET /model"


def _clean(obj: Any) -> Any:
    """JSON-safe: NaN / inf floats become null (strict JSON has no NaN)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


def _dumps(obj: Any) -> bytes:
    try:
        text = json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except ValueError:  # a NaN / inf somewhere (e.g. an MLP fed 1e39)
        text = json.dumps(_clean(obj), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.encode("utf-8")


class _HTTPError(Exception):
    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error": message, **{k: v for k, v in extra.items() if v is not None}}


class _Handler(BaseHTTPRequestHandler):
    server: ScoringServer
    protocol_version = "HTTP/1.1"
    server_version = "distill2rules"
    sys_version = ""

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.server.idle_timeout)
        # small JSON answers: no Nagle delay (with the client's delayed ACK it costs ~40 ms a request)
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:  # pragma: no cover - not a TCP socket
            pass

    # -- plumbing ---------------------------------------------------------------------------

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.log:
            sys.stderr.write(f"{self.address_string()} - {format % args}\n")

    def _send(
        self,
        status: int,
        body: Any,
        *,
        close: bool = False,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        data = body if isinstance(body, bytes) else _dumps(body)
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        if self.command == "HEAD" or status in (204, 304):
            data = b""  # the headers (with the body's length) only
        self._headers_buffer.append(b"\r\n" + data)  # type: ignore[attr-defined]  # headers and body in one write (typeshed omits this private buffer)
        self.flush_headers()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Protocol errors the base class raises (bad request line, URI too long, too many
        headers, an unknown method) as the same JSON as every other error, not an HTML page."""
        if getattr(self, "request_version", "HTTP/0.9") == "HTTP/0.9":
            super().send_error(code, message, explain)  # no status line to send JSON with
            return
        short = self.responses.get(code, ("Error", ""))[0]
        if code == 501:
            text = f"method {self.command!r} is not supported; use {_ENDPOINTS}."
        else:
            text = f"{message or short}."
        self._send(
            code,
            {"error": text},
            close=True,
            headers={"Allow": "GET, HEAD, POST, OPTIONS"} if code == 501 else None,
        )

    def _route(self) -> tuple[str, dict[str, list[str]]]:
        parts = urlsplit(self.path)
        return parts.path.rstrip("/") or "/", parse_qs(parts.query)

    def _body(self) -> Any:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            raise _HTTPError(
                411, "send the body with a Content-Length (chunked requests are not accepted)."
            )
        lengths = self.headers.get_all("Content-Length") or []
        if len(set(lengths)) > 1:
            raise _HTTPError(400, f"conflicting Content-Length headers {lengths}; send one.")
        length = lengths[0] if lengths else None
        if length is None:
            raise _HTTPError(411, "a Content-Length header is required.")
        try:
            n = int(length)
        except ValueError:
            raise _HTTPError(400, f"Content-Length {length!r} is not a number.") from None
        if n < 0:
            raise _HTTPError(400, "Content-Length must not be negative.")
        if n > self.server.max_body:
            raise _HTTPError(
                413,
                f"the body has {n} bytes; this server accepts at most {self.server.max_body}.",
                limit=self.server.max_body,
            )
        raw = self._read(n)
        try:
            return json.loads(raw.decode("utf-8"))
        except RecursionError:
            raise _HTTPError(
                400, "the body's JSON is nested too deeply; send flat records."
            ) from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise _HTTPError(400, f"the body is not valid UTF-8 JSON: {exc}.") from None
        except ValueError as exc:  # a number of 4300+ digits (Python's int conversion limit)
            why = str(exc).split(";")[0]
            raise _HTTPError(400, f"the body is not valid JSON for this server: {why}.") from None

    def _read(self, n: int) -> bytes:
        """``n`` body bytes within ``body_timeout`` seconds in all (the idle timeout alone would
        let a client that sends a byte every few seconds hold a worker indefinitely)."""
        deadline = time.monotonic() + self.server.body_timeout
        parts: list[bytes] = []
        left = n
        try:
            while left:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError
                self.connection.settimeout(min(remaining, self.server.idle_timeout))
                chunk = self.rfile.read1(min(left, 1 << 16))
                if not chunk:
                    raise ConnectionResetError("the client closed the connection mid-body")
                parts.append(chunk)
                left -= len(chunk)
        except TimeoutError:
            raise _HTTPError(
                408,
                f"timed out reading the body ({n - left} of {n} bytes received); send the whole "
                f"body within {self.server.body_timeout:g} s.",
            ) from None
        finally:
            self.connection.settimeout(self.server.idle_timeout)
        return b"".join(parts)

    def _fail(self, err: _HTTPError) -> None:
        # a refused body (413/411/400 before reading, 408 mid-body) leaves bytes on the socket
        close = err.status in (400, 408, 411, 413)
        self._send(err.status, err.body, close=close)

    # -- methods ----------------------------------------------------------------------------

    def do_GET(self) -> None:
        path, _ = self._route()
        if path == "/health":
            self._send(200, self.server.health)
        elif path == "/model":
            self._send(200, self.server.model_json)
        elif path in ("/score", "/explain"):
            self._send(
                405,
                {"error": f"{path} takes POST with a JSON record or list of records."},
                headers={"Allow": "POST"},
            )
        else:
            self._send(
                404,
                {
                    "error": f"no endpoint {path}; try POST /score, POST /explain, GET /health, GET /model."
                },
            )

    do_HEAD = do_GET  # the same status and headers, no body (see _send)

    def do_OPTIONS(self) -> None:
        path, _ = self._route()
        allow = _ALLOW.get(path)
        if allow is None:
            self._send(404, {"error": f"no endpoint {path}; try {_ENDPOINTS}."})
        else:
            self._send(204, b"", headers={"Allow": allow})

    def do_POST(self) -> None:
        path, query = self._route()
        if path not in ("/score", "/explain"):
            self._send(
                404 if path not in ("/health", "/model") else 405,
                {"error": f"no POST endpoint {path}; try POST /score or POST /explain."},
                close=True,
            )
            return
        try:
            body = self._body()
            top = self._top(query) if path == "/explain" else 0
            result = self._answer(path, body, top)
        except _HTTPError as err:
            self._fail(err)
            return
        except RecordError as exc:
            self._send(422, _clean({"error": str(exc), "field": exc.field, "record": exc.row}))
            return
        except Exception as exc:  # noqa: BLE001 - never a traceback to the client
            self.server.errors += 1
            if self.server.log:
                self.log_error("internal error: %s: %s", type(exc).__name__, exc)
            self._send(
                500, {"error": f"internal error ({type(exc).__name__}); see the server log."}
            )
            return
        self._send(200, result)

    def do_PUT(self) -> None:
        self._send(
            405,
            {"error": "use POST /score or POST /explain."},
            close=True,
            headers={"Allow": "GET, POST"},
        )

    do_DELETE = do_PATCH = do_PUT

    def _top(self, query: Mapping[str, list[str]]) -> int:
        raw = (query.get("top") or [str(self.server.top)])[-1]
        try:
            top = int(raw)
        except ValueError:
            raise _HTTPError(400, f"top must be a whole number, got {raw!r}.") from None
        if not 1 <= top <= MAX_TOP:
            raise _HTTPError(400, f"top must be between 1 and {MAX_TOP}, got {top}.")
        return top

    def _answer(self, path: str, body: Any, top: int) -> Any:
        scorer = self.server.scorer
        if isinstance(body, dict):
            return scorer.score(body) if path == "/score" else scorer.explain(body, top=top)
        if not isinstance(body, list):
            raise _HTTPError(
                400,
                f"send a JSON object (one record) or an array of records, got {type(body).__name__}.",
            )
        if len(body) > self.server.max_records:
            raise _HTTPError(
                413,
                f"{len(body)} records in one request; this server accepts at most "
                f"{self.server.max_records}.",
                limit=self.server.max_records,
            )
        if path == "/score":
            return {"results": scorer.score_many(body).to_list() if body else []}
        out = []
        for i, record in enumerate(body):
            try:
                out.append(scorer.explain(record, top=top))
            except RecordError as exc:
                raise RecordError(exc.message, field=exc.field, row=i, hint=exc.hint) from None
        return {"results": out}


class ScoringServer(ThreadingHTTPServer):
    """:class:`~http.server.ThreadingHTTPServer` with a bounded worker pool (see the module doc)."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        scorer: Scorer,
        *,
        workers: int = 4,
        queue: int = 16,
        max_body: int = MAX_BODY,
        max_records: int = MAX_RECORDS,
        top: int = 4,
        idle_timeout: float = 5.0,
        body_timeout: float = BODY_TIMEOUT,
        model_json: Mapping[str, Any] | None = None,
        log: bool = False,
    ) -> None:
        if workers < 1 or queue < 0:
            raise ValueError(f"workers must be >= 1 and queue >= 0, got {workers} and {queue}.")
        self.scorer = scorer
        self.workers, self.queue = int(workers), int(queue)
        self.max_body, self.max_records, self.top = int(max_body), int(max_records), int(top)
        self.idle_timeout = float(idle_timeout)
        self.body_timeout = float(body_timeout)
        self.log = log
        self.errors = 0
        self.rejected = 0
        self._slots = threading.BoundedSemaphore(self.workers + self.queue)
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="distill2rules-serve")
        self.health = {
            "status": "ok",
            "model": scorer.metadata.get("model") or scorer.kind,
            "kind": scorer.kind,
            "inputs": scorer.inputs,
            "classes": scorer.classes,
            "workers": self.workers,
        }
        self.model_json = _dumps({"schema": scorer.schema(), "rulecard": model_json})
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self.rejected += 1
            self._refuse(request)
            return
        try:
            self._pool.submit(self._work, request, client_address)
        except RuntimeError:  # pool shut down
            self._slots.release()
            self.shutdown_request(request)

    def _work(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except (TimeoutError, ConnectionError):
            pass
        except Exception:  # noqa: BLE001 - one broken connection must not end the server
            if self.log:
                self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)
            self._slots.release()

    def _refuse(self, request: Any) -> None:
        body = _dumps(
            {
                "error": "the server is at capacity; retry shortly.",
                "workers": self.workers,
                "queue": self.queue,
            }
        )
        head = (
            f"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"
        ).encode("ascii")
        try:
            request.settimeout(1.0)
            request.sendall(head + body)
        except OSError:
            pass
        finally:
            self.shutdown_request(request)

    def server_close(self) -> None:
        super().server_close()
        self._pool.shutdown(wait=False, cancel_futures=True)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        name = str(host)
        name = f"[{name}]" if ":" in name else name
        return f"http://{name}:{port}"


def verified_artifact(path: str | Path) -> tuple[Path | None, dict[str, Any] | None]:
    """The artifact directory behind ``path`` and its manifest, after checking every file's hash.

    A directory must be a distill2rules artifact whose files all match ``manifest.json``
    (as ``predict`` / ``explain`` check them); a ``.onnx`` file listed in the manifest of its
    directory checks that whole artifact too. A bare ``.onnx`` file outside any artifact gives
    ``(None, None)``: only the graph itself is then read.

    Raises
    ------
    ArtifactError
        No manifest, or a missing, modified or unlisted file (a tampered artifact).
    """
    p = Path(path)
    if p.is_dir():
        return p, check_hashes(p)
    manifest = p.parent / MANIFEST
    if p.is_file() and manifest.is_file():
        try:
            listed = p.name in (json.loads(manifest.read_bytes()[: 64 << 20]).get("files") or {})
        except (ValueError, AttributeError, TypeError):  # not our manifest: check_hashes says why
            listed = True
        if listed:
            return p.parent, check_hashes(p.parent)
    return None, None


def _rulecard_json(art_dir: Path | None, manifest: Mapping[str, Any] | None, scorer: Scorer) -> Any:
    """The rule card as JSON: the artifact's ``rulecard.json`` if listed, else built from its
    ``student.json`` (both read through their manifest hashes); for a bare graph, built from
    the spec the graph carries in its metadata."""
    if art_dir is not None and manifest is not None:
        listed = manifest.get("files", {})
        if "rulecard.json" in listed:
            return json.loads(read_member(art_dir, manifest, "rulecard.json").decode("utf-8"))
        if "student.json" not in listed:
            return None
        spec_text = read_member(art_dir, manifest, "student.json").decode("utf-8")
    else:
        meta_spec = scorer.graph_metadata().get("spec")
        if not meta_spec:
            return None
        spec_text = meta_spec
    return jsonable(rulecard(from_json(spec_text)))


def make_server(
    path: str | Path, *, host: str = "127.0.0.1", port: int = 8000, extra: str = "error", **kw: Any
) -> ScoringServer:
    """A bound (not yet serving) :class:`ScoringServer` for an artifact directory or ``.onnx`` file.

    The artifact is verified first (:func:`verified_artifact`): a tampered one raises
    :class:`~distill2rules.errors.ArtifactError` (exit 2 in the CLI) before anything is served.
    ``port=0`` picks a free port (``server.server_address``). Other keywords: ``workers``,
    ``queue``, ``max_body``, ``max_records``, ``top``, ``idle_timeout``, ``log``.
    """
    p = Path(path)
    art_dir, manifest = verified_artifact(p)
    scorer = Scorer.load(p, extra=extra)
    model_json = kw.pop("model_json", None)
    if model_json is None:
        model_json = _rulecard_json(art_dir, manifest, scorer)
    return ScoringServer((host, int(port)), scorer, model_json=model_json, **kw)


def serve(path: str | Path, *, host: str = "127.0.0.1", port: int = 8000, **kw: Any) -> None:
    """Serve until interrupted (Ctrl-C)."""
    server = make_server(path, host=host, port=port, **kw)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()


def load_test(
    url: str,
    records: list[Mapping[str, Any]],
    *,
    requests: int = 500,
    threads: int = 4,
    path: str = "/explain",
    timeout: float = 30.0,
) -> dict[str, Any]:
    """Fire ``requests`` POSTs (one record each, cycling through ``records``) from ``threads``
    keep-alive clients; returns throughput, latency percentiles, status counts and the answers.

    Meant for loopback checks of a running server (the test suite and the edge benchmark).
    """
    parts = urlsplit(url)
    hostname = cast(str, parts.hostname)
    bodies = [_dumps(r) for r in records]
    latencies: list[list[float]] = [[] for _ in range(threads)]
    answers: dict[int, Any] = {}
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def client(t: int) -> None:
        conn = http.client.HTTPConnection(hostname, parts.port, timeout=timeout)
        try:
            for i in range(t, requests, threads):
                body = bodies[i % len(bodies)]
                t0 = time.perf_counter()
                conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
                resp = conn.getresponse()
                data = resp.read()
                latencies[t].append(time.perf_counter() - t0)
                with lock:
                    statuses[resp.status] = statuses.get(resp.status, 0) + 1
                    answers[i] = json.loads(data)
                if resp.will_close:
                    conn.close()
                    conn = http.client.HTTPConnection(hostname, parts.port, timeout=timeout)
        finally:
            conn.close()

    start = time.perf_counter()
    pool = [threading.Thread(target=client, args=(t,), daemon=True) for t in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    wall = time.perf_counter() - start
    lat = sorted(x for per in latencies for x in per)

    def pct(q: float) -> float:
        return lat[min(len(lat) - 1, round(q * (len(lat) - 1)))] * 1e3 if lat else math.nan

    return {
        "requests": len(lat),
        "threads": threads,
        "path": path,
        "seconds": wall,
        "throughput_rps": len(lat) / wall if wall > 0 else math.nan,
        "p50_ms": pct(0.5),
        "p99_ms": pct(0.99),
        "max_ms": pct(1.0),
        "statuses": statuses,
        "answers": answers,
    }

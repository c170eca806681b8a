"""`distill2rules serve` against hostile clients: every refusal is a JSON 4xx naming the problem
(never a 500, an HTML page or a held worker), and the server keeps answering."""

from __future__ import annotations

import json
import socket
import time

import pytest

from tests.scoring.helpers import GOOD, scorecard_artifact, start_server, stop_server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    art = scorecard_artifact(tmp_path_factory.mktemp("hostile") / "art", codes=False)
    srv, thread = start_server(art, workers=2, queue=4, idle_timeout=1.0)
    srv.body_timeout = 1.5
    yield srv
    stop_server(srv, thread)


def _raw(server, data: bytes, *, trickle: list[tuple[bytes, float]] | None = None, timeout=10.0):
    """Send raw bytes (or trickle them); return (status, headers text, body bytes, seconds)."""
    host, port = server.server_address[:2]
    t0 = time.perf_counter()
    with socket.create_connection((host, port), timeout=timeout) as s:
        try:
            for chunk, pause in trickle or [(data, 0.0)]:
                s.sendall(chunk)
                time.sleep(pause)
        except OSError:  # the server gave up on us mid-way: read what it said
            pass
        out = b""
        while True:
            try:
                b = s.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not b:
                break
            out += b
    head, _, body = out.partition(b"\r\n\r\n")
    first = head.split(b"\r\n")[0].decode()
    status = int(first.split()[1]) if first.startswith("HTTP/") else 0
    return status, head.decode(), body, time.perf_counter() - t0


def _req(method: str, path: str, body: bytes = b"", **headers: str) -> bytes:
    h = {"Host": "x", "Content-Length": str(len(body)), "Connection": "close"}
    h.update({k.replace("_", "-"): v for k, v in headers.items()})
    lines = "".join(f"{k}: {v}\r\n" for k, v in h.items())
    return f"{method} {path} HTTP/1.1\r\n{lines}\r\n".encode() + body


def _alive(server) -> None:
    status, _, body, _ = _raw(server, _req("GET", "/health"))
    assert status == 200 and json.loads(body)["status"] == "ok"


@pytest.mark.parametrize(
    "body, match",
    [
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"a":' * 50_000 + b"1" + b"}" * 50_000, "nested too deeply"),
        (b'{"duration": 1' + b"0" * 5000 + b"}", "not valid JSON"),
    ],
    ids=["deep-array", "deep-object", "5000-digit-int"],
)
def test_unparseable_json_is_400_not_500(server, body, match):
    status, _, answer, _ = _raw(server, _req("POST", "/score", body))
    assert status == 400, answer
    assert match in json.loads(answer)["error"]
    _alive(server)


def test_a_400_digit_integer_scores_like_infinity(server):
    big = json.dumps({**GOOD, "credit_amount": "X"}).replace('"X"', "1" + "0" * 400).encode()
    inf = json.dumps({**GOOD, "credit_amount": "X"}).replace('"X"', "1e999").encode()
    a, b = _raw(server, _req("POST", "/explain", big)), _raw(server, _req("POST", "/explain", inf))
    assert a[0] == b[0] == 200, a
    assert json.loads(a[2])["decision"] == json.loads(b[2])["decision"]


@pytest.mark.parametrize("method", ["TRACE", "BREW", "CONNECT"])
def test_unknown_methods_get_a_json_error(server, method):
    status, head, body, _ = _raw(server, _req(method, "/score"))
    assert status in (405, 501), head
    assert "application/json" in head
    assert "POST /score" in json.loads(body)["error"]


def test_head_and_options(server):
    status, head, body, _ = _raw(server, _req("HEAD", "/health"))
    assert status == 200 and body == b"" and "Content-Length: " in head
    status, head, body, _ = _raw(server, _req("OPTIONS", "/score"))
    assert status == 204 and "Allow: POST, OPTIONS" in head and body == b""
    status, head, body, _ = _raw(server, _req("OPTIONS", "/nope"))
    assert status == 404 and "no endpoint /nope" in json.loads(body)["error"]


@pytest.mark.parametrize(
    "raw, status, match",
    [
        (b"\x00\x01 /score HTTP/1.1\r\n\r\n", 501, "is not supported"),
        (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", 414, "URI Too Long"),
        (b"GET /health HTTP/1.1\r\n" + b"X: a\r\n" * 200 + b"\r\n", 431, "Too many headers"),
    ],
    ids=["garbage-method", "long-url", "many-headers"],
)
def test_protocol_errors_are_json(server, raw, status, match):
    got, head, body, _ = _raw(server, raw)
    assert got == status and "application/json" in head, head
    assert match.lower() in json.loads(body)["error"].lower()
    _alive(server)


def test_conflicting_content_lengths_are_refused(server):
    raw = b"POST /score HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 50\r\n\r\n{}"
    status, _, body, _ = _raw(server, raw)
    assert status == 400 and "Content-Length" in json.loads(body)["error"]


def test_a_body_shorter_than_its_content_length_times_out_with_408(server):
    status, _, body, took = _raw(server, _req("POST", "/score", b"{}", Content_Length="50"))
    assert status == 408 and "timed out" in json.loads(body)["error"]
    assert took < 5
    _alive(server)


def test_a_trickled_body_cannot_hold_a_worker(server):
    """One byte per 0.5 s never trips the 1 s idle timeout: the whole body has a deadline."""
    head = b"POST /score HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{"
    status, _, body, took = _raw(server, b"", trickle=[(head, 0.0)] + [(b" ", 0.5)] * 12)
    assert status == 408 and "timed out" in json.loads(body)["error"], body
    assert took < 6.5
    _alive(server)

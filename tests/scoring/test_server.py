"""`distill2rules serve`: endpoints, limits, clear 4xx errors, bounded concurrency, a loopback load test."""

from __future__ import annotations

import http.client
import json
import socket
import time

import pytest

from distill2rules import Scorer
from distill2rules.exporters import to_onnx
from distill2rules.server import load_test
from tests.exporters import hand_specs as hs
from tests.scoring.helpers import GOOD, scorecard_artifact, start_server, stop_server


@pytest.fixture(scope="module")
def artifact(tmp_path_factory):
    return scorecard_artifact(tmp_path_factory.mktemp("serve") / "art")


_start = start_server


@pytest.fixture(scope="module")
def server(artifact):
    srv, thread = _start(artifact, workers=4, queue=8, max_body=8192, max_records=50)
    yield srv
    stop_server(srv, thread)


def _call(server, method, path, body=None, raw=None, headers=None):
    host, port = server.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=10)
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    conn.request(
        method, path, body=data, headers={"Content-Type": "application/json", **(headers or {})}
    )
    resp = conn.getresponse()
    out = resp.status, json.loads(resp.read() or b"null"), dict(resp.getheaders())
    conn.close()
    return out


def test_health_model_score_and_explain(server, artifact):
    scorer = Scorer.load(artifact)
    status, body, headers = _call(server, "GET", "/health")
    assert status == 200 and body["status"] == "ok" and body["inputs"] == "codes"
    assert headers["Content-Type"].startswith("application/json")
    status, body, _ = _call(server, "GET", "/model")
    assert (
        status == 200
        and body["rulecard"]["summary"]
        and body["schema"]["fields"][0]["name"] == "duration"
    )
    status, body, _ = _call(server, "POST", "/score", GOOD)
    assert status == 200 and body == json.loads(json.dumps(scorer.score(GOOD)))
    status, body, _ = _call(server, "POST", "/explain?top=2", GOOD)
    assert (
        status == 200
        and len(body["reasons"]) == 2
        and body == json.loads(json.dumps(scorer.explain(GOOD, top=2)))
    )
    status, body, _ = _call(
        server,
        "POST",
        "/score",
        [
            GOOD,
            {
                **GOOD,
                "checking_status": "no checking account",
                "duration": 6,
                "credit_amount": 1000.0,
            },
        ],
    )
    assert status == 200 and [r["decision"] for r in body["results"]] == ["bad", "good"]
    status, body, _ = _call(server, "POST", "/explain", [GOOD])
    assert status == 200 and body["results"][0]["reasons"]


@pytest.mark.parametrize(
    "method, path, body, raw, status, match",
    [
        ("POST", "/score", None, b"{not json", 400, "not valid UTF-8 JSON"),
        ("POST", "/score", "just text", None, 400, "send a JSON object"),
        (
            "POST",
            "/score",
            {k: v for k, v in GOOD.items() if k != "age"},
            None,
            422,
            r"missing field\(s\): 'age'",
        ),
        ("POST", "/score", {**GOOD, "name": "x"}, None, 422, r"unknown field\(s\): 'name'"),
        (
            "POST",
            "/explain",
            {**GOOD, "duration": "long"},
            None,
            422,
            "field 'duration' should be a number",
        ),
        (
            "POST",
            "/explain",
            [GOOD, {**GOOD, "purpose": {}}],
            None,
            422,
            "^record 1: field 'purpose'",
        ),
        ("POST", "/score", [GOOD] * 51, None, 413, "at most 50"),
        ("POST", "/score", None, b"x" * 9000, 413, "at most 8192"),
        ("POST", "/explain?top=zero", GOOD, None, 400, "top must be a whole number"),
        ("GET", "/score", None, None, 405, "takes POST"),
        ("GET", "/nope", None, None, 404, "no endpoint /nope"),
        ("POST", "/health", GOOD, None, 405, "no POST endpoint"),
        ("DELETE", "/score", None, None, 405, "use POST"),
    ],
)
def test_bad_requests_get_clear_json_errors(server, method, path, body, raw, status, match):
    import re

    got, answer, _ = _call(server, method, path, body=body, raw=raw)
    assert got == status and re.search(match, answer["error"]), answer
    if status == 422 and "record 1" in match:
        assert answer["record"] == 1 and answer["field"] == "purpose"
    assert _call(server, "GET", "/health")[0] == 200  # the server carries on


def test_missing_content_length_is_refused(server):
    host, port = server.server_address[:2]
    with socket.create_connection((host, port), timeout=5) as s:
        s.sendall(b"POST /score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\r\n")
        reply = s.recv(4096).decode()
    assert reply.startswith("HTTP/1.1 411") and "Content-Length header is required" in reply


def test_saturated_server_answers_503_at_once(artifact):
    srv, thread = _start(artifact, workers=1, queue=0)
    host, port = srv.server_address[:2]
    try:
        busy = http.client.HTTPConnection(
            host, port, timeout=5
        )  # keep-alive: holds the only worker
        busy.request("GET", "/health")
        assert busy.getresponse().read()
        t0 = time.perf_counter()
        with socket.create_connection((host, port), timeout=5) as s:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            reply = s.recv(4096).decode()
        assert (
            reply.startswith("HTTP/1.1 503")
            and "Retry-After: 1" in reply
            and "at capacity" in reply
        )
        assert time.perf_counter() - t0 < 2.0
        assert srv.rejected >= 1
        busy.close()
        for _ in range(50):  # the slot comes back once the keep-alive connection is gone
            time.sleep(0.05)
            try:
                if _call(srv, "GET", "/health")[0] == 200:
                    break
            except (ConnectionError, json.JSONDecodeError):
                continue
        else:
            pytest.fail("the server never recovered from saturation")
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(5)


def test_load_500_requests_from_4_clients(server, artifact, record_property):
    """Loopback load test: every answer correct; throughput and p50/p99 reported."""
    scorer = Scorer.load(artifact)
    records = [
        {**GOOD, "duration": d, "age": a, "checking_status": c}
        for d in (6, 18, 30, 48)
        for a in (22, 40, 61)
        for c in hs.CHECKING
    ]
    t0 = time.perf_counter()
    res = load_test(server.url, records, requests=500, threads=4, path="/explain")
    assert time.perf_counter() - t0 < 120
    assert res["requests"] == 500 and res["statuses"] == {200: 500}
    for i, answer in res["answers"].items():
        assert answer == json.loads(json.dumps(scorer.explain(records[i % len(records)]))), i
    for key in ("throughput_rps", "p50_ms", "p99_ms"):
        record_property(key, round(res[key], 3))
    print(
        f"\nserve load test: {res['throughput_rps']:.0f} requests/s, p50 {res['p50_ms']:.2f} ms, "
        f"p99 {res['p99_ms']:.2f} ms ({res['requests']} requests, {res['threads']} clients)"
    )
    assert res["throughput_rps"] > 20 and res["p50_ms"] <= res["p99_ms"]


def test_cli_serve_validates_options_and_reports_a_taken_port(cli, artifact):
    run = cli("serve", artifact, "--port", "70000")
    assert run.code == 2 and "--port must be in 0..65535" in run.err
    run = cli("serve", artifact, "--extra", "warn")
    assert run.code == 2 and "--extra must be 'error' or 'ignore'" in run.err
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        run = cli("serve", artifact, "--port", port)
    assert run.code == 2 and "cannot listen on 127.0.0.1" in run.err
    run = cli("serve", artifact.parent / "missing")
    assert run.code == 2 and "no such model file" in run.err


def test_cli_export_codes_then_verify_and_load(cli, tmp_path):
    from distill2rules.artifact import write_artifact
    from distill2rules.spec import to_json

    spec = hs.rule_list_spec()
    art = write_artifact(
        tmp_path / "art",
        {"student.json": to_json(spec), "student.onnx": to_onnx(spec).SerializeToString()},
        {"config": {}},
    )
    run = cli("export", art, "--inputs", "codes")
    assert run.code == 0 and run.out.strip().endswith("student.codes.onnx")
    assert cli("verify", art).code == 0  # the manifest lists and hashes the new graph
    scorer = Scorer.load(art)
    assert scorer.inputs == "codes"
    r = {"duration": 30, "credit_amount": 12000.0, "checking_status": "< 0 DM", "purpose": "car"}
    assert (
        scorer.explain(r)["rule"]["name"]
        == "R1"
        == Scorer.load(art / "student.onnx").explain(r)["rule"]["name"]
    )
    run = cli("export", art, "--inputs", "strings")
    assert run.code == 2 and "--inputs must be 'tensors', 'columns' or 'codes'" in run.err

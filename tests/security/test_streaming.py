"""Streaming predict/explain: chunked results equal whole-file results (memory: benchmarks/streaming.py)."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    from distill2rules.data import load_dataset

    frame = load_dataset("german_credit").frame.drop(columns=["credit_risk"]).head(123)
    d = tmp_path_factory.mktemp("stream_rows")
    frame.to_csv(d / "rows.csv", index=False)
    with gzip.open(d / "rows.csv.gz", "wt", encoding="utf-8") as f:
        frame.to_csv(f, index=False)
    frame.to_parquet(d / "rows.parquet", index=False)
    return d


@pytest.mark.parametrize("name", ["rows.csv", "rows.csv.gz", "rows.parquet"])
def test_chunked_predict_equals_whole_file(logreg_artifact, rows, tmp_path, name):
    from distill2rules._stream import predict_file
    from distill2rules.data import read_table
    from distill2rules.serve import predict_frame

    n = predict_file(logreg_artifact, rows / name, tmp_path / "p.csv", chunk_rows=10)
    assert n == 123
    got = pd.read_csv(tmp_path / "p.csv")
    want = predict_frame(logreg_artifact, read_table(rows / name))
    assert list(got.columns) == ["p_bad", "p_good"]
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=1e-7, atol=1e-8)


def test_chunked_explain_equals_whole_file(logreg_artifact, rows, tmp_path):
    from distill2rules._stream import explain_stream
    from distill2rules.artifact import load_spec
    from distill2rules.data import read_table
    from distill2rules.exporters.reasons import explain_rows, reasons_to_jsonl

    spec = load_spec(logreg_artifact)

    def one(X):
        return explain_rows(spec, X, top=3, counterfactuals=False)

    head, n = explain_stream(
        rows / "rows.csv", one, out=tmp_path / "r.jsonl", keep=5, chunk_rows=10
    )
    assert n == 123 and len(head) == 5
    got = (tmp_path / "r.jsonl").read_text().splitlines()
    want = reasons_to_jsonl(one(read_table(rows / "rows.csv"))).splitlines()
    assert [json.loads(x) for x in got] == [json.loads(x) for x in want]


def test_cli_explain_streams_to_out(cli, logreg_artifact, rows, tmp_path):
    r = cli(
        "explain",
        logreg_artifact,
        "--data",
        rows / "rows.csv",
        "--out",
        tmp_path / "r.jsonl",
        "--limit",
        2,
        "--no-counterfactuals",
    )
    assert r.code == 0, r.err
    assert "121 more row(s)" in r.out
    assert len((tmp_path / "r.jsonl").read_text().splitlines()) == 123

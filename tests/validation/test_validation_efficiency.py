"""Parameter counts, PRR, latency and memory."""

from __future__ import annotations

import json

import numpy as np
import pytest
from validation_helpers import mixed_additive_spec, mlp_spec, rule_list_spec

from distill2rules.errors import ConfigError, DataError, SpecError
from distill2rules.spec import to_json
from distill2rules.validation import (
    latency,
    memory_mb,
    n_parameters,
    onnx_latency,
    prr,
    spec_n_parameters,
)


def test_spec_parameter_counts() -> None:
    # intercept 1 + x1 coef 1 + x3 table 4 nonzero + c1 table 4 nonzero + pair 10 nonzero
    assert spec_n_parameters(mixed_additive_spec()) == 1 + 1 + 4 + 4 + 10
    # conditions 2 + 1 + 2, probabilities 4 rules x 2
    assert spec_n_parameters(rule_list_spec()) == 5 + 8
    # 6 x 10 + 6, 1 x 6 + 1
    assert spec_n_parameters(mlp_spec()) == 66 + 7
    with pytest.raises(SpecError, match="unknown spec kind"):
        spec_n_parameters({"kind": "forest"})


def test_n_parameters_and_prr(lgb_mixed, torch_mixed) -> None:
    spec = rule_list_spec()
    assert n_parameters(spec) == 13
    assert n_parameters(lgb_mixed) == lgb_mixed.n_parameters() > 100
    assert n_parameters(torch_mixed) == sum(p.numel() for p in torch_mixed.module.parameters())
    assert prr(13, 1300) == pytest.approx(0.99)
    assert np.isnan(prr(5, 0))
    with pytest.raises(ConfigError, match="cannot count"):
        n_parameters(object())


def test_latency_structure(mixed) -> None:
    calls = []

    def fn(rows):
        calls.append(len(rows))
        return rows

    res = latency(fn, mixed["X_test"], n_calls=20, batch_sizes=(1, 7, 1000))
    d = res.to_dict()
    assert d["single_row"]["n_calls"] == 20
    assert set(d["batch"]) == {"1", "7", "1000"}
    assert d["batch"]["1000"]["n_calls"] == 3 and d["batch"]["7"]["n_calls"] == 3
    assert 1000 in calls and 7 in calls and calls.count(1) == 21  # + warm-up
    assert d["single_row"]["p50_ms"] <= d["single_row"]["p99_ms"]
    json.dumps(d, allow_nan=False)
    with pytest.raises(ConfigError, match="batch sizes"):
        latency(fn, mixed["X_test"], n_calls=2, batch_sizes=(0,))
    with pytest.raises(DataError, match="at least one row"):
        latency(fn, mixed["X_test"].iloc[:0])


def test_latency_on_arrays_and_dicts() -> None:
    X = np.arange(20.0).reshape(10, 2)
    res = latency(lambda a: a.sum(), X, n_calls=5, batch_sizes=(1, 4))
    assert res.batch["4"]["rows_per_s"] > 0
    res = latency(lambda d: d["a"].sum(), {"a": X}, n_calls=5, batch_sizes=(3,))
    assert res.batch["3"]["n_calls"] == 3


def test_memory(lgb_mixed, torch_mixed, tmp_path) -> None:
    spec = mlp_spec()
    assert memory_mb(spec) == pytest.approx(len(to_json(spec).encode()) / 1e6)
    assert memory_mb(torch_mixed) == pytest.approx(4 * torch_mixed.n_parameters() / 1e6)
    assert memory_mb(lgb_mixed) == pytest.approx(
        len(lgb_mixed.booster.model_to_string().encode()) / 1e6
    )
    p = tmp_path / "m.bin"
    p.write_bytes(b"x" * 2500)
    assert memory_mb(p) == memory_mb(b"x" * 2500) == pytest.approx(0.0025)
    with pytest.raises(DataError, match="no file"):
        memory_mb(tmp_path / "missing.onnx")


@pytest.mark.parametrize("make_spec", [mixed_additive_spec, rule_list_spec])
def test_onnx_latency_runs_the_exported_graph(mixed, make_spec) -> None:
    exporters = pytest.importorskip("distill2rules.exporters")
    spec = make_spec()
    onnx_bytes = exporters.to_onnx(spec).SerializeToString()
    res = onnx_latency(onnx_bytes, spec, mixed["X_test"], n_calls=30, batch_sizes=(1, 50))
    assert res.single_row["n_calls"] == 30 and res.batch["50"]["mean_ms"] > 0
    assert memory_mb(onnx_bytes) > 0

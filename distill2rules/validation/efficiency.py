"""Model size, parameter reduction, latency and memory."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from distill2rules.errors import ConfigError, DataError, SpecError
from distill2rules.spec import prepare_inputs, to_json, typed
from distill2rules.validation._results import Result

__all__ = [
    "Latency",
    "latency",
    "memory_mb",
    "n_parameters",
    "onnx_latency",
    "prr",
    "spec_n_parameters",
]

_MB = 1_000_000.0


@dataclasses.dataclass
class Latency(Result):
    """Wall-clock latency in milliseconds.

    ``single_row``: ``{"mean_ms", "p50_ms", "p99_ms", "n_calls"}`` over one-row calls.
    ``batch[str(b)]``: the same per call of ``b`` rows, plus ``rows_per_s``.
    """

    single_row: dict[str, float]
    batch: dict[str, dict[str, float]]


# ----------------------------------------------------------------------------- parameters


def spec_n_parameters(spec: Mapping[str, Any]) -> int:
    """Number of parameters of a student spec.

    additive: nonzero linear coefficients, table scores and special-value scores plus the
    intercept(s) (bin edges and category lists are structure, not counted); rule list: one per
    condition plus the class probabilities of every rule and of the default; mlp: weights plus
    biases. The count is the kind's own (:meth:`distill2rules.spec.Spec.n_parameters`).
    """
    return typed(spec).n_parameters()


def n_parameters(model: Any) -> int:
    """Parameters of a spec (``spec_n_parameters``) or of a teacher (``teacher.n_parameters()``)."""
    if isinstance(model, Mapping):
        return spec_n_parameters(model)
    if hasattr(model, "n_parameters"):
        return int(model.n_parameters())
    raise ConfigError(
        f"cannot count the parameters of a {type(model).__name__}.",
        hint="Pass a student spec dict or a teacher with n_parameters().",
    )


def prr(student_params: float, teacher_params: float) -> float:
    """Parameter reduction rate ``1 - |theta_S| / |theta_T|`` (NaN if the teacher has none)."""
    if teacher_params <= 0:
        return float("nan")
    return 1.0 - float(student_params) / float(teacher_params)


# ----------------------------------------------------------------------------- latency


def _n_rows(X: Any) -> int:
    if isinstance(X, Mapping):
        return len(next(iter(X.values())))
    return len(X)


def _take(X: Any, rows: np.ndarray) -> Any:
    if isinstance(X, Mapping):
        return {k: np.asarray(v)[rows] for k, v in X.items()}
    if hasattr(X, "iloc"):
        return X.iloc[rows].reset_index(drop=True)
    return np.asarray(X)[rows]


def _timings(
    fn: Callable[[Any], Any], inputs: Sequence[Any], n_calls: int, max_seconds: float
) -> np.ndarray:
    fn(inputs[0])  # warm-up (lazy init, caches)
    times = []
    budget_end = time.perf_counter() + max_seconds
    for i in range(n_calls):
        x = inputs[i % len(inputs)]
        t0 = time.perf_counter()
        fn(x)
        times.append(time.perf_counter() - t0)
        if time.perf_counter() > budget_end and len(times) >= 3:
            break
    return np.asarray(times) * 1000.0


def _summary(ms: np.ndarray) -> dict[str, float]:
    return {
        "mean_ms": float(ms.mean()),
        "p50_ms": float(np.percentile(ms, 50)),
        "p99_ms": float(np.percentile(ms, 99)),
        "n_calls": int(ms.size),
    }


def latency(
    fn: Callable[[Any], Any],
    X: Any,
    *,
    n_calls: int = 1000,
    batch_sizes: Sequence[int] = (1, 100, 10000),
    max_seconds: float = 10.0,
) -> Latency:
    """Time ``fn`` on single rows and on batches.

    Parameters
    ----------
    fn : callable
        Takes rows in the form of ``X`` (DataFrame, array, or a dict of arrays such as ONNX
        feeds) and returns predictions.
    X : DataFrame, array or dict of arrays
        Rows to draw from; batches larger than ``X`` repeat its rows.
    n_calls : int
        One-row calls (cycling through the first ``min(n_calls, len(X))`` rows, sliced in
        advance so slicing is not timed). A batch of ``b`` rows gets
        ``max(3, n_calls // b)`` calls, at least 3.
    batch_sizes : sequence of int
        Batch sizes to time (``1`` is reported under ``single_row`` and ``batch["1"]``).
    max_seconds : float
        Time budget per setting; timing stops early (after at least 3 calls) once exceeded.

    Returns
    -------
    Latency
    """
    n = _n_rows(X)
    if n == 0:
        raise DataError("latency needs at least one row.")
    if n_calls < 1:
        raise ConfigError(f"n_calls must be >= 1, got {n_calls}.")
    singles = [_take(X, np.array([i % n])) for i in range(min(n_calls, n))]
    single = _summary(_timings(fn, singles, n_calls, max_seconds))
    batch: dict[str, dict[str, float]] = {}
    for b in batch_sizes:
        if b < 1:
            raise ConfigError(f"batch sizes must be >= 1, got {b}.")
        if b == 1:
            s = dict(single)
        else:
            data = _take(X, np.arange(b) % n)
            s = _summary(_timings(fn, [data], max(3, n_calls // b), max_seconds))
        s["rows_per_s"] = float(b / (s["mean_ms"] / 1000.0)) if s["mean_ms"] > 0 else float("inf")
        batch[str(int(b))] = s
    return Latency(single_row=single, batch=batch)


def _onnx_bytes(onnx_path_or_bytes: Any) -> bytes:
    if isinstance(onnx_path_or_bytes, (bytes, bytearray)):
        return bytes(onnx_path_or_bytes)
    p = Path(onnx_path_or_bytes)
    if not p.is_file():
        raise DataError(f"no ONNX file at {p}.")
    return p.read_bytes()


def onnx_session(onnx_path_or_bytes: Any, *, threads: int = 1) -> Any:
    """An onnxruntime CPU session (``threads`` intra-op threads, warnings silenced)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    return ort.InferenceSession(
        _onnx_bytes(onnx_path_or_bytes), sess_options=opts, providers=["CPUExecutionProvider"]
    )


def onnx_feeds(session: Any, spec: Mapping[str, Any], X: Any) -> dict[str, np.ndarray]:
    """Inputs of a student graph for raw rows ``X``, prepared by ``spec.prepare_inputs``.

    Handles both input modes of the exporter: two tensors ``numeric [N, d_num]`` /
    ``categorical [N, d_cat]``, or one ``[N, 1]`` input per column.
    """
    num, cat = prepare_inputs(spec, X)
    num_cols, cat_cols = (
        list(spec["inputs"].get("numeric", [])),
        list(spec["inputs"].get("categorical", [])),
    )
    feeds: dict[str, np.ndarray] = {}
    for inp in session.get_inputs():
        if inp.name == "numeric":
            feeds[inp.name] = num
        elif inp.name == "categorical":
            feeds[inp.name] = cat
        elif inp.name in num_cols:
            feeds[inp.name] = num[:, [num_cols.index(inp.name)]]
        elif inp.name in cat_cols:
            feeds[inp.name] = cat[:, [cat_cols.index(inp.name)]]
        else:
            raise SpecError(
                f"the ONNX graph has an input '{inp.name}' the spec does not describe.",
                hint="Export the graph from the same student.json.",
            )
    return feeds


def onnx_latency(
    onnx_path_or_bytes: Any,
    spec: Mapping[str, Any],
    X: Any,
    *,
    n_calls: int = 1000,
    batch_sizes: Sequence[int] = (1, 100, 10000),
    max_seconds: float = 10.0,
) -> Latency:
    """:func:`latency` of an onnxruntime session (1 intra-op thread) of a student graph."""
    sess = onnx_session(onnx_path_or_bytes)
    feeds = onnx_feeds(sess, spec, X)
    return latency(
        lambda f: sess.run(None, f),
        feeds,
        n_calls=n_calls,
        batch_sizes=batch_sizes,
        max_seconds=max_seconds,
    )


# ----------------------------------------------------------------------------- memory


def memory_mb(obj: Any) -> float:
    """Model size in MB (10^6 bytes).

    ONNX bytes or a file path: the serialized size. A spec dict: its canonical JSON. A torch
    ``nn.Module`` (or a teacher with ``.module``): parameter and buffer bytes. A LightGBM
    Booster (or a teacher with ``.booster``): the size of its text model. Anything else with
    ``n_parameters()``: 4 bytes (float32) per parameter.
    """
    if isinstance(obj, (bytes, bytearray)):
        return len(obj) / _MB
    if isinstance(obj, (str, Path)):
        p = Path(obj)
        if not p.is_file():
            raise DataError(f"no file at {p}.")
        return p.stat().st_size / _MB
    if isinstance(obj, Mapping):
        return len(to_json(obj).encode("utf-8")) / _MB
    module = getattr(obj, "module", obj)
    if hasattr(module, "parameters") and hasattr(module, "buffers"):
        size = sum(
            t.numel() * t.element_size() for t in list(module.parameters()) + list(module.buffers())
        )
        return size / _MB
    booster = getattr(obj, "booster", obj)
    if hasattr(booster, "model_to_string"):
        return len(booster.model_to_string().encode("utf-8")) / _MB
    if hasattr(obj, "n_parameters"):
        return 4.0 * float(obj.n_parameters()) / _MB
    raise ConfigError(
        f"cannot size a {type(obj).__name__}.", hint="Pass ONNX bytes, a path, a spec or a teacher."
    )

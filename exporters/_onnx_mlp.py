"""ONNX builder for shallow MLP specs.

Input vector = ``(clip(impute(x)) - mean) / scale`` for the listed numerics, then one one-hot
block per categorical (a ``LabelEncoder`` code gathers a row of an identity matrix whose extra
last row is all zeros, for unseen values), then ``Gemm`` layers with ReLU / tanh, then the link.
Arithmetic is float64 end to end, like the reference evaluator, so huge inputs (1e38) saturate
the same way instead of overflowing float32.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from distill2rules.errors import SpecError
from distill2rules.exporters._onnx_graph import (
    DOUBLE,
    FLOAT,
    INT64,
    ML_DOMAIN,
    Graph,
    as_float,
    category_strings,
    column,
    column_lookup,
    link_and_label,
)

_ACTIVATIONS = {"relu": "Relu", "tanh": "Tanh", "identity": None}


def _numeric_block(g: Graph, spec: Mapping[str, Any], preps: list[Mapping[str, Any]]) -> str:
    lookup = column_lookup(spec)
    cols, impute, lo, hi, mean, scale = [], [], [], [], [], []
    for p in preps:
        what = f"mlp preprocessing of '{p.get('feature')}'"
        cols.append(column(lookup, p["feature"], "numeric", what))
        impute.append(as_float(p.get("impute", 0.0), f"{what} impute"))
        clip = p.get("clip", [None, None]) or [None, None]
        lo.append(-np.inf if clip[0] is None else as_float(clip[0], f"{what} clip"))
        hi.append(np.inf if clip[1] is None else as_float(clip[1], f"{what} clip"))
        mean.append(as_float(p["mean"], f"{what} mean"))
        scale.append(as_float(p["scale"], f"{what} scale"))
    x = g.cast(g.columns(g.numeric, cols), DOUBLE)  # type: ignore[arg-type]
    x = g.op("Where", [g.op("IsNaN", [x]), g.const(np.asarray(impute), "impute"), x])
    if np.any(np.isfinite(lo)):
        x = g.op("Max", [x, g.const(np.asarray(lo), "lo")])
    if np.any(np.isfinite(hi)):
        x = g.op("Min", [x, g.const(np.asarray(hi), "hi")])
    x = g.op("Sub", [x, g.const(np.asarray(mean), "mean")])
    return g.op("Div", [x, g.const(np.asarray(scale), "scale")])


def _one_hot(g: Graph, spec: Mapping[str, Any], p: Mapping[str, Any]) -> str:
    lookup = column_lookup(spec)
    what = f"mlp preprocessing of '{p.get('feature')}'"
    j = column(lookup, p["feature"], "categorical", what)
    cats = category_strings(p["categories"], what)
    pos: dict[str, int] = {}
    for i, c in enumerate(cats):
        pos[c] = i  # duplicates: the last position wins, as in the reference evaluator
    n = len(cats)
    eye = np.zeros((n + 1, n), dtype=np.float64)
    used = np.asarray(list(pos.values()), dtype=np.int64)  # positions a string can reach
    eye[used, used] = 1.0
    if not pos:
        code = g.broadcast_rows(np.zeros(1, dtype=np.int64), "zero")  # n == 0: a [N, 0] block
    else:
        col = g.column_1d(g.categorical, j)  # type: ignore[arg-type]
        keys = list(pos)
        code = g.op("LabelEncoder", [col], domain=ML_DOMAIN, keys_strings=keys,
                    values_int64s=[pos[k] for k in keys], default_int64=n)
    return g.op("Gather", [g.const(eye, "onehot"), code], axis=0)


def build_mlp(g: Graph, spec: Mapping[str, Any]) -> list[tuple[str, int, int]]:
    """Wire an MLP spec; returns the graph outputs as (name, elem type, width or -1)."""
    pre = spec.get("preprocess", {}) or {}
    blocks = []
    width = 0
    if pre.get("numeric"):
        blocks.append(_numeric_block(g, spec, list(pre["numeric"])))
        width += len(pre["numeric"])
    for p in pre.get("categorical", []) or []:
        blocks.append(_one_hot(g, spec, p))
        width += len(p["categories"])
    if not blocks:
        h = g.broadcast_rows(np.zeros((1, 0)), "empty")
    else:
        h = blocks[0] if len(blocks) == 1 else g.op("Concat", blocks, axis=1)
    for i, layer in enumerate(spec["layers"]):
        W = np.asarray(layer["weight"], dtype=np.float64)
        b = np.asarray(layer["bias"], dtype=np.float64).ravel()
        if W.ndim != 2 or W.shape[1] != width or b.shape != (W.shape[0],):
            raise SpecError(f"mlp layer {i} has weight {W.shape} and bias {b.shape}; "
                            f"expected inputs of width {width}.")
        act = layer.get("activation", "identity")
        if act not in _ACTIVATIONS:
            raise SpecError(f"unknown activation '{act}' in mlp layer {i}; "
                            "expected relu, tanh or identity.")
        if width == 0:  # Gemm cannot take an empty inner dimension on every runtime
            h = g.op("Add", [g.op("MatMul", [h, g.const(W.T.copy(), "w")]), g.const(b, "b")])
        else:
            h = g.op("Gemm", [h, g.const(W, "w"), g.const(b, "b")], transB=1)
        if _ACTIVATIONS[act]:
            h = g.op(_ACTIVATIONS[act], [h])
        width = W.shape[0]
    kp = 1 if spec["link"] == "logistic" else len(spec["classes"])
    if width != kp:
        raise SpecError(f"the last mlp layer outputs {width} score(s); a {spec['link']} link over "
                        f"{len(spec['classes'])} classes needs {kp}.")
    probs, _ = link_and_label(g, h, spec["link"])
    g.cast(probs, FLOAT, out="probabilities")
    return [("probabilities", FLOAT, len(spec["classes"])), ("label", INT64, -1)]

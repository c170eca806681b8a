"""ONNX builder for shallow MLP specs.

Input vector = ``(clip(impute(x)) - mean) / scale`` for the listed numerics, then one one-hot
block per categorical. The one-hot blocks are never built: the first layer is
``Gemm(numerics, W_num, C)`` where ``C`` is the bias plus, per categorical feature, the
column of ``W`` its value selects (none for missing or unseen values), fetched from one
``[features * codes, hidden]`` table by ``LabelEncoder`` + ``Add`` + ``Gather`` +
``ReduceSum``. Then ``Gemm`` layers with ReLU / tanh, then the link (``softmax([0, s])`` for
a logistic link when every activation is finite). Arithmetic is float64 end to end, like the
reference evaluator, so huge inputs (1e38) saturate the same way instead of overflowing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from distill2rules.errors import SpecError
from distill2rules.exporters._onnx_graph import (
    DOUBLE,
    FLOAT,
    INT64,
    Graph,
    as_float,
    category_strings,
    column,
    column_lookup,
    link_and_label,
    logistic_tie,
)
from distill2rules.exporters._onnx_special import special_inputs, wire_specials
from distill2rules.exporters._onnx_trees import encode_strings, string_codes

_ACTIVATIONS = {"relu": "Relu", "tanh": "Tanh", "identity": None}
_NUMPY_ACT: dict[str, Callable[[Any], Any]] = {
    "relu": lambda v: np.maximum(v, 0.0),
    "tanh": np.tanh,
    "identity": lambda v: v,
}


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
    every = cols == list(range(len(spec["inputs"].get("numeric", []))))  # all, in order
    x = g.cast(g.numeric if every else g.columns(g.numeric, cols), DOUBLE)  # type: ignore[arg-type]
    x = g.op("Where", [g.op("IsNaN", [x]), g.const(np.asarray(impute), "impute"), x])
    if np.any(np.isfinite(lo)):
        x = g.op("Max", [x, g.const(np.asarray(lo), "lo")])
    if np.any(np.isfinite(hi)):
        x = g.op("Min", [x, g.const(np.asarray(hi), "hi")])
    x = g.op("Sub", [x, g.const(np.asarray(mean), "mean")])
    return g.op("Div", [x, g.const(np.asarray(scale), "scale")])


def _category_embedding(
    g: Graph,
    spec: Mapping[str, Any],
    preps: list[Mapping[str, Any]],
    weight: np.ndarray,
    bias: np.ndarray,
) -> str:
    """Double ``[N, H]``: the first layer's bias plus its one-hot columns picked per row.

    ``onehot @ W_cat.T`` is a sum of one column of ``W_cat`` per categorical feature (none for
    missing or unseen values), so one ``LabelEncoder`` (codes of the union of all categories),
    one ``Add`` (per-feature block offsets), one ``Gather`` from a ``[F * codes, H]`` table and
    one ``ReduceSum`` replace the one-hot blocks. The bias rides in the first feature's rows.
    """
    lookup = column_lookup(spec)
    cols, blocks, strings = [], [], []
    for p in preps:
        what = f"mlp preprocessing of '{p.get('feature')}'"
        cols.append(column(lookup, p["feature"], "categorical", what))
        cats = category_strings(p["categories"], what)
        pos: dict[str, int] = {}
        for i, c in enumerate(cats):
            pos[c] = i  # duplicates: the last position wins, as in the reference evaluator
        blocks.append(pos)
        strings += cats
    codes = string_codes(strings)  # "" (missing) and unseen strings keep all-zero rows
    n_codes = codes.n_codes
    table = np.zeros((len(preps), n_codes, weight.shape[0]), dtype=np.float64)
    start = 0
    for f, (p, pos) in enumerate(zip(preps, blocks)):
        for c, i in pos.items():
            table[f, codes.code[c]] = weight[:, start + i]
        start += len(p["categories"])
    table[0] += bias
    strings_in = (
        g.categorical
        if cols == list(range(len(spec["inputs"]["categorical"])))
        else g.columns(g.categorical, cols)
    )  # type: ignore[arg-type]
    ints = encode_strings(g, strings_in, codes, integer=True)
    # [F, N] indices: the gathered [F, N, H] rows are summed over the leading axis, i.e. F
    # contiguous [N, H] slabs (a middle-axis reduction is several times slower on batches)
    offsets = (np.arange(len(preps), dtype=np.int64) * n_codes)[:, None]
    index = g.op("Add", [g.op("Transpose", [ints], perm=[1, 0]), g.const(offsets, "blocks")])
    rows = g.op("Gather", [g.const(table.reshape(-1, weight.shape[0]), "embed"), index], axis=0)
    return g.op("ReduceSum", [rows, g.const(np.asarray([0], np.int64), "axes")], keepdims=0)


def _finite(preps: list[Mapping[str, Any]]) -> bool:
    """True when every standardised numeric input is finite whatever the raw value."""
    for p in preps:
        clip = p.get("clip", [None, None]) or [None, None]
        vals = [
            as_float(p.get("impute", 0.0), "impute"),
            as_float(p["mean"], "mean"),
            as_float(p["scale"], "scale"),
        ]
        vals += [as_float(v, "clip") if v is not None else np.inf for v in clip]
        if not np.all(np.isfinite(vals)) or vals[2] == 0:
            return False
    return True


def build_mlp(g: Graph, spec: Mapping[str, Any]) -> list[tuple[str, int, int]]:
    """Wire an MLP spec; returns the graph outputs as (name, elem type, width or -1)."""
    pre = spec.get("preprocess", {}) or {}
    nums = list(pre.get("numeric") or [])
    cats = [p for p in (pre.get("categorical") or []) if p["categories"]]  # [N, 0] blocks: no-op
    sp = list(pre.get("special") or [])  # 0/1 inputs of special values, after the one-hot blocks
    width = len(nums) + sum(len(p["categories"]) for p in cats) + len(sp)

    specials = wire_specials(g, spec)  # g.numeric now holds special values as NaN
    layers = list(spec["layers"])
    kp = 1 if spec["link"] == "logistic" else len(spec["classes"])
    h = None
    tie = logistic_tie()
    finite = _finite(nums) and all(
        np.all(np.isfinite(np.asarray(layer["weight"], dtype=np.float64)))
        and np.all(np.isfinite(np.asarray(layer["bias"], dtype=np.float64)))
        for layer in layers
    )
    for i, layer in enumerate(layers):
        W = np.asarray(layer["weight"], dtype=np.float64)
        b = np.asarray(layer["bias"], dtype=np.float64).ravel()
        if W.ndim != 2 or W.shape[1] != width or b.shape != (W.shape[0],):
            raise SpecError(
                f"mlp layer {i} has weight {W.shape} and bias {b.shape}; "
                f"expected inputs of width {width}."
            )
        act = layer.get("activation", "identity")
        if act not in _ACTIVATIONS:
            raise SpecError(
                f"unknown activation '{act}' in mlp layer {i}; expected relu, tanh or identity."
            )
        last = i == len(layers) - 1
        # logistic link on finite activations: the last layer emits [0, s] and a Softmax
        # gives [1 - sigmoid(s), sigmoid(s)] (no Sigmoid / Sub / Concat)
        # act(tie) = tie keeps the first column at tie through the last activation
        pair = (
            last
            and kp == 1
            and W.shape[0] == 1
            and finite
            and spec.get("decision_threshold") is None
            and float(_NUMPY_ACT[act](np.float64(tie))) == tie
        )
        if pair:
            W = np.vstack([np.zeros_like(W), W])
            b = np.concatenate([[tie], b])
        if i == 0:
            h = _first_layer(g, spec, nums, cats, W[:, : width - len(sp)], b)
            if sp:
                ind = special_inputs(g, spec, sp, specials)
                h = g.op(
                    "Add",
                    [
                        h,
                        g.op(
                            "MatMul", [ind, g.const(W[:, width - len(sp) :].T.copy(), "w_special")]
                        ),
                    ],
                )
        elif h is not None:
            h = g.op("Gemm", [h, g.const(W, "w"), g.const(b, "b")], transB=1)
        if _ACTIVATIONS[act]:
            h = g.op(_ACTIVATIONS[act], [h])
        width = W.shape[0] - int(pair)
    if not layers:
        h = g.broadcast_rows(np.zeros((1, 0)), "empty")
    if width != kp:
        raise SpecError(
            f"the last mlp layer outputs {width} score(s); a {spec['link']} link over "
            f"{len(spec['classes'])} classes needs {kp}."
        )
    assert h is not None
    if layers and pair:  # type: ignore[possibly-undefined]
        probs = g.op("Softmax", [h], axis=1)  # [tie, s]: sigmoid(s - tie), label s > tie
        g.op("ArgMax", [h], out="label", axis=1, keepdims=0, select_last_index=0)
    else:
        probs, _ = link_and_label(g, h, spec["link"], spec.get("decision_threshold"))
    g.cast(probs, FLOAT, out="probabilities")
    return [("probabilities", FLOAT, len(spec["classes"])), ("label", INT64, -1)]


def _first_layer(
    g: Graph,
    spec: Mapping[str, Any],
    nums: list[Mapping[str, Any]],
    cats: list[Mapping[str, Any]],
    W: np.ndarray,
    b: np.ndarray,
) -> str:
    """Double ``[N, H]`` = standardised numerics @ W_num.T + one-hot @ W_cat.T + b."""
    d = len(nums)
    if cats:
        rest = _category_embedding(g, spec, cats, W[:, d:], b)
        if not d:
            return rest
        return g.op(
            "Gemm", [_numeric_block(g, spec, nums), g.const(W[:, :d].copy(), "w"), rest], transB=1
        )
    if not d:  # no inputs at all: every row gets the bias
        return g.broadcast_rows(b[None, :], "bias")
    return g.op("Gemm", [_numeric_block(g, spec, nums), g.const(W, "w"), g.const(b, "b")], transB=1)

"""Small helpers shared by the ONNX builders: a graph under construction, float32 rounding,
column lookup and the common output tail (link, label, casts).

Only numpy, onnx and the spec helpers are imported here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from distill2rules.errors import SpecError
from distill2rules.spec import link_probabilities

ML_DOMAIN = "ai.onnx.ml"
FLOAT = TensorProto.FLOAT
DOUBLE = TensorProto.DOUBLE
INT64 = TensorProto.INT64
STRING = TensorProto.STRING
BOOL = TensorProto.BOOL

# ---------------------------------------------------------------------------- float32 rounding


def round_up_f32(values: Any) -> np.ndarray:
    """Smallest float32 >= each value: ``x >= e`` iff ``x >= round_up_f32(e)`` for float32 ``x``."""
    v = np.asarray(values, dtype=np.float64)
    with np.errstate(over="ignore"):
        f = v.astype(np.float32)
    low = f.astype(np.float64) < v  # e.g. 0.7 -> 0.69999999; FLT_MAX < 1e39 -> inf
    with np.errstate(over="ignore"):
        f[low] = np.nextafter(f[low], np.float32(np.inf))
    return f


def round_down_f32(values: Any) -> np.ndarray:
    """Largest float32 <= each value: ``x <= v`` iff ``x <= round_down_f32(v)``, float32 ``x``."""
    v = np.asarray(values, dtype=np.float64)
    with np.errstate(over="ignore"):
        f = v.astype(np.float32)
    high = f.astype(np.float64) > v
    with np.errstate(over="ignore"):
        f[high] = np.nextafter(f[high], np.float32(-np.inf))
    return f


def as_float(value: Any, what: str) -> float:
    """A JSON-ish number (float, int, ``"inf"``/``"-inf"``, ``None`` = NaN) as a Python float."""
    if value is None:
        return math.nan
    if isinstance(value, str):
        low = value.strip().lower()
        if low in ("inf", "+inf", "infinity"):
            return math.inf
        if low in ("-inf", "-infinity"):
            return -math.inf
        raise SpecError(f"{what} must be a number, got {value!r}.")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise SpecError(f"{what} must be a number, got {value!r}.") from None


def category_strings(values: Sequence[Any], what: str) -> list[str]:
    """Category labels of a spec, which must already be canonical strings."""
    out = []
    for v in values:
        if not isinstance(v, str):
            raise SpecError(
                f"{what} lists the non-string category {v!r}.",
                hint="Lower the student with canonical category strings "
                "(distill2rules.spec.to_category_strings).",
            )
        out.append(v)
    return out


def column_lookup(spec: Mapping[str, Any]) -> dict[str, tuple[str, int]]:
    """Column name -> (``"numeric"`` | ``"categorical"``, position in its input tensor)."""
    lookup: dict[str, tuple[str, int]] = {}
    for j, c in enumerate(spec["inputs"].get("numeric", [])):
        lookup[c] = ("numeric", j)
    for j, c in enumerate(spec["inputs"].get("categorical", [])):
        lookup[c] = ("categorical", j)
    return lookup


def column(lookup: Mapping[str, tuple[str, int]], feature: str, want: str, what: str) -> int:
    """Position of ``feature`` in the ``want`` input tensor; raises if it is of the other kind."""
    if feature not in lookup:
        raise SpecError(f"{what} uses unknown input '{feature}'.")
    kind, j = lookup[feature]
    if kind != want:
        raise SpecError(f"{what} treats '{feature}' as {want} but the spec lists it as {kind}.")
    return j


# ---------------------------------------------------------------------------- graph builder


class Graph:
    """An ONNX graph under construction with collision-free tensor names.

    Parameters
    ----------
    reserved : iterable of str
        Names that internal tensors must not take (graph inputs and outputs).
    """

    def __init__(self, reserved: Sequence[str]) -> None:
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self.inputs: list[Any] = []
        self.outputs: list[Any] = []
        self._used: set[str] = set(reserved)
        self._count = 0
        self.numeric: str | None = None  # [N, d_num] float32 tensor, once inputs are wired
        self.categorical: str | None = (
            None  # [N, d_cat] string tensor (flat int64 codes if code_space)
        )
        self.code_space: Any = None  # _onnx_trees.CodeSpace of an inputs="codes" graph
        self._rows: str | None = None

    def fresh(self, base: str) -> str:
        """A tensor name not used so far (never one of the reserved names)."""
        while True:
            self._count += 1
            name = f"d2r_{base}_{self._count}"
            if name not in self._used:
                self._used.add(name)
                return name

    def const(self, value: Any, base: str = "c", dtype: Any = None) -> str:
        """Add an initializer holding ``value`` and return its name."""
        arr = np.asarray(value, dtype=dtype)
        name = self.fresh(base)
        if arr.dtype == object or np.issubdtype(arr.dtype, np.str_):
            data = [str(s).encode("utf-8") for s in arr.ravel()]
            tensor = helper.make_tensor(name, STRING, arr.shape, data)  # type: ignore[arg-type]  # onnx's stub omits bytes lists
        else:
            tensor = numpy_helper.from_array(arr, name)
        self.initializers.append(tensor)
        return name

    def op(
        self,
        op_type: str,
        inputs: Sequence[str],
        *,
        out: str | Sequence[str] | None = None,
        domain: str = "",
        **attrs: Any,
    ) -> Any:
        """Append a node; returns its output name (or list of names when ``out`` is a list)."""
        outs: list[str]
        if out is None:
            outs = [self.fresh(op_type.lower())]
        elif isinstance(out, str):
            outs = [out]
        else:
            outs = list(out)
        node = helper.make_node(
            op_type, list(inputs), outs, name=self.fresh(f"n_{op_type}"), domain=domain, **attrs
        )
        self.nodes.append(node)
        return outs[0] if (out is None or isinstance(out, str)) else outs

    # -- common idioms -------------------------------------------------------------------------

    def columns(self, tensor: str, idx: Sequence[int]) -> str:
        """``tensor[:, idx]`` (a [N, len(idx)] slice, via Gather on axis 1)."""
        cols = self.const(np.asarray(idx, dtype=np.int64), "cols")
        return self.op("Gather", [tensor, cols], axis=1)

    def column_1d(self, tensor: str, j: int) -> str:
        """``tensor[:, j]`` as a [N] vector."""
        return self.op("Gather", [tensor, self.const(np.asarray(j, dtype=np.int64), "col")], axis=1)

    def cast(self, tensor: str, to: int, out: str | None = None) -> str:
        return self.op("Cast", [tensor], out=out, to=to)

    def unsqueeze(self, tensor: str, axis: int) -> str:
        axes = self.const(np.asarray([axis], dtype=np.int64), "axes")
        return self.op("Unsqueeze", [tensor, axes])

    def squeeze(self, tensor: str, axis: int, out: str | None = None) -> str:
        axes = self.const(np.asarray([axis], dtype=np.int64), "axes")
        return self.op("Squeeze", [tensor, axes], out=out)

    def rows(self) -> str:
        """A [1] int64 tensor holding the batch size N."""
        if self._rows is None:
            src = self.numeric if self.numeric is not None else self.categorical
            assert src is not None
            shape = self.op("Shape", [src])
            self._rows = self.op(
                "Slice",
                [
                    shape,
                    self.const(np.asarray([0], np.int64), "s"),
                    self.const(np.asarray([1], np.int64), "e"),
                ],
            )
        return self._rows

    def broadcast_rows(self, value: np.ndarray, base: str) -> str:
        """``value`` [1, *rest] repeated to [N, *rest]."""
        value = np.asarray(value)
        rest = self.const(np.asarray(value.shape[1:], dtype=np.int64), "shape")
        shape = self.op("Concat", [self.rows(), rest], axis=0)
        return self.op("Expand", [self.const(value, base), shape])


# ---------------------------------------------------------------------------- output tail


def logistic_tie() -> float:
    """Largest float64 score ``s`` whose reference label is ``classes[0]``.

    The reference evaluator's label is 1 iff ``1 - p1 < p1`` with ``p1 = 1 / (1 + exp(-s))``
    in float64, i.e. iff ``s > logistic_tie()`` (~1.1e-16, not 0). A logistic graph that
    computes ``[tie, s]`` gets the label by ``ArgMax`` (first maximum) and the probabilities
    by ``Softmax`` (``sigmoid(s - tie)``, within 3e-17 of ``sigmoid(s)``).
    """

    def label1(bits: int) -> bool:
        v = np.asarray(bits, dtype=np.int64).view(np.float64)
        p1 = 1.0 / (1.0 + np.exp(-v))
        return bool((1.0 - p1) < p1)

    lo = 0  # bits of 0.0: label 0
    hi = int(np.asarray(1e-10, dtype=np.float64).view(np.int64))  # label 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if label1(mid) else (mid, hi)
    return float(np.asarray(lo, dtype=np.int64).view(np.float64))


def _ordered(v: float) -> int:
    """float64 -> int64 key with the same order (for bisection over representable values)."""
    b = int(np.asarray(v, dtype=np.float64).view(np.int64))
    return b if b >= 0 else -(b & 0x7FFFFFFFFFFFFFFF)


def _unordered(k: int) -> float:
    b = k if k >= 0 else (-k) | -0x8000000000000000
    return float(np.asarray(b, dtype=np.int64).view(np.float64))


def threshold_tie(threshold: float) -> float:
    """Largest float64 score ``s`` whose reference label is ``classes[0]`` under a binary
    ``decision_threshold`` ``t``: the reference label is 1 iff ``sigmoid(s) > t`` (as
    :func:`distill2rules.spec.link_probabilities` computes it), i.e. iff ``s > threshold_tie(t)``."""

    def label1(key: int) -> bool:
        return bool(
            link_probabilities(np.asarray([[_unordered(key)]]), "logistic")[0, 1] > threshold
        )

    lo, hi = _ordered(-1000.0), _ordered(1000.0)  # sigmoid: exactly 0 and 1 in float64
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if label1(mid) else (mid, hi)
    return _unordered(lo)


def link_and_label(
    g: Graph, scores: str, link: str, threshold: float | None = None
) -> tuple[str, str]:
    """Double scores [N, K'] -> (double probabilities [N, K], ``label`` int64 [N]).

    The label is the first maximum of the double probabilities, as in the reference evaluator;
    with a binary ``decision_threshold`` (logistic link) it is ``score > threshold_tie(t)``.
    """
    if threshold is not None and link == "logistic":
        p1 = g.op("Sigmoid", [scores])
        p0 = g.op("Sub", [g.const(np.asarray(1.0, np.float64), "one"), p1])
        probs = g.op("Concat", [p0, p1], axis=1)
        above = g.op("Greater", [scores, g.const(np.asarray([[threshold_tie(threshold)]]), "tie")])
        flat = g.op("Reshape", [above, g.const(np.asarray([-1], np.int64), "flat")])
        return probs, g.op("Cast", [flat], out="label", to=7)  # INT64
    if threshold is not None:  # softmax link over two classes: compare p1 in float64
        probs = g.op("Softmax", [scores], axis=1)
        p1 = g.op("Gather", [probs, g.const(np.asarray(1, np.int64), "one_idx")], axis=1)
        above = g.op("Greater", [p1, g.const(np.asarray(float(threshold), np.float64), "thr")])
        return probs, g.op("Cast", [above], out="label", to=7)
    if link == "logistic":
        p1 = g.op("Sigmoid", [scores])
        p0 = g.op("Sub", [g.const(np.asarray(1.0, np.float64), "one"), p1])
        probs = g.op("Concat", [p0, p1], axis=1)
    elif link == "softmax":
        probs = g.op("Softmax", [scores], axis=1)
    else:
        raise SpecError(f"unknown link '{link}'; expected 'logistic' or 'softmax'.")
    label = g.op("ArgMax", [probs], out="label", axis=1, keepdims=0, select_last_index=0)
    return probs, label

"""One ``ai.onnx.ml.TreeEnsembleRegressor`` over numeric values and category codes.

Every piecewise-constant part of a student (table bins, rule conditions) becomes a small tree
of one ensemble, so a whole student costs one tree node instead of a chain of small ops
(onnxruntime spends ~0.5-1 µs per node on a single row).

* :func:`feature_matrix` maps every string of the ``categorical`` input to its index in the
  union of the strings the spec names (one ``LabelEncoder``; ``""`` has its own code, strings
  the spec never names share the code ``unseen``) and appends these codes to ``numeric``, so
  categorical column ``j`` is feature ``d_num + j`` of one float32 matrix.
* :meth:`Trees.add_search` adds a balanced binary search over sorted float32 thresholds
  (``x < t`` goes left) whose regions carry ``(target, weight)`` leaves; an optional root
  sends ``NaN`` to its own leaf (``BRANCH_LT -inf`` with ``missing_value_tracks_true``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from distill2rules.exporters._onnx_graph import ML_DOMAIN, Graph

Leaf = tuple[tuple[int, float], ...]  # ((target, weight), ...)


@dataclass
class Codes:
    """Float codes of category strings inside :func:`feature_matrix`'s matrix."""

    code: dict[str, int]  # string -> code ("" included)
    unseen: int  # code of every string not in ``code``
    offset: int  # feature index of categorical column 0

    def of(self, value: str) -> int:
        return self.code.get(value, self.unseen)

    @property
    def n_codes(self) -> int:
        return self.unseen + 1


def string_codes(strings: Iterable[str], offset: int = 0) -> Codes:
    """Codes of the category strings a caller tells apart: ``""`` is 0, the others follow in
    first-seen order and every string not named shares ``unseen``."""
    code: dict[str, int] = {"": 0}
    for s in strings:
        code.setdefault(s, len(code))
    return Codes(code, len(code), offset)


@dataclass
class CodeSpace:
    """The int64 ``categorical`` input of an ``inputs="codes"`` graph, made one flat code space.

    Column ``j``'s codes ``0..n_j + 1`` (missing, categories, unseen) become
    ``offset_j + code``; ``strings[f]`` is the string flat code ``f`` stands for (``""`` for
    missing) and ``unseen`` marks the flat codes of "any other value".
    """

    strings: list[str]
    unseen: list[bool]


def wire_codes(g: Graph, name: str, tables: Sequence[Sequence[str]]) -> None:
    """Declare int64 input ``name`` [N, d_cat] and set ``g.categorical`` to its flat codes.

    Codes are clamped to their column's range first (negative = missing, as pandas' ``-1``;
    above ``n + 1`` = unseen) so no code can reach another column's slice of the space.
    """
    from onnx import TensorProto, helper

    g.inputs.append(helper.make_tensor_value_info(name, TensorProto.INT64, ["N", len(tables)]))
    strings: list[str] = []
    unseen: list[bool] = []
    offsets, top = [], []
    for cats in tables:
        offsets.append(len(strings))
        top.append(len(cats) + 1)
        strings += [""] + [str(c) for c in cats] + [""]
        unseen += [False] * (len(cats) + 1) + [True]
    x = g.op("Max", [name, g.const(np.zeros(len(tables), dtype=np.int64), "zero")])
    x = g.op("Min", [x, g.const(np.asarray(top, dtype=np.int64), "top")])
    g.categorical = g.op("Add", [x, g.const(np.asarray(offsets, dtype=np.int64), "offsets")])
    g.code_space = CodeSpace(strings, unseen)


def encode_strings(g: Graph, strings: str, codes: Codes, *, integer: bool = False) -> str:
    """One ``LabelEncoder``: every cell of a string tensor -> its code (float32 or int64).

    In an ``inputs="codes"`` graph (``g.code_space`` set) the tensor holds flat input codes
    and one ``Gather`` from a small table maps them to the caller's codes instead.
    """
    space = getattr(g, "code_space", None)
    if space is not None:
        local = [codes.unseen if u else codes.of(s) for s, u in zip(space.strings, space.unseen)]
        table = np.asarray(local, dtype=np.int64 if integer else np.float32)
        return g.op("Gather", [g.const(table, "recode"), strings], axis=0)
    keys = list(codes.code)
    if integer:
        return g.op(
            "LabelEncoder",
            [strings],
            domain=ML_DOMAIN,
            keys_strings=keys,
            values_int64s=[codes.code[k] for k in keys],
            default_int64=codes.unseen,
        )
    return g.op(
        "LabelEncoder",
        [strings],
        domain=ML_DOMAIN,
        keys_strings=keys,
        values_floats=[float(codes.code[k]) for k in keys],
        default_float=float(codes.unseen),
    )


def feature_matrix(
    g: Graph, d_num: int, strings: Iterable[str], use_categorical: bool = True
) -> tuple[str, Codes]:
    """Float32 ``[N, d_num + d_cat]``: numeric columns, then the code of every category cell.

    ``d_num`` is 0 when no tree reads a numeric column (the matrix is then the codes alone);
    ``strings`` are the category strings the caller needs to tell apart (``""`` is always
    added). Without categorical input (or ``use_categorical=False``: no tree reads a
    categorical column) the matrix is the ``numeric`` input itself.
    """
    codes = string_codes(strings, d_num)
    if g.categorical is None or not use_categorical:
        return g.numeric, codes  # type: ignore[return-value]
    encoded = encode_strings(g, g.categorical, codes)
    if g.numeric is None or d_num == 0:
        return encoded, replace(codes, offset=0)
    return g.op("Concat", [g.numeric, encoded], axis=1), codes


def code_thresholds(n_codes: int) -> np.ndarray:
    """Thresholds ``0.5, 1.5, ...``: one search region per integer code ``0..n_codes-1``."""
    return np.arange(n_codes - 1, dtype=np.float32) + np.float32(0.5)


@dataclass
class Trees:
    """Attribute lists of one TreeEnsembleRegressor under construction."""

    nodes: dict[str, list] = field(
        default_factory=lambda: {
            k: []
            for k in (
                "treeids",
                "nodeids",
                "featureids",
                "modes",
                "values",
                "truenodeids",
                "falsenodeids",
                "missing_value_tracks_true",
            )
        }
    )
    targets: dict[str, list] = field(
        default_factory=lambda: {k: [] for k in ("treeids", "nodeids", "ids", "weights")}
    )
    n_trees: int = 0

    def _emit_tree(self, rows: list[tuple]) -> None:
        tree = self.n_trees
        self.n_trees += 1
        for nid, feature, mode, value, t_id, f_id, tracks, leaf in rows:  # node-id order
            n = self.nodes
            n["treeids"].append(tree)
            n["nodeids"].append(nid)
            n["featureids"].append(feature)
            n["modes"].append(mode)
            n["values"].append(value)
            n["truenodeids"].append(t_id)
            n["falsenodeids"].append(f_id)
            n["missing_value_tracks_true"].append(tracks)
            if mode == "LEAF":
                for target, weight in leaf:
                    self.targets["treeids"].append(tree)
                    self.targets["nodeids"].append(nid)
                    self.targets["ids"].append(int(target))
                    self.targets["weights"].append(float(weight))

    def add_search(
        self,
        feature: int,
        thresholds: Sequence[float],
        leaves: Sequence[Leaf],
        nan_leaf: Leaf | None = None,
    ) -> None:
        """Add one tree: region ``r`` (``thresholds[r-1] <= x < thresholds[r]``) -> ``leaves[r]``.

        ``thresholds`` are increasing float32 values; ``len(leaves) == len(thresholds) + 1``.
        Neighbouring regions with equal leaves are merged. With ``nan_leaf`` a root node sends
        NaN there (without it NaN would take the ``x < t`` false branches: the last region).
        Every leaf must name at least one target (a zero weight is fine).
        """
        assert len(leaves) == len(thresholds) + 1
        thr: list[float] = []
        reg: list[Leaf] = [leaves[0]]
        for t, leaf in zip(thresholds, leaves[1:]):
            if leaf != reg[-1]:
                thr.append(float(t))
                reg.append(leaf)
        rows: list[Any] = []

        def new_id() -> int:
            rows.append(None)
            return len(rows) - 1

        def build(lo: int, hi: int) -> int:
            nid = new_id()
            if lo == hi:
                rows[nid] = (nid, feature, "LEAF", 0.0, 0, 0, 0, reg[lo])
                return nid
            mid = (lo + hi + 1) // 2  # regions lo..mid-1 are below thr[mid-1]
            left = build(lo, mid - 1)
            right = build(mid, hi)
            rows[nid] = (nid, feature, "BRANCH_LT", thr[mid - 1], left, right, 0, None)
            return nid

        if nan_leaf is None:
            build(0, len(reg) - 1)
        else:
            root, missing = new_id(), new_id()
            rows[missing] = (missing, feature, "LEAF", 0.0, 0, 0, 0, nan_leaf)
            search = build(0, len(reg) - 1)
            rows[root] = (root, feature, "BRANCH_LT", float("-inf"), missing, search, 1, None)
        self._emit_tree(rows)

    def add_grid(
        self, axes: Sequence[tuple[int, Sequence[float], Sequence[int], int | None]], leaf: Any
    ) -> None:
        """Add one tree over 1..n axes: ``leaf(bins)`` for the tuple of each axis's bin.

        Each axis is ``(feature, thresholds, region_bins, nan_bin)``: region ``r`` of the
        search over ``thresholds`` has bin ``region_bins[r]``; NaN has ``nan_bin`` (``None``:
        the input is never NaN). Axis ``k + 1`` is searched below every leaf of axis ``k``.
        """
        rows: list[Any] = []

        def new_id() -> int:
            rows.append(None)
            return len(rows) - 1

        def axis(k: int, prefix: tuple[int, ...]) -> int:
            feature, thresholds, region_bins, nan_bin = axes[k]
            thr: list[float] = []
            reg: list[int] = [int(region_bins[0])]
            for t, b in zip(thresholds, region_bins[1:]):
                if int(b) != reg[-1]:
                    thr.append(float(t))
                    reg.append(int(b))

            def below(b: int) -> int:
                if k + 1 < len(axes):
                    return axis(k + 1, prefix + (b,))
                nid = new_id()
                rows[nid] = (nid, feature, "LEAF", 0.0, 0, 0, 0, tuple(leaf(prefix + (b,))))
                return nid

            def build(lo: int, hi: int) -> int:
                if lo == hi:
                    return below(reg[lo])
                nid = new_id()
                mid = (lo + hi + 1) // 2
                left = build(lo, mid - 1)
                right = build(mid, hi)
                rows[nid] = (nid, feature, "BRANCH_LT", thr[mid - 1], left, right, 0, None)
                return nid

            if nan_bin is None:
                return build(0, len(reg) - 1)
            root = new_id()
            missing = below(int(nan_bin))
            search = build(0, len(reg) - 1)
            rows[root] = (root, feature, "BRANCH_LT", float("-inf"), missing, search, 1, None)
            return root

        axis(0, ())
        self._emit_tree(rows)

    def add_chain(
        self,
        steps: Sequence[tuple[int, str, float, bool, bool]],
        target: int,
        tail: tuple[int, Sequence[float], Sequence[bool]] | None = None,
    ) -> None:
        """Add one tree adding 1 to ``target`` unless every step (and the tail) holds.

        A step ``(feature, mode, value, tracks_true, hold_if_true)`` is one branch node whose
        holding side continues the chain and whose other side is a leaf ``1``; ``tail``
        ``(feature, thresholds, holds per region)`` ends the chain with a search whose
        regions are leaves ``0`` (holds) or ``1``.
        """
        hold, fail = ((target, 0.0),), ((target, 1.0),)
        rows: list[Any] = []

        def new_id() -> int:
            rows.append(None)
            return len(rows) - 1

        def leaf(value: Leaf, feature: int) -> int:
            nid = new_id()
            rows[nid] = (nid, feature, "LEAF", 0.0, 0, 0, 0, value)
            return nid

        def chain(k: int) -> int:
            if k == len(steps):
                if tail is None:
                    return leaf(hold, 0)
                feature, thresholds, holds = tail
                return search(feature, thresholds, holds, 0, len(holds) - 1)
            feature, mode, value, tracks, hold_if_true = steps[k]
            nid = new_id()
            rest, stop = chain(k + 1), leaf(fail, feature)
            t_id, f_id = (rest, stop) if hold_if_true else (stop, rest)
            rows[nid] = (nid, feature, mode, float(value), t_id, f_id, int(tracks), None)
            return nid

        def search(
            feature: int, thresholds: Sequence[float], holds: Sequence[bool], lo: int, hi: int
        ) -> int:
            if lo == hi:
                return leaf(hold if holds[lo] else fail, feature)
            nid = new_id()
            mid = (lo + hi + 1) // 2
            left = search(feature, thresholds, holds, lo, mid - 1)
            right = search(feature, thresholds, holds, mid, hi)
            value = float(thresholds[mid - 1])
            rows[nid] = (nid, feature, "BRANCH_LT", value, left, right, 0, None)
            return nid

        if tail is not None:  # merge neighbouring regions that agree
            feature, thresholds, holds = tail
            thr, reg = [], [bool(holds[0])]
            for t, h in zip(thresholds, holds[1:]):
                if bool(h) != reg[-1]:
                    thr.append(float(t))
                    reg.append(bool(h))
            tail = (feature, thr, reg)
        chain(0)
        self._emit_tree(rows)

    def add_constant(self, leaf: Leaf) -> None:
        """Add a one-leaf tree (``base_values`` is not used: onnxruntime ignores it for targets
        that no tree writes to)."""
        self._emit_tree([(0, 0, "LEAF", 0.0, 0, 0, 0, leaf)])

    def emit(
        self, g: Graph, x: str, n_targets: int, out: str | None = None, double: bool = False
    ) -> str:
        """The TreeEnsembleRegressor node; returns its float32 ``[N, n_targets]`` output.

        ``double``: leaf weights as a float64 tensor; onnxruntime then sums in float64 when
        ``x`` is float64 (the output is still float32).
        """
        from onnx import numpy_helper

        attrs = {f"nodes_{k}": v for k, v in self.nodes.items()}
        attrs.update({f"target_{k}": v for k, v in self.targets.items()})
        if double:
            weights = np.asarray(attrs.pop("target_weights"), dtype=np.float64)
            attrs["target_weights_as_tensor"] = numpy_helper.from_array(weights, "w")
            thresholds = np.asarray(attrs.pop("nodes_values"), dtype=np.float32).astype(np.float64)
            attrs["nodes_values_as_tensor"] = numpy_helper.from_array(thresholds, "v")
        return g.op(
            "TreeEnsembleRegressor",
            [x],
            out=out,
            domain=ML_DOMAIN,
            n_targets=n_targets,
            aggregate_function="SUM",
            post_transform="NONE",
            **attrs,
        )


__all__ = [
    "CodeSpace",
    "Codes",
    "Leaf",
    "Trees",
    "code_thresholds",
    "encode_strings",
    "feature_matrix",
    "string_codes",
    "wire_codes",
]

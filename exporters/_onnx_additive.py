"""ONNX builder for additive specs (logistic regression, scorecards, EBM mains and pairs).

Layout of the graph (all score arithmetic in float64, as in the reference evaluator)::

    numeric ──► TreeEnsembleRegressor (one binary-search tree per numeric table axis)
                   │ flat table index per table term (bin * stride + offset)
    categorical ─► LabelEncoder per column ─► MatMul(stride matrix) ─┤
                                                                     ▼
                                     Gather(all tables flattened) ─► [N, T_tab, K']
    numeric ──► Gather cols ─► impute NaN ─► clip ─► × coef ────────► [N, T_lin, K']
        Concat (+ reorder to spec term order) ─► contributions ─► ReduceSum + intercept
        ─► Sigmoid / Softmax ─► probabilities, label   (K' = 1: 2-D [N, T] throughout)

Numeric binning: each axis is one tree whose root sends NaN to bin 0
(``BRANCH_LT -inf`` with ``missing_value_tracks_true``) and whose other nodes do a balanced
binary search over the edges rounded *up* to float32 (``x < e`` goes left), so a float32
``x`` lands in ``1 + #{edges <= x}`` exactly. A leaf holds ``bin * stride``; the trees of a
pair term add up into one flat index (``i1 * n2 + i2``), and the per-term table offset rides
in the leaves of the term's first tree (a one-leaf tree for purely categorical terms). All
indices are integers below 2**24, hence exact in float32.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
    round_up_f32,
)

MAX_FLAT_INDEX = 2**24  # float32 represents every integer below this exactly


@dataclass
class _Trees:
    """Attribute lists of one ai.onnx.ml TreeEnsembleRegressor under construction."""

    nodes: dict[str, list] = field(default_factory=lambda: {k: [] for k in (
        "treeids", "nodeids", "featureids", "modes", "values", "truenodeids", "falsenodeids",
        "missing_value_tracks_true")})
    targets: dict[str, list] = field(default_factory=lambda: {k: [] for k in (
        "treeids", "nodeids", "ids", "weights")})
    n_trees: int = 0

    def add_axis(self, feature: int, thresholds: np.ndarray, bins: np.ndarray, target: int,
                 stride: int, offset: int = 0) -> None:
        """Add one tree: NaN -> leaf ``offset``, else binary search of ``thresholds``.

        ``thresholds`` are distinct, increasing float32 values; region ``r`` (``0..len``) holds
        ``thresholds[r-1] <= x < thresholds[r]`` and its leaf is ``bins[r] * stride + offset``.
        """
        tree = self.n_trees
        self.n_trees += 1
        rows: list[tuple] = []  # (node_id, mode, value, true_id, false_id, tracks_true, leaf_value)

        def new_id() -> int:
            rows.append(None)  # type: ignore[arg-type]
            return len(rows) - 1

        def build(lo: int, hi: int) -> int:
            nid = new_id()
            if lo == hi:
                rows[nid] = (nid, "LEAF", 0.0, 0, 0, 0, float(bins[lo] * stride + offset))
                return nid
            mid = (lo + hi + 1) // 2  # regions lo..mid-1 are below thresholds[mid-1]
            left = build(lo, mid - 1)
            right = build(mid, hi)
            rows[nid] = (nid, "BRANCH_LT", float(thresholds[mid - 1]), left, right, 0, None)
            return nid

        root = new_id()
        missing = new_id()
        rows[missing] = (missing, "LEAF", 0.0, 0, 0, 0, float(offset))
        search = build(0, len(thresholds))
        rows[root] = (root, "BRANCH_LT", float("-inf"), missing, search, 1, None)
        for nid, mode, value, t_id, f_id, tracks, leaf in rows:  # listed in node-id order
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
                t = self.targets
                t["treeids"].append(tree)
                t["nodeids"].append(nid)
                t["ids"].append(target)
                t["weights"].append(leaf)

    def add_constant(self, target: int, value: int) -> None:
        """Add a one-leaf tree adding ``value`` to ``target`` (``base_values`` is not used:
        onnxruntime ignores it for targets that no tree writes to)."""
        tree = self.n_trees
        self.n_trees += 1
        for key, v in (("treeids", tree), ("nodeids", 0), ("featureids", 0), ("modes", "LEAF"),
                       ("values", 0.0), ("truenodeids", 0), ("falsenodeids", 0),
                       ("missing_value_tracks_true", 0)):
            self.nodes[key].append(v)
        for key, v in (("treeids", tree), ("nodeids", 0), ("ids", target),
                       ("weights", float(value))):
            self.targets[key].append(v)

    def emit(self, g: Graph, x: str, n_targets: int) -> str:
        """The TreeEnsembleRegressor node; returns its float32 [N, n_targets] output."""
        attrs = {f"nodes_{k}": v for k, v in self.nodes.items()}
        attrs.update({f"target_{k}": v for k, v in self.targets.items()})
        return g.op("TreeEnsembleRegressor", [x], domain=ML_DOMAIN, n_targets=n_targets,
                    aggregate_function="SUM", post_transform="NONE", **attrs)


def _numeric_axis_bins(edges: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Distinct float32 thresholds (rounded up) and the bin index of every search region."""
    e = np.asarray([as_float(v, f"term '{name}' edge") for v in edges], dtype=np.float64)
    if e.size and (np.isnan(e).any() or np.any(np.diff(e) < 0)):
        raise SpecError(f"term '{name}' has NaN or unsorted bin edges.",
                        hint="List the edges in increasing order.")
    up = round_up_f32(e)
    thresholds, counts = np.unique(up, return_counts=True)
    bins = np.concatenate([[1], 1 + np.cumsum(counts)]).astype(np.int64)
    return thresholds, bins


def _axis_size(axis: Mapping[str, Any], name: str) -> int:
    if axis.get("kind") == "numeric":
        return len(axis["edges"]) + 2
    if axis.get("kind") == "categorical":
        return len(axis["categories"]) + 2
    raise SpecError(f"term '{name}' has an axis of unknown kind {axis.get('kind')!r}.")


def _category_code_block(g: Graph, groups: list[tuple[int, tuple[str, ...]]], n_cat: int) -> str:
    """Float [N, G] codes, one column per (categorical column ``j``, categories) group:
    "" -> 0, listed -> 1..n, unseen -> n + 1, without copying strings column by column.

    One LabelEncoder maps every string of the ``[N, d_cat]`` input to its index in the union
    of all groups' categories (``U`` for a string in none); a Gather from a ``[G, U + 1]``
    table then gives each group's code for its column.
    """
    union: dict[str, int] = {}
    for _, cats in groups:
        for c in (*cats, ""):
            union.setdefault(c, len(union))
    u = len(union)
    table = np.empty((len(groups), u + 1), dtype=np.float32)
    for r, (_, cats) in enumerate(groups):
        pos: dict[str, int] = {}
        for i, c in enumerate(cats):
            pos[c] = i + 1  # duplicates: the last position wins, as in the reference evaluator
        pos[""] = 0
        table[r, :] = len(cats) + 1  # unseen
        for c, p in pos.items():
            table[r, union[c]] = p
    strings: str = g.categorical  # type: ignore[assignment]
    gid = g.op("LabelEncoder", [strings], domain=ML_DOMAIN, keys_strings=list(union),
               values_int64s=list(range(u)), default_int64=u)
    cols = [j for j, _ in groups]
    if cols != list(range(n_cat)):
        gid = g.columns(gid, cols)
    base = (np.arange(len(groups), dtype=np.int64) * (u + 1))[None, :]
    index = g.op("Add", [gid, g.const(base, "base")])
    return g.op("Gather", [g.const(table.ravel(), "codes"), index], axis=0)


def _table_block(g: Graph, spec: Mapping[str, Any], terms: list[Mapping[str, Any]], kp: int) -> str:
    """Double contributions of the table terms: [N, T] if K' = 1, else [N, T, K']."""
    lookup = column_lookup(spec)
    trees = _Trees()
    offsets = np.zeros(len(terms), dtype=np.int64)
    flat_tables = []
    cat_groups: dict[tuple, dict] = {}  # (column, categories) -> {term: summed stride}
    total = 0
    # offsets ride in the trees when there are trees at all; otherwise one Add
    use_trees = any(a.get("kind") == "numeric" for term in terms for a in term["axes"])
    for t, term in enumerate(terms):
        name = term.get("name", f"term {t}")
        axes = list(term["axes"])
        if not 1 <= len(axes) <= 2:
            raise SpecError(f"term '{name}' has {len(axes)} axes; tables have 1 or 2.")
        sizes = [_axis_size(a, name) for a in axes]
        scores = np.asarray(term["scores"], dtype=np.float64)
        if list(scores.shape) != sizes + [kp]:
            raise SpecError(f"term '{name}' scores have shape {scores.shape}, "
                            f"expected {tuple(sizes + [kp])}.")
        strides = [int(np.prod(sizes[a + 1:], dtype=np.int64)) for a in range(len(axes))]
        offsets[t] = total
        total += int(np.prod(sizes))
        flat_tables.append(scores.reshape(-1, kp))
        offset_pending = use_trees  # the offset rides in the term's first tree
        for axis, stride in zip(axes, strides):
            what = f"term '{name}'"
            if axis["kind"] == "numeric":
                j = column(lookup, axis["feature"], "numeric", what)
                thresholds, bins = _numeric_axis_bins(axis["edges"], name)
                offset = int(offsets[t]) if offset_pending else 0
                trees.add_axis(j, thresholds, bins, t, stride, offset)
                offset_pending = False
            else:
                j = column(lookup, axis["feature"], "categorical", what)
                cats = tuple(category_strings(axis["categories"], what))
                group = cat_groups.setdefault((j, cats), {})
                group[t] = group.get(t, 0) + stride
        if offset_pending and offsets[t]:
            trees.add_constant(t, int(offsets[t]))
    if total >= MAX_FLAT_INDEX:
        raise SpecError(f"the additive tables hold {total} cells; the ONNX exporter supports "
                        "fewer than 2**24.", hint="Use fewer bins or fewer pair terms.")
    flat = None
    if trees.n_trees:
        flat = trees.emit(g, g.numeric, len(terms))  # type: ignore[arg-type]
    if cat_groups:
        n_cat = len(spec["inputs"].get("categorical", []))
        stack = _category_code_block(g, list(cat_groups), n_cat)
        stride_matrix = np.zeros((len(cat_groups), len(terms)), dtype=np.float32)
        for r, group in enumerate(cat_groups.values()):
            for t, stride in group.items():
                stride_matrix[r, t] = stride
        cat_flat = g.op("MatMul", [stack, g.const(stride_matrix, "strides")])
        if flat is None:  # no trees: add the offsets here
            flat = g.op("Add", [cat_flat, g.const(offsets.astype(np.float32), "offsets")])
        else:
            flat = g.op("Add", [flat, cat_flat])
    assert flat is not None
    index = g.cast(flat, INT64)
    table = np.concatenate(flat_tables, axis=0)
    if kp == 1:  # [N, T] directly: reductions over a last axis are much faster in onnxruntime
        table = table[:, 0]
    return g.op("Gather", [g.const(table, "tables"), index], axis=0)


def _linear_block(g: Graph, spec: Mapping[str, Any], terms: list[Mapping[str, Any]],
                  kp: int) -> str:
    """Double contributions ``coef * clip(impute(x))``: [N, T] if K' = 1, else [N, T, K']."""
    lookup = column_lookup(spec)
    cols, impute, lo, hi, coef = [], [], [], [], []
    for term in terms:
        name = term.get("name", "?")
        what = f"term '{name}'"
        cols.append(column(lookup, term["feature"], "numeric", what))
        impute.append(as_float(term.get("impute", 0.0), f"{what} impute"))
        clip = term.get("clip", [-np.inf, np.inf]) or [-np.inf, np.inf]
        lo.append(-np.inf if clip[0] is None else as_float(clip[0], f"{what} clip"))
        hi.append(np.inf if clip[1] is None else as_float(clip[1], f"{what} clip"))
        c = np.asarray(term["coef"], dtype=np.float64).ravel()
        if c.shape != (kp,):
            raise SpecError(f"{what} has {c.size} coefficient(s), expected {kp}.")
        coef.append(c)
    every = cols == list(range(len(spec["inputs"].get("numeric", []))))  # all, in order: no Gather
    x = g.cast(g.numeric if every else g.columns(g.numeric, cols), DOUBLE)  # type: ignore[arg-type]
    x = g.op("Where", [g.op("IsNaN", [x]), g.const(np.asarray(impute), "impute"), x])
    if np.any(np.isfinite(lo)):
        x = g.op("Max", [x, g.const(np.asarray(lo), "lo")])
    if np.any(np.isfinite(hi)):
        x = g.op("Min", [x, g.const(np.asarray(hi), "hi")])
    if kp == 1:
        return g.op("Mul", [x, g.const(np.stack(coef)[:, 0], "coef")])
    return g.op("Mul", [g.unsqueeze(x, 2), g.const(np.stack(coef), "coef")])


def build_additive(g: Graph, spec: Mapping[str, Any]) -> list[tuple[str, int, int]]:
    """Wire an additive spec; returns the graph outputs as (name, elem type, width or -1)."""
    kp = 1 if spec["link"] == "logistic" else len(spec["classes"])
    terms = list(spec.get("terms", []))
    for term in terms:
        if term.get("type") not in ("linear", "table"):
            raise SpecError(f"unknown additive term type {term.get('type')!r}.")
    table_ids = [t for t, term in enumerate(terms) if term["type"] == "table"]
    linear_ids = [t for t, term in enumerate(terms) if term["type"] == "linear"]
    # blocks in the spec's order when its terms are grouped (no reordering Gather on axis 1,
    # which costs more than the rest of the graph on large batches)
    tables_first = not (linear_ids and table_ids and linear_ids[-1] < table_ids[0])
    order = table_ids + linear_ids if tables_first else linear_ids + table_ids
    blocks = []
    tables = [terms[t] for t in order if terms[t]["type"] == "table"]
    linears = [terms[t] for t in order if terms[t]["type"] == "linear"]
    if tables:
        blocks.append(_table_block(g, spec, tables, kp))
    if linears:
        blocks.insert(len(blocks) if tables_first else 0, _linear_block(g, spec, linears, kp))
    intercept = np.asarray([as_float(v, "intercept") for v in spec["intercept"]], dtype=np.float64)
    if not blocks:
        contrib = g.broadcast_rows(np.zeros((1, 0) if kp == 1 else (1, 0, kp)), "empty")
        scores = g.broadcast_rows(intercept[None, :], "intercept")
    else:
        contrib = blocks[0] if len(blocks) == 1 else g.op("Concat", blocks, axis=1)
        if order != sorted(order):  # back to the spec's term order
            inverse = np.argsort(np.asarray(order, dtype=np.int64)).astype(np.int64)
            contrib = g.op("Gather", [contrib, g.const(inverse, "order")], axis=1)
        axes = g.const(np.asarray([1], np.int64), "axes")
        total = g.op("ReduceSum", [contrib, axes], keepdims=int(kp == 1))
        scores = g.op("Add", [g.const(intercept[None, :], "intercept"), total])
    probs, label = link_and_label(g, scores, spec["link"])
    g.cast(probs, FLOAT, out="probabilities")
    if kp == 1:
        per_term = contrib
    else:  # the predicted class's score
        shape = g.const(np.asarray([len(terms), 1], np.int64), "shape")
        idx_shape = g.op("Concat", [g.rows(), shape], axis=0)
        col = g.op("Reshape", [label, g.const(np.asarray([-1, 1, 1], np.int64), "shape")])
        idx = g.op("Expand", [col, idx_shape])
        per_term = g.squeeze(g.op("GatherElements", [contrib, idx], axis=2), 2)
    g.cast(per_term, FLOAT, out="contributions")
    k = len(spec["classes"])
    return [("probabilities", FLOAT, k), ("label", INT64, -1), ("contributions", FLOAT, len(terms))]

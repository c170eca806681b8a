"""ONNX builder for additive specs (logistic regression, scorecards, EBM mains and pairs).

Every table axis is a search in one ``TreeEnsembleRegressor`` over ``[numeric, category codes]``
(see :mod:`._onnx_trees`): a root sends NaN to bin 0 (``BRANCH_LT -inf`` with
``missing_value_tracks_true``), then a balanced binary search over the edges rounded *up* to
float32 (``x < e`` goes left), so a float32 ``x`` lands in ``1 + #{edges <= x}`` exactly;
categorical axes search the codes of :func:`._onnx_trees.feature_matrix`.

* Logistic link, tables only (EBM): the leaves hold the scores (float64 weights, float64
  input); targets are ``[contributions..., 0, score]``; ``Split`` → ``contributions`` and
  ``[0, score]`` → ``Softmax`` (probabilities), ``ArgMax`` (label). 7 nodes.
* Otherwise the leaves hold each term's flat index into one concatenated float64 table
  (``bin * stride + offset``; a pair's two axes add up to ``i1 * n2 + i2``): one tree per
  input column searches the union of every term's thresholds on it once and adds each term
  axis's share to its term (:func:`_add_feature_tree`), one ``Gather``
  fetches every table contribution, linear terms are ``Where(IsNaN) → Max/Min → Mul`` in
  float64, and ``Gemm`` (``[0, score]``) + ``Softmax`` make the logistic link when no score
  can be infinite (else ``ReduceSum`` + ``Sigmoid``). All indices are below 2**24, hence
  exact in float32. When every table has one categorical axis (scorecards) the indices come
  from int64 category codes plus per-term offsets instead of trees (:func:`_coded_block`).
"""

from __future__ import annotations

from collections.abc import Mapping
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
    round_down_f32,
    round_up_f32,
)
from distill2rules.exporters._onnx_special import override_terms, wire_specials
from distill2rules.exporters._onnx_trees import (
    Codes,
    Trees,
    code_thresholds,
    encode_strings,
    feature_matrix,
    string_codes,
)

MAX_FLAT_INDEX = 2**24  # float32 represents every integer below this exactly
GEMM_SEQUENTIAL_TERMS = 256  # onnxruntime's float64 Gemm sums k = 0, 1, ... then the bias
# for at most this many terms (measured exact up to 400), like the tree ensemble sums its trees


def _numeric_axis_bins(edges: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Distinct float32 thresholds (rounded up) and the bin index of every search region."""
    e = np.asarray([as_float(v, f"term '{name}' edge") for v in edges], dtype=np.float64)
    if e.size and (np.isnan(e).any() or np.any(np.diff(e) < 0)):
        raise SpecError(
            f"term '{name}' has NaN or unsorted bin edges.",
            hint="List the edges in increasing order.",
        )
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


_Wired = list[tuple[Mapping[str, Any], int, int]]  # (axis, input column, flat-index stride)


def _parse_tables(
    spec: Mapping[str, Any],
    terms: list[Mapping[str, Any]],
    kp: int,
) -> tuple[list[np.ndarray], list[_Wired], list[str]]:
    """Checked score arrays, wired axes ``(axis, column, stride)`` and category strings."""
    lookup = column_lookup(spec)
    tables: list[np.ndarray] = []
    axes_of: list[_Wired] = []
    strings: list[str] = []
    total = 0
    for t, term in enumerate(terms):
        name = term.get("name", f"term {t}")
        axes = list(term["axes"])
        if not 1 <= len(axes) <= 2:
            raise SpecError(f"term '{name}' has {len(axes)} axes; tables have 1 or 2.")
        sizes = [_axis_size(a, name) for a in axes]
        scores = np.asarray(term["scores"], dtype=np.float64)
        if list(scores.shape) != sizes + [kp]:
            raise SpecError(
                f"term '{name}' scores have shape {scores.shape}, expected {tuple(sizes + [kp])}."
            )
        strides = [int(np.prod(sizes[a + 1 :], dtype=np.int64)) for a in range(len(axes))]
        tables.append(scores)
        wired = []
        for axis, stride in zip(axes, strides):
            what = f"term '{name}'"
            if axis["kind"] == "numeric":
                wired.append((axis, column(lookup, axis["feature"], "numeric", what), stride))
            else:
                strings += category_strings(axis["categories"], what)
                wired.append((axis, column(lookup, axis["feature"], "categorical", what), stride))
        axes_of.append(wired)
        total += int(np.prod(sizes))
    if total >= MAX_FLAT_INDEX:
        raise SpecError(
            f"the additive tables hold {total} cells; the ONNX exporter supports fewer than 2**24.",
            hint="Use fewer bins or fewer pair terms.",
        )
    return tables, axes_of, strings


def _features(
    g: Graph,
    spec: Mapping[str, Any],
    axes_of: list,
    strings: list[str],
) -> tuple[str, Codes]:
    """The tree input: numeric columns (only if a numeric axis reads them) and category codes."""
    numeric_axes = any(a["kind"] == "numeric" for wired in axes_of for a, _, _ in wired)
    categorical_axes = any(a["kind"] == "categorical" for wired in axes_of for a, _, _ in wired)
    d_num = len(spec["inputs"].get("numeric", [])) if numeric_axes else 0
    return feature_matrix(g, d_num, strings, use_categorical=categorical_axes)


def _search_axis(
    axis: Mapping[str, Any],
    j: int,
    codes: Codes,
    name: str,
) -> tuple[int, np.ndarray, np.ndarray, int | None]:
    """(feature, thresholds, bin of every region, NaN bin) of one table axis."""
    if axis["kind"] == "numeric":
        thresholds, bins = _numeric_axis_bins(axis["edges"], name)
        return j, thresholds, bins, 0
    return (
        codes.offset + j,
        code_thresholds(codes.n_codes),
        _category_bins(axis["categories"], codes),
        None,
    )


def _table_block(g: Graph, spec: Mapping[str, Any], terms: list[Mapping[str, Any]], kp: int) -> str:
    """Double contributions of the table terms: [N, T] if K' = 1, else [N, T, K']."""
    tables, axes_of, strings = _parse_tables(spec, terms, kp)
    if g.categorical is not None and all(
        len(wired) == 1 and wired[0][0]["kind"] == "categorical" for wired in axes_of
    ):
        return _coded_block(g, spec, tables, axes_of, strings, kp)
    x, codes = _features(g, spec, axes_of, strings)
    searches: dict[int, list[_Search]] = {}  # input feature -> the searches of every term axis
    offset = 0
    for t, (term, wired) in enumerate(zip(terms, axes_of)):
        name = term.get("name", f"term {t}")
        for i, (axis, j, stride) in enumerate(wired):
            base = offset if i == 0 else 0  # the term's table offset rides in its first axis
            feature, thresholds, bins, nan_bin = _search_axis(axis, j, codes, name)
            searches.setdefault(feature, []).append(
                (t, np.asarray(thresholds, dtype=np.float64), bins, nan_bin, stride, base)
            )
        offset += tables[t].size // kp
    trees = Trees()
    for feature, axes in searches.items():
        _add_feature_tree(trees, feature, axes)
    index = g.cast(trees.emit(g, x, len(terms)), INT64)
    table = np.concatenate([s.reshape(-1, kp) for s in tables], axis=0)
    if kp == 1:  # [N, T] directly: reductions over a last axis are much faster in onnxruntime
        table = table[:, 0]
    return g.op("Gather", [g.const(table, "tables"), index], axis=0)


_Search = tuple[int, np.ndarray, np.ndarray, int | None, int, int]
# (term, float32 thresholds, bin of every region, NaN bin, stride, table offset)


def _add_feature_tree(trees: Trees, feature: int, axes: list[_Search]) -> None:
    """One search over the union of the thresholds every term axis on ``feature`` uses.

    A region ``[u_{R-1}, u_R)`` of the union lies inside one region of each axis's own
    search (every threshold of the axis is one of the ``u``): the
    ``#{thresholds <= u_{R-1}}``-th. Its leaf adds ``bin * stride + offset`` of every axis
    to the axis's term, so each input is searched once however many terms read it (on Wine
    11 trees and ~75 node visits per row instead of 31 trees and ~190).
    """
    union = np.unique(np.concatenate([thr for _, thr, _, _, _, _ in axes]))
    lower = np.concatenate([[-np.inf], union])  # the smallest value of every union region
    regions = [np.searchsorted(thr, lower, side="right") for _, thr, _, _, _, _ in axes]
    leaves = [
        _one_weight_per_term(
            (t, int(bins[r[R]]) * stride + base)
            for (t, _, bins, _, stride, base), r in zip(axes, regions)
        )
        for R in range(len(lower))
    ]
    nan_leaf = None  # category codes are never NaN; a numeric column's axes all have a NaN bin
    if all(nan_bin is not None for _, _, _, nan_bin, _, _ in axes):
        nan_leaf = _one_weight_per_term(
            (t, int(nan_bin or 0) * stride + base) for t, _, _, nan_bin, stride, base in axes
        )
    trees.add_search(feature, union, leaves, nan_leaf=nan_leaf)


def _one_weight_per_term(shares: Any) -> tuple[tuple[int, float], ...]:
    """A leaf's ``(term, index share)`` pairs with the shares of one term added up (a pair of
    a column with itself): onnxruntime keeps one weight per leaf and target."""
    total: dict[int, int] = {}
    for t, share in shares:
        total[t] = total.get(t, 0) + share
    return tuple((t, float(v)) for t, v in total.items())


def _coded_block(
    g: Graph,
    spec: Mapping[str, Any],
    tables: list[np.ndarray],
    axes_of: list[_Wired],
    strings: list[str],
    kp: int,
) -> str:
    """Tables over one categorical axis each (a scorecard's one-hot coefficients): no search.

    One ``LabelEncoder`` gives every cell the int64 code of its string (``""`` 0, strings no
    table names share ``unseen``), ``Add`` offsets each column's code into its term's slice of
    one table that holds a score row per code, and one ``Gather`` fetches them all. In a
    probe on Adult this replaced a 1.5 ms tree ensemble per 10k rows with a 0.2 ms ``Add``.
    """
    codes = string_codes(strings)
    ints = encode_strings(g, g.categorical, codes, integer=True)  # type: ignore[arg-type]
    cols = [wired[0][1] for wired in axes_of]
    d_cat = len(spec["inputs"].get("categorical", []))
    picked = ints if cols == list(range(d_cat)) else g.columns(ints, cols)
    starts = np.arange(len(tables), dtype=np.int64) * codes.n_codes
    index = g.op("Add", [picked, g.const(starts, "starts")])
    rows = [
        t.reshape(-1, kp)[_category_bins(wired[0][0]["categories"], codes)]
        for t, wired in zip(tables, axes_of)
    ]
    table = np.concatenate(rows, axis=0)
    if kp == 1:
        table = table[:, 0]
    return g.op("Gather", [g.const(table, "tables"), index], axis=0)


def _direct_tables(
    g: Graph, spec: Mapping[str, Any], terms: list[Mapping[str, Any]], intercept: float
) -> tuple[str, str]:
    """Logistic all-table specs: one tree ensemble emits the outputs' inputs directly.

    Targets ``0..T-1`` are the terms' contributions (one leaf per term and row: a pair term
    is one tree searching its second axis below every bin of its first), target ``T`` is
    the label threshold (:func:`logistic_tie`) and target ``T + 1`` the score (intercept +
    every leaf), summed in float64 (float64 input and weights) and rounded once to float32.
    When a column feeds several terms, :func:`_table_block` and a ``Gemm`` give the same
    values with fewer node visits. Returns (contributions, ``[tie, score]``).
    """
    n = len(terms)
    tie = float(round_down_f32(logistic_tie()))  # s > tie iff s > logistic_tie(), float32 s
    tables, axes_of, strings = _parse_tables(spec, terms, 1)
    reads = [(a["kind"], j) for wired in axes_of for a, j, _ in wired]
    if len(set(reads)) < len(reads) and n <= GEMM_SEQUENTIAL_TERMS:
        # a column read by several terms (pairs): one search per column, then a Gather of the
        # float64 scores and a Gemm summing them in the same order as the trees (~1.8x faster
        # on 10k rows of a Wine EBM with pairs; ~5% slower than the trees without them)
        contrib = _table_block(g, spec, terms, 1)
        weights = np.zeros((n, 2), dtype=np.float64)
        weights[:, 1] = 1.0
        bias = g.const(np.asarray([tie, intercept]), "intercept")
        pair = g.op("Gemm", [contrib, g.const(weights, "ones"), bias])
        return g.cast(contrib, FLOAT, out="contributions"), g.cast(pair, FLOAT)
    x, codes = _features(g, spec, axes_of, strings)
    trees = Trees()
    for t, (term, wired) in enumerate(zip(terms, axes_of)):
        name = term.get("name", f"term {t}")
        scores = tables[t][..., 0]
        trees.add_grid(
            [_search_axis(axis, j, codes, name) for axis, j, _ in wired],
            lambda bins, t=t, scores=scores: (
                (t, float(scores[bins])),
                (n + 1, float(scores[bins])),
            ),
        )
    trees.add_constant(((n, tie), (n + 1, float(intercept))))
    y = trees.emit(g, g.cast(x, DOUBLE), n + 2, double=True)
    split = g.const(np.asarray([n, 2], dtype=np.int64), "split")
    contributions, pair = g.op("Split", [y, split], out=["contributions", g.fresh("pair")], axis=1)
    return contributions, pair


def _category_bins(categories: Any, codes: Codes) -> np.ndarray:
    """Bin of every category code: ``""`` -> 0, listed -> 1..n (last duplicate wins), else n + 1."""
    cats = list(categories)
    bins = np.full(codes.n_codes, len(cats) + 1, dtype=np.int64)
    for i, c in enumerate(cats):
        bins[codes.code[c]] = i + 1
    bins[codes.code[""]] = 0
    return bins


def _linear_block(
    g: Graph, spec: Mapping[str, Any], terms: list[Mapping[str, Any]], kp: int
) -> str:
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


def _bounded(terms: list[Mapping[str, Any]], intercept: np.ndarray) -> bool:
    """True when every score stays far below the float64 overflow for any input
    (finite tables, linear terms with finite coefficients, impute and clip bounds)."""
    bound = float(np.abs(intercept).sum())
    for term in terms:
        if term["type"] == "table":
            bound += float(np.abs(np.asarray(term["scores"], dtype=np.float64)).max(initial=0.0))
            continue
        clip = term.get("clip") or [None, None]
        ends = [as_float(v, "clip") if v is not None else np.inf for v in clip]
        impute = as_float(term.get("impute", 0.0), "impute")
        coef = np.abs(np.asarray(term["coef"], dtype=np.float64))
        if not np.isfinite(impute):
            return False
        bound += float(coef.max(initial=0.0)) * max(abs(ends[0]), abs(ends[1]))
    return bool(np.isfinite(bound) and bound < 1e300)


def build_additive(g: Graph, spec: Mapping[str, Any]) -> list[tuple[str, int, int]]:
    """Wire an additive spec; returns the graph outputs as (name, elem type, width or -1)."""
    kp = 1 if spec["link"] == "logistic" else len(spec["classes"])
    terms = list(spec.get("terms", []))
    order, tables_first, has_linear = _term_order(terms)
    intercept = np.asarray([as_float(v, "intercept") for v in spec["intercept"]], dtype=np.float64)

    specials = wire_specials(g, spec)  # g.numeric now holds special values as NaN
    thr = spec.get("decision_threshold")  # the label's own rule: the [tie, s] pair paths assume 0.5
    if (
        kp == 1
        and terms
        and not has_linear
        and specials is None
        and _bounded(terms, intercept)
        and thr is None
    ):
        _, pair = _direct_tables(g, spec, terms, float(intercept[0]))
        g.op("Softmax", [pair], out="probabilities", axis=1)  # [1 - sigmoid(s), sigmoid(s)]
        g.op("ArgMax", [pair], out="label", axis=1, keepdims=0, select_last_index=0)
        return [
            ("probabilities", FLOAT, 2),
            ("label", INT64, -1),
            ("contributions", FLOAT, len(terms)),
        ]
    contrib, scores = _contributions(g, spec, terms, order, tables_first, kp, intercept, specials)
    if scores is None and kp == 1 and _bounded(terms, intercept) and thr is None:
        probs, label = _gemm_pair(g, contrib, len(terms), float(intercept[0]))
    else:
        if scores is None:
            axes = g.const(np.asarray([1], np.int64), "axes")
            total = g.op("ReduceSum", [contrib, axes], keepdims=int(kp == 1))
            scores = g.op("Add", [g.const(intercept[None, :], "intercept"), total])
        probs, label = link_and_label(g, scores, spec["link"], thr)
    g.cast(probs, FLOAT, out="probabilities")
    per_term = contrib if kp == 1 else _decided_class_terms(g, contrib, label, len(terms))
    g.cast(per_term, FLOAT, out="contributions")
    k = len(spec["classes"])
    return [("probabilities", FLOAT, k), ("label", INT64, -1), ("contributions", FLOAT, len(terms))]


def _term_order(terms: list[Mapping[str, Any]]) -> tuple[list[int], bool, bool]:
    """(term indices in graph block order, whether table terms come first, any linear term).

    Blocks keep the spec's order when its terms are grouped (no reordering Gather on axis 1,
    which costs more than the rest of the graph on large batches).
    """
    for term in terms:
        if term.get("type") not in ("linear", "table"):
            raise SpecError(f"unknown additive term type {term.get('type')!r}.")
    table_ids = [t for t, term in enumerate(terms) if term["type"] == "table"]
    linear_ids = [t for t, term in enumerate(terms) if term["type"] == "linear"]
    tables_first = not (linear_ids and table_ids and linear_ids[-1] < table_ids[0])
    order = table_ids + linear_ids if tables_first else linear_ids + table_ids
    return order, tables_first, bool(linear_ids)


def _contributions(
    g: Graph,
    spec: Mapping[str, Any],
    terms: list[Mapping[str, Any]],
    order: list[int],
    tables_first: bool,
    kp: int,
    intercept: np.ndarray,
    specials: Any,
) -> tuple[str, str | None]:
    """Per-term contributions ``[N, T(, K')]`` in the spec's term order, and for a spec without
    terms also its scores (the intercept; None otherwise)."""
    blocks = []
    tables = [terms[t] for t in order if terms[t]["type"] == "table"]
    linears = [terms[t] for t in order if terms[t]["type"] == "linear"]
    if tables:
        blocks.append(_table_block(g, spec, tables, kp))
    if linears:
        blocks.insert(len(blocks) if tables_first else 0, _linear_block(g, spec, linears, kp))
    if not blocks:
        contrib = g.broadcast_rows(np.zeros((1, 0) if kp == 1 else (1, 0, kp)), "empty")
        return contrib, g.broadcast_rows(intercept[None, :], "intercept")
    contrib = blocks[0] if len(blocks) == 1 else g.op("Concat", blocks, axis=1)
    if order != sorted(order):  # back to the spec's term order
        inverse = np.argsort(np.asarray(order, dtype=np.int64)).astype(np.int64)
        contrib = g.op("Gather", [contrib, g.const(inverse, "order")], axis=1)
    if specials is not None:
        contrib = override_terms(g, spec, specials, contrib, kp)
    return contrib, None


def _gemm_pair(g: Graph, contrib: str, n_terms: int, intercept: float) -> tuple[str, str]:
    """Probabilities and the ``label`` output of a bounded logistic spec in 3 nodes.

    ``[tie, score] = contributions @ [[0, 1], ...] + [tie, intercept]`` in one Gemm;
    ``softmax([tie, s]) = [1 - sigmoid(s - tie), sigmoid(s - tie)]`` and ArgMax gives the
    reference label (s > tie): 3 nodes instead of 6. Only when no contribution can be
    infinite (0 * inf would make the first column NaN).
    """
    weights = np.zeros((n_terms, 2), dtype=np.float64)
    weights[:, 1] = 1.0
    pair = g.op(
        "Gemm",
        [
            contrib,
            g.const(weights, "ones"),
            g.const(np.asarray([logistic_tie(), intercept]), "intercept"),
        ],
    )
    probs = g.op("Softmax", [pair], axis=1)
    g.op("ArgMax", [pair], out="label", axis=1, keepdims=0, select_last_index=0)
    return probs, "label"


def _decided_class_terms(g: Graph, contrib: str, label: str, n_terms: int) -> str:
    """``[N, T]``: each term's score toward the predicted class (of ``[N, T, K]``)."""
    shape = g.const(np.asarray([n_terms, 1], np.int64), "shape")
    idx_shape = g.op("Concat", [g.rows(), shape], axis=0)
    col = g.op("Reshape", [label, g.const(np.asarray([-1, 1, 1], np.int64), "shape")])
    idx = g.op("Expand", [col, idx_shape])
    return g.squeeze(g.op("GatherElements", [contrib, idx], axis=2), 2)

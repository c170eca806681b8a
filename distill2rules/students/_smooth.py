"""Post-fit smoothing of additive table terms: every bin a reason can cite holds real applicants.

:func:`smooth_tables` rewrites the table terms of an additive spec in place, axis by axis:

1. adjacent numeric bins whose scores differ negligibly (the merged run spans at most
   ``tol`` in every score column) become one bin;
2. then, while a numeric bin holds fewer than ``min_count`` training rows, it is merged with the
   neighbour whose score is closest;
3. on one-axis categorical terms, levels with fewer than ``min_count`` rows share one pooled
   score (their row-weighted mean; the row-weighted mean of the whole term if the pooled levels
   are still too rare).

A merged bin scores the row-weighted mean of the bins it replaces (so the mean contribution over
the training rows is unchanged). The missing bin (index 0) and the unseen-category bin are left
alone: they are their own bins by definition. Each term then stores ``bin_counts`` (training rows
per bin, the shape of ``scores`` without the class axis) so renderings can show them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from distill2rules.spec import axis_index


def _merge_axis(
    scores: np.ndarray, counts: np.ndarray, a: int, groups: list[list[int]]
) -> tuple[np.ndarray, np.ndarray]:
    """Replace the bins along axis ``a`` by ``groups`` (lists of old indices), row-weighted."""
    s = np.moveaxis(scores, a, 0)
    c = np.moveaxis(counts, a, 0).astype(np.float64)
    new_s, new_c = [], []
    for g in groups:
        cg = c[g]
        tot = cg.sum(axis=0)
        w = np.where(tot > 0, cg / np.where(tot > 0, tot, 1.0), 1.0 / len(g))
        new_s.append((s[g] * w[..., None]).sum(axis=0))
        new_c.append(tot)
    return np.moveaxis(np.stack(new_s), 0, a), np.moveaxis(np.stack(new_c), 0, a)


def _numeric_groups(
    scores: np.ndarray, counts: np.ndarray, a: int, min_count: float, tol: float
) -> list[list[int]]:
    """Groups of adjacent bins (indices along axis ``a``; bin 0 = missing stays alone)."""
    s = np.moveaxis(scores, a, 0)
    c = np.moveaxis(counts, a, 0).astype(np.float64)
    n = s.shape[0]
    blocks: list[dict[str, Any]] = []
    for i in range(1, n):
        blocks.append(
            {
                "bins": [i],
                "count": float(c[i].sum()),
                "lo": s[i].copy(),
                "hi": s[i].copy(),
                "score": _mean_score(s, c, [i]),
            }
        )
    # 1. negligible differences: merge neighbours while the merged run's spread stays within tol
    if tol > 0:
        out: list[dict[str, Any]] = []
        for b in blocks:
            if out:
                lo, hi = np.minimum(out[-1]["lo"], b["lo"]), np.maximum(out[-1]["hi"], b["hi"])
                if float((hi - lo).max()) <= tol:
                    out[-1] = _join(out[-1], b, s, c)
                    continue
            out.append(b)
        blocks = out
    # 2. too few rows: merge the smallest block with its closer-scoring neighbour
    while len(blocks) > 1:
        i = min(range(len(blocks)), key=lambda j: blocks[j]["count"])
        if blocks[i]["count"] >= min_count:
            break
        cands = [j for j in (i - 1, i + 1) if 0 <= j < len(blocks)]
        j = min(cands, key=lambda k: float(np.abs(blocks[k]["score"] - blocks[i]["score"]).max()))
        lo_i, hi_i = min(i, j), max(i, j)
        blocks[lo_i : hi_i + 1] = [_join(blocks[lo_i], blocks[hi_i], s, c)]
    return [[0]] + [b["bins"] for b in blocks]


def _mean_score(s: np.ndarray, c: np.ndarray, bins: list[int]) -> np.ndarray:
    """Row-weighted mean score of some bins (over the other axes too): [K']."""
    sel = s[bins].reshape(-1, s.shape[-1])
    w = c[bins].reshape(-1)
    return (sel * w[:, None]).sum(axis=0) / w.sum() if w.sum() > 0 else sel.mean(axis=0)


def _join(a: dict[str, Any], b: dict[str, Any], s: np.ndarray, c: np.ndarray) -> dict[str, Any]:
    bins = a["bins"] + b["bins"]
    return {
        "bins": bins,
        "count": a["count"] + b["count"],
        "lo": np.minimum(a["lo"], b["lo"]),
        "hi": np.maximum(a["hi"], b["hi"]),
        "score": _mean_score(s, c, bins),
    }


def _pool_rare_levels(scores: np.ndarray, counts: np.ndarray, min_count: float) -> np.ndarray:
    """One-axis categorical table: levels (bins 1..n) under ``min_count`` rows share a pooled score."""
    s = scores.copy()
    n = s.shape[0] - 2
    rare = [b for b in range(1, n + 1) if counts[b] < min_count]
    if len(rare) == 0:
        return s
    c = counts.astype(np.float64)
    pool = rare if c[rare].sum() >= min_count else list(range(1, n + 1))
    w = c[pool]
    mean = (s[pool] * w[:, None]).sum(axis=0) / w.sum() if w.sum() > 0 else s[pool].mean(axis=0)
    s[rare] = mean
    return s


def _counts(
    term: dict[str, Any],
    num: np.ndarray,
    cat: np.ndarray,
    lookup: dict[str, tuple[str, int]],
    weights: np.ndarray | None,
) -> np.ndarray:
    axes = term["axes"]
    idx = [axis_index(ax, num, cat, lookup) for ax in axes]
    shape = tuple(np.shape(term["scores"])[:-1])
    flat = np.ravel_multi_index(tuple(idx), shape)
    return np.bincount(flat, weights=weights, minlength=int(np.prod(shape))).reshape(shape)


def smooth_tables(
    spec: dict[str, Any],
    numeric: np.ndarray,
    categorical: np.ndarray,
    numeric_columns: list[str],
    categorical_columns: list[str],
    *,
    min_share: float,
    tol: float = 0.0,
) -> dict[str, Any]:
    """Merge sparse/flat bins of every table term (see the module docstring); returns ``spec``.

    ``numeric``/``categorical`` are the training rows (the student's ``RawInputs``).
    """
    lookup = {c: ("numeric", j) for j, c in enumerate(numeric_columns)}
    lookup.update({c: ("categorical", j) for j, c in enumerate(categorical_columns)})
    n = numeric.shape[0] if numeric.shape[1] else categorical.shape[0]
    min_count = math.ceil(max(0.0, float(min_share)) * n)
    for term in spec["terms"]:
        if term["type"] != "table":
            continue
        scores = np.asarray(term["scores"], dtype=np.float64)
        counts = _counts(term, numeric, categorical, lookup, None)
        if min_count > 0 or tol > 0:
            for a, ax in enumerate(term["axes"]):
                if ax["kind"] == "numeric":
                    groups = _numeric_groups(scores, counts, a, min_count, tol)
                    if len(groups) < scores.shape[a]:
                        scores, counts = _merge_axis(scores, counts, a, groups)
                        edges = [float(e) for e in ax["edges"]]
                        # the group starting at old bin b keeps the lower edge of b (edges[b - 2])
                        ax["edges"] = [edges[g[0] - 2] for g in groups[2:]]
                elif len(term["axes"]) == 1:
                    scores = _pool_rare_levels(scores, counts, min_count)
        term["scores"] = scores.tolist()
        term["bin_counts"] = np.rint(counts).astype(np.int64).tolist()
    return spec

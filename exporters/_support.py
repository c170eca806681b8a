"""Training-data support stored in a spec at fit time (for reason codes and counterfactuals).

Reason codes must cite references that real applicants occupy, and counterfactuals must
propose values that real applicants have. Both need to know how the *training rows* spread
over the student's bins, which the fitted parameters alone do not say. :func:`attach_support`
adds that, computed from the student's own training rows (never synthetic ones):

* every ``table`` term of an additive spec gets ``"bin_counts"`` (the field the EBM smoother and
  the scorecard already write; kept when present): the number of training rows in each bin
  (cell, for pairs), nested like ``scores`` without the class axis;
* the spec gets ``"data_support"``: ``{"n_rows": N, "quantiles": {feature: [q_0, q_1, ...,
  q_100]}, "categories": {feature: {category: count}}, "missing": {feature: count}}`` over the
  columns the student reads. Numeric quantiles are percentiles of the non-missing values,
  special values (``spec["special_values"]``) left out.

Both keys are optional: specs written before they existed explain as before (every bin counts
as supported). See ``docs/explanations.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from distill2rules.spec import axis_index, mask_specials, prepare_inputs

__all__ = ["attach_support", "data_support", "term_counts"]

PERCENTILES = np.arange(101, dtype=np.float64)


def _mask_specials(spec: Mapping[str, Any], num: np.ndarray) -> np.ndarray:
    """Numeric inputs with declared special values set to NaN (when the spec declares any)."""
    return mask_specials(spec, num)[0]


def attach_support(spec: dict[str, Any], X: Any) -> dict[str, Any]:
    """Add bin ``counts`` to table terms and ``data_support`` to ``spec`` (in place; returned).

    Parameters
    ----------
    spec : dict
        A fitted student's spec.
    X : DataFrame
        The student's training rows (raw columns).
    """
    num, cat = prepare_inputs(spec, X)
    masked = _mask_specials(spec, num)
    num_cols = list(spec["inputs"].get("numeric", []))
    cat_cols = list(spec["inputs"].get("categorical", []))
    support: dict[str, Any] = {
        "n_rows": int(len(num) if num_cols else len(cat)),
        "quantiles": {},
        "categories": {},
        "missing": {},
    }
    for j, f in enumerate(num_cols):
        x = masked[:, j].astype(np.float64)
        ok = x[~np.isnan(x)]
        support["missing"][f] = int(np.isnan(num[:, j]).sum())
        if ok.size:
            support["quantiles"][f] = [
                float(v) for v in np.percentile(ok, PERCENTILES, method="lower")
            ]
    for j, f in enumerate(cat_cols):
        vals, counts = np.unique(cat[:, j].astype(str), return_counts=True)
        support["categories"][f] = {str(v): int(c) for v, c in zip(vals, counts) if v != ""}
        support["missing"][f] = int(sum(int(c) for v, c in zip(vals, counts) if v == ""))
    spec["data_support"] = support
    if spec.get("terms"):  # tables of additive specs: training rows per bin
        lookup = {c: ("numeric", j) for j, c in enumerate(num_cols)}
        lookup.update({c: ("categorical", j) for j, c in enumerate(cat_cols)})
        for term in spec["terms"]:
            if term.get("type") != "table" or term_counts(term) is not None:
                continue
            shape = np.shape(term["scores"])[:-1]
            idx = tuple(axis_index(ax, masked, cat, lookup) for ax in term["axes"])
            counts = np.zeros(shape, dtype=np.int64)
            np.add.at(counts, idx, 1)
            term["bin_counts"] = counts.tolist()
    return spec


def term_counts(term: Mapping[str, Any]) -> np.ndarray | None:
    """A table term's training-row counts per bin (cell), or None when the spec has none."""
    counts = term.get("bin_counts", term.get("counts"))
    if counts is None:
        return None
    arr = np.asarray(counts, dtype=np.float64)
    if arr.shape != np.shape(term["scores"])[:-1]:
        return None
    return arr


def data_support(spec: Mapping[str, Any]) -> Mapping[str, Any]:
    """``spec["data_support"]`` or an empty support (older specs)."""
    return spec.get("data_support") or {
        "n_rows": 0,
        "quantiles": {},
        "categories": {},
        "missing": {},
    }

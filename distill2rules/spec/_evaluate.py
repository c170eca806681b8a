"""Reference evaluator of a spec in plain numpy: the front door over the kind classes.

This is the semantics every exporter must reproduce (the ONNX graph, reason codes, rule
cards). Students predict through it, so "the Python student" and "the spec" are the same
function by construction. What differs between kinds lives in their classes
(:mod:`distill2rules.spec._additive`, ``_rule_list``, ``_mlp``).

Numeric inputs are taken as float32 (the ONNX input type) and compared with thresholds in
float64, which is exact for float32 values: ``x >= e`` for a float32 ``x`` is the same as
``x >= round_up_to_float32(e)``, and ``x <= v`` the same as ``x <= round_down_to_float32(v)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from distill2rules.spec._core import decide, prepare_inputs
from distill2rules.spec._kinds import typed

__all__ = ["evaluate", "predict_proba", "term_names"]


def evaluate(
    spec: Mapping[str, Any],
    X: Any = None,
    *,
    numeric: np.ndarray | None = None,
    categorical: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Evaluate a spec on raw rows.

    Pass a DataFrame ``X`` or the two prepared tensors. Returns a dict with
    ``probabilities [n, K]`` and ``label [n]`` (class index) for every kind, plus
    ``scores [n, K']`` and ``contributions [n, n_terms, K']`` (additive), ``rule [n]``
    (rule lists), or ``scores`` (mlp).
    """
    spec = typed(spec)
    if X is not None:
        numeric, categorical = prepare_inputs(spec, X)
    assert numeric is not None and categorical is not None
    numeric = np.asarray(numeric, dtype=np.float32)
    n = numeric.shape[0] if numeric.ndim == 2 and numeric.shape[1] else len(categorical)
    numeric = numeric.reshape(n, -1)
    categorical = np.asarray(categorical, dtype=object).reshape(n, -1)
    out = spec.outputs(numeric, categorical)
    out["label"] = decide(spec, out["probabilities"])
    return out


def predict_proba(spec: Mapping[str, Any], X: Any) -> np.ndarray:
    return evaluate(spec, X)["probabilities"]


def term_names(spec: Mapping[str, Any]) -> Sequence[str]:
    return [t["name"] for t in spec.get("terms", [])]

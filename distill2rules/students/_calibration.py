"""Post-distillation calibration, folded into the spec's parameters.

Soft targets at τ > 1 or α < 1 make students under-confident. Temperature scaling fits one
scale ``a`` on the validation split (hard labels, log-loss) and multiplies the student's
scores by it. A single positive scale never changes the predicted class, so fidelity and
accuracy are untouched while calibration (ECE, log-loss) improves. Because the scale is folded
into the spec (terms, intercept, last layer, rule probabilities), the ONNX graph, reason codes
and rule card all include it.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
from scipy.optimize import minimize_scalar

from distill2rules import spec as spec_mod
from distill2rules.kd import log_softmax


def _log_scores(spec: dict, num: np.ndarray, cat: np.ndarray) -> np.ndarray:
    out = spec_mod.evaluate(spec, numeric=num, categorical=cat)
    if "scores" in out:
        s = out["scores"]
        return np.column_stack([np.zeros(len(s)), s[:, 0]]) if s.shape[1] == 1 else s
    return np.log(np.clip(out["probabilities"], 1e-12, 1.0))


def fit_temperature(scores: np.ndarray, y_idx: np.ndarray) -> float:
    """Scale ``a`` in [0.05, 20] minimising the log-loss of ``softmax(a · scores)``."""
    y_idx = np.asarray(y_idx, dtype=np.int64)

    def nll(log_a: float) -> float:
        return float(-log_softmax(np.exp(log_a) * scores)[np.arange(len(y_idx)), y_idx].mean())

    res = minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded", options={"xatol": 1e-4})
    return float(np.exp(res.x))


def fold_scale(spec: dict[str, Any], a: float) -> dict[str, Any]:
    """Return a copy of ``spec`` whose scores are multiplied by ``a`` (probabilities sharpened by ``a``)."""
    s = copy.deepcopy(spec)
    kind = s["kind"]
    if kind == "additive":
        s["intercept"] = [a * v for v in s["intercept"]]
        for t in s["terms"]:
            if t["type"] == "linear":
                t["coef"] = [a * v for v in t["coef"]]
            else:
                t["scores"] = (a * np.asarray(t["scores"], dtype=float)).tolist()
    elif kind == "mlp":
        last = s["layers"][-1]
        last["weight"] = (a * np.asarray(last["weight"], dtype=float)).tolist()
        last["bias"] = (a * np.asarray(last["bias"], dtype=float)).tolist()
    elif kind == "rule_list":
        for r in list(s["rules"]) + [s["default"]]:
            logp = a * np.log(np.clip(np.asarray(r["probabilities"], dtype=float), 1e-12, 1.0))
            p = np.exp(logp - logp.max())
            r["probabilities"] = (p / p.sum()).tolist()
    return s


def calibrate_spec(spec: dict[str, Any], num: np.ndarray, cat: np.ndarray, y_idx: np.ndarray) -> dict[str, Any]:
    """Temperature-scale ``spec`` on validation inputs; records ``calibration`` in the spec."""
    scores = _log_scores(spec, num, cat)
    a = fit_temperature(scores, y_idx)
    out = fold_scale(spec, a)
    before = float(-log_softmax(scores)[np.arange(len(y_idx)), y_idx].mean())
    after = float(-log_softmax(a * scores)[np.arange(len(y_idx)), y_idx].mean())
    out["calibration"] = {"method": "temperature", "scale": a, "fitted_on": "validation split",
                          "val_log_loss_before": before, "val_log_loss_after": after}
    return out

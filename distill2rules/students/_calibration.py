"""Post-distillation calibration, folded into the spec's parameters.

Soft targets at τ > 1 or α < 1 make students under-confident. Temperature scaling fits one
scale ``a`` on the validation split (hard labels, log-loss) and multiplies the student's
scores by it. A single positive scale never changes the predicted class, so fidelity and
accuracy are untouched while calibration (ECE, log-loss) improves. Because the scale is folded
into the spec (terms, intercept, last layer, rule probabilities), the ONNX graph, reason codes
and rule card all include it.

**Calibration never changes a decision.** A binary Platt map ``a·m + b`` (or a rule list's
re-estimated probabilities) shifts the log-odds: probabilities fitted to the true labels, but
the student was fitted to reproduce the teacher's decisions (at τ = 0.01 a Platt-calibrated
tree lost 3 points of fidelity on credit data). The spec then records the
``decision_threshold`` ``t`` on ``P(classes[1])`` that keeps every decision of the uncalibrated
student (``sigmoid(b)`` for Platt); :func:`distill2rules.spec.decide`, the ONNX ``label``
output, reason codes and the rule card use it.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

try:
    from scipy.optimize import minimize_scalar
except ModuleNotFoundError as _exc:  # students need the [fit] extra
    from distill2rules._optional import missing_dependency

    raise missing_dependency(_exc, purpose="fitting students") from None

from distill2rules import spec as spec_mod
from distill2rules.errors import ConfigError
from distill2rules.kd import log_softmax
from distill2rules.spec import AdditiveSpec, KindTable, MLPSpec, RuleListSpec, fired_rule


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

    res = minimize_scalar(
        nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded", options={"xatol": 1e-4}
    )
    return float(np.exp(res.x))


def fold_scale(spec: dict[str, Any], a: float) -> dict[str, Any]:
    """Return a copy of ``spec`` whose scores are multiplied by ``a`` (probabilities sharpened by ``a``;
    each spec kind folds it into its own parameters: :meth:`distill2rules.spec.Spec.scaled`)."""
    return spec_mod.typed(spec).scaled(a)


def fit_platt(scores: np.ndarray, y_idx: np.ndarray) -> tuple[float, float]:
    """Binary Platt scaling: ``(a, b)`` minimising the log-loss of ``sigmoid(a · margin + b)``."""
    from scipy.optimize import minimize
    from scipy.special import log_expit

    m = scores[:, 1] - scores[:, 0]
    y = np.asarray(y_idx, dtype=np.float64)

    def nll(x: np.ndarray) -> tuple[float, np.ndarray]:
        z = x[0] * m + x[1]
        loss = -(y * log_expit(z) + (1 - y) * log_expit(-z)).mean()
        g = (1.0 / (1.0 + np.exp(-z)) - y) / len(y)
        return float(loss), np.array([float((g * m).sum()), float(g.sum())])

    res = minimize(
        nll, np.array([1.0, 0.0]), jac=True, method="L-BFGS-B", bounds=[(0.05, 20.0), (-10.0, 10.0)]
    )
    return float(res.x[0]), float(res.x[1])


def fold_shift(spec: dict[str, Any], b: float) -> dict[str, Any]:
    """Return a copy of a binary ``spec`` whose log-odds are shifted by ``b``
    (:meth:`distill2rules.spec.Spec.shifted`)."""
    return spec_mod.typed(spec).shifted(b)


def refit_rules(
    spec: dict[str, Any],
    num: np.ndarray,
    cat: np.ndarray,
    y_idx: np.ndarray,
    *,
    smoothing: float = 20.0,
) -> dict[str, Any]:
    """Rule lists: re-estimate each rule's class probabilities on the validation rows it covers,
    shrunk towards its fitted probabilities with weight ``smoothing`` (pseudo-rows)."""
    s = copy.deepcopy(spec)
    fired = fired_rule(s, num, cat)
    k = len(s["classes"])
    for i, r in enumerate(list(s["rules"]) + [s["default"]]):
        counts = np.bincount(np.asarray(y_idx)[fired == i], minlength=k).astype(float)
        prior = np.asarray(r["probabilities"], dtype=float)
        p = (counts + smoothing * prior) / (counts.sum() + smoothing)
        r["probabilities"] = p.tolist()
    return s


def default_method(spec: dict[str, Any]) -> str:
    """Platt for binary rule lists and binary additive students; temperature otherwise (MLP,
    more classes). A rule list's few distinct probabilities cannot be re-centred by one scale
    (measured on Adult), so after Platt scaling each binary rule's probability is refined on the
    validation rows it covers (``"platt+refit"``: shrunk towards its Platt value, then projected
    onto the decisions: rules deciding class 0 stay below the recorded threshold, class 1 above); an additive student fitted to the teacher's decisions (τ = 0) has its
    log-odds centred on the teacher's boundary, not on the true class rates, so it needs the
    shift too (issue 18: ECE after temperature scaling was 0.5–0.8 points worse than the
    student fitted to the true labels). Decisions are kept by the recorded threshold."""
    return _DEFAULT_METHOD.of(spec) if len(spec["classes"]) == 2 else "temperature"


_METHODS = ("temperature", "platt", "platt+refit", "refit")

#: the calibration a binary spec of each kind gets by default (more classes: temperature)
_DEFAULT_METHOD: KindTable[str] = KindTable("default calibration")
_DEFAULT_METHOD.add(AdditiveSpec, "platt")
_DEFAULT_METHOD.add(RuleListSpec, "platt+refit")
_DEFAULT_METHOD.add(MLPSpec, "temperature")

#: per-rule re-estimation on validation rows (``refit``, ``platt+refit``), for kinds that have one
_REFITS: KindTable[Any] = KindTable("per-rule re-estimation")
_REFITS.add(RuleListSpec, refit_rules)


def calibrate_spec(
    spec: dict[str, Any], num: np.ndarray, cat: np.ndarray, y_idx: np.ndarray, method: str = "auto"
) -> dict[str, Any]:
    """Re-calibrate ``spec`` on validation inputs and fold it into the parameters.

    ``method``: ``"temperature"`` (one scale; keeps every decision), ``"platt"`` (binary: scale and
    shift of the log-odds), ``"platt+refit"`` (binary rule lists: Platt, then each rule refined on
    the validation rows it covers, projected onto its decision), ``"refit"`` (rule lists: each
    rule re-estimated) or ``"auto"`` (:func:`default_method`). Records ``calibration``.
    """
    if method == "auto":
        method = default_method(spec)
    if method not in _METHODS:
        raise ConfigError(
            "calibration method must be 'auto', "
            + ", ".join(f"'{m}'" for m in _METHODS)
            + f", got {method!r}."
        )
    refit = _REFITS.get(spec)  # per-rule re-estimation: rule lists only
    if method == "refit" and refit is None:
        method = "temperature"
    if method == "platt+refit" and refit is None:
        method = "platt"
    if method in ("platt", "platt+refit") and len(spec["classes"]) != 2:
        method = "temperature"
    scores = _log_scores(spec, num, cat)
    y_idx = np.asarray(y_idx, dtype=np.int64)
    before = float(-log_softmax(scores)[np.arange(len(y_idx)), y_idx].mean())
    binary = len(spec["classes"]) == 2
    if method == "refit":
        a, b = 1.0, 0.0
        out = refit(spec, num, cat, y_idx)
        if binary and not _keep_rule_decisions(spec, out):
            method = (
                "platt"  # no threshold separates the re-estimated rules: scale and shift instead
            )
    if method == "temperature":
        a, b = fit_temperature(scores, y_idx), 0.0
        out = fold_scale(spec, a)
    elif method in ("platt", "platt+refit"):
        a, b = fit_platt(scores, y_idx)
        out = fold_shift(fold_scale(spec, a), b)
    if binary and method != "refit":
        _keep_map_decisions(spec, out, a, b)
    if method == "platt+refit":
        # each rule's probability refined on the validation rows it covers, shrunk towards its
        # Platt probability; kept only when a threshold still separates the decisions
        refined = refit(out, num, cat, y_idx)
        refined.pop("decision_threshold", None)
        if _keep_rule_decisions(spec, refined) or _clip_rule_decisions(
            spec, refined, num, cat, y_idx
        ):
            out = refined
        else:  # pragma: no cover - the projection always finds a threshold
            method = "platt"
    if out.get("decision_threshold") is not None and method != "platt+refit":
        _snap_threshold(spec, out, num, cat)
    after_scores = _log_scores(out, num, cat)
    after = float(-log_softmax(after_scores)[np.arange(len(y_idx)), y_idx].mean())
    out["calibration"] = {
        "method": method,
        "scale": a,
        "shift": b,
        "fitted_on": "validation split",
        "val_log_loss_before": before,
        "val_log_loss_after": after,
    }
    if out.get("decision_threshold") is not None:
        out["calibration"]["decision_threshold"] = out["decision_threshold"]
        out["calibration"]["decisions"] = (
            "kept: the threshold reproduces the uncalibrated student's decisions"
        )
    moved = (
        spec_mod.evaluate(out, numeric=num, categorical=cat)["label"]
        != spec_mod.evaluate(spec, numeric=num, categorical=cat)["label"]
    )
    out["calibration"]["val_decisions_moved"] = int(moved.sum())
    return out


def _keep_map_decisions(spec: dict[str, Any], out: dict[str, Any], a: float, b: float) -> None:
    """Binary scale-and-shift map ``m -> a·m + b`` of the log-odds: the boundary ``m0`` (0, or the
    spec's own threshold) moves to ``a·m0 + b``; record it as ``out["decision_threshold"]``."""
    t0 = spec.get("decision_threshold")
    m1 = a * (0.0 if t0 is None else float(np.log(t0) - np.log1p(-t0))) + b
    if m1 != 0.0 or t0 is not None:
        # the spec's own sigmoid: a row exactly on the old boundary gets P(classes[1]) == t (kept)
        out["decision_threshold"] = float(
            spec_mod.link_probabilities(np.asarray([[m1]]), "logistic")[0, 1]
        )


def _snap_threshold(
    spec: dict[str, Any], out: dict[str, Any], num: np.ndarray, cat: np.ndarray
) -> None:
    """Move the threshold into the gap between the calibrated ``P(classes[1])`` of the validation
    rows each decision holds, so floating-point rounding of ``a·m + b`` cannot flip a row whose
    uncalibrated score sat exactly on the boundary (tables often sum to exactly 0)."""
    old = spec_mod.evaluate(spec, numeric=num, categorical=cat)["label"]
    p1 = spec_mod.evaluate(out, numeric=num, categorical=cat)["probabilities"][:, 1]
    lo = float(p1[old == 0].max()) if (old == 0).any() else 0.0
    hi = float(p1[old == 1].min()) if (old == 1).any() else 1.0
    t = float(out["decision_threshold"])
    if lo < hi and not lo <= t < hi:
        out["decision_threshold"] = float(
            np.clip(min(max(t, lo), np.nextafter(hi, 0.0)), 1e-12, 1.0 - 1e-12)
        )


def _keep_rule_decisions(spec: dict[str, Any], out: dict[str, Any]) -> bool:
    """Re-estimated rule probabilities: a threshold between the new ``P(classes[1])`` of the rules
    that predicted each class keeps every decision. False when no threshold separates them."""
    table = np.asarray(
        [r["probabilities"] for r in spec["rules"]] + [spec["default"]["probabilities"]],
        dtype=float,
    )
    old = spec_mod.decide(spec, table)
    p1 = np.asarray(
        [r["probabilities"][1] for r in out["rules"]] + [out["default"]["probabilities"][1]],
        dtype=float,
    )
    lo = float(p1[old == 0].max()) if (old == 0).any() else 0.0
    hi = float(p1[old == 1].min()) if (old == 1).any() else 1.0
    if not lo < hi:
        return False
    t = float(np.clip(0.5 * (lo + hi), 1e-12, 1.0 - 1e-12))
    if t != 0.5 or spec.get("decision_threshold") is not None:
        out["decision_threshold"] = t
    return True


def _clip_rule_decisions(
    spec: dict[str, Any], out: dict[str, Any], num: np.ndarray, cat: np.ndarray, y_idx: np.ndarray
) -> bool:
    """Re-estimated binary rule probabilities that no threshold separates: choose the threshold
    ``t`` whose projection (rules deciding class 0 capped just below ``t``, class 1 raised just
    above it) has the lowest validation log-loss, and apply it. Every decision is kept."""
    rules = list(out["rules"]) + [out["default"]]
    table = np.asarray(
        [r["probabilities"] for r in spec["rules"]] + [spec["default"]["probabilities"]],
        dtype=float,
    )
    old = spec_mod.decide(spec, table)
    p1 = np.asarray([r["probabilities"][1] for r in rules], dtype=float)
    fired = fired_rule(spec, num, cat)
    n1 = np.bincount(fired, weights=(np.asarray(y_idx) == 1).astype(float), minlength=len(rules))
    n0 = np.bincount(fired, minlength=len(rules)).astype(float) - n1
    eps = 1e-4
    best: tuple[float, float] | None = None
    for t in np.unique(np.clip(np.concatenate([p1, [0.5]]), 0.01, 0.99)):
        q = np.where(old == 1, np.maximum(p1, t + eps), np.minimum(p1, t - eps))
        q = np.clip(q, 1e-6, 1 - 1e-6)
        loss = float(-(n1 * np.log(q) + n0 * np.log1p(-q)).sum())
        if best is None or loss < best[0]:
            best = (loss, float(t))
    if best is None:
        return False
    t = best[1]
    q = np.where(old == 1, np.maximum(p1, t + eps), np.minimum(p1, t - eps))
    for r, qi in zip(rules, q):
        r["probabilities"] = [float(1.0 - qi), float(qi)]
    out["decision_threshold"] = t
    return True

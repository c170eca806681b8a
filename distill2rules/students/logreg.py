"""Sparse logistic regression / scorecard student.

The soft cross-entropy ``−Σ t_k log p_k`` is minimised directly (no row duplication) with
L-BFGS-B on the split-variable form ``w = u − v, u, v ≥ 0`` of the elastic-net penalty
``l1·Σ|w| + l2/2·Σw²``. The bounds give exact L1 sparsity and signed (monotone)
coefficients for free. Numerics are imputed (median), clipped to the training range and
standardised; categoricals are one-hot (with a missing indicator). Coefficients are reported
on the raw scale in the spec.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit, log_expit

from distill2rules.errors import ConfigError
from distill2rules.kd import log_softmax
from distill2rules.spec import MISSING_CATEGORY
from distill2rules.students._base import RawInputs, SoftTargetStudent, numeric_standardisation
from distill2rules.students._special import indicator_column, special_entry, special_levels


def _design(inputs: RawInputs, prep: dict) -> np.ndarray:
    blocks = []
    for j, p in enumerate(prep["numeric"]):
        x = inputs.numeric[:, j].astype(np.float64)
        x = np.where(np.isnan(x), p["impute"], x)
        x = np.clip(x, p["clip"][0], p["clip"][1])
        blocks.append(((x - p["mean"]) / p["scale"])[:, None])
    for j, p in enumerate(prep["categorical"]):
        col = inputs.categorical[:, j]
        levels = p["levels"]  # includes MISSING_CATEGORY if a missing indicator is used
        pos = {c: i for i, c in enumerate(levels)}
        oh = np.zeros((len(col), len(levels)))
        idx = np.fromiter((pos.get(v, -1) for v in col), dtype=np.int64, count=len(col))
        ok = idx >= 0
        oh[np.flatnonzero(ok), idx[ok]] = 1.0
        blocks.append(oh)
    for lv in prep[
        "special"
    ]:  # one indicator per special value (the numeric part sees them as missing)
        blocks.append(indicator_column(inputs, lv.feature, lv.key)[:, None])
    return np.hstack(blocks) if blocks else np.zeros((inputs.n, 0))


def _prep(inputs: RawInputs, min_category_count: int) -> dict:
    numeric = numeric_standardisation(inputs)
    categorical = []
    for j, name in enumerate(inputs.categorical_columns):
        vals, counts = np.unique(inputs.categorical[:, j].astype(str), return_counts=True)
        levels = sorted(
            v for v, c in zip(vals, counts) if c >= min_category_count or v == MISSING_CATEGORY
        )
        categorical.append({"feature": name, "levels": levels})
    return {"numeric": numeric, "categorical": categorical, "special": special_levels(inputs)}


def _feature_slices(prep: dict) -> list[np.ndarray]:
    """Design columns of every feature (a numeric column's special indicators come last)."""
    slices, start = [], 0
    for p in prep["numeric"]:
        slices.append([start])
        start += 1
    for p in prep["categorical"]:
        slices.append(list(range(start, start + len(p["levels"]))))
        start += len(p["levels"])
    for lv in prep["special"]:
        slices[lv.j].append(start)
        start += 1
    return [np.asarray(s, dtype=np.int64) for s in slices]


def fit_soft_logistic(
    Z: np.ndarray,
    T: np.ndarray,
    *,
    l1: float,
    l2: float,
    sample_weight: np.ndarray | None = None,
    sign: np.ndarray | None = None,
    x0: np.ndarray | None = None,
    max_iter: int = 500,
    tol: float = 1e-7,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Minimise mean soft cross-entropy + elastic net. Returns ``(W [d, K'], b [K'], x_opt)``.

    ``sign[j] = +1`` forces ``W[j] >= 0``, ``-1`` forces ``W[j] <= 0`` (binary only), 0 free.
    """
    n, d = Z.shape
    k = T.shape[1]
    kp = 1 if k == 2 else k
    sw = np.ones(n) if sample_weight is None else sample_weight / sample_weight.mean()
    t1: Any = T[:, 1] if kp == 1 else None

    def unpack(x: np.ndarray):
        u = x[: d * kp].reshape(d, kp)
        v = x[d * kp : 2 * d * kp].reshape(d, kp)
        b = x[2 * d * kp :]
        return u, v, b

    def fun(x: np.ndarray):
        u, v, b = unpack(x)
        W = u - v
        S = Z @ W + b
        if kp == 1:
            s = S[:, 0]
            loss_rows = -(t1 * log_expit(s) + (1 - t1) * log_expit(-s))
            G = ((expit(s) - t1) * sw / n)[:, None]
        else:
            ls = log_softmax(S)
            loss_rows = -(T * ls).sum(axis=1)
            G = (np.exp(ls) - T) * (sw / n)[:, None]
        loss = (
            float((loss_rows * sw).mean())
            + l1 * float(u.sum() + v.sum())
            + 0.5 * l2 * float((W * W).sum())
        )
        gW = Z.T @ G + l2 * W
        gu = gW + l1
        gv = -gW + l1
        gb = G.sum(axis=0)
        return loss, np.concatenate([gu.ravel(), gv.ravel(), gb])

    bounds: list[tuple[float | None, float | None]] = []
    for part in ("u", "v"):
        for j in range(d):
            for _ in range(kp):
                s = 0 if sign is None else int(sign[j])
                fixed = (part == "v" and s > 0) or (part == "u" and s < 0)
                bounds.append((0.0, 0.0) if fixed else (0.0, None))
    bounds += [(None, None)] * kp
    if x0 is None:
        prior = np.clip((T * sw[:, None]).mean(axis=0), 1e-6, 1)
        b0 = np.log(prior[1] / prior[0]) if kp == 1 else np.log(prior) - np.log(prior).mean()
        x0 = np.concatenate([np.zeros(2 * d * kp), np.atleast_1d(b0)])
    res = minimize(
        fun,
        x0,
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": max_iter, "ftol": tol, "gtol": 1e-6},
    )
    u, v, b = unpack(res.x)
    W = u - v
    W[np.abs(W) < 1e-10] = 0.0
    return W, b, res.x


class LogRegStudent(SoftTargetStudent):
    """Sparse (L1 / elastic-net) logistic regression that learns from soft targets.

    Parameters
    ----------
    l1, l2 : float
        Penalty strengths on the mean soft cross-entropy (standardised features).
    max_terms : int or None
        Keep at most this many features with non-zero weight (``l1`` is raised until it holds).
    categorical_features : list of str or None
        Columns to one-hot; default: non-numeric dtypes.
    monotone : dict or str or None
        ``{"income": +1, "debt": -1}`` or ``"income:+,debt:-"``: signed coefficients (binary).
    min_category_count : int
        Categories seen fewer times get no coefficient of their own (scored as unseen, 0).
    special_values : dict or str or None
        Codes that are levels, not numbers (``{"months_since_delinq": {"-9": "no record"}}``):
        the numeric part is fitted on the other rows, each code gets its own coefficient.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    >>> LogRegStudent(max_terms=5).fit(X, y).to_spec()["kind"]
    'additive'
    """

    student_name = "logreg"

    def __init__(
        self,
        *,
        l1: float = 1e-3,
        l2: float = 1e-4,
        max_terms: int | None = None,
        categorical_features: Sequence[str] | None = None,
        monotone: Any = None,
        min_category_count: int = 5,
        max_iter: int = 500,
        random_state: int | None = None,
        special_values: Any = None,
        calibrate: bool = False,
    ) -> None:
        self.special_values = special_values
        self.l1 = l1
        self.l2 = l2
        self.max_terms = max_terms
        self.categorical_features = categorical_features
        self.monotone = monotone
        self.min_category_count = min_category_count
        self.max_iter = max_iter
        self.random_state = random_state
        self.calibrate = calibrate

    def _fit_spec(self, inputs, targets, y_idx, classes, *, val, sample_weight):
        if self.l1 < 0 or self.l2 < 0:
            raise ConfigError(f"l1 and l2 must be >= 0, got l1={self.l1}, l2={self.l2}.")
        prep = _prep(inputs, self.min_category_count)
        Z = _design(inputs, prep)
        k = len(classes)
        slices = _feature_slices(prep)
        sign = np.zeros(Z.shape[1])
        if self.monotone_:
            if k != 2:
                raise ConfigError(
                    "monotone constraints on a logistic-regression student need a binary target."
                )
            for j, p in enumerate(prep["numeric"]):
                sign[j] = self.monotone_.get(p["feature"], 0)
        W, b, x = fit_soft_logistic(
            Z,
            targets,
            l1=self.l1,
            l2=self.l2,
            sample_weight=sample_weight,
            sign=sign,
            max_iter=self.max_iter,
        )
        if self.max_terms is not None:
            W, b = self._limit_terms(Z, targets, sample_weight, sign, slices, W, b, x)
        self.n_iter_ = None
        return self._lower(prep, W, b, k, targets)

    def _limit_terms(self, Z, T, sw, sign, slices, W, b, x):
        def n_active(W):
            return sum(bool(np.any(W[s] != 0)) for s in slices)

        if n_active(W) <= self.max_terms:
            return W, b
        lo, hi = np.log10(max(self.l1, 1e-6)), 0.0
        best = None
        for _ in range(14):  # bisection on log10(l1)
            mid = 0.5 * (lo + hi)
            Wm, bm, xm = fit_soft_logistic(
                Z,
                T,
                l1=10**mid,
                l2=self.l2,
                sample_weight=sw,
                sign=sign,
                x0=x,
                max_iter=self.max_iter,
            )
            if n_active(Wm) <= self.max_terms:
                best, hi = (Wm, bm), mid
            else:
                lo, x = mid, xm
        if best is None:
            best = fit_soft_logistic(
                Z, T, l1=1.0, l2=self.l2, sample_weight=sw, sign=sign, max_iter=self.max_iter
            )[:2]
        # refit the selected features with the user's penalty so the kept coefficients are not over-shrunk
        Wb, _bb = best
        keep = np.zeros(Z.shape[1], dtype=bool)
        for s in slices:
            if np.any(Wb[s] != 0):
                keep[s] = True
        Wk, bk, _ = fit_soft_logistic(
            Z[:, keep],
            T,
            l1=self.l1,
            l2=self.l2,
            sample_weight=sw,
            sign=sign[keep],
            max_iter=self.max_iter,
        )
        Wfull = np.zeros_like(Wb)
        Wfull[keep] = Wk
        return Wfull, bk

    def _lower(
        self, prep: dict, W: np.ndarray, b: np.ndarray, k: int, targets: np.ndarray | None = None
    ) -> dict:
        kp = W.shape[1]
        intercept = np.array(b, dtype=np.float64)
        terms = []
        row = 0
        n_plain = len(prep["numeric"]) + sum(len(p["levels"]) for p in prep["categorical"])
        special_w = {
            (lv.feature, lv.key): (lv, W[n_plain + i]) for i, lv in enumerate(prep["special"])
        }
        for p in prep["numeric"]:
            w = W[row]
            row += 1
            own = [(lv, ws) for (f, _), (lv, ws) in special_w.items() if f == p["feature"]]
            if not np.any(w != 0) and not any(np.any(ws != 0) for _, ws in own):
                continue
            coef = w / p["scale"]
            intercept -= w * p["mean"] / p["scale"]
            terms.append(
                {
                    "name": p["feature"],
                    "type": "linear",
                    "feature": p["feature"],
                    "coef": coef.tolist(),
                    "impute": p["impute"],
                    "clip": list(p["clip"]),
                    "display": {"mean": p["mean"], "scale": p["scale"]},
                }
            )
            if (
                own
            ):  # a special row scores coef * impute (its numeric part) + its own indicator weight
                base = coef * float(np.clip(p["impute"], *p["clip"]))
                terms[-1]["special"] = {
                    lv.key: special_entry(lv, base + ws, targets) for lv, ws in own
                }
        for p in prep["categorical"]:
            levels = p["levels"]
            w = W[row : row + len(levels)]
            row += len(levels)
            if not np.any(w != 0):
                continue
            cats = [c for c in levels if c != MISSING_CATEGORY]
            scores = np.zeros((len(cats) + 2, kp))
            for i, c in enumerate(levels):
                scores[0 if c == MISSING_CATEGORY else 1 + cats.index(c)] = w[i]
            terms.append(
                {
                    "name": p["feature"],
                    "type": "table",
                    "axes": [{"feature": p["feature"], "kind": "categorical", "categories": cats}],
                    "scores": scores.tolist(),
                }
            )
        return {
            "kind": "additive",
            "link": "logistic" if kp == 1 else "softmax",
            "intercept": intercept.tolist(),
            "terms": terms,
            "meta": {"penalty": {"l1": self.l1, "l2": self.l2}, "max_terms": self.max_terms},
        }

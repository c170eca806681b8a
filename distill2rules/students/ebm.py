"""Explainable Boosting Machine student (interpret), learning from soft targets.

Soft targets are learned by **logit regression** (see :mod:`distill2rules.kd._targets`): an
EBM regressor fits the target log-odds (binary) or centred log-probabilities (multiclass, one
regressor per class) with IRLS weights ``t(1 − t)``. That is the Newton approximation of the
soft cross-entropy, costs one pass over the n rows (duplicating rows per class cost ~25× more
on Adult), and puts the effort on rows near the teacher's decision boundary, where fidelity is
decided. Hard one-hot targets (the no-KD baseline, α = 1, τ = 0) use the EBM classifier itself.
Near-one-hot targets (τ well below 1; :func:`~distill2rules.kd.is_near_hard`), whose clipped
log-odds and ~1e-6 weights would break the regression, use the weighted-rows reduction.
``soft_method="weighted"`` forces the weighted-rows reduction (exact, slower).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from distill2rules._optional import require
from distill2rules.errors import ConfigError
from distill2rules.kd import as_logit_targets, as_weighted_rows, is_hard, is_near_hard
from distill2rules.spec import MISSING_CATEGORY
from distill2rules.students._base import RawInputs, SoftTargetStudent
from distill2rules.students._smooth import smooth_tables
from distill2rules.students._special import special_entry, special_levels

_SPECIAL_SUFFIX = " [special]"  # the nominal column of a feature's codes, merged back into its term


def _special_columns(inputs: RawInputs) -> dict[str, str]:
    """Nominal companion column name -> numeric feature, for features with special values."""
    taken = set(inputs.numeric_columns) | set(inputs.categorical_columns)
    out = {}
    for name in inputs.numeric_columns:
        if name in inputs.special:
            col = name + _SPECIAL_SUFFIX
            while col in taken:
                col += "_"
            out[col] = name
    return out


def _ebm_frame(inputs: RawInputs) -> pd.DataFrame:
    data: dict[str, Any] = {}
    for j, c in enumerate(inputs.numeric_columns):
        x = inputs.numeric[:, j].astype(np.float64)
        finite = x[np.isfinite(x)]
        if (
            finite.size and np.isinf(x).any()
        ):  # EBM rejects inf when fitting: clamp to the observed range
            x = np.where(np.isposinf(x), finite.max(), np.where(np.isneginf(x), finite.min(), x))
        data[c] = x
    for j, c in enumerate(inputs.categorical_columns):
        col = inputs.categorical[:, j].astype(object)
        data[c] = np.where(col == MISSING_CATEGORY, None, col)  # type: ignore[call-overload]  # numpy's stub has no None scalar
    cols = inputs.numeric_columns + inputs.categorical_columns
    for code_col, name in _special_columns(inputs).items():  # the codes as a small nominal feature
        j = inputs.numeric_columns.index(name)
        keys = np.asarray([None, *inputs.special[name]], dtype=object)
        data[code_col] = keys[inputs.special_index[j] + 1]
        cols.append(code_col)
    return pd.DataFrame(data, columns=cols)


def _axis(model: Any, feature_index: int, level: int) -> dict:
    name = model.feature_names_in_[feature_index]
    bins = model.bins_[feature_index]
    b = bins[min(level, len(bins) - 1)]
    if isinstance(b, dict):
        cats = [c for c, _ in sorted(b.items(), key=lambda kv: kv[1])]
        return {"feature": str(name), "kind": "categorical", "categories": [str(c) for c in cats]}
    return {
        "feature": str(name),
        "kind": "numeric",
        "edges": [float(e) for e in np.asarray(b, dtype=np.float64)],
    }


def _trim(scores: np.ndarray, axes: list[dict]) -> np.ndarray:
    """EBM stores an extra 'unseen' bin for continuous axes; our numeric axes have m + 2 bins."""
    idx = []
    for ax in axes:
        n = len(ax["edges"]) + 2 if ax["kind"] == "numeric" else len(ax["categories"]) + 2
        idx.append(slice(0, n))
    return scores[tuple(idx)]


class EBMStudent(SoftTargetStudent):
    """EBM student (main effects + optional pairwise interactions) learning from soft targets.

    Parameters
    ----------
    interactions : int
        Number of pairwise terms (0 = a pure GAM). Multiclass students use main effects only.
    max_bins, max_interaction_bins : int
        Binning resolution of main effects and pairs.
    outer_bags : int
        EBM bagging rounds (more = smoother shapes, slower). Default 1: as faithful to the teacher
        as more bags, in a fraction of the time (``benchmarks/fidelity.py``).
    soft_method : {"auto", "logit", "weighted"}
        How soft targets are learned (see module docstring).
    monotone : dict or str or None
        ``{"income": +1}``: EBM's native monotone constraints.
    min_bin_share : float
        Smooth shapes after the fit: adjacent numeric bins are merged (row-weighted scores) until
        each holds at least this share of the training rows, and rarer categorical levels share a
        pooled score, so no bin a reason can cite rests on a handful of rows (0 turns it off; see
        :mod:`distill2rules.students._smooth`). Bin counts are stored in the spec (``bin_counts``).
    merge_tol : float
        Also merge adjacent numeric bins whose scores differ by at most this (log-odds).
    smoothing_rounds, min_samples_leaf, greedy_ratio : int, int, float
        interpret's own smoothing settings (passed through).
    special_values : dict or str or None
        Codes that are levels, not numbers: the numeric shape is fitted with them as missing
        plus a small nominal feature of the codes, merged into one term with a score per code.
    """

    student_name = "ebm"

    def __init__(
        self,
        *,
        interactions: int = 10,
        max_bins: int = 256,
        max_interaction_bins: int = 32,
        outer_bags: int = 1,
        learning_rate: float = 0.05,
        max_rounds: int = 5000,
        categorical_features: Sequence[str] | None = None,
        monotone: Any = None,
        soft_method: str = "auto",
        min_bin_share: float = 0.01,
        merge_tol: float = 0.01,
        smoothing_rounds: int = 75,
        min_samples_leaf: int = 4,
        greedy_ratio: float = 10.0,
        n_jobs: int = -1,
        random_state: int | None = 0,
        special_values: Any = None,
        calibrate: bool = False,
    ) -> None:
        self.special_values = special_values
        self.interactions = interactions
        self.max_bins = max_bins
        self.max_interaction_bins = max_interaction_bins
        self.outer_bags = outer_bags
        self.learning_rate = learning_rate
        self.max_rounds = max_rounds
        self.categorical_features = categorical_features
        self.monotone = monotone
        self.soft_method = soft_method
        self.min_bin_share = min_bin_share
        self.merge_tol = merge_tol
        self.smoothing_rounds = smoothing_rounds
        self.min_samples_leaf = min_samples_leaf
        self.greedy_ratio = greedy_ratio
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.calibrate = calibrate

    def _params(self, inputs: RawInputs, n_classes: int) -> dict:
        specials = list(_special_columns(inputs))
        cols = inputs.numeric_columns + inputs.categorical_columns + specials
        mono = None
        if self.monotone_:
            mono = [int(self.monotone_.get(c, 0)) for c in cols]
        extra = {"exclude": [(c, o) for c in specials for o in cols if o != c]} if specials else {}
        return dict(
            **extra,
            feature_names=cols,
            feature_types=["continuous"] * len(inputs.numeric_columns)
            + ["nominal"] * (len(inputs.categorical_columns) + len(specials)),
            interactions=int(self.interactions) if n_classes == 2 else 0,
            max_bins=self.max_bins,
            max_interaction_bins=self.max_interaction_bins,
            outer_bags=self.outer_bags,
            learning_rate=self.learning_rate,
            max_rounds=self.max_rounds,
            monotone_constraints=mono,
            smoothing_rounds=self.smoothing_rounds,
            min_samples_leaf=self.min_samples_leaf,
            greedy_ratio=self.greedy_ratio,
            n_jobs=self.n_jobs,
            random_state=self.random_state,
        )

    def _fit_spec(self, inputs, targets, y_idx, classes, *, val, sample_weight):
        import warnings

        require("interpret", purpose="the EBM student")
        from interpret.glassbox import ExplainableBoostingClassifier, ExplainableBoostingRegressor

        if self.soft_method not in ("auto", "logit", "weighted"):
            raise ConfigError(
                f"soft_method must be 'auto', 'logit' or 'weighted', got {self.soft_method!r}."
            )
        if self.monotone_ and len(classes) > 2:
            raise ConfigError("monotone constraints on an EBM student need a binary target.")
        k = len(classes)
        Xf = _ebm_frame(inputs)
        params = self._params(inputs, k)
        sw = np.ones(len(Xf)) if sample_weight is None else sample_weight
        models: list[tuple[Any, int | None]] = []  # (model, class column or None = all columns)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if is_hard(targets) and self.soft_method == "auto":
                clf = ExplainableBoostingClassifier(**params)
                clf.fit(Xf, np.argmax(targets, axis=1), sample_weight=sw)
                models.append((clf, None))
                self.method_ = "classifier (hard labels)"
            elif self.soft_method == "weighted" or (
                self.soft_method == "auto" and is_near_hard(targets)
            ):
                near = self.soft_method == "auto"
                wr = as_weighted_rows(targets, sw, min_weight=1e-3 if near else 1e-6)
                # keep a row's class copies in the same bag so EBM's validation split cannot separate them
                clf = ExplainableBoostingClassifier(**params)
                clf.fit(
                    Xf.iloc[wr.rows].reset_index(drop=True), wr.classes, sample_weight=wr.weights
                )
                models.append((clf, None))
                self.method_ = "classifier on weighted rows" + (
                    " (near-one-hot targets)" if near else ""
                )
            else:
                z, w = as_logit_targets(targets)
                for c in range(z.shape[1]):
                    reg = ExplainableBoostingRegressor(**params)
                    reg.fit(Xf, z[:, c], sample_weight=w[:, c] * sw)
                    models.append((reg, c if z.shape[1] > 1 else None))
                self.method_ = "regression on target log-odds (IRLS weights)"
        self.ebm_models_ = [m for m, _ in models]
        if not 0.0 <= float(self.min_bin_share) < 0.5 or float(self.merge_tol) < 0:
            raise ConfigError(
                f"min_bin_share must be in [0, 0.5) and merge_tol >= 0, got {self.min_bin_share}, "
                f"{self.merge_tol}."
            )
        spec = self._lower(models, k)
        if inputs.special:  # codes' own bins first (smoothing keeps them)
            spec["terms"] = _merge_specials(spec["terms"], inputs, targets)
        spec = smooth_tables(
            spec,
            inputs.numeric,
            inputs.categorical,
            inputs.numeric_columns,
            inputs.categorical_columns,
            min_share=float(self.min_bin_share),
            tol=float(self.merge_tol),
        )
        spec["meta"].update(
            min_bin_share=float(self.min_bin_share), merge_tol=float(self.merge_tol)
        )
        return spec

    def _lower(self, models: list[tuple[Any, int | None]], k: int) -> dict:
        kp = 1 if k == 2 else k
        intercept = np.zeros(kp)
        merged: dict[str, dict] = {}
        order: list[str] = []
        for model, col in models:
            icpt = np.atleast_1d(np.asarray(model.intercept_, dtype=np.float64))
            if col is None:
                intercept += icpt[:kp] if icpt.size >= kp else icpt[0]
            else:
                intercept[col] += icpt[0]
            for feats, scores in zip(model.term_features_, model.term_scores_):
                level = len(feats) - 1
                axes = [_axis(model, f, level) for f in feats]
                s = _trim(np.asarray(scores, dtype=np.float64), axes)
                if s.ndim == len(axes):
                    s = s[..., None]
                key = json.dumps(axes, sort_keys=True)
                if key not in merged:
                    name = " x ".join(a["feature"] for a in axes)
                    merged[key] = {
                        "name": name,
                        "type": "table",
                        "axes": axes,
                        "scores": np.zeros(s.shape[:-1] + (kp,)),
                    }
                    order.append(key)
                if col is None:
                    merged[key]["scores"] += s if s.shape[-1] == kp else np.repeat(s, kp, axis=-1)
                else:
                    merged[key]["scores"][..., col] += s[..., 0]
        terms = []
        for key in order:
            t = merged[key]
            t["scores"] = t["scores"].tolist()
            terms.append(t)
        return {
            "kind": "additive",
            "link": "logistic" if kp == 1 else "softmax",
            "intercept": intercept.tolist(),
            "terms": terms,
            "meta": {
                "soft_method": self.method_,
                "interactions": self.interactions,
                "outer_bags": self.outer_bags,
                "max_bins": self.max_bins,
            },
        }


def _merge_specials(terms: list[dict], inputs: RawInputs, targets: np.ndarray) -> list[dict]:
    """Fold each feature's nominal code term into its numeric term as ``special`` scores.

    EBM saw special rows as missing in the numeric column plus their code in the companion
    column: a non-special row scores ``numeric[bin] + codes[none]``, a row holding code ``c``
    ``numeric[missing] + codes[c]``.
    """
    companion = _special_columns(inputs)
    out = []
    for t in terms:
        feats = [a["feature"] for a in t["axes"]]
        if any(f in companion for f in feats):
            continue  # merged below (pairs with the companion column are excluded at fit time)
        out.append(t)
    for col, name in companion.items():
        code_term = next((t for t in terms if [a["feature"] for a in t["axes"]] == [col]), None)
        main = next(
            (t for t in out if len(t["axes"]) == 1 and t["axes"][0]["feature"] == name), None
        )
        if code_term is None or main is None:
            continue
        codes = np.asarray(code_term["scores"], dtype=np.float64)
        cats = code_term["axes"][0]["categories"]
        scores = np.asarray(main["scores"], dtype=np.float64)
        main["scores"] = (scores + codes[0]).tolist()
        j = inputs.numeric_columns.index(name)
        special = {}
        for lv in special_levels(inputs, j):
            c = codes[1 + cats.index(lv.key)] if lv.key in cats else codes[-1]
            special[lv.key] = special_entry(lv, scores[0] + c, targets)
        main["special"] = special
    return out

"""Ordered rule-list student learned from the teacher's soft targets.

Algorithm (sequential covering with a beam search, all on histograms):

1. Every numeric column is cut at up to ``max_bins`` quantile thresholds (observed values,
   so ``x <= v`` is exact in float32); missing values get a bin of their own. Every categorical
   column keeps its levels, the missing value ``""`` being one of them.
2. A rule is grown by a beam search (``beam_width`` candidates, ``max_conditions`` deep). A
   candidate condition is a threshold (``<=`` or ``>``, with the missing rows sent explicitly
   to the side that scores better), a categorical set (prefixes of the levels sorted by their
   mean target, the optimal binary partition for two classes, Breiman 1984), or
   ``is_missing`` / ``not_missing``.
3. A candidate rule covering rows ``S`` of the rows still uncovered ``R`` is scored, from
   per-bin sums of the **soft targets** ``t``, by

   ``Σ_{i∈S} (t_i,ĉ_S − t_i,ĉ_R)  +  ce_weight · n_S · KL(t̄_S ‖ t̄_R)``

   where ``t̄`` is a mean target and ``ĉ`` its argmax: the soft agreement the rule gains by
   predicting its own class instead of the current default's, plus the decrease of its rows'
   soft cross-entropy (which ranks rules predicting the default class and sharpens
   probabilities). Scoring only the rule's own rows, not the rest as a tree split would, keeps
   large impure rules (frozen once appended) from winning; on Adult it lifted fidelity of a
   10-rule list from 89.6% (split gain) to 93.8%.
4. The best rule is appended; its rows are removed; repeat until ``max_rules`` rules or no
   rule with ``min_support`` rows scores above zero. The default rule predicts the mean target
   of the rows left. With a validation split (``prune``), the list is cut to the prefix with
   the best validation agreement.
5. A rule's probabilities are its mean soft target, shrunk towards the overall mean by
   ``smoothing`` pseudo-rows; ``support`` is its row count and ``class_counts`` the soft
   counts ``Σ_i t_ik`` of its rows.

Monotone constraints (two classes): a rule whose conditions on a constrained feature point
"up" (``x > v`` for ``+``, ``x <= v`` for ``−``) must predict at least every later rule; a rule
pointing "down" at most every later rule. Then the output is monotone along the feature for
any values of the others (a row can only move to an earlier up-rule or a later rule when it
leaves a down-rule). The search only proposes such conditions in one direction per rule
and the probabilities are clipped to these bounds from the last rule to the first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from distill2rules import spec as spec_mod
from distill2rules.errors import ConfigError
from distill2rules.spec import MISSING_CATEGORY
from distill2rules.students import _figs
from distill2rules.students._base import RawInputs, SoftTargetStudent
from distill2rules.students._special import special_levels

_TINY = 1e-12
_LEARNERS = ("auto", "beam", "figs")


# ----------------------------------------------------------------------------- binned view


@dataclass
class _Binned:
    """Integer codes of every column: numeric bins (missing = last) and categorical levels."""

    names: list[str]
    is_numeric: list[bool]
    codes: list[np.ndarray]  # (n,) int64 per feature
    thresholds: list[
        np.ndarray
    ]  # numeric: sorted thresholds t_0 < ... < t_{m-1}; categorical: empty
    levels: list[list[str]]  # categorical levels (may include ""); numeric: []
    specials: list[list[float]] = field(
        default_factory=list
    )  # numeric: special values (codes m + 2 + i)

    def n_codes(self, j: int) -> int:
        if not self.is_numeric[j]:
            return len(self.levels[j])
        return len(self.thresholds[j]) + 2 + len(self.specials[j])


def _numeric_thresholds(x: np.ndarray, max_bins: int) -> np.ndarray:
    finite = x[np.isfinite(x)]
    if finite.size == 0:
        return np.zeros(0)
    uniq = np.unique(finite)
    if uniq.size <= max_bins:
        return uniq[:-1].astype(np.float64)
    q = np.quantile(finite, np.linspace(0, 1, max_bins + 1)[1:-1], method="lower")
    # also cut among the distinct values, so rare large values (e.g. capital gains) get cuts
    qd = np.quantile(uniq, np.linspace(0, 1, max_bins // 4 + 1)[1:-1], method="lower")
    t = np.unique(np.concatenate([q, qd]))
    return t[t < uniq[-1]].astype(np.float64)


def _bin(inputs: RawInputs, max_bins: int) -> _Binned:
    names: list[str] = []
    is_num: list[bool] = []
    codes: list[np.ndarray] = []
    thr: list[np.ndarray] = []
    levels: list[list[str]] = []
    specials: list[list[Any]] = []
    for j, name in enumerate(inputs.numeric_columns):
        x = inputs.numeric[:, j].astype(np.float64)  # special values are NaN here
        t = _numeric_thresholds(x, max_bins)
        c = np.searchsorted(t, x, side="left").astype(np.int64)  # x <= t_b  <=>  code <= b
        c[np.isnan(x)] = len(t) + 1
        own = special_levels(inputs, j)
        for i, lv in enumerate(own):  # each special value is a code of its own, off the grid
            c[lv.rows] = len(t) + 2 + i
        specials.append([lv.value for lv in own])
        names.append(name)
        is_num.append(True)
        codes.append(c)
        thr.append(t)
        levels.append([])
    for j, name in enumerate(inputs.categorical_columns):
        col = inputs.categorical[:, j].astype(str)
        uniq, c = np.unique(col, return_inverse=True)
        names.append(name)
        is_num.append(False)
        codes.append(c.astype(np.int64))
        thr.append(np.zeros(0))
        levels.append([str(v) for v in uniq])
        specials.append([])
    return _Binned(names, is_num, codes, thr, levels, specials)


# ----------------------------------------------------------------------------- scores


def _rule_scores(S: np.ndarray, NS: np.ndarray, rest: np.ndarray, ce_weight: float) -> np.ndarray:
    """Score of candidate rules covering soft-target sums ``S [..., K]`` over ``NS`` rows.

    ``rest`` is the mean target of all rows still uncovered (the current default). The score
    is the soft agreement gained on the rule's rows by predicting their own class instead of
    the default's, ``Σ_i t_i,ĉ_S − t_i,ĉ_R``, plus ``ce_weight`` times the decrease of their
    soft cross-entropy, ``Σ_i Σ_k t_ik log(p̄_S,k / p̄_R,k) = n_S · KL(p̄_S ‖ p̄_R)``.
    """
    c_r = int(np.argmax(rest))
    agree = S.max(axis=-1) - S[..., c_r]
    n = np.maximum(NS, _TINY)[..., None]
    s = np.maximum(S, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        kl = np.where(
            s > 0, s * (np.log(np.maximum(s, _TINY) / n) - np.log(np.maximum(rest, _TINY))), 0.0
        ).sum(axis=-1)
    return agree + ce_weight * kl


# ----------------------------------------------------------------------------- conditions


@dataclass(frozen=True)
class _Cond:
    """One condition in code space on feature ``j``; each kind is a subclass: :class:`_AtMost` /
    :class:`_Above` (bin ``b``), :class:`_Missing` / :class:`_NotMissing`, :class:`_IsSpecial` /
    :class:`_NotSpecial` (``codes``: indices into ``specials[j]``) on numeric features,
    :class:`_InSet` (``codes``: a frozenset of level codes) on categorical ones."""

    j: int
    b: int = -1
    codes: frozenset = frozenset()
    missing: bool = False
    #: threshold conditions: -1 keeps the low side, +1 the high side (monotone roles); else 0
    direction: ClassVar[int] = 0

    def mask(self, binned: _Binned, rows: np.ndarray) -> np.ndarray:
        """Which of ``rows`` satisfy the condition."""
        raise NotImplementedError

    def to_spec(self, binned: _Binned) -> dict:
        """The condition as a spec condition (``docs/spec.md``)."""
        raise NotImplementedError


class _NumericCond(_Cond):
    """A condition on a numeric feature's codes: bins ``1..m+1``, then missing, then specials."""

    def mask(self, binned: _Binned, rows: np.ndarray) -> np.ndarray:
        return self._holds(binned.codes[self.j][rows], len(binned.thresholds[self.j]) + 1)

    def _holds(self, c: np.ndarray, miss_code: int) -> np.ndarray:
        raise NotImplementedError


class _Threshold(_NumericCond):
    """``x <= t_b`` / ``x > t_b``; missing rows go as ``missing`` says, special rows never pass."""

    op: ClassVar[str]

    def _holds(self, c: np.ndarray, miss_code: int) -> np.ndarray:
        return np.where(c == miss_code, self.missing, self._side(c, miss_code))

    def _side(self, c: np.ndarray, miss_code: int) -> np.ndarray:
        raise NotImplementedError

    def to_spec(self, binned: _Binned) -> dict:
        return {
            "feature": binned.names[self.j],
            "op": self.op,
            "value": float(binned.thresholds[self.j][self.b]),
            "missing": bool(self.missing),
        }


class _AtMost(_Threshold):
    op = "<="
    direction = -1

    def _side(self, c: np.ndarray, miss_code: int) -> np.ndarray:
        return c <= self.b


class _Above(_Threshold):
    op = ">"
    direction = 1

    def _side(self, c: np.ndarray, miss_code: int) -> np.ndarray:
        return (c > self.b) & (c < miss_code)  # specials: never


class _Missing(_NumericCond):
    def _holds(self, c: np.ndarray, miss_code: int) -> np.ndarray:
        return c == miss_code

    def to_spec(self, binned: _Binned) -> dict:
        return {"feature": binned.names[self.j], "op": "is_missing"}


class _NotMissing(_NumericCond):
    def _holds(self, c: np.ndarray, miss_code: int) -> np.ndarray:
        return ~(c == miss_code)

    def to_spec(self, binned: _Binned) -> dict:
        return {"feature": binned.names[self.j], "op": "not_missing"}


class _IsSpecial(_NumericCond):
    """The value is one of the special values ``codes`` (:class:`_NotSpecial`: is none of them)."""

    op: ClassVar[str] = "is_special"

    def _inside(self, c: np.ndarray, miss_code: int) -> np.ndarray:
        return np.isin(c, [miss_code + 1 + i for i in self.codes])

    def _holds(self, c: np.ndarray, miss_code: int) -> np.ndarray:
        return self._inside(c, miss_code)

    def to_spec(self, binned: _Binned) -> dict:
        values = sorted(binned.specials[self.j][i] for i in self.codes)
        return {"feature": binned.names[self.j], "op": self.op, "values": values}


class _NotSpecial(_IsSpecial):
    op = "not_special"

    def _holds(self, c: np.ndarray, miss_code: int) -> np.ndarray:
        return ~self._inside(c, miss_code)


class _InSet(_Cond):
    """A categorical feature's level is one of ``codes``."""

    def mask(self, binned: _Binned, rows: np.ndarray) -> np.ndarray:
        c = binned.codes[self.j][rows]
        return np.isin(c, np.fromiter(self.codes, dtype=np.int64, count=len(self.codes)))

    def to_spec(self, binned: _Binned) -> dict:
        name = binned.names[self.j]
        levels = binned.levels[self.j]
        chosen = {levels[c] for c in self.codes}
        missing = MISSING_CATEGORY in chosen
        inside = sorted(v for v in chosen if v != MISSING_CATEGORY)
        outside = sorted(v for v in levels if v not in chosen and v != MISSING_CATEGORY)
        if not inside and missing:
            return {"feature": name, "op": "is_missing"}
        if not outside and not missing:
            return {"feature": name, "op": "not_missing"}
        if len(outside) < len(inside):
            return {"feature": name, "op": "not_in", "values": outside, "missing": missing}
        return {"feature": name, "op": "in", "values": inside, "missing": missing}


# ----------------------------------------------------------------------------- the student


class RuleListStudent(SoftTargetStudent):
    """Ordered IF-THEN rule list (with a default rule) learned from soft targets.

    Parameters
    ----------
    max_rules : int
        Maximum number of rules (the default rule not counted).
    max_conditions : int
        Maximum number of conditions per rule.
    min_support : float or int
        Minimum rows a rule covers: a fraction of the training rows (``< 1``) or a count.
    categorical_features : list of str or None
        Columns treated as categorical; default: non-numeric dtypes.
    monotone : dict or str or None
        ``{"income": +1}`` or ``"income:+"``: the probability of ``classes_[1]`` is monotone
        along the feature (two classes only).
    beam_width : int
        Candidates kept at each depth of the rule search.
    max_bins : int
        Quantile thresholds tried per numeric column.
    ce_weight : float
        Weight of a rule's soft cross-entropy decrease against its soft agreement gain.
    smoothing : float
        Pseudo-rows of the overall mean added to each rule's soft counts.
    prune : bool
        With a validation split, keep the shortest prefix of the list (default rule re-fitted)
        with the best validation agreement with the targets' argmax.
    special_values : dict or str or None
        Codes that are levels, not numbers: rules test them as ``X is 'no record'`` (or
        ``is not``), never with a threshold; comparisons do not hold for them.
    random_state : int or None
        Accepted for API symmetry; the search is deterministic.
    learner : str
        ``"beam"``: the beam-search decision list above. ``"figs"``: a greedy sum of trees
        (FIGS) on the teacher's logit, lowered to one rule per cell of the trees' leaves
        (:mod:`distill2rules.students._figs`; no monotone constraints). ``"auto"`` (default):
        both, keeping FIGS only when its validation agreement is higher (the beam list without
        a validation split or with monotone constraints). ``meta.learner`` names the winner and
        ``meta.candidates`` the validation agreement of each.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.c_[np.arange(100.0)]
    >>> y = (X[:, 0] > 60).astype(int)
    >>> spec = RuleListStudent(max_rules=2).fit(X, y).to_spec()
    >>> spec["rules"][0]["conditions"][0]["op"] in ("<=", ">")
    True
    """

    student_name = "rules"

    def __init__(
        self,
        *,
        max_rules: int = 10,
        max_conditions: int = 3,
        min_support: float = 0.01,
        categorical_features: Sequence[str] | None = None,
        monotone: Any = None,
        beam_width: int = 5,
        max_bins: int = 64,
        ce_weight: float = 0.1,
        smoothing: float = 1.0,
        prune: bool = True,
        random_state: int | None = None,
        special_values: Any = None,
        calibrate: bool = False,
        learner: str = "auto",
    ) -> None:
        self.special_values = special_values
        self.learner = learner
        self.max_rules = max_rules
        self.max_conditions = max_conditions
        self.min_support = min_support
        self.categorical_features = categorical_features
        self.monotone = monotone
        self.beam_width = beam_width
        self.max_bins = max_bins
        self.ce_weight = ce_weight
        self.smoothing = smoothing
        self.prune = prune
        self.random_state = random_state
        self.calibrate = calibrate

    # ------------------------------------------------------------------ checks
    def _check_params(self, n: int, k: int) -> int:
        for name in ("max_rules", "max_conditions", "beam_width", "max_bins"):
            v = getattr(self, name)
            low = 0 if name == "max_rules" else 1
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < low:
                raise ConfigError(f"{name} must be an integer >= {low}, got {v!r}.")
        if not (self.smoothing >= 0 and self.ce_weight >= 0):
            raise ConfigError(
                f"smoothing and ce_weight must be >= 0, got {self.smoothing} and {self.ce_weight}."
            )
        ms = self.min_support
        if (
            isinstance(ms, bool)
            or not isinstance(ms, (int, float, np.integer, np.floating))
            or not ms > 0
        ):
            raise ConfigError(
                f"min_support must be a fraction in (0, 1) or a row count >= 1, got {ms!r}."
            )
        if self.monotone_ and k != 2:
            raise ConfigError("monotone constraints on a rule list need a binary target.")
        if self.learner not in _LEARNERS:
            raise ConfigError(
                f"learner must be one of {', '.join(_LEARNERS)}, got {self.learner!r}."
            )
        if self.learner == "figs" and self.monotone_:
            raise ConfigError(
                "learner='figs' takes no monotone constraints.",
                hint="Use learner='beam' (or 'auto').",
            )
        return max(1, int(np.ceil(ms * n)) if ms < 1 else int(ms))

    # ------------------------------------------------------------------ fit
    def _fit_spec(self, inputs, targets, y_idx, classes, *, val, sample_weight):
        n, k = targets.shape
        min_rows = self._check_params(n, k)
        w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        self._binned = _bin(inputs, int(self.max_bins))
        self._W = targets * w[:, None]
        self._w = w
        self._min_rows = min_rows
        self._sign = np.asarray(
            [self.monotone_.get(name, 0) for name in self._binned.names], dtype=np.int64
        )
        learner = str(self.learner)
        use_val = val is not None and val[2] is not None and len(val[2]) > 0
        if learner == "auto" and (self.monotone_ or not use_val):
            learner = "beam"
        try:
            found: dict[str, dict] = {}
            if learner in ("auto", "beam"):
                found["beam"] = self._fit_beam(n, val)
            if learner in ("auto", "figs"):
                found["figs"] = self._fit_figs(n, val, targets)
            spec = found["beam"] if "beam" in found else found["figs"]
            if len(found) > 1:
                scores = {name: self._agreement(sp, val) for name, sp in found.items()}
                spec = found["figs"] if scores["figs"] > scores["beam"] else found["beam"]
                spec["meta"]["candidates"] = {"on": "validation split", "agreement": scores}
        finally:
            del self._binned, self._W, self._w, self._sign, self._min_rows
        return spec

    def _fit_beam(self, n: int, val: tuple | None) -> dict:
        rules = self._greedy(n)
        if val is not None and self._can_prune(val):
            return self._prune([self._lower(rules[:L], n) for L in range(len(rules) + 1)], val)
        return self._lower(rules, n)

    def _fit_figs(self, n: int, val: tuple | None, targets: np.ndarray) -> dict:
        model = _figs.Figs(
            self._binned,
            _figs.figs_target(targets),
            self._w,
            max_rules=int(self.max_rules),
            min_rows=self._min_rows,
        )
        snaps = model.grow()
        specs = [self._lower_cells(s, n) for s in snaps]
        if val is None or not self._can_prune(val):
            return specs[-1]
        spec = self._prune(specs, val)
        pr = spec["meta"]["pruning"]
        pr["kept_splits"], pr["learned_splits"] = pr.pop("kept_rules"), pr.pop("learned_rules")
        return spec

    def _lower_cells(self, snap: Any, n: int) -> dict:
        """One rule per cell of the trees' leaves holding training rows; the largest is the default."""
        cell_of, masks = _figs.cells(snap, n)
        W, w = self._W, self._w
        prior = W.sum(axis=0) / max(w.sum(), _TINY)
        m = float(self.smoothing)
        rules = []
        for c in range(1, len(masks)):
            rules.append(
                self._outcome(cell_of == c, prior, m)
                | {
                    "conditions": _figs.conditions(self._binned, masks[c], MISSING_CATEGORY),
                    "name": f"R{c}",
                }
            )
        default = self._outcome(cell_of == 0, prior, m)
        k = W.shape[1]
        meta: dict[str, Any] = {
            "ordered": True,
            "learner": "FIGS (greedy sum of trees) on the teacher's "
            + ("logit" if k == 2 else "probabilities"),
            "max_rules": int(self.max_rules),
            "trees": len(snap.leaves),
            "splits": int(snap.n_splits),
            "min_support_rows": int(self._min_rows),
            "smoothing": m,
        }
        return {"kind": "rule_list", "rules": rules, "default": default, "meta": meta}

    def _agreement(self, spec: dict, val: tuple | None) -> float:
        """Validation agreement of ``spec`` with the validation targets' argmax."""
        if val is None:
            return float("nan")
        pruning = spec["meta"].get("pruning")
        if pruning:
            return float(max(pruning["agreement_by_length"]))
        inputs, _, tv = val
        sp = dict(
            spec,
            inputs={"numeric": inputs.numeric_columns, "categorical": inputs.categorical_columns},
        )
        if inputs.special:
            sp["special_values"] = inputs.special
        label = spec_mod.evaluate(sp, numeric=inputs.raw, categorical=inputs.categorical)["label"]
        return float(np.mean(label == np.argmax(tv, axis=1)))

    def _can_prune(self, val: tuple | None) -> bool:
        return bool(self.prune) and val is not None and val[2] is not None and len(val[2]) > 0

    def _prune(self, specs: list[dict], val: tuple) -> dict:
        """Keep the shortest prefix of the rule list with the best validation agreement."""
        inputs, _, tv = val
        want = np.argmax(tv, axis=1)
        scores = []
        for sp in specs:
            sp["inputs"] = {
                "numeric": inputs.numeric_columns,
                "categorical": inputs.categorical_columns,
            }
            if inputs.special:
                sp["special_values"] = inputs.special
            label = spec_mod.evaluate(sp, numeric=inputs.raw, categorical=inputs.categorical)[
                "label"
            ]
            scores.append(float(np.mean(label == want)))
        best = int(np.argmax(scores))  # first maximum = fewest rules
        spec = specs[best]
        spec["meta"]["pruning"] = {
            "on": "validation split",
            "agreement_by_length": scores,
            "kept_rules": best,
            "learned_rules": len(specs) - 1,
        }
        return spec

    # ------------------------------------------------------------------ search
    def _greedy(self, n: int) -> list[list[_Cond]]:
        remaining = np.ones(n, dtype=bool)
        rules: list[list[_Cond]] = []
        while len(rules) < self.max_rules and remaining.sum() > self._min_rows:
            found = self._search(remaining)
            if found is None:
                break
            conds, covered = found
            rules.append(conds)
            remaining &= ~covered
        return rules

    def _cover(self, conds: list[_Cond], remaining: np.ndarray) -> np.ndarray:
        rows = np.flatnonzero(remaining)
        ok = np.ones(len(rows), dtype=bool)
        for c in conds:
            ok &= c.mask(self._binned, rows)
        out = np.zeros_like(remaining)
        out[rows[ok]] = True
        return out

    def _search(self, remaining: np.ndarray) -> tuple[list[_Cond], np.ndarray] | None:
        """Beam search for the best-scoring conjunction over the remaining rows."""
        rest = self._W[remaining].sum(axis=0)
        rest = rest / max(float(rest.sum()), _TINY)
        beam: list[tuple[tuple[_Cond, ...], np.ndarray, int]] = [((), remaining, 0)]
        best: tuple[float, tuple[_Cond, ...], np.ndarray] | None = None
        for _depth in range(int(self.max_conditions)):
            cands: dict[frozenset, tuple[float, tuple[_Cond, ...], int]] = {}
            for conds, mask, role in beam:
                for score, cond, new_role in self._expand(mask, rest, role):
                    key = frozenset(conds + (cond,))
                    if key not in cands:
                        cands[key] = (score, conds + (cond,), new_role)
            if not cands:
                break
            top = sorted(cands.values(), key=lambda c: -c[0])[: int(self.beam_width)]
            beam = []
            for score, conds, role in top:
                mask = self._cover(list(conds), remaining)
                beam.append((conds, mask, role))
                if best is None or score > best[0] + 1e-12:
                    best = (score, conds, mask)
        if best is None or best[0] <= 1e-9 * float(self._w[remaining].sum()):
            return None
        return list(best[1]), best[2]

    def _expand(
        self, mask: np.ndarray, rest: np.ndarray, role: int
    ) -> list[tuple[float, _Cond, int]]:
        """Every admissible condition refining ``mask``, scored: (score, condition, role)."""
        rows = np.flatnonzero(mask)
        Wr, wr = self._W[rows], self._w[rows]
        k = Wr.shape[1]
        out: list[tuple[float, _Cond, int]] = []
        binned = self._binned
        for j in range(len(binned.names)):
            nb = binned.n_codes(j)
            codes = binned.codes[j][rows]
            H = np.stack(
                [np.bincount(codes, weights=Wr[:, c], minlength=nb) for c in range(k)], axis=1
            )
            N = np.bincount(codes, weights=wr, minlength=nb)
            cnt = np.bincount(codes, minlength=nb)
            if binned.is_numeric[j]:
                out.extend(self._numeric_candidates(j, H, N, cnt, len(rows), rest, role))
            else:
                out.extend(self._categorical_candidates(j, H, N, cnt, len(rows), rest))
        return out

    def _scores(self, S: np.ndarray, NS: np.ndarray, rest: np.ndarray) -> np.ndarray:
        return _rule_scores(S, NS, rest, float(self.ce_weight))

    def _numeric_candidates(self, j, H, N, cnt, n_mask, rest, role):
        m = len(self._binned.thresholds[j])
        miss = m + 1
        Hn, Nn, Cn = H[: m + 1], N[: m + 1], cnt[: m + 1]
        cH, cN, cC = np.cumsum(Hn, axis=0)[:m], np.cumsum(Nn)[:m], np.cumsum(Cn)[:m]
        aH, aN, aC = Hn.sum(axis=0), Nn.sum(), Cn.sum()
        hm, nm, cm = H[miss], N[miss], cnt[miss]
        sign = int(self._sign[j])
        out = []
        for cond, (S0, N0, C0) in (
            (_AtMost, (cH, cN, cC)),
            (_Above, (aH - cH, aN - cN, aC - cC)),
        ):
            new_role = 0
            if sign:
                new_role = sign * cond.direction  # +1: an "up" rule, -1: a "down" rule
                if role and new_role != role:
                    continue
            for missing in (False, True) if cm > 0 else (False,):
                S, NS, C = (S0 + hm, N0 + nm, C0 + cm) if missing else (S0, N0, C0)
                ok = (C >= self._min_rows) & (C < n_mask)
                if new_role:  # constrained conditions must send the rule's rows the right way
                    pS = S[:, 1] / np.maximum(NS, _TINY)
                    ok &= (pS >= rest[1]) if new_role > 0 else (pS <= rest[1])
                if not ok.any():
                    continue
                g = np.where(ok, self._scores(S, NS, rest), -np.inf)
                for b in np.argsort(-g)[:3]:
                    if np.isfinite(g[b]) and g[b] > 0:
                        out.append(
                            (
                                float(g[b]),
                                cond(j, b=int(b), missing=bool(missing)),
                                new_role or role,
                            )
                        )
        hs, ns = (
            H[miss + 1 :],
            N[miss + 1 :],
        )  # special values: their own codes after the missing one
        if (
            self._min_rows <= cm < n_mask
        ):  # missing / not missing: off the grid, neutral for monotonicity
            for cond, S, NS in (
                (_Missing, hm, nm),
                (_NotMissing, aH + hs.sum(axis=0), aN + ns.sum()),
            ):
                g = float(self._scores(S[None], np.asarray([NS]), rest)[0])
                if g > 0:
                    out.append((g, cond(j), role))
        out.extend(self._special_candidates(j, H, N, cnt, n_mask, rest, role))
        return out

    def _special_candidates(self, j, H, N, cnt, n_mask, rest, role):
        """``X is 'code'`` / ``X is not 'code'`` (each code, and all of them): neutral for monotonicity."""
        first = len(self._binned.thresholds[j]) + 2
        n_sp = len(self._binned.specials[j])
        if not n_sp:
            return []
        sets = [frozenset([i]) for i in range(n_sp)] + (
            [frozenset(range(n_sp))] if n_sp > 1 else []
        )
        tot_S, tot_N = H.sum(axis=0), N.sum()
        out = []
        for codes in sets:
            rows = [first + i for i in codes]
            S_in, N_in, C_in = H[rows].sum(axis=0), N[rows].sum(), cnt[rows].sum()
            for cond, S, NS, C in (
                (_IsSpecial, S_in, N_in, C_in),
                (_NotSpecial, tot_S - S_in, tot_N - N_in, n_mask - C_in),
            ):
                if not self._min_rows <= C < n_mask:
                    continue
                g = float(self._scores(S[None], np.asarray([NS]), rest)[0])
                if g > 0:
                    out.append((g, cond(j, codes=codes), role))
        return out

    def _categorical_candidates(self, j, H, N, cnt, n_mask, rest):
        present = np.flatnonzero(cnt > 0)
        if len(present) < 2:
            return []
        k = H.shape[1]
        out = []
        seen: set[frozenset] = set()
        for c in [1] if k == 2 else range(k):
            mean = (H[present, c] + rest[c]) / (N[present] + 1.0)
            order = present[np.argsort(mean, kind="stable")]
            for ordr in (order, order[::-1]):
                cS, cN, cC = (
                    np.cumsum(H[ordr], axis=0)[:-1],
                    np.cumsum(N[ordr])[:-1],
                    np.cumsum(cnt[ordr])[:-1],
                )
                ok = (cC >= self._min_rows) & (cC < n_mask)
                if not ok.any():
                    continue
                g = np.where(ok, self._scores(cS, cN, rest), -np.inf)
                for b in np.argsort(-g)[:2]:
                    if not (np.isfinite(g[b]) and g[b] > 0):
                        continue
                    codes = frozenset(int(x) for x in ordr[: b + 1])
                    if codes not in seen:
                        seen.add(codes)
                        out.append((float(g[b]), _InSet(j, codes=codes), 0))
        return out

    # ------------------------------------------------------------------ lowering
    def _lower(self, rules: list[list[_Cond]], n: int) -> dict:
        W, w = self._W, self._w
        prior = W.sum(axis=0) / max(w.sum(), _TINY)
        m = float(self.smoothing)
        remaining = np.ones(n, dtype=bool)
        out_rules: list[dict] = []
        roles: list[int] = []
        for i, conds in enumerate(rules):
            cov = self._cover(conds, remaining)
            remaining &= ~cov
            out_rules.append(
                self._outcome(cov, prior, m)
                | {"conditions": [c.to_spec(self._binned) for c in conds], "name": f"R{i + 1}"}
            )
            roles.append(self._role(conds))
        default = self._outcome(remaining, prior, m)
        adjusted = self._enforce_monotone(out_rules, roles, default) if self.monotone_ else 0
        meta: dict[str, Any] = {
            "ordered": True,
            "learner": "beam-search decision list on soft targets",
            "max_rules": int(self.max_rules),
            "max_conditions": int(self.max_conditions),
            "min_support_rows": int(self._min_rows),
            "ce_weight": float(self.ce_weight),
            "smoothing": m,
        }
        if self.monotone_:
            meta["monotone_adjusted_rules"] = adjusted
        return {"kind": "rule_list", "rules": out_rules, "default": default, "meta": meta}

    def _outcome(self, mask: np.ndarray, prior: np.ndarray, m: float) -> dict:
        counts = self._W[mask].sum(axis=0)
        nw = float(self._w[mask].sum())
        p = (counts + m * prior) / max(nw + m, _TINY)
        p = p / p.sum()
        return {
            "probabilities": p.tolist(),
            "support": int(mask.sum()),
            "class_counts": counts.tolist(),
        }

    def _role(self, conds: list[_Cond]) -> int:
        for c in conds:
            s = int(self._sign[c.j])
            if s and c.direction:
                return s * c.direction
        return 0

    @staticmethod
    def _enforce_monotone(rules: list[dict], roles: list[int], default: dict) -> int:
        """Clip P(class 1) of up-rules to >= every later rule, down-rules to <= (last to first)."""
        hi = lo = float(default["probabilities"][1])
        adjusted = 0
        for rule, role in zip(reversed(rules), reversed(roles)):
            p1 = float(rule["probabilities"][1])
            new = max(p1, hi) if role > 0 else min(p1, lo) if role < 0 else p1
            if new != p1:
                rule["probabilities"] = [1.0 - new, new]
                rule["monotone_adjusted"] = True
                adjusted += 1
            hi, lo = max(hi, new), min(lo, new)
        return adjusted

"""Ordered rule-list student learned from the teacher's soft targets.

Algorithm (sequential covering with a beam search, all on histograms):

1. Every numeric column is cut at up to ``max_bins`` quantile thresholds (observed values,
   so ``x <= v`` is exact in float32); missing values get a bin of their own. Every categorical
   column keeps its levels, the missing value ``""`` being one of them.
2. A rule is grown by a beam search (``beam_width`` candidates, ``max_conditions`` deep). A
   candidate condition is a threshold (``<=`` or ``>``, with the missing rows sent explicitly
   to the side that scores better), a categorical set (prefixes of the levels sorted by their
   mean target, the optimal binary partition for two classes, Breiman 1984), or
   ``is_missing`` / ``not_missing``. Its score is the decrease of the **soft cross-entropy**
   ``−Σ_i Σ_k t_ik log p̂_k`` when the rows still uncovered are split into the rule's rows
   and the rest, each predicted by its mean soft target. That is computed from per-bin sums
   of the targets, so the teacher's probabilities (not only its argmax) drive every choice.
3. The best rule is appended; its rows are removed; repeat until ``max_rules`` rules or no
   rule with ``min_support`` rows improves the loss. The default rule predicts the mean
   target of the rows left.
4. A rule's probabilities are its mean soft target, shrunk towards the overall mean by
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

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from distill2rules.errors import ConfigError
from distill2rules.spec import MISSING_CATEGORY
from distill2rules.students._base import RawInputs, SoftTargetStudent

_TINY = 1e-12


# ----------------------------------------------------------------------------- binned view


@dataclass
class _Binned:
    """Integer codes of every column: numeric bins (missing = last) and categorical levels."""

    names: list[str]
    is_numeric: list[bool]
    codes: list[np.ndarray]  # (n,) int64 per feature
    thresholds: list[np.ndarray]  # numeric: sorted thresholds t_0 < ... < t_{m-1}; categorical: empty
    levels: list[list[str]]  # categorical levels (may include ""); numeric: []

    def n_codes(self, j: int) -> int:
        return len(self.thresholds[j]) + 2 if self.is_numeric[j] else len(self.levels[j])


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
    names, is_num, codes, thr, levels = [], [], [], [], []
    for j, name in enumerate(inputs.numeric_columns):
        x = inputs.numeric[:, j].astype(np.float64)
        t = _numeric_thresholds(x, max_bins)
        c = np.searchsorted(t, x, side="left").astype(np.int64)  # x <= t_b  <=>  code <= b
        c[np.isnan(x)] = len(t) + 1
        names.append(name), is_num.append(True), codes.append(c), thr.append(t), levels.append([])
    for j, name in enumerate(inputs.categorical_columns):
        col = inputs.categorical[:, j].astype(str)
        lv, c = np.unique(col, return_inverse=True)
        names.append(name), is_num.append(False), codes.append(c.astype(np.int64)), thr.append(np.zeros(0))
        levels.append([str(v) for v in lv])
    return _Binned(names, is_num, codes, thr, levels)


# ----------------------------------------------------------------------------- impurity


def _impurity(sums: np.ndarray, counts: np.ndarray, criterion: str) -> np.ndarray:
    """Soft cross-entropy ``−Σ_k T_k log(T_k / n)`` (or Gini ``n − Σ T_k² / n``) of a group."""
    n = np.maximum(counts, _TINY)[..., None]
    if criterion == "gini":
        return counts - (sums * sums / n).sum(axis=-1)
    s = np.maximum(sums, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return -(np.where(s > 0, s * np.log(np.maximum(s, _TINY) / n), 0.0)).sum(axis=-1)


# ----------------------------------------------------------------------------- conditions


@dataclass(frozen=True)
class _Cond:
    """One condition in code space. ``kind``: le/gt (bin b), set (frozenset of codes), miss/nomiss."""

    j: int
    kind: str
    b: int = -1
    codes: frozenset = frozenset()
    missing: bool = False

    def mask(self, binned: _Binned, rows: np.ndarray) -> np.ndarray:
        c = binned.codes[self.j][rows]
        if binned.is_numeric[self.j]:
            miss_code = len(binned.thresholds[self.j]) + 1
            is_miss = c == miss_code
            if self.kind == "miss":
                return is_miss
            if self.kind == "nomiss":
                return ~is_miss
            res = c <= self.b if self.kind == "le" else c > self.b
            return np.where(is_miss, self.missing, res)
        return np.isin(c, np.fromiter(self.codes, dtype=np.int64, count=len(self.codes)))

    def to_spec(self, binned: _Binned) -> dict:
        name = binned.names[self.j]
        if binned.is_numeric[self.j]:
            if self.kind == "miss":
                return {"feature": name, "op": "is_missing"}
            if self.kind == "nomiss":
                return {"feature": name, "op": "not_missing"}
            return {"feature": name, "op": "<=" if self.kind == "le" else ">",
                    "value": float(binned.thresholds[self.j][self.b]), "missing": bool(self.missing)}
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
    criterion : {"entropy", "gini"}
        Soft cross-entropy (default) or squared error on the probabilities.
    smoothing : float
        Pseudo-rows of the overall mean added to each rule's soft counts.
    refine : int
        Passes of rule-by-rule re-optimisation of the whole list after the greedy build.
    random_state : int or None
        Accepted for API symmetry; the search is deterministic.

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

    def __init__(self, *, max_rules: int = 10, max_conditions: int = 3, min_support: float | int = 0.01,
                 categorical_features: Sequence[str] | None = None, monotone: Any = None, beam_width: int = 5,
                 max_bins: int = 64, criterion: str = "entropy", smoothing: float = 1.0, refine: int = 1,
                 refine_candidates: int = 10, random_state: int | None = None) -> None:
        self.max_rules = max_rules
        self.max_conditions = max_conditions
        self.min_support = min_support
        self.categorical_features = categorical_features
        self.monotone = monotone
        self.beam_width = beam_width
        self.max_bins = max_bins
        self.criterion = criterion
        self.smoothing = smoothing
        self.refine = refine
        self.refine_candidates = refine_candidates
        self.random_state = random_state

    # ------------------------------------------------------------------ checks
    def _check_params(self, n: int, k: int) -> int:
        for name in ("max_rules", "max_conditions", "beam_width", "max_bins"):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < (0 if name == "max_rules" else 1):
                raise ConfigError(f"{name} must be an integer >= {0 if name == 'max_rules' else 1}, got {v!r}.")
        if self.criterion not in ("entropy", "gini"):
            raise ConfigError(f"criterion must be 'entropy' or 'gini', got {self.criterion!r}.")
        if self.smoothing < 0:
            raise ConfigError(f"smoothing must be >= 0, got {self.smoothing}.")
        ms = self.min_support
        if isinstance(ms, bool) or not isinstance(ms, (int, float, np.integer, np.floating)) or ms <= 0:
            raise ConfigError(f"min_support must be a fraction in (0, 1) or a row count >= 1, got {ms!r}.")
        if self.monotone_ and k != 2:
            raise ConfigError("monotone constraints on a rule list need a binary target.")
        return max(1, int(np.ceil(ms * n)) if ms < 1 else int(ms))

    # ------------------------------------------------------------------ fit
    def _fit_spec(self, inputs, targets, y_idx, classes, *, val, sample_weight):
        n, k = targets.shape
        min_rows = self._check_params(n, k)
        w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        self._binned = binned = _bin(inputs, int(self.max_bins))
        self._W = targets * w[:, None]
        self._top = np.argmax(targets, axis=1)
        self._w = w
        self._min_rows = min_rows
        self._sign = np.zeros(len(binned.names), dtype=np.int64)
        for j, name in enumerate(binned.names):
            self._sign[j] = self.monotone_.get(name, 0)
        rules = self._greedy(n)
        for _ in range(int(self.refine)):
            rules, changed = self._refine(rules, n)
            if not changed:
                break
        spec = self._lower(rules, n, k)
        del self._binned, self._W, self._w
        return spec

    # ------------------------------------------------------------------ search
    def _greedy(self, n: int) -> list[list[_Cond]]:
        remaining = np.ones(n, dtype=bool)
        rules: list[list[_Cond]] = []
        while len(rules) < self.max_rules:
            found = self._best_rule(remaining)
            if found is None:
                break
            conds, covered = found
            rules.append(conds)
            remaining &= ~covered
            if remaining.sum() < self._min_rows:
                break
        return rules

    def _list_loss(self, rules: list[list[_Cond]], n: int) -> float:
        remaining = np.ones(n, dtype=bool)
        loss = 0.0
        errs = 0.0
        for conds in rules:
            m = self._cover(conds, remaining)
            loss += float(self._group_impurity(m))
            errs += self._group_errors(m)
            remaining &= ~m
        loss += float(self._group_impurity(remaining))
        errs += self._group_errors(remaining)
        if getattr(self, "refine_on", "loss") == "errors":
            return errs + 1e-6 * loss
        return loss

    def _group_errors(self, mask: np.ndarray) -> float:
        if not mask.any():
            return 0.0
        agg = self._W[mask].sum(axis=0)
        hard = np.bincount(self._top[mask], weights=self._w[mask], minlength=len(agg))
        return float(self._w[mask].sum() - hard[int(np.argmax(agg))])

    def _group_impurity(self, mask: np.ndarray) -> float:
        return float(_impurity(self._W[mask].sum(axis=0), np.asarray(self._w[mask].sum()), self.criterion))

    def _cover(self, conds: list[_Cond], remaining: np.ndarray) -> np.ndarray:
        rows = np.flatnonzero(remaining)
        ok = np.ones(len(rows), dtype=bool)
        for c in conds:
            ok &= c.mask(self._binned, rows)
        out = np.zeros_like(remaining)
        out[rows[ok]] = True
        return out

    def _refine(self, rules: list[list[_Cond]], n: int) -> tuple[list[list[_Cond]], bool]:
        """Re-learn each rule in turn: try the search's best candidates at that position, keep
        the one that most lowers the loss of the whole list (later rules kept as they are)."""
        changed = False
        best = self._list_loss(rules, n)
        for i in range(len(rules)):
            remaining = np.ones(n, dtype=bool)
            for conds in rules[:i]:
                remaining &= ~self._cover(conds, remaining)
            for _, conds, _ in self._search(remaining, top_n=int(self.refine_candidates)):
                if conds == rules[i]:
                    continue
                trial = rules[:i] + [conds] + rules[i + 1:]
                loss = self._list_loss(trial, n)
                if loss < best - 1e-9:
                    rules, best, changed = trial, loss, True
        return rules, changed

    def _best_rule(self, remaining: np.ndarray) -> tuple[list[_Cond], np.ndarray] | None:
        found = self._search(remaining, top_n=1)
        return (found[0][1], found[0][2]) if found else None

    def _search(self, remaining: np.ndarray, top_n: int) -> list[tuple[float, list[_Cond], np.ndarray]]:
        """Beam search for the conjunctions that most decrease the loss of the remaining rows.

        Returns up to ``top_n`` distinct rules (gain, conditions, covered mask), best first.
        """
        W, w = self._W, self._w
        if remaining.sum() <= self._min_rows:
            return []
        tot_sum = W[remaining].sum(axis=0)
        tot_n = float(w[remaining].sum())
        base = float(_impurity(tot_sum, np.asarray(tot_n), self.criterion))
        beam: list[tuple[float, tuple[_Cond, ...], np.ndarray, int]] = [(0.0, (), remaining.copy(), 0)]
        found: dict[frozenset, tuple[float, list[_Cond], np.ndarray]] = {}
        for _depth in range(int(self.max_conditions)):
            cands: dict[frozenset, tuple[float, tuple[_Cond, ...], int]] = {}
            for _, conds, mask, role in beam:
                for gain, cond, new_role in self._expand(mask, tot_sum, tot_n, base, role):
                    key = frozenset(conds + (cond,))
                    if key not in cands:
                        cands[key] = (gain, conds + (cond,), new_role)
            if not cands:
                break
            top = sorted(cands.items(), key=lambda kv: -kv[1][0])[: max(int(self.beam_width), top_n)]
            beam = []
            for key, (gain, conds, role) in top:
                mask = self._cover(list(conds), remaining)
                if len(beam) < int(self.beam_width):
                    beam.append((gain, conds, mask, role))
                found.setdefault(key, (gain, list(conds), mask))
        ranked = sorted(found.values(), key=lambda c: -c[0])
        return [c for c in ranked if c[0] > 1e-9 * max(base, 1.0)][:top_n]

    def _expand(self, mask: np.ndarray, tot_sum: np.ndarray, tot_n: float, base: float, role: int):
        """Every admissible condition refining ``mask``: yields (gain, condition, role)."""
        rows = np.flatnonzero(mask)
        Wr, wr = self._W[rows], self._w[rows]
        k = Wr.shape[1]
        n_mask = len(rows)
        out: list[tuple[float, _Cond, int]] = []
        binned = self._binned
        p_all = tot_sum / max(tot_n, _TINY)
        for j in range(len(binned.names)):
            nb = binned.n_codes(j)
            codes = binned.codes[j][rows]
            H = np.stack([np.bincount(codes, weights=Wr[:, c], minlength=nb) for c in range(k)], axis=1)
            N = np.bincount(codes, weights=wr, minlength=nb)
            cnt = np.bincount(codes, minlength=nb)
            if binned.is_numeric[j]:
                out.extend(self._numeric_candidates(j, H, N, cnt, n_mask, tot_sum, tot_n, base, role))
            else:
                out.extend(self._categorical_candidates(j, H, N, cnt, n_mask, tot_sum, tot_n, base, p_all))
        return out

    def _gains(self, S: np.ndarray, NS: np.ndarray, tot_sum: np.ndarray, tot_n: float, base: float) -> np.ndarray:
        obj = getattr(self, "objective", "rule")
        if obj == "split":
            return base - _impurity(S, NS, self.criterion) - _impurity(tot_sum - S, tot_n - NS, self.criterion)
        q = np.maximum(tot_sum / max(tot_n, _TINY), _TINY)
        if self.criterion == "gini":
            pS = S / np.maximum(NS, _TINY)[..., None]
            g_rule = NS * ((pS - q) ** 2).sum(axis=-1)
        else:
            ce_rest = -(np.maximum(S, 0) * np.log(q)).sum(axis=-1)
            g_rule = ce_rest - _impurity(S, NS, self.criterion)
        if obj == "err2":
            beta = float(getattr(self, "beta", 0.3))
            c_r = int(np.argmax(tot_sum))
            ge = S.max(axis=-1) - S[..., c_r]
            return ge + beta * g_rule
        if obj == "err":
            beta = float(getattr(self, "beta", 0.1))
            def E(T, N):
                return N - T.max(axis=-1)
            ge = E(tot_sum, tot_n) - E(S, NS) - E(tot_sum - S, tot_n - NS)
            return ge + beta * g_rule
        if obj == "rule":
            lam = float(getattr(self, "purity", 0.0))
            return g_rule - lam * _impurity(S, NS, self.criterion) if lam else g_rule
        gam = float(obj)
        return g_rule + gam * (base - _impurity(S, NS, self.criterion) - _impurity(tot_sum - S, tot_n - NS, self.criterion) - g_rule)

    def _numeric_candidates(self, j, H, N, cnt, n_mask, tot_sum, tot_n, base, role):
        m = len(self._binned.thresholds[j])
        miss = m + 1
        if m == 0 and cnt[miss] == 0:
            return []
        Hn, Nn, Cn = H[: m + 1], N[: m + 1], cnt[: m + 1]
        cH, cN, cC = np.cumsum(Hn, axis=0)[:m], np.cumsum(Nn)[:m], np.cumsum(Cn)[:m]
        aH, aN, aC = Hn.sum(axis=0), Nn.sum(), Cn.sum()
        hm, nm, cm = H[miss], N[miss], cnt[miss]
        sign = int(self._sign[j])
        out = []
        variants = []  # (kind, missing, S, NS, count)
        for kind in ("le", "gt"):
            S0, N0, C0 = (cH, cN, cC) if kind == "le" else (aH - cH, aN - cN, aC - cC)
            for missing in (False, True) if cm > 0 else (False,):
                variants.append((kind, missing, S0 + hm if missing else S0, N0 + nm if missing else N0, C0 + cm if missing else C0))
        for kind, missing, S, NS, C in variants:
            new_role = 0
            if sign:
                new_role = sign if kind == "gt" else -sign  # +1 = "up" rule, -1 = "down" rule
                if role and new_role != role:
                    continue
            ok = (C >= self._min_rows) & (C < n_mask)
            if not ok.any():
                continue
            g = self._gains(S, NS, tot_sum, tot_n, base)
            if new_role:  # only propose constrained conditions whose rows sit on the right side
                pS = S[:, 1] / np.maximum(NS, _TINY)
                pR = (tot_sum[1] - S[:, 1]) / np.maximum(tot_n - NS, _TINY)
                ok &= (pS >= pR) if new_role > 0 else (pS <= pR)
            g = np.where(ok, g, -np.inf)
            for b in np.argsort(-g)[:3]:
                if np.isfinite(g[b]) and g[b] > 0:
                    out.append((float(g[b]), _Cond(j, kind, b=int(b), missing=bool(missing)), new_role or role))
        if cm >= self._min_rows and cm < n_mask:  # neutral for monotonicity: off the grid
            for kind, S, NS in (("miss", hm, nm), ("nomiss", aH, aN)):
                g = float(self._gains(S[None], np.asarray([NS]), tot_sum, tot_n, base)[0])
                if g > 0:
                    out.append((g, _Cond(j, kind), role))
        return out

    def _categorical_candidates(self, j, H, N, cnt, n_mask, tot_sum, tot_n, base, p_all):
        present = np.flatnonzero(cnt > 0)
        if len(present) < 2:
            return []
        k = H.shape[1]
        out = []
        seen: set[frozenset] = set()
        orders = [1] if k == 2 else range(k)
        for c in orders:
            mean = (H[present, c] + p_all[c]) / (N[present] + 1.0)
            order = present[np.argsort(mean, kind="stable")]
            for ordr in (order, order[::-1]):
                cS, cN, cC = np.cumsum(H[ordr], axis=0)[:-1], np.cumsum(N[ordr])[:-1], np.cumsum(cnt[ordr])[:-1]
                ok = (cC >= self._min_rows) & (cC < n_mask)
                if not ok.any():
                    continue
                g = np.where(ok, self._gains(cS, cN, tot_sum, tot_n, base), -np.inf)
                for b in np.argsort(-g)[:2]:
                    if not (np.isfinite(g[b]) and g[b] > 0):
                        continue
                    codes = frozenset(int(x) for x in ordr[: b + 1])
                    if codes in seen:
                        continue
                    seen.add(codes)
                    out.append((float(g[b]), _Cond(j, "set", codes=codes), 0))
        return out

    # ------------------------------------------------------------------ lowering
    def _lower(self, rules: list[list[_Cond]], n: int, k: int) -> dict:
        W, w = self._W, self._w
        prior = W.sum(axis=0) / max(w.sum(), _TINY)
        m = float(self.smoothing)
        remaining = np.ones(n, dtype=bool)
        out_rules: list[dict] = []
        roles: list[int] = []
        for i, conds in enumerate(rules):
            cov = self._cover(conds, remaining)
            remaining &= ~cov
            out_rules.append(self._outcome(cov, prior, m) | {"conditions": [c.to_spec(self._binned) for c in conds],
                                                               "name": f"R{i + 1}"})
            roles.append(self._role(conds))
        default = self._outcome(remaining, prior, m)
        adjusted = self._enforce_monotone(out_rules, roles, default) if self.monotone_ else 0
        meta: dict[str, Any] = {"ordered": True, "criterion": self.criterion, "max_rules": int(self.max_rules),
                                "max_conditions": int(self.max_conditions), "min_support_rows": int(self._min_rows),
                                "smoothing": m, "train_loss": self._list_loss(rules, n) / max(w.sum(), _TINY)}
        if self.monotone_:
            meta["monotone_adjusted_rules"] = adjusted
        return {"kind": "rule_list", "rules": out_rules, "default": default, "meta": meta}

    def _outcome(self, mask: np.ndarray, prior: np.ndarray, m: float) -> dict:
        counts = self._W[mask].sum(axis=0)
        nw = float(self._w[mask].sum())
        p = (counts + m * prior) / max(nw + m, _TINY)
        p = p / p.sum()
        return {"probabilities": p.tolist(), "support": int(mask.sum()), "class_counts": counts.tolist()}

    def _role(self, conds: list[_Cond]) -> int:
        for c in conds:
            s = int(self._sign[c.j])
            if s and c.kind in ("le", "gt"):
                return s if c.kind == "gt" else -s
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

"""Binned points scorecard student (the credit-scoring classic), learning from a teacher.

How it is fitted:

1. **Binning on the teacher's soft labels.** Each numeric feature is cut by a regression tree
   on the teacher's probability of ``classes[1]`` (optimal-style, greedy best-first, at most
   ``max_bins`` bins, every bin holding at least ``min_bin_share`` of the training rows). With
   ``--monotone`` the bins of a constrained feature are pooled (adjacent violators) until their
   mean teacher probability is monotone. Missing values get their own bin. Categorical levels
   are grouped by the same tree over their order of teacher probability (each group holding the
   minimum share, so a rare level joins the levels with the closest rate); only levels with
   fewer than ``min_missing_count`` rows are pooled into one "other" group (which also scores
   unseen levels).
2. **One coefficient per bin, L1 for sparsity.** A logistic regression over the bins (numeric
   features as step ("thermometer") indicators, so L1 fuses adjacent bins whose scores do not
   differ and a monotone constraint is a sign constraint; categorical groups one-hot), fitted by
   default on the teacher's **decisions** (the argmax of the targets): for linear and binned
   students hard teacher decisions give higher fidelity than soft targets (measured, see
   ``docs/students.md``); ``targets="soft"`` fits the soft cross-entropy instead.
3. **Lowering.** Every feature becomes a one-axis ``table`` term of the additive spec (so ONNX
   export, reason codes and ``verify`` work unchanged), centred on its training-row average; the
   term also stores each bin's training row count, the teacher's event rate and the observed
   label rate (``bin_counts``, ``event_rates``, ``label_rates``, and ``bin_groups`` for grouped
   categories) so the rule card's points table is a rendering of the spec.

``logreg`` stays the linear (unbinned) variant.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from distill2rules.errors import ConfigError
from distill2rules.spec import MISSING_CATEGORY
from distill2rules.students._base import RawInputs, SoftTargetStudent, jsonable_class
from distill2rules.students.logreg import fit_soft_logistic

#: default points scaling of the rule card: PDO points double the odds; ``base_score`` at ``base_odds``
DEFAULT_POINTS = {"pdo": 20.0, "base_score": 600.0, "base_odds": 50.0}
EVENT_RATE_BASIS = "teacher decision"
_MIN_CHECK_ROWS = 2000  # fewer validation rows than this: choose the targets out-of-fold


# ----------------------------------------------------------------------------- binning


def _tree_edges(
    x: np.ndarray,
    t: np.ndarray,
    w: np.ndarray,
    max_bins: int,
    min_count: int,
    seed: int | None,
    max_groups: int = 1024,
) -> list[float]:
    """Cut points of a best-first regression tree of ``t`` on ``x`` (each leaf >= min_count rows).

    The tree is grown on the distinct values of ``x`` (at most ``max_groups`` quantile groups), each
    weighted by its rows, so its cost does not grow with the number of rows; cut points are the
    midpoints between the neighbouring groups' extreme values.
    """
    from sklearn.tree import DecisionTreeRegressor

    if max_bins < 2 or len(x) < 2 * min_count:
        return []
    vals, inv = np.unique(x, return_inverse=True)
    if vals.size < 2:
        return []
    if vals.size > max_groups:  # quantile groups of the distinct values (by rows)
        cum = np.cumsum(np.bincount(inv, minlength=vals.size))
        grp_of_val = np.minimum((cum - 1) * max_groups // cum[-1], max_groups - 1)
        _, grp_of_val = np.unique(grp_of_val, return_inverse=True)
        inv = grp_of_val[inv]
        n_groups = int(grp_of_val.max()) + 1
        lo = np.full(n_groups, np.inf)
        hi = np.full(n_groups, -np.inf)
        np.minimum.at(lo, grp_of_val, vals)
        np.maximum.at(hi, grp_of_val, vals)
    else:
        n_groups, lo, hi = vals.size, vals, vals
    cnt = np.bincount(inv, minlength=n_groups).astype(np.float64)
    wsum = np.bincount(inv, weights=w, minlength=n_groups)
    t2 = t.reshape(len(t), -1)
    tm: np.ndarray = np.column_stack(
        [np.bincount(inv, weights=w * t2[:, c], minlength=n_groups) for c in range(t2.shape[1])]
    )
    tm = tm / np.where(wsum > 0, wsum, 1.0)[:, None]
    # leaf size in rows: weight each distinct value by its row count (the targets' mean already holds w)
    tree = DecisionTreeRegressor(
        max_leaf_nodes=max_bins,
        min_weight_fraction_leaf=min(0.5, min_count / cnt.sum()),
        random_state=seed,
    )
    tree.fit(
        np.arange(n_groups, dtype=np.float64).reshape(-1, 1),
        tm if tm.shape[1] > 1 else tm[:, 0],
        sample_weight=cnt,
    )
    thr = tree.tree_.threshold[tree.tree_.feature >= 0]
    cuts = np.unique(np.floor(thr).astype(np.int64))  # split between group g and g + 1
    return [float((hi[g] + lo[g + 1]) / 2.0) for g in cuts]


def _bin_of(x: np.ndarray, edges: Sequence[float]) -> np.ndarray:
    """Spec bin index of numeric values: 0 missing, else ``1 + #{edges <= x}``."""
    idx = 1 + np.searchsorted(
        np.asarray(edges, dtype=np.float64), x.astype(np.float64), side="right"
    )
    idx[np.isnan(x)] = 0
    return idx.astype(np.int64)


def _pool_monotone(
    edges: list[float], means: np.ndarray, counts: np.ndarray, direction: int
) -> list[float]:
    """Drop edges between adjacent bins whose means violate ``direction`` (pool adjacent violators)."""
    blocks = [
        [float(m), float(c), i] for i, (m, c) in enumerate(zip(means, counts))
    ]  # mean, weight, first bin
    out: list[list[float]] = []
    for b in blocks:
        out.append(b)
        while len(out) > 1 and direction * (out[-1][0] - out[-2][0]) < 0:
            m2, c2, _ = out.pop()
            m1, c1, i1 = out.pop()
            c = c1 + c2
            out.append([(m1 * c1 + m2 * c2) / c if c > 0 else m1, c, i1])
    starts = [int(b[2]) for b in out[1:]]  # the first bin of each later block keeps its lower edge
    return [edges[s - 1] for s in starts]


def _weighted_means(
    idx: np.ndarray, t: np.ndarray, w: np.ndarray, n_bins: int
) -> tuple[np.ndarray, np.ndarray]:
    wsum = np.bincount(idx, weights=w, minlength=n_bins)
    tsum = np.bincount(idx, weights=w * t, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(wsum > 0, tsum / np.where(wsum > 0, wsum, 1), np.nan), wsum


class _Feature:
    """The binning of one feature: how rows map to bins and design columns."""

    def __init__(self, name: str, *, numeric: bool) -> None:
        self.name = name
        self.is_numeric = numeric  # else categorical
        self.edges: list[float] = []
        self.categories: list[str] = []  # categorical: listed levels (spec bins 1..n)
        self.group_of: dict[str, int] = {}  # categorical: level -> group
        self.groups: list[list[str]] = []
        self.other_group: int | None = None  # group of pooled rare levels (also scores unseen)
        self.missing_column = False
        self.sign = 0
        # special values (numeric codes declared in the schema): (key, label, own coefficient?) each
        self.codes: list[tuple[str, str, bool]] = []

    # -- spec bins
    def n_spec_bins(self) -> int:
        return len(self.edges) + 2 if self.is_numeric else len(self.categories) + 2

    def spec_bins(self, col: np.ndarray) -> np.ndarray:
        if self.is_numeric:
            return _bin_of(col, self.edges)
        pos = {c: i + 1 for i, c in enumerate(self.categories)}
        unseen = len(self.categories) + 1
        return np.fromiter(
            (0 if v == MISSING_CATEGORY else pos.get(v, unseen) for v in col),
            dtype=np.int64,
            count=len(col),
        )

    # -- design columns
    def axis(self) -> dict[str, Any]:
        """The spec term's axis: the numeric edges or the categorical levels."""
        if self.is_numeric:
            return {
                "feature": self.name,
                "kind": "numeric",
                "edges": [float(e) for e in self.edges],
            }
        return {"feature": self.name, "kind": "categorical", "categories": list(self.categories)}

    def n_columns(self) -> int:
        body = len(self.edges) if self.is_numeric else len(self.groups)
        return body + int(self.missing_column) + sum(own for _, _, own in self.codes)

    def design(self, col: np.ndarray, code: np.ndarray | None = None) -> np.ndarray:
        """Design columns; ``code[i]`` = index of row i's special value in ``self.codes`` (-1: none)."""
        b = self.spec_bins(col)
        if code is not None and self.codes:
            b = np.where(code >= 0, -1, b)  # a special row is in no bin (its NaN is not 'missing')
        cols = []
        if self.is_numeric:
            for j in range(len(self.edges)):  # step j: x >= edges[j]  <=>  bin >= j + 2
                cols.append((b >= j + 2).astype(np.float64))
        else:
            g = self.bin_group(b)
            for j in range(len(self.groups)):
                cols.append((g == j).astype(np.float64))
        if self.missing_column:
            cols.append((b == 0).astype(np.float64))
        for i, (_, _, own) in enumerate(self.codes):
            if own:
                cols.append(
                    (code == i).astype(np.float64) if code is not None else np.zeros(len(col))
                )
        return np.column_stack(cols) if cols else np.zeros((len(col), 0))

    def bin_group(self, b: np.ndarray) -> np.ndarray:
        """Group of each categorical spec bin (-1: missing, or unseen without an 'other' group)."""
        table = self.group_table()
        return table[b]

    def group_table(self) -> np.ndarray:
        n = len(self.categories)
        table = np.full(n + 2, -1, dtype=np.int64)
        for i, c in enumerate(self.categories):
            table[i + 1] = self.group_of[c]
        if self.other_group is not None:
            table[n + 1] = self.other_group
        return table

    def bin_scores(self, coef: np.ndarray, kp: int) -> np.ndarray:
        """Scores ``[n_spec_bins, K']`` of this feature from its design coefficients ``[n_columns, K']``."""
        out = np.zeros((self.n_spec_bins(), kp))
        if self.is_numeric:
            steps = coef[: len(self.edges)]
            out[1:] = (
                np.vstack([np.zeros((1, kp)), np.cumsum(steps, axis=0)]) if len(self.edges) else 0.0
            )
        else:
            table = self.group_table()
            for b, g in enumerate(table):
                if g >= 0:
                    out[b] = coef[g]
        if self.missing_column:
            out[0] = coef[self._missing_at()]
        return out

    def _missing_at(self) -> int:
        return len(self.edges) if self.is_numeric else len(self.groups)

    def code_scores(self, coef: np.ndarray, kp: int) -> np.ndarray:
        """Scores ``[n_codes, K']`` of the special values (0 for codes without a coefficient)."""
        out = np.zeros((len(self.codes), kp))
        at = self._missing_at() + int(self.missing_column)
        for i, (_, _, own) in enumerate(self.codes):
            if own:
                out[i] = coef[at]
                at += 1
        return out


def _bin_numeric(
    name: str,
    x: np.ndarray,
    t1: np.ndarray,
    tree_t: np.ndarray,
    w: np.ndarray,
    *,
    max_bins: int,
    min_count: int,
    min_missing: int,
    direction: int,
    seed: int | None,
    coded: np.ndarray | None = None,
) -> _Feature:
    f = _Feature(name, numeric=True)
    ok = ~np.isnan(x)
    xf = x[ok].astype(np.float64)
    if xf.size:
        fin = xf[np.isfinite(xf)]
        if fin.size:
            xf = np.clip(
                xf, fin.min(), fin.max()
            )  # the tree cannot take inf: clamp to the observed range
        edges = _tree_edges(xf, tree_t[ok], w[ok], max_bins, min_count, seed)
        if direction and edges:
            b = _bin_of(x[ok], edges)
            means, counts = _weighted_means(b - 1, t1[ok], w[ok], len(edges) + 1)
            edges = _pool_monotone(edges, means, counts, direction)
        f.edges = edges
    missing = ~ok if coded is None else (~ok & ~coded)
    f.missing_column = int(missing.sum()) >= min_missing
    f.sign = direction
    return f


def _bin_categorical(
    name: str,
    col: np.ndarray,
    t1: np.ndarray | None,
    tree_t: np.ndarray,
    w: np.ndarray,
    *,
    max_bins: int,
    min_count: int,
    min_missing: int,
    seed: int | None,
    min_other: int | None = None,
) -> _Feature:
    """Groups of a categorical: frequent levels grouped by the tree, rare ones pooled in "other"
    (its own row from ``min_other`` rows on, like missing and special values; else it joins the
    group with the closest mean teacher probability)."""
    min_other = min_count if min_other is None else min_other
    f = _Feature(name, numeric=False)
    miss = col == MISSING_CATEGORY
    vals, inv, counts = np.unique(col[~miss].astype(str), return_inverse=True, return_counts=True)
    f.categories = [str(v) for v in vals]
    # levels with enough rows for a stable teacher rate (min_other) are grouped by the tree over
    # their rate order (each group >= min_count rows); only the rarer ones pool into "other"
    rare = counts < min(min_other, min_count)
    big = np.flatnonzero(~rare)
    group_of_level = np.full(len(vals), -1, dtype=np.int64)
    if big.size:
        if t1 is not None and big.size > 1:
            # group the frequent levels: a tree over their order of mean teacher probability
            rows = np.isin(inv, big)
            means, _ = _weighted_means(inv[rows], t1[~miss][rows], w[~miss][rows], len(vals))
            order = big[np.argsort(means[big], kind="stable")]
            rank = np.empty(len(vals), dtype=np.float64)
            rank[order] = np.arange(order.size)
            xr = rank[inv[rows]]
            edges = _tree_edges(xr, tree_t[~miss][rows], w[~miss][rows], max_bins, min_count, seed)
            grp = np.searchsorted(np.asarray(edges), rank[order], side="right")
            group_of_level[order] = grp
        else:
            group_of_level[big] = np.arange(big.size)
    n_groups = int(group_of_level.max()) + 1 if big.size else 0
    if rare.any():
        rare_rows = np.isin(inv, np.flatnonzero(rare))
        if counts[rare].sum() >= min(min_count, min_other) or n_groups == 0:
            f.other_group = n_groups
            n_groups += 1
        else:  # the pooled rare levels are too few even for their own row: join the closest group
            tm = t1[~miss] if t1 is not None else tree_t[~miss].reshape(len(inv), -1)[:, 0]
            wm = w[~miss]
            mean_rare = float(np.average(tm[rare_rows], weights=wm[rare_rows]))
            g_rows = group_of_level[inv]
            group_means = [
                float(np.average(tm[g_rows == g], weights=wm[g_rows == g])) for g in range(n_groups)
            ]
            f.other_group = int(np.argmin(np.abs(np.asarray(group_means) - mean_rare)))
        group_of_level[rare] = f.other_group
    f.groups = [
        [f.categories[i] for i in np.flatnonzero(group_of_level == g)] for g in range(n_groups)
    ]
    f.group_of = {c: int(g) for c, g in zip(f.categories, group_of_level)}
    f.missing_column = int(miss.sum()) >= min_missing
    return f


# ----------------------------------------------------------------------------- student


class ScorecardStudent(SoftTargetStudent):
    """Binned points scorecard: optimal-style bins on the teacher's soft labels, one L1-penalised
    coefficient per bin, fitted on the teacher's decisions.

    Parameters
    ----------
    max_bins : int
        At most this many bins per numeric feature (groups per categorical), missing not counted.
    min_bin_share : float
        Every numeric bin and categorical group holds at least this share of the training rows
        (default 2 %; categorical levels under it are grouped with the levels of the closest
        teacher rate, levels under ``min_missing_count`` rows pooled into "other").
    targets : {"auto", "decision", "soft"}
        Fit on the argmax of the targets (the teacher's decisions), on the soft targets, or
        (``auto``, default) on whichever agrees more with the teacher on validation rows (the
        validation split or a fifth of the training rows when they hold 2,000 rows, else
        out-of-fold over five folds of the training rows); ties go to decisions.
    l1, l2 : float
        Penalties on the mean cross-entropy (L1 fuses adjacent numeric bins and zeroes groups).
    min_missing_count : int
        Missing values, each special value and the pooled rare categorical levels ("other") get
        their own coefficient from this many training rows on (even under ``min_bin_share``:
        they are levels, not ranges); rarer missing values and codes score as the feature's
        average, a rarer "other" pool joins the group with the closest teacher probability.
    monotone : dict or str or None
        ``{"income": +1}`` / ``"income:+"``: monotone bins and points (binary targets).
    points : dict or None
        Scaling of the rule card's points, default ``{"pdo": 20, "base_score": 600, "base_odds": 50}``
        (600 points at odds 50:1 of the favourable class, 20 more points double the odds).
    categorical_features : list of str or None
        Columns to treat as categorical; default: non-numeric dtypes.
    special_values : dict or str or None
        Numeric codes that are levels, not numbers (``{"months_since": {"-9": "no record"}}``, see
        ``docs/spec.md``): each gets its own row of points (its own coefficient from
        ``min_missing_count`` rows on), outside the bins, the edges and the monotone trend.
    """

    student_name = "scorecard"

    def __init__(
        self,
        *,
        max_bins: int = 20,
        min_bin_share: float = 0.02,
        targets: str = "auto",
        l1: float = 5e-5,
        l2: float = 1e-4,
        min_missing_count: int = 30,
        monotone: Any = None,
        points: dict | None = None,
        categorical_features: Sequence[str] | None = None,
        special_values: Any = None,
        max_iter: int = 1000,
        random_state: int | None = 0,
        calibrate: bool = False,
    ) -> None:
        self.max_bins = max_bins
        self.min_bin_share = min_bin_share
        self.targets = targets
        self.l1 = l1
        self.l2 = l2
        self.min_missing_count = min_missing_count
        self.monotone = monotone
        self.points = points
        self.categorical_features = categorical_features
        self.special_values = special_values
        self.max_iter = max_iter
        self.random_state = random_state
        self.calibrate = calibrate

    def _check(self) -> dict:
        if self.targets not in ("auto", "decision", "soft"):
            raise ConfigError(
                f"targets must be 'auto', 'decision' or 'soft', got {self.targets!r}."
            )
        if not (0.0 < float(self.min_bin_share) < 0.5):
            raise ConfigError(f"min_bin_share must be in (0, 0.5), got {self.min_bin_share}.")
        if int(self.max_bins) < 1:
            raise ConfigError(f"max_bins must be >= 1, got {self.max_bins}.")
        if self.l1 < 0 or self.l2 < 0:
            raise ConfigError(f"l1 and l2 must be >= 0, got l1={self.l1}, l2={self.l2}.")
        pts = {**DEFAULT_POINTS, **dict(self.points or {})}
        unknown = set(pts) - set(DEFAULT_POINTS)
        if unknown:
            raise ConfigError(
                f"unknown points setting(s): {', '.join(sorted(unknown))}.",
                hint="Use pdo, base_score and base_odds.",
            )
        if not (float(pts["pdo"]) > 0 and float(pts["base_odds"]) > 0):
            raise ConfigError("points pdo and base_odds must be > 0.")
        return {k: float(v) for k, v in pts.items()}

    def _fit_spec(
        self,
        inputs: RawInputs,
        targets: np.ndarray,
        y_idx: np.ndarray,
        classes: np.ndarray,
        *,
        val: tuple | None,
        sample_weight: np.ndarray | None,
    ) -> dict:
        points = self._check()
        k = len(classes)
        if self.monotone_ and k != 2:
            raise ConfigError("monotone constraints on a scorecard need a binary target.")
        n = inputs.n
        w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        features = self._bin_features(inputs, targets, w, k)
        cols = [self._column(inputs, f) for f in features]
        Z = _design_matrix(features, cols, n)
        sign = _monotone_signs(features)
        hard = np.eye(k)[np.argmax(targets, axis=1)]
        mode = self.targets
        if mode == "auto":
            mode = self._choose_targets(features, Z, targets, hard, w, sign, val)
        self.targets_used_ = mode
        W, b, _ = fit_soft_logistic(
            Z,
            targets if mode == "soft" else hard,
            l1=float(self.l1),
            l2=float(self.l2),
            sample_weight=w,
            sign=sign,
            max_iter=int(self.max_iter),
        )
        decision = np.argmax(targets, axis=1)
        return self._lower(features, cols, W, b, k, w, decision, y_idx, classes, points, targets)

    def _bin_features(
        self, inputs: RawInputs, targets: np.ndarray, w: np.ndarray, k: int
    ) -> list[_Feature]:
        """The binning of every input: numeric columns (with their special values), then
        categorical ones."""
        min_count = max(1, math.ceil(float(self.min_bin_share) * inputs.n))
        t1 = targets[:, 1] if k == 2 else None
        tree_t = targets[:, 1] if k == 2 else targets
        features: list[_Feature] = []
        special = getattr(inputs, "special", None) or {}
        for j, name in enumerate(inputs.numeric_columns):
            x = inputs.numeric[:, j]
            code = _codes_of(inputs, j)
            f = _bin_numeric(
                name,
                x,
                tree_t if k == 2 else targets[:, 0],
                tree_t,
                w,
                max_bins=int(self.max_bins),
                min_count=min_count,
                min_missing=int(self.min_missing_count),
                direction=int(self.monotone_.get(name, 0)),
                seed=self.random_state,
                coded=None if code is None else code >= 0,
            )
            for i, (key, label) in enumerate((special.get(name) or {}).items()):
                n_code = 0 if code is None else int((code == i).sum())
                f.codes.append((str(key), str(label), n_code >= int(self.min_missing_count)))
            features.append(f)
        for j, name in enumerate(inputs.categorical_columns):
            col = inputs.categorical[:, j].astype(object)
            features.append(
                _bin_categorical(
                    name,
                    col,
                    t1,
                    tree_t,
                    w,
                    max_bins=int(self.max_bins),
                    min_count=min_count,
                    min_missing=int(self.min_missing_count),
                    seed=self.random_state,
                    min_other=int(self.min_missing_count),
                )
            )
        return features

    def _choose_targets(
        self,
        features: list[_Feature],
        Z: np.ndarray,
        soft: np.ndarray,
        hard: np.ndarray,
        w: np.ndarray,
        sign: np.ndarray,
        val: tuple | None,
    ) -> str:
        """``decision`` or ``soft``: whichever agrees more with the teacher's decisions on validation
        rows: the given validation split when it has at least ``_MIN_CHECK_ROWS`` rows, else a
        seeded fifth of the training rows when those are that many, else out-of-fold over five
        folds of the training rows (small data: one held-out fifth is too noisy to choose by).
        Ties go to ``decision``."""
        agree = {"decision": 0.0, "soft": 0.0}

        def score(fit_rows: Any, Zfit: np.ndarray, Zcheck: np.ndarray, want: np.ndarray) -> None:
            for mode, t in (("decision", hard), ("soft", soft)):
                W, b, _ = fit_soft_logistic(
                    Zfit,
                    t[fit_rows],
                    l1=float(self.l1),
                    l2=float(self.l2),
                    sample_weight=w[fit_rows],
                    sign=sign,
                    max_iter=int(self.max_iter),
                )
                sc = Zcheck @ W + b
                pred = (sc[:, 0] > 0).astype(int) if sc.shape[1] == 1 else np.argmax(sc, axis=1)
                agree[mode] += float((pred == want).sum())

        n = len(Z)
        if val is not None and val[2] is not None and val[0].n >= _MIN_CHECK_ROWS:
            vin, _, tv = val
            Zv = _design_matrix(features, [self._column(vin, f) for f in features], vin.n)
            score(slice(None), Z, Zv, np.argmax(tv, axis=1))
        else:
            rng = np.random.default_rng(self.random_state)
            fold = rng.integers(0, 5, n)
            for f in range(1) if n * 0.2 >= _MIN_CHECK_ROWS else range(5):
                held = fold == f
                score(~held, Z[~held], Z[held], np.argmax(soft[held], axis=1))
        self.target_agreement_ = agree
        return "soft" if agree["soft"] > agree["decision"] else "decision"

    @staticmethod
    def _column(inputs: RawInputs, f: _Feature) -> tuple[np.ndarray, np.ndarray | None]:
        """A feature's values (special values as NaN) and each row's special-value index (or None)."""
        if f.is_numeric:
            j = inputs.numeric_columns.index(f.name)
            return inputs.numeric[:, j], _codes_of(inputs, j)
        return inputs.categorical[:, inputs.categorical_columns.index(f.name)].astype(object), None

    def _lower(
        self,
        features: list[_Feature],
        cols: list[Any],
        W: np.ndarray,
        b: np.ndarray,
        k: int,
        w: np.ndarray,
        decision: np.ndarray,
        y_idx: np.ndarray,
        classes: np.ndarray,
        points: dict,
        targets_of: np.ndarray,
    ) -> dict:
        kp = W.shape[1]
        intercept = np.array(b, dtype=np.float64)
        terms = []
        start = 0
        for f, (col, code) in zip(features, cols):
            coef = W[start : start + f.n_columns()]
            start += f.n_columns()
            term, avg = _feature_term(f, col, code, coef, k, w, decision, y_idx, targets_of)
            intercept += avg
            if term is not None:
                terms.append(term)
        n_bins = sum(len(t["scores"]) for t in terms)
        return {
            "kind": "additive",
            "link": "logistic" if kp == 1 else "softmax",
            "intercept": intercept.tolist(),
            "terms": terms,
            "meta": {
                "scorecard": {
                    "points": points,
                    "event_class": _jsonable_class(classes[1]) if k == 2 else None,
                    "event_rate_basis": EVENT_RATE_BASIS,
                    "targets": self.targets_used_,
                    "min_bin_share": float(self.min_bin_share),
                    "max_bins": int(self.max_bins),
                    "n_rows": len(decision),
                    "n_bins": int(n_bins),
                    "penalty": {"l1": float(self.l1), "l2": float(self.l2)},
                }
            },
        }


def _design_matrix(features: list[_Feature], cols: list[Any], n: int) -> np.ndarray:
    """The design columns of every feature side by side (``[n, 0]`` without features)."""
    return (
        np.hstack([f.design(*c) for f, c in zip(features, cols)]) if features else np.zeros((n, 0))
    )


def _monotone_signs(features: list[_Feature]) -> np.ndarray:
    """Sign constraint of every design column: the feature's direction on numeric steps, else 0."""
    return (
        np.concatenate(
            [
                np.r_[np.full(len(f.edges), f.sign), np.zeros(f.n_columns() - len(f.edges))]
                if f.is_numeric
                else np.zeros(f.n_columns())
                for f in features
            ]
        )
        if features
        else np.zeros(0)
    )


def _feature_term(
    f: _Feature,
    col: np.ndarray,
    code: np.ndarray | None,
    coef: np.ndarray,
    k: int,
    w: np.ndarray,
    decision: np.ndarray,
    y_idx: np.ndarray,
    targets_of: np.ndarray,
) -> tuple[dict[str, Any] | None, np.ndarray]:
    """One feature's spec term from its design coefficients, centred on the training-row average
    (returned too: it moves to the intercept); ``None`` when L1 dropped the feature."""
    kp = coef.shape[1]
    scores = f.bin_scores(coef, kp)
    cscores = f.code_scores(coef, kp)
    if f.is_numeric:
        scores, f = _fuse_equal_bins(f, scores)
    code = code if f.codes else None  # each row's special-value index, if the feature has codes
    bins = f.spec_bins(col)
    if code is not None:
        bins = np.where(code >= 0, -1, bins)
    nb = f.n_spec_bins()
    inbin = bins >= 0
    counts = np.bincount(bins[inbin], minlength=nb).astype(np.int64)
    wsum = np.bincount(bins[inbin], weights=w[inbin], minlength=nb)
    cw = (
        np.asarray([w[code == i].sum() for i in range(len(f.codes))])
        if code is not None
        else np.zeros(len(f.codes))
    )
    scores, cscores, avg = _centred(f, scores, cscores, wsum, cw)
    populated = np.vstack([scores[counts > 0], cscores[cw > 0]])
    if not np.any(np.abs(np.ptp(populated, axis=0)) > 1e-12):
        return None, avg  # L1 dropped the feature: no term
    term: dict[str, Any] = {
        "name": f.name,
        "type": "table",
        "axes": [f.axis()],
        "scores": scores.tolist(),
        "bin_counts": counts.tolist(),
    }
    if k == 2:
        term["event_rates"] = _rates(bins[inbin], decision[inbin] == 1, nb)
        term["label_rates"] = _rates(bins[inbin], y_idx[inbin] == 1, nb)
    if not f.is_numeric:
        term["bin_groups"] = [None if g < 0 else int(g) for g in f.group_table()]
    if f.codes:
        term["special"] = {
            key: _code_entry(
                label,
                cscores[i],
                code == i if code is not None else None,
                targets_of,
                decision,
                y_idx,
                k,
            )
            for i, (key, label, _) in enumerate(f.codes)
        }
    return term, avg


def _centred(
    f: _Feature, scores: np.ndarray, cscores: np.ndarray, wsum: np.ndarray, cw: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bin and code scores minus their training-row average (and that average): bins without
    rows (and rare missing values / codes / an absent "other" pool) score the average."""
    avg = ((scores * wsum[:, None]).sum(axis=0) + (cscores * cw[:, None]).sum(axis=0)) / max(
        wsum.sum() + cw.sum(), 1e-12
    )
    scores = scores - avg
    cscores = (
        np.where(
            np.asarray([own for _, _, own in f.codes], dtype=bool)[:, None],
            cscores - avg,
            0.0,
        )
        if f.codes
        else cscores
    )
    if not f.missing_column:
        scores[0] = 0.0
    if not f.is_numeric and f.other_group is None:
        scores[-1] = 0.0
    return scores, cscores, avg


def _codes_of(inputs: RawInputs, j: int) -> np.ndarray | None:
    """Index of each row's declared special value of numeric column ``j`` (-1: none), or None."""
    idx = (getattr(inputs, "special_index", None) or {}).get(j)
    return None if idx is None else np.asarray(idx, dtype=np.int64)


def _code_entry(
    label: str,
    score: np.ndarray,
    rows: np.ndarray | None,
    targets: np.ndarray,
    decision: np.ndarray,
    y_idx: np.ndarray,
    k: int,
) -> dict[str, Any]:
    """The spec's ``special`` entry of one code (see docs/spec.md), with the points table's rates."""
    n = 0 if rows is None else int(rows.sum())
    entry: dict[str, Any] = {"label": label, "score": [float(v) for v in score], "count": n}
    if n:
        entry["class_shares"] = [float(v) for v in targets[rows].mean(axis=0)]
        if k == 2:
            entry["event_rate"] = float((decision[rows] == 1).mean())
            entry["label_rate"] = float((y_idx[rows] == 1).mean())
    return entry


def _jsonable_class(c: Any) -> Any:
    return jsonable_class(c)


def _rates(bins: np.ndarray, event: np.ndarray, nb: int) -> list[float | None]:
    n = np.bincount(bins, minlength=nb)
    e = np.bincount(bins, weights=event.astype(np.float64), minlength=nb)
    return [float(e[i] / n[i]) if n[i] else None for i in range(nb)]


def _fuse_equal_bins(f: _Feature, scores: np.ndarray) -> tuple[np.ndarray, _Feature]:
    """Drop numeric edges between adjacent bins that L1 gave the same score (fused bins)."""
    body = scores[1:]
    keep = [j for j in range(len(f.edges)) if np.abs(body[j + 1] - body[j]).max() > 1e-9]
    if len(keep) == len(f.edges):
        return scores, f
    rows = [0, 1] + [j + 2 for j in keep]
    f.edges = [f.edges[j] for j in keep]
    return scores[rows], f

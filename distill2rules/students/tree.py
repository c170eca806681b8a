"""Shallow decision-tree surrogate, lowered to a rule list of mutually exclusive rules.

The tree is a scikit-learn ``DecisionTreeRegressor`` fitted on the soft targets: one output
``t_1`` for two classes, all ``K`` columns for more. Squared error on probabilities is exactly
the Gini impurity of the soft labels, so every split is chosen by the teacher's probabilities
and every leaf predicts the mean soft target of its rows.

Inputs: numerics as they are (scikit-learn trees route missing values, ``NaN``, to the side
learned at each split; the lowered condition records it in ``missing``); categoricals as
ordinal codes sorted by mean target (two classes: any split is then a best binary partition
of the levels) or one 0/1 column per level (more classes), rendered back as ``in`` /
``not_in`` sets; the missing category ``""`` is a level of its own. Monotone constraints use
scikit-learn's ``monotonic_cst`` (two classes).

Every leaf becomes one rule: the conjunction of the tightest bounds on each feature along
its path. The rules are exhaustive and mutually exclusive (``meta.ordered = false``); the
default rule is never reached (support 0) and holds the root distribution.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from distill2rules.errors import ConfigError
from distill2rules.spec import MISSING_CATEGORY
from distill2rules.students._base import RawInputs, SoftTargetStudent
from distill2rules.students._special import special_levels


@dataclass
class _PathBounds:
    """What one root-to-leaf path allows, per feature, tightened split by split."""

    #: numeric feature -> [lo, hi, missing_ok]
    numeric: dict[int, list[Any]] = field(default_factory=dict)
    #: categorical feature -> [set of allowed levels, unseen_ok]
    categorical: dict[int, list[Any]] = field(default_factory=dict)
    #: numeric feature -> allowed special codes ("" = not special)
    special: dict[int, set] = field(default_factory=dict)


@dataclass(frozen=True)
class _Column:
    """One column of the matrix handed to scikit-learn: how it is filled from the inputs
    (:meth:`values`) and what a split on it says about its feature ``j`` (:meth:`narrow`)."""

    j: int  # the feature's index among the numeric (or categorical) inputs
    level: str | None = None  # one-hot columns: the level the column flags
    is_numeric: ClassVar[bool] = False  # the raw numeric value (monotone constraints apply)

    def values(self, enc: _Encoding, inputs: RawInputs) -> np.ndarray:
        raise NotImplementedError

    def narrow(
        self, enc: _Encoding, bounds: _PathBounds, thr: float, left: bool, miss_ok: bool
    ) -> None:
        raise NotImplementedError


class _NumericColumn(_Column):
    """A numeric input as it is (missing values go the side learned at each split)."""

    is_numeric = True

    def values(self, enc: _Encoding, inputs: RawInputs) -> np.ndarray:
        return inputs.numeric[:, self.j]

    def narrow(
        self, enc: _Encoding, bounds: _PathBounds, thr: float, left: bool, miss_ok: bool
    ) -> None:
        b = bounds.numeric.setdefault(self.j, [-np.inf, np.inf, True])
        if left:
            b[1] = min(b[1], thr)
        else:
            b[0] = max(b[0], thr)
        b[2] = b[2] and miss_ok


class _OrdinalColumn(_Column):
    """A categorical input as codes in the order of its levels' mean target (two classes)."""

    def values(self, enc: _Encoding, inputs: RawInputs) -> np.ndarray:
        pos = {v: i for i, v in enumerate(enc.levels[self.j])}
        return np.fromiter(
            (pos.get(v, -1) for v in inputs.categorical[:, self.j]),
            dtype=np.float32,
            count=inputs.n,
        )

    def narrow(
        self, enc: _Encoding, bounds: _PathBounds, thr: float, left: bool, miss_ok: bool
    ) -> None:
        levels = enc.levels[self.j]
        ca = bounds.categorical.setdefault(self.j, [set(levels), True])
        low = {v for i, v in enumerate(levels) if i <= thr}  # codes <= threshold go left
        ca[0] = ca[0] & low if left else ca[0] - low
        ca[1] = ca[1] and not left  # unseen categories follow the right branch


class _OneHotColumn(_Column):
    """A 0/1 column flagging one level of a categorical input (more than two classes)."""

    def values(self, enc: _Encoding, inputs: RawInputs) -> np.ndarray:
        return inputs.categorical[:, self.j] == self.level

    def narrow(
        self, enc: _Encoding, bounds: _PathBounds, thr: float, left: bool, miss_ok: bool
    ) -> None:
        levels = enc.levels[self.j]
        ca = bounds.categorical.setdefault(self.j, [set(levels), True])
        ca[0] = ca[0] - {self.level} if left else ca[0] & {self.level}  # left = "not level"
        ca[1] = ca[1] and left


class _SpecialOrdinalColumn(_Column):
    """The special-value codes of a numeric input as ordered codes ("" = not special)."""

    def values(self, enc: _Encoding, inputs: RawInputs) -> np.ndarray:
        pos = {v: i for i, v in enumerate(enc.special[self.j])}
        return np.fromiter(
            (pos[v] for v in enc._special_text(inputs, self.j)), dtype=np.float32, count=inputs.n
        )

    def narrow(
        self, enc: _Encoding, bounds: _PathBounds, thr: float, left: bool, miss_ok: bool
    ) -> None:
        a = bounds.special.setdefault(self.j, set(enc.special[self.j]))
        low = {v for i, v in enumerate(enc.special[self.j]) if i <= thr}
        bounds.special[self.j] = a & low if left else a - low


class _SpecialOneHotColumn(_Column):
    """A 0/1 column flagging one special-value code of a numeric input."""

    def values(self, enc: _Encoding, inputs: RawInputs) -> np.ndarray:
        return enc._special_text(inputs, self.j) == self.level

    def narrow(
        self, enc: _Encoding, bounds: _PathBounds, thr: float, left: bool, miss_ok: bool
    ) -> None:
        a = bounds.special.setdefault(self.j, set(enc.special[self.j]))
        bounds.special[self.j] = a - {self.level} if left else a & {self.level}


class _Encoding:
    """Column layout of the matrix handed to scikit-learn."""

    def __init__(self, inputs: RawInputs, targets: np.ndarray) -> None:
        self.numeric = list(inputs.numeric_columns)
        self.k = targets.shape[1]
        self.levels: list[list[str]] = []  # per categorical feature, in code order
        self.columns: list[_Column] = []
        for j in range(len(self.numeric)):
            self.columns.append(_NumericColumn(j))
        for j, _name in enumerate(inputs.categorical_columns):
            col = inputs.categorical[:, j].astype(str)
            levels, inv = np.unique(col, return_inverse=True)
            if self.k == 2:  # order the levels by mean P(class 1)
                means = np.bincount(inv, weights=targets[:, 1]) / np.maximum(np.bincount(inv), 1)
                levels = levels[np.argsort(means, kind="stable")]
                self.columns.append(_OrdinalColumn(j))
            else:
                for lv in levels:
                    self.columns.append(_OneHotColumn(j, str(lv)))
            self.levels.append([str(v) for v in levels])
        self.categorical = list(inputs.categorical_columns)
        # special values: per numeric feature, one code column ("" = not special), like a categorical
        self.special: dict[int, list[str]] = {}  # numeric j -> code levels in code order
        self.special_values: dict[int, dict[str, float]] = {}
        for j, name in enumerate(self.numeric):
            own = special_levels(inputs, j)
            if not own:
                continue
            col = self._special_text(inputs, j)
            levels, inv = np.unique(col, return_inverse=True)
            if self.k == 2:
                means = np.bincount(inv, weights=targets[:, 1]) / np.maximum(np.bincount(inv), 1)
                levels = levels[np.argsort(means, kind="stable")]
                self.columns.append(_SpecialOrdinalColumn(j))
            else:
                for lv in levels:
                    self.columns.append(_SpecialOneHotColumn(j, str(lv)))
            self.special[j] = [str(v) for v in levels]
            self.special_values[j] = {lv.key: lv.value for lv in own}

    @staticmethod
    def _special_text(inputs: RawInputs, j: int) -> np.ndarray:
        keys = np.asarray(["", *inputs.special[inputs.numeric_columns[j]]], dtype=object)
        return keys[inputs.special_index[j] + 1].astype(str)

    def matrix(self, inputs: RawInputs) -> np.ndarray:
        n = inputs.n
        out = np.empty((n, len(self.columns)), dtype=np.float32)
        for c, column in enumerate(self.columns):
            out[:, c] = column.values(self, inputs)
        return out


class TreeStudent(SoftTargetStudent):
    """Depth-limited regression tree on soft targets, lowered to mutually exclusive rules.

    Parameters
    ----------
    max_depth : int
        Maximum depth (a rule has at most this many splits; bounds on one feature merge).
    min_samples_leaf : int or float
        Minimum rows (or fraction of rows) in a leaf.
    max_leaf_nodes : int or None
        Optional cap on the number of leaves (= rules).
    categorical_features : list of str or None
        Columns treated as categorical; default: non-numeric dtypes.
    monotone : dict or str or None
        ``{"income": +1}``: scikit-learn ``monotonic_cst`` (two classes only).
    random_state : int or None
        Seed of scikit-learn's feature permutation (ties between equally good splits).
    special_values : dict or str or None
        Codes that are levels, not numbers: split on as a small categorical of their own
        (rules read ``X is 'no record'``); numeric splits see them as missing.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.c_[np.arange(100.0)]
    >>> TreeStudent(max_depth=2).fit(X, (X[:, 0] > 60).astype(int)).to_spec()["meta"]["ordered"]
    False
    """

    student_name = "tree"

    def __init__(
        self,
        *,
        max_depth: int = 4,
        min_samples_leaf: float = 5,
        max_leaf_nodes: int | None = None,
        categorical_features: Sequence[str] | None = None,
        monotone: Any = None,
        random_state: int | None = 0,
        special_values: Any = None,
        calibrate: bool = False,
    ) -> None:
        self.special_values = special_values
        self.max_depth = max_depth
        self.min_samples_leaf = min_samples_leaf
        self.max_leaf_nodes = max_leaf_nodes
        self.categorical_features = categorical_features
        self.monotone = monotone
        self.random_state = random_state
        self.calibrate = calibrate

    def _fit_spec(self, inputs, targets, y_idx, classes, *, val, sample_weight):
        from sklearn.tree import DecisionTreeRegressor

        k = targets.shape[1]
        if (
            not isinstance(self.max_depth, (int, np.integer))
            or isinstance(self.max_depth, bool)
            or self.max_depth < 1
        ):
            raise ConfigError(f"max_depth must be an integer >= 1, got {self.max_depth!r}.")
        if self.monotone_ and k != 2:
            raise ConfigError("monotone constraints on a tree student need a binary target.")
        enc = _Encoding(inputs, targets)
        Z = enc.matrix(inputs)
        mono = None
        if self.monotone_:
            mono = [
                int(self.monotone_.get(enc.numeric[c.j], 0)) if c.is_numeric else 0
                for c in enc.columns
            ]
        y = targets[:, 1] if k == 2 else targets
        tree = DecisionTreeRegressor(
            max_depth=int(self.max_depth),
            min_samples_leaf=self.min_samples_leaf,
            max_leaf_nodes=self.max_leaf_nodes,
            monotonic_cst=mono,
            random_state=self.random_state,
        )
        tree.fit(Z, y, sample_weight=sample_weight)
        self.tree_ = tree
        self.encoding_ = enc
        return self._lower(tree, enc, Z, targets, sample_weight)

    # ------------------------------------------------------------------ lowering
    def _lower(
        self,
        tree: Any,
        enc: _Encoding,
        Z: np.ndarray,
        targets: np.ndarray,
        sample_weight: np.ndarray | None,
    ) -> dict:
        t = tree.tree_
        k = enc.k
        leaf_of = tree.apply(Z)
        w = np.ones(len(Z)) if sample_weight is None else sample_weight
        rules: list[dict[str, Any]] = []
        for leaf, path in self._paths(t):
            value = np.asarray(t.value[leaf], dtype=np.float64).ravel()
            p = np.array([1.0 - value[0], value[0]]) if k == 2 else value
            p = np.clip(p, 0.0, 1.0)
            p = p / p.sum()
            rows = leaf_of == leaf
            rules.append(
                {
                    "conditions": self._conditions(path, enc),
                    "probabilities": p.tolist(),
                    "support": int(rows.sum()),
                    "class_counts": (targets[rows] * w[rows, None]).sum(axis=0).tolist(),
                    "name": f"L{len(rules) + 1}",
                }
            )
        root = (targets * w[:, None]).sum(axis=0)
        default = {
            "probabilities": (root / root.sum()).tolist(),
            "support": 0,
            "class_counts": [0.0] * k,
        }
        return {
            "kind": "rule_list",
            "rules": rules,
            "default": default,
            "meta": {
                "ordered": False,
                "learner": "sklearn DecisionTreeRegressor on soft targets",
                "max_depth": int(self.max_depth),
                "leaves": int(t.n_leaves),
                "depth": int(tree.get_depth()),
            },
        }

    @staticmethod
    def _paths(t: Any):
        """(leaf id, [(column, threshold, went_left, missing_went_this_way)]) for every leaf, left first."""
        stack: list[tuple[int, list[Any]]] = [(0, [])]
        while stack:
            node, path = stack.pop()
            left, right = int(t.children_left[node]), int(t.children_right[node])
            if left == -1:
                yield node, path
                continue
            col, thr = int(t.feature[node]), float(t.threshold[node])
            miss_left = bool(t.missing_go_to_left[node])
            stack.append((right, path + [(col, thr, False, not miss_left)]))
            stack.append((left, path + [(col, thr, True, miss_left)]))

    @staticmethod
    def _conditions(path: list, enc: _Encoding) -> list[dict]:
        """A leaf's rule conditions: the tightest bounds its path puts on each feature."""
        bounds = _PathBounds()
        for col, thr, left, miss_ok in path:
            enc.columns[col].narrow(enc, bounds, thr, left, miss_ok)
        out: list[dict] = []
        for j in sorted(set(bounds.numeric) | set(bounds.special)):
            out += _numeric_conditions(j, bounds, enc)
        for j in sorted(bounds.categorical):
            out += _categorical_conditions(j, bounds, enc)
        return out


def _numeric_conditions(j: int, bounds: _PathBounds, enc: _Encoding) -> list[dict]:
    """Conditions on numeric feature ``j``: its special codes, then ``>`` / ``<=`` bounds."""
    out: list[dict] = []
    name = enc.numeric[j]
    special: list[float] = []
    if j in enc.special:  # special rows went with the missing ones on numeric splits
        allowed = bounds.special.get(j, set(enc.special[j]))
        codes = enc.special_values[j]
        num = bounds.numeric.get(j)
        passing = {k for k in allowed if k} if num is None or num[2] else set()
        special = sorted(codes[k] for k in passing)
        if "" not in allowed:  # only special rows reach this leaf
            return [{"feature": name, "op": "is_special", "values": special}]
        if num is None:
            if len(passing) < len(codes):
                out.append(
                    {
                        "feature": name,
                        "op": "not_special",
                        "values": sorted(v for k, v in codes.items() if k not in passing),
                    }
                )
            return out
    lo, hi, miss_ok = bounds.numeric[j]
    extra = {"special": special} if special else {}
    if np.isfinite(lo):
        out.append(
            {"feature": name, "op": ">", "value": float(lo), "missing": bool(miss_ok), **extra}
        )
    if np.isfinite(hi):
        out.append(
            {"feature": name, "op": "<=", "value": float(hi), "missing": bool(miss_ok), **extra}
        )
    return out


def _categorical_conditions(j: int, bounds: _PathBounds, enc: _Encoding) -> list[dict]:
    """The ``in`` / ``not_in`` / ``not_missing`` condition on categorical feature ``j``, if any."""
    allowed, unseen_ok = bounds.categorical[j]
    name = enc.categorical[j]
    known = [v for v in enc.levels[j] if v != MISSING_CATEGORY]
    # a missing value seen in training is a level of its own; otherwise it follows unseen values
    missing = MISSING_CATEGORY in allowed if MISSING_CATEGORY in enc.levels[j] else unseen_ok
    if not unseen_ok:
        return [
            {
                "feature": name,
                "op": "in",
                "values": sorted(v for v in allowed if v != MISSING_CATEGORY),
                "missing": missing,
            }
        ]
    excluded = sorted(v for v in known if v not in allowed)
    if excluded:
        return [{"feature": name, "op": "not_in", "values": excluded, "missing": missing}]
    if not missing and MISSING_CATEGORY in enc.levels[j]:
        return [{"feature": name, "op": "not_missing"}]
    return []

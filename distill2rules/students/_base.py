"""Shared machinery for students: sklearn-compatible estimators that learn from soft targets.

Every student

* takes raw business columns (a DataFrame; numpy arrays are treated as numeric columns
  ``x0..x{d-1}``), numeric and categorical, with missing values;
* takes hard labels ``y`` (which fix ``classes_``) and optionally ``soft_targets`` of shape
  ``(n, len(classes_))`` whose columns follow ``classes_``;
* lowers itself to a spec (``spec_``) at the end of ``fit`` and predicts *through the spec*, so
  the Python student, its ONNX graph, its reason codes and its rule card are one function.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

try:
    from sklearn.base import BaseEstimator, ClassifierMixin
    from sklearn.utils.validation import check_is_fitted
except ModuleNotFoundError as _exc:  # students need the [fit] extra
    from distill2rules._optional import missing_dependency

    raise missing_dependency(_exc, purpose="fitting students") from None

from distill2rules import spec as spec_mod
from distill2rules._api import StudentMethods
from distill2rules.errors import ConfigError, DataError, SchemaError
from distill2rules.kd import one_hot
from distill2rules.students._calibration import calibrate_spec
from distill2rules.students._size import spec_size
from distill2rules.students._special import resolve_student_specials
from distill2rules.students.cutoff import apply_threshold, calibrate_about_threshold


def as_frame(X: Any) -> pd.DataFrame:
    """Raw rows as a DataFrame (2-D numpy input → numeric columns ``x0..``; column names as text,
    so a frame with integer column names fits and predicts alike). A 1-D array is refused, as in
    scikit-learn: it could be one row or one column."""
    if isinstance(X, pd.DataFrame):
        if any(not isinstance(c, str) for c in X.columns):
            X = X.set_axis([str(c) for c in X.columns], axis=1)
        return X
    if hasattr(X, "toarray") or type(X).__module__.startswith("scipy.sparse"):
        raise DataError(
            "sparse input is not supported; pass a dense array or a DataFrame of raw columns."
        )
    arr = np.asarray(X)
    if np.iscomplexobj(arr):
        raise DataError("Complex data not supported; pass real numbers or category values.")
    if arr.ndim == 1:
        raise DataError(
            "expected 2-D input rows, got a 1-D array.",
            hint="Reshape your data: X.reshape(-1, 1) for one feature, X.reshape(1, -1) for one row.",
        )
    if arr.ndim != 2:
        raise DataError(f"expected 2-D input rows, got an array of shape {arr.shape}.")
    return pd.DataFrame(arr, columns=[f"x{j}" for j in range(arr.shape[1])])


def split_columns(
    X: pd.DataFrame, categorical_features: Sequence[str] | None
) -> tuple[list[str], list[str]]:
    """Numeric and categorical column names (categorical = given list, else non-numeric dtypes)."""
    cols = [str(c) for c in X.columns]
    if len(set(cols)) != len(cols):
        dup = sorted({c for c in cols if cols.count(c) > 1})
        raise SchemaError(
            f"duplicated column name(s): {', '.join(dup)}.",
            hint="Rename the columns so each is unique.",
        )
    if categorical_features is not None:
        unknown = [c for c in categorical_features if c not in cols]
        if unknown:
            raise SchemaError(
                f"categorical_features names unknown column(s): {', '.join(unknown)}."
            )
        cat = [c for c in cols if c in set(categorical_features)]
    else:
        cat = [
            c
            for c in cols
            if not (pd.api.types.is_numeric_dtype(X[c]) or pd.api.types.is_bool_dtype(X[c]))
        ]
    num = [c for c in cols if c not in set(cat)]
    return num, cat


@dataclass
class RawInputs:
    """The student's view of the raw rows: float32 numerics and canonical category strings.

    With declared special values, ``numeric`` holds them as NaN (so a student that ignores
    them treats them as missing, never as numbers), ``raw_numeric`` keeps them, and
    ``special`` / ``special_index`` say which row holds which code (see
    :mod:`distill2rules.students._special`).
    """

    numeric_columns: list[str]
    categorical_columns: list[str]
    numeric: np.ndarray  # (n, d_num) float32, NaN = missing (or special)
    categorical: np.ndarray  # (n, d_cat) object str, "" = missing
    extra: dict = field(default_factory=dict)
    special: dict[str, dict[str, str]] = field(default_factory=dict)  # column -> {code key: label}
    special_index: dict[int, np.ndarray] = field(
        default_factory=dict
    )  # numeric j -> code index or -1
    raw_numeric: np.ndarray | None = None  # numeric with the special values kept

    @property
    def n(self) -> int:
        return self.numeric.shape[0] if self.numeric.shape[1] else self.categorical.shape[0]

    @property
    def raw(self) -> np.ndarray:
        """The numerics as given (special values kept): what spec evaluation takes."""
        return self.numeric if self.raw_numeric is None else self.raw_numeric


def raw_inputs(
    X: pd.DataFrame,
    numeric_columns: list[str],
    categorical_columns: list[str],
    special: dict[str, dict[str, str]] | None = None,
) -> RawInputs:
    spec_like = {"inputs": {"numeric": numeric_columns, "categorical": categorical_columns}}
    num, cat = spec_mod.prepare_inputs(spec_like, X)
    if not special:
        return RawInputs(numeric_columns, categorical_columns, num, cat)
    masked, index = spec_mod.mask_specials({**spec_like, "special_values": special}, num)
    return RawInputs(
        numeric_columns,
        categorical_columns,
        masked,
        cat,
        special=dict(special),
        special_index=index,
        raw_numeric=num,
    )


def numeric_standardisation(inputs: RawInputs) -> list[dict]:
    """Per numeric column: median ``impute``, training-range ``clip``, then ``mean``/``scale`` of the
    imputed, clipped values (the preprocessing of the linear and MLP students, kept in their specs)."""
    out = []
    for j, name in enumerate(inputs.numeric_columns):
        x = inputs.numeric[:, j].astype(np.float64)
        finite = x[np.isfinite(x)]
        if finite.size == 0:
            finite = np.zeros(1)
        lo, hi = float(finite.min()), float(finite.max())
        med = float(np.median(finite))
        xc = np.clip(np.where(np.isnan(x), med, x), lo, hi)
        sd = float(xc.std())
        out.append(
            {
                "feature": name,
                "impute": med,
                "clip": [lo, hi],
                "mean": float(xc.mean()),
                "scale": sd if sd > 1e-12 else 1.0,
            }
        )
    return out


def check_targets(
    y: Any, soft_targets: Any | None, n: int, *, classes: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate labels/targets. Returns ``(classes, y_idx, targets)``.

    ``classes`` (the training classes) indexes validation labels, which may lack a class.
    """
    y_arr = np.asarray(y, dtype=object).ravel() if y is not None else None
    if y_arr is None:
        raise DataError(
            "this student requires y to be passed, but the target y is None.",
            hint="Pass the class labels y (they fix classes_).",
        )
    y_shape = np.shape(np.asarray(y, dtype=object)) if y is not None else ()
    if len(y_shape) == 2 and y_shape[1] == 1:
        import warnings

        from sklearn.exceptions import DataConversionWarning

        warnings.warn(
            "A column-vector y was passed when a 1d array was expected; it was raveled.",
            DataConversionWarning,
            stacklevel=3,
        )
    if len(y_arr) != n:
        raise DataError(f"y has {len(y_arr)} labels for {n} rows.")
    if pd.isna(pd.Series(y_arr)).any():
        raise DataError(
            "the labels contain missing values.", hint="Drop those rows before fitting."
        )
    if classes is not None:
        y_idx = pd.Index([str(c) for c in classes]).get_indexer(pd.Index([str(v) for v in y_arr]))
        if (y_idx < 0).any():
            raise DataError(
                f"validation label {y_arr[np.flatnonzero(y_idx < 0)[0]]!r} is not a class of the training labels."
            )
    else:
        _check_label_type(y_arr)
        try:
            classes = np.unique(np.asarray(y).ravel())
        except TypeError:
            classes = np.unique(y_arr.astype(str))
            y_arr = y_arr.astype(str)
        if len(classes) < 2:
            raise DataError(
                f"the labels hold a single class ({classes[0]!r}), one class only; a classifier needs at least two."
            )
        y_idx = np.searchsorted(classes, np.asarray(y_arr, dtype=classes.dtype))
    if soft_targets is None:
        targets = one_hot(y_idx, len(classes))
    else:
        targets = np.asarray(soft_targets, dtype=np.float64)
        if targets.shape != (n, len(classes)):
            raise DataError(
                f"soft_targets must have shape ({n}, {len(classes)}) (one column per class), got {targets.shape}."
            )
        if not np.isfinite(targets).all() or (targets < -1e-9).any():
            raise DataError("soft_targets must be finite, non-negative probabilities.")
        sums = targets.sum(axis=1)
        if np.abs(sums - 1.0).max() > 1e-6:
            raise DataError("each row of soft_targets must sum to 1.")
    return classes, y_idx, targets


def _check_label_type(y_arr: np.ndarray) -> None:
    """Refuse continuous or multi-output targets, as scikit-learn classifiers do."""
    from sklearn.utils.multiclass import type_of_target

    try:
        kind = type_of_target(np.asarray(list(y_arr)))
    except ValueError:
        return  # mixed label types: np.unique below sorts them as text
    if kind.startswith("continuous"):
        raise DataError(
            f"Unknown label type: {kind!r}; a classifier needs class labels.",
            hint="Pass the class of each row as y (a continuous target needs a regressor).",
        )


def check_sample_weight(sample_weight: Any, n: int) -> np.ndarray | None:
    """``sample_weight`` as float64 ``(n,)``: finite, non-negative, not all zero."""
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight, dtype=np.float64)
    if w.ndim == 0:
        w = np.full(n, float(w))
    if w.shape != (n,):
        raise DataError(f"sample_weight must have shape ({n},), got {w.shape}.")
    if not np.isfinite(w).all() or (w < 0).any():
        raise DataError("sample_weight must be finite and non-negative.")
    if not (w > 0).any():
        raise DataError("Sample weights must contain at least one non-zero number (all are zero).")
    return w


def jsonable_class(c: Any) -> Any:
    if isinstance(c, (np.integer,)):
        return int(c)
    if isinstance(c, (np.floating,)):
        return float(c)
    if isinstance(c, (np.bool_,)):
        return bool(c)
    return c if isinstance(c, (int, float, str, bool)) else str(c)


def parse_monotone(monotone: Any) -> dict[str, int]:
    """``{"income": +1}``, ``"income:+,debt:-"`` or None → ``{name: ±1}``."""
    if not monotone:
        return {}
    items: list[tuple[Any, Any]]
    if isinstance(monotone, dict):
        items = list(monotone.items())
    else:
        items = []
        for part in str(monotone).split(","):
            part = part.strip()
            if not part:
                continue
            name, _, sign = part.rpartition(":")
            if not name:
                raise ConfigError(
                    f"monotone constraint {part!r} must look like 'feature:+' or 'feature:-'."
                )
            items.append((name.strip(), sign.strip()))
    out: dict[str, int] = {}
    for name, sign in items:
        s = {
            "+": 1,
            "+1": 1,
            "1": 1,
            "inc": 1,
            "increasing": 1,
            "-": -1,
            "-1": -1,
            "dec": -1,
            "decreasing": -1,
        }.get(str(sign).strip())
        if s is None:
            raise ConfigError(f"monotone direction for '{name}' must be + or -, got {sign!r}.")
        out[str(name)] = s
    return out


def _checked_monotone(monotone: Any, num: list[str], cat: list[str]) -> dict[str, int]:
    """:func:`parse_monotone`, refusing constraints on unknown or categorical columns."""
    out = parse_monotone(monotone)
    unknown = [m for m in out if m not in num + cat]
    if unknown:
        raise ConfigError(
            f"monotone constraint on unknown column(s): {', '.join(unknown)}.",
            hint="Name feature columns of the data, e.g. --monotone 'income:+,debt:-'.",
        )
    bad = [m for m in out if m in cat]
    if bad:
        raise ConfigError(
            f"monotone constraints need numeric columns; {', '.join(bad)} is categorical."
        )
    return out


class SoftTargetStudent(ClassifierMixin, BaseEstimator, StudentMethods):
    """Base class. Subclasses implement ``_fit_spec(inputs, targets, y_idx, classes) -> spec``.

    Every student takes ``calibrate`` (default False): with validation rows given to ``fit``
    (``X_val``, ``y_val``) it re-calibrates itself on them and folds the calibration into its
    spec (nothing outside a student writes ``spec_``). The pipeline sets ``decision_cutoff =
    (threshold, shifted)`` for ``fit --cutoff`` (:mod:`distill2rules.students.cutoff`): the spec
    then decides class 1 iff ``P1 > threshold`` and calibrates about it.

    A fitted student also has ``to_onnx(path=None)``, ``explain(X)``, ``rule_card(format=...)``,
    ``save(dir)`` and displays as its rule card summary in a notebook (see ``docs/python-api.md``).
    """

    student_name: str = "student"

    # ------------------------------------------------------------------ sklearn API
    def fit(
        self,
        X: Any,
        y: Any,
        *,
        soft_targets: Any | None = None,
        X_val: Any | None = None,
        y_val: Any | None = None,
        soft_targets_val: Any | None = None,
        sample_weight: Any | None = None,
    ):
        """Fit on raw rows ``X`` with labels ``y`` and optional teacher ``soft_targets``."""
        X = as_frame(X)
        if len(X) == 0:
            raise DataError("cannot fit a student on zero rows.")
        if X.shape[1] == 0:
            raise DataError(f"0 feature(s) (shape={X.shape}) while a minimum of 1 is required.")
        classes, y_idx, targets = check_targets(y, soft_targets, len(X))
        num, cat = split_columns(X, getattr(self, "categorical_features", None))
        monotone = _checked_monotone(getattr(self, "monotone", None), num, cat)
        self.monotone_ = monotone
        self.classes_ = classes
        self.n_features_in_ = X.shape[1]
        self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        self.special_values_ = resolve_student_specials(
            getattr(self, "special_values", None), num, num + cat
        )
        inputs = raw_inputs(X, num, cat, self.special_values_)
        val = None
        if X_val is not None:
            Xv = as_frame(X_val)
            _, yv_idx, tv = (
                check_targets(y_val, soft_targets_val, len(Xv), classes=classes)
                if y_val is not None
                else (None, None, None)
            )
            val = (raw_inputs(Xv, num, cat, self.special_values_), yv_idx, tv)
        w = check_sample_weight(sample_weight, len(X))
        inputs, targets, y_idx, w = self._without_zero_weights(inputs, targets, y_idx, w)
        spec = self._fit_spec(inputs, targets, y_idx, classes, val=val, sample_weight=w)
        spec.setdefault("format", spec_mod.SPEC_FORMAT)
        spec.setdefault("model", self.student_name)
        spec["classes"] = [jsonable_class(c) for c in classes]
        spec["inputs"] = {"numeric": list(num), "categorical": list(cat)}
        if self.special_values_:
            spec["special_values"] = {c: dict(m) for c, m in self.special_values_.items()}
        if monotone:
            spec["monotone"] = dict(monotone)
        spec_mod.validate(spec)
        cut = getattr(self, "decision_cutoff", None)
        if cut is not None:  # (threshold, shifted): fit --cutoff / --approval-rate
            spec = apply_threshold(spec, cut[0], shifted=cut[1])
        if getattr(self, "calibrate", False) and X_val is not None and y_val is not None:
            spec = self._calibrated(spec, as_frame(X_val), y_val, about_threshold=cut is not None)
        self.spec_ = spec
        return self

    def _without_zero_weights(
        self, inputs: RawInputs, targets: np.ndarray, y_idx: np.ndarray, w: np.ndarray | None
    ) -> tuple[RawInputs, np.ndarray, np.ndarray, np.ndarray | None]:
        """Rows of zero weight dropped: a zero weight is an absent row (EBM refuses zeros).
        Students given per-row teacher logits keep every row and weigh them as given."""
        if w is None or (w > 0).all():
            return inputs, targets, y_idx, w
        keep = w > 0
        if len(np.unique(y_idx[keep])) < 2:
            raise DataError(
                "sample_weight leaves rows of only one class (all others weigh zero); "
                "a classifier needs at least two classes."
            )
        if getattr(self, "accepts_teacher_logits", False):
            return inputs, targets, y_idx, w
        inputs = dataclasses.replace(
            inputs,
            numeric=inputs.numeric[keep],
            categorical=inputs.categorical[keep],
            special_index={j: idx[keep] for j, idx in inputs.special_index.items()},
            raw_numeric=None if inputs.raw_numeric is None else inputs.raw_numeric[keep],
        )
        return inputs, targets[keep], y_idx[keep], w[keep]

    def _calibrated(
        self, spec: dict, X_val: pd.DataFrame, y_val: Any, *, about_threshold: bool = False
    ) -> dict:
        """``spec`` re-calibrated on the validation rows (the ``calibrate`` parameter: temperature
        or Platt scaling, folded into the parameters and recorded under ``calibration``; with a
        user cutoff, scaled about it so the threshold and decisions stay)."""
        inp = raw_inputs(X_val, spec["inputs"]["numeric"], spec["inputs"]["categorical"])
        lookup = {str(c): i for i, c in enumerate(self.classes_)}
        y_idx = np.asarray([lookup[str(v)] for v in y_val], dtype=np.int64)
        calib = calibrate_about_threshold if about_threshold else calibrate_spec
        return calib(spec, inp.numeric, inp.categorical, y_idx)

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
        raise NotImplementedError

    def predict_proba(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "spec_")
        return spec_mod.evaluate(self.spec_, self._frame(X))["probabilities"]

    def decision_function(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "spec_")
        out = spec_mod.evaluate(self.spec_, self._frame(X))
        if "scores" in out:
            s = out["scores"]
            return s[:, 0] if s.shape[1] == 1 else s
        p = np.clip(out["probabilities"], 1e-12, 1.0)
        return np.log(p[:, 1] / p[:, 0]) if p.shape[1] == 2 else np.log(p)

    def predict(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "spec_")
        return self.classes_[spec_mod.evaluate(self.spec_, self._frame(X))["label"]]

    def to_spec(self) -> dict:
        check_is_fitted(self, "spec_")
        return self.spec_

    def _api_spec(self) -> dict:
        return self.to_spec()

    def __sklearn_tags__(self) -> Any:
        """Missing values and string (categorical) columns are part of the contract."""
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        return tags

    @property
    def _repr_html_(self) -> Any:
        """Fitted: the rule card summary; unfitted: scikit-learn's estimator display."""
        if hasattr(self, "spec_"):
            return lambda: StudentMethods._repr_html_(self)
        return BaseEstimator._repr_html_.fget(self)  # type: ignore[attr-defined]

    def _frame(self, X: Any) -> pd.DataFrame:
        X = as_frame(X)
        if not isinstance(X, pd.DataFrame) or list(map(str, X.columns)) == [
            f"x{j}" for j in range(X.shape[1])
        ]:
            if X.shape[1] != self.n_features_in_:
                raise SchemaError(
                    f"X has {X.shape[1]} features, but {type(self).__name__} is expecting "
                    f"{self.n_features_in_} features as input."
                )
        return X

    def n_parameters(self) -> int:
        return spec_size(self.to_spec())

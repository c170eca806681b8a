"""The :class:`Teacher` interface every adapter implements, plus shared helpers.

A teacher turns raw business rows (a DataFrame) into logits ``(n, K)``. It owns its own
preprocessing: :meth:`Teacher.transform` gives the matrix the model itself reads, and
:meth:`Teacher.logits_from_model_input` scores such a matrix (SHAP code uses the pair).

Binary teachers always return two columns ``[0, z]`` where ``z`` is the margin (log-odds of
``classes_[1]``), so ``softmax(logits) == predict_proba`` holds for every kind.
"""

from __future__ import annotations

import abc
import hashlib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from distill2rules.errors import SchemaError, TeacherError

__all__ = ["Teacher", "logits_from_probabilities", "logits_from_raw", "sha256_file", "softmax"]

#: probabilities are clipped to this floor before taking logs, so log-probabilities stay finite
PROBABILITY_FLOOR = 1e-7


# ----------------------------------------------------------------------------- helpers


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax of ``z`` (n, K), numerically stable, float64."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def logits_from_raw(raw: Any, n_classes: int, *, what: str = "teacher") -> np.ndarray:
    """Normalise a model's raw output to logits ``(n, K)`` float64.

    ``(n,)`` or ``(n, 1)`` is a binary margin ``z`` and becomes ``[0, z]``; two columns for a
    binary model become ``[0, z1 - z0]`` (same softmax); ``(n, K)`` is kept as it is.
    """
    arr = np.asarray(raw, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise TeacherError(
            f"{what} returned an output of shape {arr.shape}; expected [n, K] logits."
        )
    n, k = arr.shape
    if k == 1:
        if n_classes != 2:
            raise TeacherError(f"{what} returned one score per row but has {n_classes} classes.")
        return np.column_stack([np.zeros(n), arr[:, 0]])
    if k != n_classes:
        raise TeacherError(
            f"{what} returned {k} scores per row but {n_classes} classes are declared.",
            hint="Check 'classes' in the sidecar JSON or the classes= argument.",
        )
    if k == 2:
        return np.column_stack([np.zeros(n), arr[:, 1] - arr[:, 0]])
    return arr


def logits_from_probabilities(p: Any, n_classes: int, *, what: str = "teacher") -> np.ndarray:
    """Log-probabilities as logits: ``log(max(p, 1e-7))``; one column is P(classes_[1])."""
    arr = np.asarray(p, dtype=np.float64)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        if arr.ndim == 1:
            p1 = np.clip(arr, PROBABILITY_FLOOR, 1.0 - PROBABILITY_FLOOR)
            return logits_from_raw(np.log(p1) - np.log1p(-p1), n_classes, what=what)
        return logits_from_raw(np.log(np.clip(arr, PROBABILITY_FLOOR, None)), n_classes, what=what)


def check_finite(logits: np.ndarray, *, offset: int = 0, inputs: Any = None) -> np.ndarray:
    """Raise :class:`TeacherError` if any row of ``logits`` holds NaN or inf.

    With ``inputs`` (the raw rows, a DataFrame) the first bad row is named by its index
    label, and an infinite input value in it is named as the likely cause.
    """
    bad = ~np.isfinite(logits).all(axis=1)
    if bad.any():
        rows = np.flatnonzero(bad)
        first = f"row {rows[0] + offset}"
        hint = "check its preprocessing or the input values."
        if inputs is not None and hasattr(inputs, "iloc"):
            label = inputs.index[rows[0]]
            first = f"row {label.item() if isinstance(label, np.generic) else label!r}"
            culprit = _infinite_column(inputs.iloc[rows[0]])
            if culprit is not None:
                first += f", where {culprit!r} is infinite"
                hint = "replace infinite values in the data (the teacher cannot score them)."
        raise TeacherError(
            f"teacher returned NaN/inf logits for {rows.size} rows (first: {first});",
            hint=hint,
        )
    return logits


def _infinite_column(row: Any) -> Any:
    """Name of the first column of ``row`` (a Series) holding ±inf, else None."""
    for name, value in row.items():
        if isinstance(value, (int, float, np.number)) and np.isinf(value):
            return name
    return None


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _loose(name: str) -> str:
    """Name key used when LightGBM-style renaming (spaces -> '_') hides an exact match."""
    return re.sub(r"[\s_]+", "_", str(name).strip())


def resolve_columns(wanted: Sequence[str], columns: Sequence[Any]) -> tuple[list[Any], list[str]]:
    """Map each wanted feature to a data column: exact name, else spaces/underscores equated.

    Returns ``(found_columns, missing_names)``.
    """
    cols = list(columns)
    exact = set(cols)
    loose: dict[str, Any] = {}
    for c in cols:
        loose.setdefault(_loose(c), c)
    found, missing = [], []
    for name in wanted:
        if name in exact:
            found.append(name)
        elif _loose(name) in loose:
            found.append(loose[_loose(name)])
        else:
            missing.append(str(name))
    return found, missing


def _short_list(names: Sequence[Any], limit: int = 5) -> str:
    text = ", ".join(str(n) for n in list(names)[:limit])
    return text + (f" (+{len(names) - limit} more)" if len(names) > limit else "")


# ----------------------------------------------------------------------------- the interface


class Teacher(abc.ABC):
    """A loaded classifier that scores raw rows.

    Attributes
    ----------
    kind : str
        ``"lightgbm"``, ``"torchscript"``, ``"torch_state_dict"``, ``"onnx"``, ``"skops"`` or
        ``"pickle"``.
    feature_names : list of str
        Raw columns the teacher reads, in order. Empty when the file records none (a bare
        TorchScript/ONNX model): then :func:`check_features` binds the data's columns.
    classes_ : list or None
        Class labels in logit-column order, when the file or its sidecar records them.
    n_classes : int
        Number of classes ``K >= 2``.
    n_features_in : int or None
        Number of raw columns, when known.
    n_outputs : int
        Columns the native model returns (1 for a single binary margin, else ``K``).
    source : str
        Path the teacher was loaded from.
    attribution : str
        How SHAP attributions of this teacher are computed when none is asked for: ``"tree"``
        (TreeExplainer on its booster), ``"deep"`` (DeepExplainer on its torch module) or
        ``"permutation"`` (model-agnostic; the default).
    """

    kind: str = ""
    attribution: str = "permutation"

    def __init__(
        self,
        *,
        source: str | Path,
        feature_names: Sequence[str] | None,
        classes: Sequence[Any] | None,
        n_classes: int,
        n_features_in: int | None = None,
        n_outputs: int | None = None,
        files: Sequence[str | Path] = (),
        info: dict[str, Any] | None = None,
    ) -> None:
        if n_classes < 2:
            raise TeacherError(
                f"teacher {Path(source).name} has {n_classes} class(es); need at least 2."
            )
        self.source = str(source)
        self.feature_names: list[str] = [str(f) for f in feature_names] if feature_names else []
        self.classes_: list | None = list(classes) if classes is not None else None
        self.n_classes = int(n_classes)
        self.n_features_in = len(self.feature_names) if self.feature_names else n_features_in
        self.n_outputs = int(n_outputs) if n_outputs is not None else self.n_classes
        self._files = [Path(f) for f in (files or [source])]
        self._info = dict(info or {})
        self._fingerprint: str | None = None

    # ------------------------------------------------------------------ to implement

    @abc.abstractmethod
    def transform(self, X: Any) -> np.ndarray:
        """The model's own float32 input matrix ``(n, d_model)`` for raw rows ``X``."""

    @abc.abstractmethod
    def logits_from_model_input(self, Z: np.ndarray) -> np.ndarray:
        """Logits ``(n, K)`` float64 from the output of :meth:`transform`."""

    @abc.abstractmethod
    def n_parameters(self) -> int:
        """Size of the model (tree nodes, weights or initializer elements)."""

    @property
    def model_input_names(self) -> list[str]:
        """One name per column of :meth:`transform` (e.g. ``"workclass=Private"``).

        Default: one model input per raw column (LightGBM, scikit-learn); preprocessed adapters override.
        """
        return list(self.feature_names)

    @property
    def feature_groups(self) -> dict[str, list[int]]:
        """Raw column -> indices of its columns in the model input (a one-hot block is several)."""
        return {f: [i] for i, f in enumerate(self.feature_names)}

    # ------------------------------------------------------------------ shared behaviour

    def _logits_batch(self, frame: Any) -> np.ndarray:
        """Logits for one batch of selected raw rows (adapters may score more exactly)."""
        return self._raw_logits_from_model_input(self.transform(frame))

    def _raw_logits_from_model_input(self, Z: np.ndarray) -> np.ndarray:
        """Like :meth:`logits_from_model_input` without the finiteness check."""
        return self.logits_from_model_input(Z)

    def select(self, X: Any) -> Any:
        """The teacher's raw columns of ``X`` (a DataFrame), in the teacher's order."""
        import pandas as pd

        if isinstance(X, np.ndarray):
            if X.ndim != 2:
                raise SchemaError(f"expected a 2-D table of rows, got an array of shape {X.shape}.")
            names = self.feature_names or [f"x{i}" for i in range(X.shape[1])]
            if len(names) != X.shape[1]:
                raise SchemaError(
                    f"teacher takes {len(names)} input columns but the array has {X.shape[1]}."
                )
            return pd.DataFrame(X, columns=names)
        if not isinstance(X, pd.DataFrame):
            try:
                X = pd.DataFrame(X)
            except Exception as exc:
                raise SchemaError(
                    f"expected a pandas DataFrame of raw rows, got {type(X).__name__}."
                ) from exc
        if not self.feature_names:
            if self.n_features_in is not None and X.shape[1] != self.n_features_in:
                raise SchemaError(
                    f"teacher takes {self.n_features_in} input columns but the data has "
                    f"{X.shape[1]}.",
                    hint=(
                        "Pass exactly the feature columns (all but the target), in training order."
                    ),
                )
            return X
        found, missing = resolve_columns(self.feature_names, X.columns)
        if missing:
            raise SchemaError(
                f"teacher expects columns {_short_list(missing)} that the data lacks.",
                hint="Pass rows with the columns the teacher was trained on.",
            )
        return X.loc[:, found]

    def logits(self, X: Any, batch_size: int = 8192) -> np.ndarray:
        """Logits ``(n, K)`` float64 for raw rows, scored in batches of ``batch_size``.

        Raises
        ------
        TeacherError
            If any row's logits are NaN or infinite.
        """
        if batch_size < 1:
            raise TeacherError(f"batch_size must be >= 1, got {batch_size}.")
        frame = self.select(X)
        n = len(frame)
        out = np.empty((n, self.n_classes), dtype=np.float64)
        for start in range(0, n, batch_size):
            stop = min(start + batch_size, n)
            out[start:stop] = self._logits_batch(frame.iloc[start:stop])
        return check_finite(out, inputs=frame)

    def predict_proba(self, X: Any, batch_size: int = 8192) -> np.ndarray:
        """Class probabilities ``softmax(logits(X))``, shape ``(n, K)``."""
        return softmax(self.logits(X, batch_size=batch_size))

    def fingerprint(self) -> str:
        """sha256 of the model file; with a sidecar, sha256 over the files' own digests."""
        if self._fingerprint is None:
            digests = [sha256_file(f) for f in self._files]
            if len(digests) == 1:
                self._fingerprint = digests[0]
            else:
                self._fingerprint = hashlib.sha256("\n".join(digests).encode()).hexdigest()
        return self._fingerprint

    def describe(self) -> dict[str, Any]:
        """Plain-data summary (JSON-able) for manifests and reports."""
        out: dict[str, Any] = {
            "kind": self.kind,
            "source": self.source,
            "files": [str(f) for f in self._files],
            "n_parameters": int(self.n_parameters()),
            "fingerprint": self.fingerprint(),
            "feature_names": list(self.feature_names),
            "n_features_in": self.n_features_in,
            "n_model_inputs": len(self.model_input_names) if self.feature_names else None,
            "classes": _jsonable_list(self.classes_),
            "n_classes": self.n_classes,
        }
        out.update(self._info)
        return out

    def bind_feature_names(self, names: Sequence[str]) -> None:
        """Give names to a teacher whose file records none (column count must match)."""
        names = [str(n) for n in names]
        if (
            self.feature_names
            and len(names) == len(self.feature_names)
            and [_loose(n) for n in names] == [_loose(f) for f in self.feature_names]
        ):
            self._adopt_names(names)  # LightGBM's 'fixed_acidity' for 'fixed acidity'
            return
        if self.feature_names and names != self.feature_names:
            raise SchemaError(
                f"feature names conflict with those recorded by {Path(self.source).name} "
                f"(first difference: {_first_difference(self.feature_names, names)}).",
                hint="Leave feature_names unset; the teacher file already names its columns.",
            )
        if self.n_features_in is not None and len(names) != self.n_features_in:
            raise SchemaError(
                f"teacher takes {self.n_features_in} input columns but {len(names)} names were "
                "given.",
                hint="Pass exactly the feature columns (all but the target), in training order.",
            )
        self.feature_names = names
        self.n_features_in = len(names)
        self._on_names_bound()

    def _adopt_names(self, names: Sequence[str]) -> None:
        """Rename features to the data's spelling of the same columns (same count and order)."""
        mapping = dict(zip(self.feature_names, [str(n) for n in names]))
        self.feature_names = [mapping[f] for f in self.feature_names]
        self._on_names_renamed(mapping)

    def _on_names_renamed(self, mapping: dict[str, str]) -> None:
        """Hook for adapters that key state by feature name."""

    def _on_names_bound(self) -> None:
        """Hook for adapters that build per-name state (preprocessing)."""

    def set_classes(self, classes: Sequence[Any]) -> None:
        """Record class labels (their count must be ``n_classes``)."""
        classes = list(classes)
        if len(classes) != self.n_classes:
            raise TeacherError(
                f"{len(classes)} class labels given but the teacher has {self.n_classes} classes."
            )
        if self.classes_ is not None and [str(c) for c in classes] != [
            str(c) for c in self.classes_
        ]:
            raise TeacherError(
                f"classes {_short_list(classes)} conflict with {_short_list(self.classes_)} "
                "recorded "
                f"by {Path(self.source).name}.",
                hint="Leave classes unset or fix the sidecar JSON.",
            )
        self.classes_ = classes

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(kind={self.kind!r}, source={Path(self.source).name!r}, "
            f"n_features={self.n_features_in}, n_classes={self.n_classes})"
        )


def _first_difference(a: Sequence[str], b: Sequence[str]) -> str:
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return f"position {i}, {x!r} vs {y!r}"
    return f"{len(a)} vs {len(b)} names"


def _jsonable_list(values: Sequence[Any] | None) -> list | None:
    if values is None:
        return None
    out = []
    for v in values:
        if isinstance(v, np.generic):
            v = v.item()
        out.append(v if isinstance(v, (str, int, float, bool)) or v is None else str(v))
    return out

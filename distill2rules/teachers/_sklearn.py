"""scikit-learn teachers: skops files (safe by design) and, only when trusted, pickles.

skops refuses to build any type it does not trust; we list those types in the error and
load them only with ``trust_pickle=True``. A pickle or joblib file is never opened without
``trust_pickle=True``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from distill2rules._optional import require
from distill2rules.errors import TeacherError, UnsafeFileError
from distill2rules.teachers._base import Teacher, check_finite, logits_from_probabilities
from distill2rules.teachers._detect import check_zip_members
from distill2rules.teachers._plugin import Probe
from distill2rules.teachers._preprocess import numeric_column
from distill2rules.teachers._sidecar import Sidecar
from distill2rules.teachers._torch import _module_teacher

__all__ = ["SklearnTeacher", "load_pickle", "load_skops"]


def _one_line(exc: BaseException) -> str:
    lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()]
    return lines[0][:200] if lines else type(exc).__name__


class SklearnTeacher(Teacher):
    """A fitted scikit-learn-style classifier (anything with ``predict_proba`` and ``classes_``).

    Logits are ``log(max(predict_proba, 1e-7))`` (binary: ``[0, log-odds]``). The model input of
    :meth:`transform` is the raw columns as float32, so it only exists for numeric data; the
    estimator itself (a Pipeline, say) may take any columns through :meth:`logits`.

    Attributes
    ----------
    estimator : object
        The loaded estimator.
    """

    def __init__(
        self,
        estimator: Any,
        *,
        kind: str,
        source: str | Path,
        feature_names: Sequence[str] | None,
        classes: Sequence[Any] | None,
        n_classes: int,
        n_features_in: int | None,
        files: Sequence[str | Path] = (),
        info: dict[str, Any] | None = None,
    ) -> None:
        self.kind = kind
        super().__init__(
            source=source,
            feature_names=feature_names,
            classes=classes,
            n_classes=n_classes,
            n_features_in=n_features_in,
            n_outputs=n_classes,
            files=files,
            info=info,
        )
        self.estimator = estimator
        self._takes_frame = hasattr(estimator, "feature_names_in_")

    @classmethod
    def from_estimator(
        cls, estimator: Any, *, kind: str, path: Path, sidecar: Sidecar | None, info: dict[str, Any]
    ) -> SklearnTeacher:
        if not hasattr(estimator, "predict_proba"):
            raise TeacherError(
                f"{path.name} holds a {type(estimator).__name__}, which has no predict_proba;",
                hint="a teacher must be a fitted classifier.",
            )
        est_classes = getattr(estimator, "classes_", None)
        if est_classes is None:
            raise TeacherError(
                f"{path.name} holds an unfitted or non-classifier {type(estimator).__name__}."
            )
        classes = [c.item() if isinstance(c, np.generic) else c for c in list(est_classes)]
        names = getattr(estimator, "feature_names_in_", None)
        names = [str(n) for n in names] if names is not None else None
        files: list[Path] = [path]
        if sidecar is not None:
            files.append(sidecar.path)
            if sidecar.feature_names is not None:
                if names is not None and list(sidecar.feature_names) != names:
                    raise TeacherError(
                        f"sidecar {sidecar.path.name} feature_names differ from those "
                        f"{path.name} was fitted on."
                    )
                names = list(sidecar.feature_names)
            if sidecar.classes is not None and [str(c) for c in sidecar.classes] != [
                str(c) for c in classes
            ]:
                raise TeacherError(
                    f"sidecar {sidecar.path.name} classes differ from the estimator's "
                    f"classes_ {classes}."
                )
        n_in = getattr(estimator, "n_features_in_", None)
        info = {
            **info,
            "estimator": type(estimator).__name__,
            "output": "probabilities (converted to log-probabilities)",
        }
        return cls(
            estimator,
            kind=kind,
            source=path,
            feature_names=names,
            classes=classes,
            n_classes=len(classes),
            n_features_in=int(n_in) if n_in is not None else None,
            files=files,
            info=info,
        )

    # ------------------------------------------------------------------ the interface

    def _proba_logits(self, data: Any) -> np.ndarray:
        try:
            p = self.estimator.predict_proba(data)
        except Exception as exc:
            raise TeacherError(
                f"the {type(self.estimator).__name__} teacher failed to score rows "
                f"({_one_line(exc)})."
            ) from exc
        return logits_from_probabilities(p, self.n_classes, what="scikit-learn teacher")

    def _estimator_frame(self, data: Any) -> Any:
        """Rows under the column names the estimator was fitted with."""
        import pandas as pd

        names = [str(n) for n in self.estimator.feature_names_in_]
        if isinstance(data, pd.DataFrame):
            return data.set_axis(names, axis=1) if list(data.columns) != names else data
        return pd.DataFrame(np.asarray(data), columns=names)

    def _logits_batch(self, frame: Any) -> np.ndarray:
        return self._proba_logits(
            self._estimator_frame(frame) if self._takes_frame else frame.to_numpy()
        )

    def transform(self, X: Any) -> np.ndarray:
        """The raw columns as float32 (raises SchemaError for non-numeric columns)."""
        frame = self.select(X)
        out = np.empty(frame.shape, dtype=np.float64)
        for j in range(frame.shape[1]):
            out[:, j] = numeric_column(frame.iloc[:, j], str(frame.columns[j]))
        return out.astype(np.float32)

    def _raw_logits_from_model_input(self, Z: np.ndarray) -> np.ndarray:
        Z = np.asarray(Z)
        return self._proba_logits(self._estimator_frame(Z) if self._takes_frame else Z)

    def logits_from_model_input(self, Z: np.ndarray) -> np.ndarray:
        return check_finite(self._raw_logits_from_model_input(Z))

    def n_parameters(self) -> int:
        """Learned numbers: coefficients and intercepts, or tree nodes for tree ensembles."""
        return _count_sklearn_parameters(self.estimator)


def _count_sklearn_parameters(est: Any) -> int:
    steps = getattr(est, "steps", None)
    if steps:
        return sum(_count_sklearn_parameters(s) for _, s in steps if s not in (None, "passthrough"))
    total = 0
    if hasattr(est, "tree_"):
        total += int(est.tree_.node_count)
    for sub in getattr(est, "estimators_", []) or []:
        for e in np.ravel(np.asarray(sub, dtype=object)):
            total += _count_sklearn_parameters(e)
    for attr in ("coef_", "intercept_", "coefs_", "intercepts_"):
        val = getattr(est, attr, None)
        if val is None:
            continue
        arrays = val if isinstance(val, list) else [val]
        total += int(sum(np.size(a) for a in arrays))
    predictors = getattr(est, "_predictors", None)  # HistGradientBoosting
    if predictors:
        total += int(sum(len(p.nodes) for it in predictors for p in it))
    return total


def load_skops(path: Path, sidecar: Sidecar | None, trust_pickle: bool) -> SklearnTeacher:
    """Load a ``.skops`` file, refusing types skops does not trust unless ``trust_pickle``."""

    sio = require("skops.io", purpose="skops teachers")

    check_zip_members(path)
    try:
        untrusted = list(sio.get_untrusted_types(file=str(path)))
    except Exception as exc:
        raise TeacherError(
            f"skops could not read {path.name} ({_one_line(exc)}); it may be corrupted."
        ) from exc
    if untrusted and not trust_pickle:
        raise UnsafeFileError(
            f"{path.name} contains types skops does not trust by default: {', '.join(untrusted)};",
            hint="review them and pass --trust-pickle if you trust the file's origin.",
        )
    try:
        est = sio.load(str(path), trusted=untrusted or None)
    except Exception as exc:
        raise TeacherError(f"skops could not load {path.name} ({_one_line(exc)}).") from exc
    info: dict[str, Any] = {"trusted_types": untrusted} if untrusted else {}
    return SklearnTeacher.from_estimator(est, kind="skops", path=path, sidecar=sidecar, info=info)


def load_pickle(path: Path, sidecar: Sidecar | None, trust_pickle: bool) -> Teacher:
    """Load a pickle/joblib file, only when the caller trusts it."""
    if not trust_pickle:
        raise UnsafeFileError(
            f"{path.name} is a pickle, which can run code when loaded;",
            hint="re-export it with skops or ONNX, or pass --trust-pickle if you trust its origin.",
        )

    joblib = require("joblib", purpose="pickled teachers")
    try:
        obj = joblib.load(str(path))  # safe: only reached with trust_pickle=True (checked above)
    except Exception as exc:
        raise TeacherError(f"could not unpickle {path.name} ({_one_line(exc)}).") from exc
    torch = sys.modules.get("torch")  # unpickling a torch module has imported torch
    if torch is not None and isinstance(obj, torch.nn.Module):
        return _module_teacher(
            obj, kind="pickle", path=path, sidecar=sidecar, info={"trusted_pickle": True}
        )
    return SklearnTeacher.from_estimator(
        obj, kind="pickle", path=path, sidecar=sidecar, info={"trusted_pickle": True}
    )


# ----------------------------------------------------------------------------- the format plug-ins

PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib", ".sav", ".dill")
_COMPRESSED_MAGIC = (b"\x1f\x8b", b"x\x9c", b"x\x01", b"x\xda", b"BZh", b"\xfd7zXZ", b'\x04"M\x18')


def sniff_skops(probe: Probe) -> bool:
    """A zip archive with ``schema.json`` at its root."""
    return probe.is_zip and "schema.json" in probe.zip_names


def sniff_pickle(probe: Probe) -> bool:
    """Pickle bytes (not named like a torch file), or a compressed joblib file named ``.pkl``..."""
    if probe.is_pickle:
        return True  # .pt/.pth pickles were claimed by torch_state_dict (lower sniff rank)
    return probe.suffix in PICKLE_SUFFIXES and probe.head.startswith(_COMPRESSED_MAGIC)


def misfit_skops(probe: Probe) -> TeacherError | None:
    if probe.is_zip or probe.suffix != ".skops":
        return None
    return TeacherError(
        f"{probe.path.name} is not a valid skops file (not a zip archive); it may be corrupted."
    )


def load_skops_file(
    path: Path, sidecar: Sidecar | None, *, trust_pickle: bool = False, trust_code: bool = False
) -> SklearnTeacher:
    """The ``skops`` format's loader (types skops does not trust need ``trust_pickle``)."""
    return load_skops(path, sidecar, trust_pickle)


def load_pickle_file(
    path: Path, sidecar: Sidecar | None, *, trust_pickle: bool = False, trust_code: bool = False
) -> Teacher:
    """The ``pickle`` format's loader (refused unless ``trust_pickle``)."""
    return load_pickle(path, sidecar, trust_pickle)

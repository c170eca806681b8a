"""LightGBM ``model.txt`` teachers.

A binary objective's ``sigmoid:k`` (``objective=binary sigmoid:2``) is honoured: LightGBM's
probability is ``sigmoid(k * raw)``, so the teacher's logit is ``k * raw`` (:attr:`raw_scale`).

Categorical columns are mapped to codes exactly as LightGBM's pandas layer did at training
time: the ``pandas_categorical:`` list stored at the end of the file gives each categorical
column's categories, a value's code is its position there, and an unknown or missing value
becomes NaN (LightGBM's "missing").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from distill2rules._optional import require
from distill2rules.errors import TeacherError
from distill2rules.teachers._base import Teacher, check_finite, logits_from_raw
from distill2rules.teachers._lgb_check import check_model_text, objective_params
from distill2rules.teachers._plugin import Probe
from distill2rules.teachers._preprocess import canonical_categories, category_codes, numeric_column
from distill2rules.teachers._sidecar import Sidecar

__all__ = ["LightGBMTeacher"]

_CLASSIFIER_OBJECTIVES = {
    "binary",
    "cross_entropy",
    "xentropy",
    "multiclass",
    "softmax",
    "custom",
    "none",
}
_SMALL_BATCH = 1024


def _header(text: str) -> dict[str, str]:
    """``key=value`` lines of the model.txt header (up to the first tree)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("Tree="):
            break
        if "=" in line:
            key, _, value = line.partition("=")
            out.setdefault(key, value)
    return out


def _model_text(path: Path) -> str:
    """The text of a ``model.txt`` (UTF-8, a ``tree`` header, no BOM), checked before LightGBM
    parses it."""
    try:
        text = path.read_bytes().decode("utf-8").replace("\r\n", "\n")
    except UnicodeDecodeError:
        raise TeacherError(f"{path.name} is not a LightGBM model.txt (not UTF-8 text).") from None
    if not text.lstrip("\ufeff").startswith("tree"):
        raise TeacherError(
            f"{path.name} is not a LightGBM model.txt;", hint="save it with booster.save_model."
        )
    text = text.lstrip("\ufeff")
    check_model_text(text, path.name)  # LightGBM's own parser can crash on damaged files
    return text


def _classifier_objective(header: dict[str, str], path: Path) -> tuple[str, float]:
    """The objective's name (a classifier's with softmax/sigmoid logits) and its raw-score scale
    (``k`` of ``binary sigmoid:k``, else 1)."""
    objective_name, objective_args = objective_params(header.get("objective", ""))
    objective = objective_name or "custom"
    if objective in {"multiclassova", "multiclass_ova", "ova", "ovr"}:
        raise TeacherError(
            f"{path.name} uses objective {objective}, whose per-class scores are not "
            "softmax logits;",
            hint="retrain with objective=multiclass.",
        )
    if objective not in _CLASSIFIER_OBJECTIVES:
        raise TeacherError(f"{path.name} has objective '{objective}', which is not a classifier.")
    raw_scale = 1.0
    if objective == "binary" and "sigmoid" in objective_args:
        raw_scale = float(objective_args["sigmoid"])  # checked finite and > 0
    return objective, raw_scale


def _feature_names(booster: Any, sidecar: Sidecar | None, path: Path) -> list[str]:
    """Original column names: the sidecar's (as many as the booster's features), else the
    booster's own (none if it was trained on an unnamed matrix)."""
    if sidecar is not None and sidecar.feature_names is not None:
        if len(sidecar.feature_names) != booster.num_feature():
            raise TeacherError(
                f"sidecar {sidecar.path.name} names {len(sidecar.feature_names)} "
                "features but "
                f"{path.name} has {booster.num_feature()}."
            )
        return list(sidecar.feature_names)
    names = list(booster.feature_name())
    if names and all(re.fullmatch(r"Column_\d+", n) for n in names):
        return []  # trained on an unnamed matrix
    return names


def _categorical_indices(booster: Any, header: dict[str, str], n_lists: int) -> list[int]:
    """Indices of the categorical features, in pandas_categorical order."""
    names = booster.feature_name()
    from_params: list[int] = []
    raw = booster.params.get("categorical_feature") if hasattr(booster, "params") else None
    if isinstance(raw, (list, tuple)):
        for item in raw:
            if isinstance(item, (int, np.integer)) or str(item).lstrip("-").isdigit():
                from_params.append(int(item))
            elif str(item) in names:
                from_params.append(names.index(str(item)))
    elif isinstance(raw, str) and raw.strip():
        from_params = [int(t) for t in raw.replace(" ", "").split(",") if t.lstrip("-").isdigit()]
    from_params = sorted(i for i in set(from_params) if 0 <= i < len(names))
    if len(from_params) == n_lists:
        return from_params
    infos = header.get("feature_infos", "").split()
    from_infos = [i for i, info in enumerate(infos) if info != "none" and not info.startswith("[")]
    if len(from_infos) == n_lists:
        return from_infos
    raise TeacherError(
        f"model.txt stores categories for {n_lists} pandas columns but marks "
        f"{len(from_params) or len(from_infos)} features as categorical;",
        hint="re-save the booster with booster.save_model after training on a DataFrame.",
    )


class LightGBMTeacher(Teacher):
    """A LightGBM booster read from ``model.txt``.

    Attributes
    ----------
    booster : lightgbm.Booster
        The native model; it takes :meth:`transform` output.
    categorical_features : dict of str to list
        Categorical feature -> categories in code order (from ``pandas_categorical``).
    """

    kind = "lightgbm"
    attribution = "tree"  # shap.TreeExplainer on ``booster``

    def __init__(
        self,
        booster: Any,
        *,
        source: str | Path,
        feature_names: Sequence[str] | None,
        classes: Sequence[Any] | None,
        n_classes: int,
        categorical: dict[int, list[Any]],
        files: Sequence[str | Path] = (),
        info: dict[str, Any] | None = None,
        raw_scale: float = 1.0,
    ) -> None:
        n_features = booster.num_feature()
        super().__init__(
            source=source,
            feature_names=feature_names,
            classes=classes,
            n_classes=n_classes,
            n_features_in=n_features,
            n_outputs=1 if n_classes == 2 else n_classes,
            files=files,
            info=info,
        )
        self.booster = booster
        #: logit = raw_scale * LightGBM's raw score (``sigmoid:k`` of a binary objective)
        self.raw_scale = float(raw_scale)
        self._categorical = dict(categorical)
        self._lookups = {
            j: {c: i for i, c in enumerate(canonical_categories(cats))}
            for j, cats in self._categorical.items()
        }
        self._booster_names = list(booster.feature_name())

    # ------------------------------------------------------------------ loading

    @classmethod
    def load(cls, path: Path, sidecar: Sidecar | None = None) -> LightGBMTeacher:
        """Load ``model.txt`` (and its optional sidecar for classes / original column names)."""

        lgb = require("lightgbm", purpose="LightGBM teachers")

        text = _model_text(path)
        header = _header(text)
        try:
            booster = lgb.Booster(model_str=text)
        except Exception as exc:
            raise TeacherError(
                f"LightGBM could not read {path.name} ({_first_line(exc)});",
                hint="the file may be truncated or corrupted: re-save it with booster.save_model.",
            ) from exc
        objective, raw_scale = _classifier_objective(header, path)
        num_class = int(header.get("num_class", "1") or 1)
        n_classes = 2 if num_class == 1 else num_class
        pandas_cats = booster.pandas_categorical or []
        cat_idx = _categorical_indices(booster, header, len(pandas_cats)) if pandas_cats else []
        if sidecar is not None and sidecar.architecture is not None:
            sidecar = None  # a network's sidecar (model.pt beside model.txt), not this model's
        names = _feature_names(booster, sidecar, path)
        files: list[Path] = [path] + ([sidecar.path] if sidecar is not None else [])
        classes = sidecar.classes if sidecar is not None else None
        info = {
            "objective": objective,
            "n_trees": int(booster.num_trees()),
            "categorical_features": [names[j] if names else f"x{j}" for j in cat_idx],
            "output": "logits",
        }
        if raw_scale != 1.0:
            info["sigmoid"] = raw_scale
        if sidecar is not None and sidecar.meta:
            info["meta"] = sidecar.meta
        return cls(
            booster,
            source=path,
            feature_names=names,
            classes=classes,
            n_classes=n_classes,
            categorical={j: list(c) for j, c in zip(cat_idx, pandas_cats)},
            files=files,
            info=info,
            raw_scale=raw_scale,
        )

    # ------------------------------------------------------------------ the interface

    @property
    def categorical_features(self) -> dict[str, list[Any]]:
        names = self.feature_names or [f"x{j}" for j in range(self.booster.num_feature())]
        return {names[j]: list(c) for j, c in self._categorical.items()}

    def _model_input(self, frame: Any, dtype: Any) -> np.ndarray:
        n, d = frame.shape
        out = np.empty((n, d), dtype=np.float64)
        for j in range(d):
            col = frame.iloc[:, j]
            if j in self._lookups:
                codes = category_codes(col, self._lookups[j]).astype(np.float64)
                codes[codes < 0] = np.nan
                out[:, j] = codes
            else:
                out[:, j] = numeric_column(col, str(frame.columns[j]))
        return out.astype(dtype, copy=False)

    def _predict(self, Z: np.ndarray) -> np.ndarray:
        threads = 1 if Z.shape[0] <= _SMALL_BATCH else 0
        raw = self.booster.predict(Z, raw_score=True, num_threads=threads)
        if self.raw_scale != 1.0:
            raw = self.raw_scale * np.asarray(raw, dtype=np.float64)
        return logits_from_raw(raw, self.n_classes, what="LightGBM teacher")

    def transform(self, X: Any) -> np.ndarray:
        """Float32 matrix LightGBM reads: numbers as they are, categories as their codes (NaN "
        "if unseen)."""
        return self._model_input(self.select(X), np.float32)

    def _logits_batch(self, frame: Any) -> np.ndarray:
        # float64 here so logits() equals the native prediction on the original DataFrame exactly
        return self._predict(self._model_input(frame, np.float64))

    def logits_from_model_input(self, Z: np.ndarray) -> np.ndarray:
        Z = np.asarray(Z, dtype=np.float64)
        if Z.ndim != 2 or Z.shape[1] != self.booster.num_feature():
            raise TeacherError(
                f"model input must be [n, {self.booster.num_feature()}], got {Z.shape}."
            )
        return check_finite(self._predict(Z))

    def n_parameters(self) -> int:
        """Tree nodes: splits + leaves over all trees."""
        text = self.booster.model_to_string()
        leaves = [int(m) for m in re.findall(r"^num_leaves=(\d+)$", text, flags=re.MULTILINE)]
        return int(sum(2 * n - 1 for n in leaves))


def _first_line(exc: BaseException) -> str:
    lines = [ln for ln in str(exc).strip().splitlines() if ln.strip()]
    return lines[0][:200] if lines else type(exc).__name__


# ----------------------------------------------------------------------------- the format plug-in


def sniff_lightgbm(probe: Probe) -> bool:
    """A LightGBM ``model.txt``: text starting with ``tree`` or holding ``version=v`` and ``num_class=``."""
    if probe.is_zip:
        return False
    text = probe.head.decode("utf-8", errors="ignore").lstrip("\ufeff")
    return text.startswith(("tree\n", "tree\r\n")) or ("version=v" in text and "num_class=" in text)


def misfit_lightgbm(probe: Probe) -> TeacherError | None:
    if probe.is_zip or probe.suffix != ".txt":
        return None
    return TeacherError(
        f"{probe.path.name} is not a LightGBM model.txt (no 'tree' header);",
        hint="save it with booster.save_model('model.txt').",
    )


def load_lightgbm(
    path: Path, sidecar: Sidecar | None, *, trust_pickle: bool = False, trust_code: bool = False
) -> LightGBMTeacher:
    """The ``lightgbm`` format's loader (a text model runs no code: the trust flags do not apply)."""
    return LightGBMTeacher.load(path, sidecar)

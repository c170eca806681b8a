"""A teacher ready for a fit: loaded (file or in-memory model), checked against the data's
columns, and with its logits' columns put in the data's class order."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from distill2rules.errors import SchemaError
from distill2rules.teachers._load import check_features, load_teacher
from distill2rules.teachers._memory import as_teacher

__all__ = ["AlignedTeacher", "align_teacher_classes", "load_for_fit", "teacher_info"]


def align_teacher_classes(teacher: Any, classes: np.ndarray) -> np.ndarray:
    """Column permutation mapping the teacher's logits to the data's sorted classes.

    Teachers that record their classes (sidecar, sklearn) are matched by label (compared as
    text); others are assumed to use the sorted order of the target's values, like LightGBM's
    and scikit-learn's estimators do.
    """
    k = len(classes)
    if teacher.n_classes != k:
        raise SchemaError(
            f"the teacher predicts {teacher.n_classes} classes but the target has {k} ({', '.join(map(str, classes[:6]))}).",
            hint="Check --target, or that this teacher was trained for this task.",
        )
    t_classes = getattr(teacher, "classes_", None)
    if t_classes is None:
        return np.arange(k)
    t_text = [str(c) for c in t_classes]
    d_text = [str(c) for c in classes]
    if sorted(t_text) != sorted(d_text):
        # the sidecar may record integer codes for string labels; fall back to sorted order
        if all(c.isdigit() for c in t_text) and sorted(int(c) for c in t_text) == list(range(k)):
            return np.arange(k)
        raise SchemaError(
            f"the teacher's classes ({', '.join(t_text)}) differ from the target's ({', '.join(d_text)})."
        )
    return np.asarray([t_text.index(c) for c in d_text])


def teacher_info(teacher: Any) -> dict[str, Any]:
    """The teacher's description for manifests and specs (without its feature list)."""
    try:
        d = dict(teacher.describe())
    except Exception:  # noqa: BLE001 - description is best effort
        d = {"kind": getattr(teacher, "kind", type(teacher).__name__)}
    d.pop("feature_names", None)
    return d


def load_for_fit(
    teacher: Any,
    *,
    format: str | None = None,
    trust_pickle: bool = False,
    trust_code: bool | None = None,
    feature_names: Sequence[str] | None = None,
    run: Any = None,
) -> Any:
    """A teacher file (loaded under the trust settings) or an in-memory model (adapted)."""
    if isinstance(teacher, (str, Path)):

        def load() -> Any:
            return load_teacher(
                teacher, format=format, trust_pickle=trust_pickle, trust_code=trust_code
            )

        return run("load teacher", load) if run is not None else load()
    return as_teacher(teacher, feature_names=feature_names)


class AlignedTeacher:
    """``logits(frame)`` of a teacher in the data's class order, reading its own columns."""

    def __init__(self, teacher: Any, features: list[str], classes: np.ndarray) -> None:
        check_features(teacher, features)
        self.teacher = teacher
        self.features = features
        self.perm = align_teacher_classes(teacher, classes)
        self.shift: Any = (
            None  # set to a function of the logits for a user cutoff (decisions at it)
        )

    def logits(self, frame: pd.DataFrame) -> np.ndarray:
        z = np.asarray(
            self.teacher.logits(frame[list(self.teacher.feature_names or self.features)]),
            dtype=np.float64,
        )
        return z[:, self.perm] if self.shift is None else self.shift(z[:, self.perm])

    def info(self) -> dict[str, Any]:
        return teacher_info(self.teacher)

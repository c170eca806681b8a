"""In-memory teachers: a model object from a notebook becomes a :class:`Teacher`.

``as_teacher(obj)`` accepts

* a LightGBM ``LGBMClassifier`` (fitted) or ``Booster``;
* a ``torch.nn.Module`` returning logits, with its input order declared by ``feature_names``
  (the module's input is float32 ``[n, len(feature_names)]``, columns in that order);
* any fitted scikit-learn-style classifier with ``predict_proba`` and ``classes_``;
* an ``onnx.ModelProto`` or an ``onnxruntime.InferenceSession``;
* a :class:`Teacher` (returned as it is).

Models with a file form go through the same loader (and checks) as their file: the LightGBM
model text and the ONNX bytes are written to a temporary file and loaded from there. The
teacher's fingerprint is the sha256 of those bytes (of the state_dict tensors for torch, of the
pickled estimator for scikit-learn), computed before the temporary file goes.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from distill2rules.errors import TeacherError
from distill2rules.teachers._base import Teacher
from distill2rules.teachers._lightgbm import LightGBMTeacher
from distill2rules.teachers._onnx import OnnxTeacher
from distill2rules.teachers._sklearn import SklearnTeacher
from distill2rules.teachers._torch import _module_teacher

__all__ = ["as_teacher", "is_in_memory_teacher"]


def _type_name(obj: Any) -> str:
    return f"{type(obj).__module__.split('.')[0]}.{type(obj).__name__}"


def _is_lightgbm(obj: Any) -> bool:
    return type(obj).__module__.split(".")[0] == "lightgbm"


def _is_torch_module(obj: Any) -> bool:
    import sys

    torch = sys.modules.get("torch")
    return torch is not None and isinstance(obj, torch.nn.Module)


def _is_onnx_model(obj: Any) -> bool:
    return (
        type(obj).__name__ == "ModelProto"
        and hasattr(obj, "SerializeToString")
        and hasattr(obj, "graph")
    )


def _is_ort_session(obj: Any) -> bool:
    return (
        type(obj).__module__.startswith("onnxruntime")
        and hasattr(obj, "get_inputs")
        and hasattr(obj, "run")
    )


def is_in_memory_teacher(obj: Any) -> bool:
    """True for an object :func:`as_teacher` can adapt (not a path)."""
    if isinstance(obj, (str, Path)):
        return False
    return (
        isinstance(obj, Teacher)
        or _is_lightgbm(obj)
        or _is_torch_module(obj)
        or _is_onnx_model(obj)
        or _is_ort_session(obj)
        or hasattr(obj, "predict_proba")
    )


def as_teacher(
    obj: Any, *, feature_names: Sequence[str] | None = None, classes: Sequence[Any] | None = None
) -> Teacher:
    """Adapt an in-memory model to the :class:`Teacher` interface (see the module docstring).

    Parameters
    ----------
    obj : model object
    feature_names : sequence of str, optional
        The model's input columns, in order. Required for a ``torch.nn.Module``; for other
        models it must agree with the names the model records (if any).
    classes : sequence, optional
        Class labels in logit-column order, when the model does not record them.

    Raises
    ------
    TeacherError
        An unsupported object, an unfitted model, or a torch module without ``feature_names``.
    """
    if isinstance(obj, Teacher):
        teacher = obj
    elif _is_lightgbm(obj):
        teacher = _lightgbm(obj)
    elif _is_torch_module(obj):
        teacher = _torch(obj, feature_names)
    elif _is_onnx_model(obj) or _is_ort_session(obj):
        teacher = _onnx(obj)
    elif hasattr(obj, "predict_proba"):
        teacher = _sklearn(obj)
    else:
        raise TeacherError(
            f"cannot use a {_type_name(obj)} as a teacher;",
            hint="pass a model file path, a LightGBM model, a torch.nn.Module, an ONNX model/session, "
            "or a fitted classifier with predict_proba.",
        )
    if feature_names is not None and not _is_torch_module(obj):
        teacher.bind_feature_names(list(feature_names))
    if classes is not None:
        teacher.set_classes(list(classes))
    return teacher


def _from_file(data: bytes, name: str, load: Any, source: str) -> Teacher:
    """Write ``data`` to a temporary ``name``, load it with ``load(path)``, fingerprint it, clean up."""
    with tempfile.TemporaryDirectory(prefix="distill2rules-teacher-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        teacher = load(path)
        teacher._fingerprint = hashlib.sha256(data).hexdigest()
    teacher.source = source
    teacher._files = []
    return teacher


def _lightgbm(obj: Any) -> Teacher:
    booster = obj
    classes = None
    if not hasattr(obj, "model_to_string"):  # the scikit-learn wrapper
        try:
            booster = obj.booster_
        except Exception as exc:
            raise TeacherError(
                f"the {type(obj).__name__} is not fitted;", hint="call .fit first."
            ) from exc
        if not hasattr(obj, "classes_"):
            raise TeacherError(
                f"a {type(obj).__name__} is not a classifier;", hint="pass an LGBMClassifier."
            )
        classes = [c.item() if isinstance(c, np.generic) else c for c in obj.classes_]
    text = booster.model_to_string()
    teacher = _from_file(
        text.encode("utf-8"), "model.txt", LightGBMTeacher.load, f"<in-memory {type(obj).__name__}>"
    )
    if classes is not None:
        teacher.set_classes(classes)
    return teacher


def _onnx(obj: Any) -> Teacher:
    if _is_onnx_model(obj):
        data = obj.SerializeToString()
    else:  # an InferenceSession remembers the bytes or the path it was built from
        data = getattr(obj, "_model_bytes", None)
        model_path = getattr(obj, "_model_path", None)
        if data is None and model_path:
            data = Path(model_path).read_bytes()
        if data is None:
            raise TeacherError(
                "cannot recover the model from this InferenceSession;",
                hint="pass the onnx.ModelProto or the .onnx file path instead.",
            )
    return _from_file(
        bytes(data), "model.onnx", OnnxTeacher.load, f"<in-memory {type(obj).__name__}>"
    )


def _torch(module: Any, feature_names: Sequence[str] | None) -> Teacher:
    if not feature_names:
        raise TeacherError(
            "a torch.nn.Module does not record its input columns;",
            hint="declare them in order: distill(module, data, teacher_features=['age', 'income', ...]).",
        )
    teacher = _module_teacher(
        module,
        kind="torch_module",
        path=Path(f"<in-memory {type(module).__name__}>"),
        sidecar=None,
        info={},
    )
    h = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        h.update(name.encode())
        h.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    teacher._fingerprint = h.hexdigest()
    teacher._files = []
    teacher.bind_feature_names(list(feature_names))
    return teacher


def _sklearn(est: Any) -> Teacher:
    import pickle

    source = f"<in-memory {type(est).__name__}>"
    teacher = SklearnTeacher.from_estimator(
        est, kind="sklearn", path=Path(source), sidecar=None, info={}
    )
    try:  # dumping (never loading) a pickle is safe; it only fingerprints the fitted state
        teacher._fingerprint = hashlib.sha256(pickle.dumps(est, protocol=5)).hexdigest()
    except Exception:  # noqa: BLE001 - an unpicklable estimator still works, without a content hash
        teacher._fingerprint = hashlib.sha256(repr(est).encode()).hexdigest()
    teacher._files = []
    return teacher

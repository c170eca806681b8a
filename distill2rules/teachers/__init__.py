"""The teachers wing: load a black-box classifier from a file and score raw rows with it.

One adapter per format (LightGBM ``model.txt``, TorchScript, state_dict + sidecar JSON,
ONNX, skops, trusted pickles); each owns the teacher's own preprocessing and yields
``logits(X_raw)`` of shape ``(n, K)``. ``train_teacher`` builds the reference teachers.

Loading never unpickles untrusted bytes: pickles need ``trust_pickle=True``. Model files that
are programs (TorchScript, ONNX control flow and custom operators) are vetted first unless
``trust_code=True`` (docs/security.md).
Heavy libraries (torch, lightgbm, onnxruntime, skops) are imported only when a teacher of
that kind is loaded or trained.
"""

from distill2rules.errors import SchemaError, TeacherError, UnsafeFileError
from distill2rules.teachers._base import (
    Teacher,
    logits_from_probabilities,
    logits_from_raw,
    softmax,
)
from distill2rules.teachers._detect import FORMATS, check_zip_members, detect_format
from distill2rules.teachers._load import check_features, load_teacher, trusting_code
from distill2rules.teachers._preprocess import Preprocessing
from distill2rules.teachers._sidecar import (
    SIDECAR_FORMAT,
    find_sidecar,
    read_sidecar,
    write_sidecar,
)
from distill2rules.teachers._train import TEACHER_KINDS, train_teacher

__all__ = [
    "FORMATS",
    "SIDECAR_FORMAT",
    "TEACHER_KINDS",
    "LightGBMTeacher",
    "OnnxTeacher",
    "Preprocessing",
    "SchemaError",
    "SklearnTeacher",
    "Teacher",
    "TeacherError",
    "TorchTeacher",
    "UnsafeFileError",
    "build_mlp",
    "check_features",
    "check_zip_members",
    "detect_format",
    "find_sidecar",
    "load_teacher",
    "logits_from_probabilities",
    "logits_from_raw",
    "read_sidecar",
    "softmax",
    "train_teacher",
    "trusting_code",
    "write_sidecar",
]

_LAZY = {
    "LightGBMTeacher": "distill2rules.teachers._lightgbm",
    "OnnxTeacher": "distill2rules.teachers._onnx",
    "SklearnTeacher": "distill2rules.teachers._sklearn",
    "TorchTeacher": "distill2rules.teachers._torch",
    "build_mlp": "distill2rules.teachers._torch",
}


def __getattr__(name: str):  # PEP 562: adapter classes without importing every adapter up front
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

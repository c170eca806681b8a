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

import importlib
from typing import Any

from distill2rules.errors import SchemaError, TeacherError, UnsafeFileError
from distill2rules.teachers._base import (
    Teacher,
    logits_from_probabilities,
    logits_from_raw,
    softmax,
)
from distill2rules.teachers._detect import check_zip_members, detect_format
from distill2rules.teachers._load import (
    check_features,
    load_teacher,
    trust_code_default,
    trusting_code,
)
from distill2rules.teachers._memory import as_teacher, is_in_memory_teacher
from distill2rules.teachers._plugin import TEACHER_FORMATS, Probe, TeacherFormat
from distill2rules.teachers._preprocess import Preprocessing
from distill2rules.teachers._sidecar import (
    SIDECAR_FORMAT,
    find_sidecar,
    read_sidecar,
    write_sidecar,
)
from distill2rules.teachers._train import TEACHER_KINDS, train_teacher


def register_teacher_format(
    name: str, fmt: TeacherFormat, *, overwrite: bool = False
) -> TeacherFormat:
    """Register a teacher format: ``register_teacher_format("xgboost", TeacherFormat(load=...))``.

    Raises
    ------
    ConfigError
        ``name`` is taken and ``overwrite`` is False.
    """
    return TEACHER_FORMATS.register(name, fmt, overwrite=overwrite, aliases=fmt.aliases)


# Built-in formats, in the order ``--teacher-format`` lists them. ``sniff_rank`` orders detection:
# archives by their members first, then pickles, then text and protobuf content.
_T = "distill2rules.teachers."
register_teacher_format(
    "lightgbm",
    TeacherFormat(
        load=_T + "_lightgbm:load_lightgbm",
        sniff=_T + "_lightgbm:sniff_lightgbm",
        misfit=_T + "_lightgbm:misfit_lightgbm",
        sniff_rank=50,
        aliases=("gbt", "lgbm", "txt"),
        help="LightGBM model.txt (TreeExplainer attributions)",
    ),
)
register_teacher_format(
    "torchscript",
    TeacherFormat(
        load=_T + "_torch:load_torchscript_file",
        sniff=_T + "_torch:sniff_torchscript",
        misfit=_T + "_torch:misfit_torch",
        sniff_rank=10,
        aliases=("jit", "script"),
        help="TorchScript archive (torch.jit.save), vetted unless --trust-code",
    ),
)
register_teacher_format(
    "torch_state_dict",
    TeacherFormat(
        load=_T + "_torch:load_state_dict_file",
        sniff=_T + "_torch:sniff_torch_state_dict",
        sniff_rank=30,
        aliases=("state_dict", "torch"),
        help="state_dict .pt + sidecar JSON (torch.load(weights_only=True))",
    ),
)
register_teacher_format(
    "onnx",
    TeacherFormat(
        load=_T + "_onnx:load_onnx",
        sniff=_T + "_onnx:sniff_onnx",
        suffixes=(".onnx",),
        sniff_rank=60,
        help="ONNX model (vetted unless --trust-code)",
    ),
)
register_teacher_format(
    "skops",
    TeacherFormat(
        load=_T + "_sklearn:load_skops_file",
        sniff=_T + "_sklearn:sniff_skops",
        misfit=_T + "_sklearn:misfit_skops",
        sniff_rank=20,
        help="scikit-learn model saved with skops",
    ),
)
register_teacher_format(
    "pickle",
    TeacherFormat(
        load=_T + "_sklearn:load_pickle_file",
        sniff=_T + "_sklearn:sniff_pickle",
        suffixes=(".pkl", ".pickle", ".joblib", ".sav", ".dill"),
        sniff_rank=40,
        aliases=("joblib", "pkl"),
        help="pickle / joblib file (only with --trust-pickle)",
    ),
)

#: the registered teacher format names (at import; :data:`TEACHER_FORMATS` is the live registry)
FORMATS: tuple[str, ...] = TEACHER_FORMATS.names()

__all__ = [
    "FORMATS",
    "SIDECAR_FORMAT",
    "TEACHER_FORMATS",
    "TEACHER_KINDS",
    "LightGBMTeacher",
    "OnnxTeacher",
    "Preprocessing",
    "Probe",
    "SchemaError",
    "SklearnTeacher",
    "Teacher",
    "TeacherError",
    "TeacherFormat",
    "TorchTeacher",
    "UnsafeFileError",
    "as_teacher",
    "build_mlp",
    "check_features",
    "check_zip_members",
    "detect_format",
    "find_sidecar",
    "is_in_memory_teacher",
    "load_teacher",
    "logits_from_probabilities",
    "logits_from_raw",
    "read_sidecar",
    "register_teacher_format",
    "softmax",
    "train_teacher",
    "trust_code_default",
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


def __getattr__(
    name: str,
) -> Any:  # PEP 562: adapter classes without importing every adapter up front
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""distill2rules: distill a black-box classifier into a readable, auditable, deployable student.

The library is organised in wings (see ``docs/concepts.md``)::

    data -> teachers -> kd -> students -> spec -> exporters (ONNX, rule card, reasons)

Importing the package is cheap: heavy libraries (torch, shap, interpret, matplotlib)
are imported only where they are used.
"""

from __future__ import annotations

from distill2rules.errors import (
    ArtifactError,
    ConfigError,
    DataError,
    Distill2RulesError,
    SchemaError,
    SpecError,
    TeacherError,
    UnsafeFileError,
)

#: the one version source (pyproject.toml reads it: ``[tool.setuptools.dynamic]``)
__version__ = "0.1.0"

__all__ = [
    "ArtifactError",
    "ConfigError",
    "DataError",
    "Distill2RulesError",
    "RecordError",
    "SchemaError",
    "Scorer",
    "SpecError",
    "TeacherError",
    "UnsafeFileError",
    "__version__",
    "distill",
    "load",
]

_LAZY = {"distill": "distill2rules.pipeline", "load": "distill2rules._api"}


def __getattr__(name: str) -> object:
    """``distill2rules.Scorer`` / ``RecordError`` (imports onnxruntime lazily), ``distill`` and
    ``load`` (without importing the pipeline up front) on first use (PEP 562)."""
    if name in ("Scorer", "RecordError", "Scores"):
        from distill2rules import scoring  # lazy: pulls onnxruntime

        return getattr(scoring, name)
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'distill2rules' has no attribute {name!r}")

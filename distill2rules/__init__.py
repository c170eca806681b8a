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

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "RecordError",
    "Scorer",
    "ArtifactError",
    "ConfigError",
    "DataError",
    "Distill2RulesError",
    "SchemaError",
    "SpecError",
    "TeacherError",
    "UnsafeFileError",
]


def __getattr__(name: str) -> object:
    """``distill2rules.Scorer`` / ``RecordError`` on first use (imports onnxruntime lazily)."""
    if name in ("Scorer", "RecordError", "Scores"):
        from distill2rules import scoring

        return getattr(scoring, name)
    raise AttributeError(f"module 'distill2rules' has no attribute {name!r}")

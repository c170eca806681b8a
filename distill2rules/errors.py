"""One exception root for the toolkit.

Every error a user can cause (bad data, bad flags, an unreadable teacher) is a
:class:`Distill2RulesError`. Subclasses also subclass the matching built-in so
``except ValueError`` keeps working. The CLI maps any of them to exit code 2 and a
single line: the problem, then the fix.
"""

from __future__ import annotations

__all__ = [
    "ArtifactError",
    "ConfigError",
    "DataError",
    "Distill2RulesError",
    "SchemaError",
    "SpecError",
    "TeacherError",
    "UnsafeFileError",
]


class Distill2RulesError(Exception):
    """Base class. ``str(err)`` is one line naming the problem and, where known, the fix."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message if hint is None else f"{message} {hint}")


class DataError(Distill2RulesError, ValueError):
    """The data cannot be used as given (missing file, missing target, one class, NaN target...)."""


class SchemaError(DataError):
    """Columns do not match what a schema, teacher or student expects."""


class TeacherError(Distill2RulesError, ValueError):
    """The teacher file cannot be loaded or gives unusable outputs."""


class UnsafeFileError(TeacherError):
    """Loading this file would execute code (pickle); refused unless ``trust_pickle=True``."""


class ConfigError(Distill2RulesError, ValueError):
    """A parameter is out of range (temperature <= 0, alpha outside [0, 1], unknown student...)."""


class SpecError(Distill2RulesError, ValueError):
    """A student spec is malformed or of an unknown version."""


class ArtifactError(Distill2RulesError, ValueError):
    """An artifact directory is missing files, has mismatching hashes or fails ONNX parity."""

"""Students: sklearn-compatible estimators that learn from soft targets and lower to a spec.

Fitting needs the ``[fit]`` extra (scikit-learn, scipy...); the registry :data:`STUDENTS` and
the spec-size helpers do not, so the CLI and scoring code can import this package with the
core install. The estimator machinery is imported on first use (PEP 562).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from distill2rules.errors import ConfigError
from distill2rules.students._size import spec_complexity, spec_size

if TYPE_CHECKING:  # pragma: no cover
    from distill2rules.students._base import SoftTargetStudent, parse_monotone
    from distill2rules.students._calibration import calibrate_spec, fit_temperature, fold_scale

_LAZY = {
    "SoftTargetStudent": "distill2rules.students._base",
    "parse_monotone": "distill2rules.students._base",
    "calibrate_spec": "distill2rules.students._calibration",
    "fit_temperature": "distill2rules.students._calibration",
    "fold_scale": "distill2rules.students._calibration",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

# name -> "module:Class"; imported lazily so `import distill2rules` stays cheap
STUDENTS: dict[str, str] = {
    "logreg": "distill2rules.students.logreg:LogRegStudent",
    "scorecard": "distill2rules.students.scorecard:ScorecardStudent",
    "ebm": "distill2rules.students.ebm:EBMStudent",
    "rules": "distill2rules.students.rules:RuleListStudent",
    "tree": "distill2rules.students.tree:TreeStudent",
    "mlp": "distill2rules.students.mlp:MLPStudent",
}


def student_class(name: str) -> type[SoftTargetStudent]:
    import importlib

    if name not in STUDENTS:
        raise ConfigError(f"unknown student '{name}'.", hint=f"Choose one of: {', '.join(STUDENTS)}.")
    module, cls = STUDENTS[name].split(":")
    return getattr(importlib.import_module(module), cls)


def make_student(name: str, **params: Any) -> SoftTargetStudent:
    """Instantiate a registered student by name (``logreg``, ``ebm``, ...)."""
    return student_class(name)(**params)


__all__ = [
    "STUDENTS",
    "SoftTargetStudent",
    "calibrate_spec",
    "fit_temperature",
    "fold_scale",
    "make_student",
    "parse_monotone",
    "spec_complexity",
    "spec_size",
    "student_class",
]

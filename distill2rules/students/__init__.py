"""Students: sklearn-compatible estimators that learn from soft targets and lower to a spec."""

from __future__ import annotations

from typing import Any

from distill2rules.errors import ConfigError
from distill2rules.students._base import SoftTargetStudent, parse_monotone
from distill2rules.students._calibration import calibrate_spec, fit_temperature, fold_scale
from distill2rules.students._size import spec_complexity, spec_size

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

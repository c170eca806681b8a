"""Students: sklearn-compatible estimators that learn from soft targets and lower to a spec.

Every student kind is registered in :data:`STUDENTS` (``register_student(name, plugin)``), with
the facts the CLI, ``fit --sizes`` and sweeps read from it (:class:`StudentPlugin`: help line,
size parameter, default sizes, default τ). The estimator classes are importable from here
(``from distill2rules.students import EBMStudent``), as in scikit-learn's ``tree`` package, but
imported on first use (PEP 562): fitting needs the ``[fit]`` extra, while the registry and the
spec-size helpers do not, so the CLI and scoring code can import this package with the core
install.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from distill2rules.registry import Registry
from distill2rules.students._plugin import StudentPlugin, count_size, widths_size
from distill2rules.students._size import spec_complexity, spec_size

if TYPE_CHECKING:  # pragma: no cover
    from distill2rules.students._base import SoftTargetStudent, parse_monotone, raw_inputs
    from distill2rules.students._calibration import calibrate_spec, fit_temperature, fold_scale
    from distill2rules.students._params import check_student_params, student_parameters
    from distill2rules.students.ebm import EBMStudent
    from distill2rules.students.logreg import LogRegStudent
    from distill2rules.students.mlp import MLPStudent
    from distill2rules.students.rules import RuleListStudent
    from distill2rules.students.scorecard import ScorecardStudent
    from distill2rules.students.tree import TreeStudent

#: student name -> :class:`StudentPlugin` (the estimator class is imported on first use)
STUDENTS: Registry[StudentPlugin] = Registry("student")


def register_student(name: str, plugin: StudentPlugin, *, overwrite: bool = False) -> StudentPlugin:
    """Register a student kind: ``register_student("mine", StudentPlugin("pkg.mod:Mine", ...))``.

    Raises
    ------
    ConfigError
        ``name`` is taken and ``overwrite`` is False.
    """
    return STUDENTS.register(name, plugin, overwrite=overwrite)


def get_student(name: str) -> StudentPlugin:
    """The plug-in registered as ``name``; a ConfigError naming the choices otherwise."""
    return STUDENTS.get(name)


register_student(
    "logreg",
    StudentPlugin(
        "distill2rules.students.logreg:LogRegStudent",
        help="sparse linear scorecard",
        size_param="max_terms",
        default_sizes="5,10,all",
        parse_size=count_size(1, all_means_none=True),
        default_temperature=0.0,
    ),
)
register_student(
    "scorecard",
    StudentPlugin(
        "distill2rules.students.scorecard:ScorecardStudent",
        help="binned points scorecard",
        size_param="max_bins",
        default_sizes="4,8,20",
        default_temperature=0.0,
    ),
)
register_student(
    "ebm",
    StudentPlugin(
        "distill2rules.students.ebm:EBMStudent",
        help="Explainable Boosting Machine",
        size_param="interactions",
        default_sizes="0,5,10",
        parse_size=count_size(0),
    ),
)
register_student(
    "rules",
    StudentPlugin(
        "distill2rules.students.rules:RuleListStudent",
        help="ordered rule list",
        size_param="max_rules",
        default_sizes="5,10,20",
        default_temperature=0.0,
    ),
)
register_student(
    "tree",
    StudentPlugin(
        "distill2rules.students.tree:TreeStudent",
        help="shallow decision tree as rules",
        size_param="max_depth",
        default_sizes="2,3,4,6",
        default_temperature=0.0,
    ),
)
register_student(
    "mlp",
    StudentPlugin(
        "distill2rules.students.mlp:MLPStudent",
        help="shallow MLP",
        size_param="hidden",
        default_sizes="16,32-16,64-32",
        parse_size=widths_size,
    ),
)


def student_class(name: str) -> type[SoftTargetStudent]:
    """The estimator class of the student registered as ``name`` (imported on first use)."""
    return get_student(name).load()


def make_student(name: str, **params: Any) -> SoftTargetStudent:
    """Instantiate a registered student by name (``logreg``, ``ebm``, ...)."""
    return student_class(name)(**params)


_LAZY = {
    "SoftTargetStudent": "distill2rules.students._base",
    "raw_inputs": "distill2rules.students._base",
    "check_student_params": "distill2rules.students._params",
    "student_parameters": "distill2rules.students._params",
    "parse_monotone": "distill2rules.students._base",
    "calibrate_spec": "distill2rules.students._calibration",
    "fit_temperature": "distill2rules.students._calibration",
    "fold_scale": "distill2rules.students._calibration",
}


def __getattr__(name: str) -> Any:
    """Estimator classes and fitting helpers, imported on first use (PEP 562)."""
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    for plugin in STUDENTS.values():
        if plugin.class_name == name:
            return plugin.load()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "STUDENTS",
    "EBMStudent",
    "LogRegStudent",
    "MLPStudent",
    "RuleListStudent",
    "ScorecardStudent",
    "SoftTargetStudent",
    "StudentPlugin",
    "TreeStudent",
    "calibrate_spec",
    "check_student_params",
    "count_size",
    "fit_temperature",
    "fold_scale",
    "get_student",
    "make_student",
    "parse_monotone",
    "raw_inputs",
    "register_student",
    "spec_complexity",
    "spec_size",
    "student_class",
    "student_parameters",
    "widths_size",
]

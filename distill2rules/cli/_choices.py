"""Choice lists and help of CLI options, generated from the registries (not typed by hand).

``--student`` completes (shell completion) and documents exactly the registered students
(:data:`distill2rules.students.STUDENTS`), ``--teacher-format`` the registered teacher formats
(:data:`distill2rules.teachers.TEACHER_FORMATS`), ``export --format`` the registered exporters
that write artifact files (:data:`distill2rules.exporters.EXPORTERS`). An unknown name is
refused by the library with one line naming the choices (exit 2), like any other bad input.
"""

from __future__ import annotations

from distill2rules.exporters import EXPORTERS
from distill2rules.students import STUDENTS
from distill2rules.teachers import TEACHER_FORMATS

__all__ = [
    "STUDENT_CHOICES",
    "complete_student",
    "export_format_help",
    "sizes_help",
    "student_help",
    "teacher_format_help",
]

STUDENT_CHOICES: tuple[str, ...] = STUDENTS.names()


def complete_student(incomplete: str) -> list[str]:
    """Shell completion for ``--student``."""
    return [s for s in STUDENTS.names() if s.startswith(incomplete)]


def student_help(text: str = "Student kind") -> str:
    """``"Student kind: logreg (sparse linear scorecard), scorecard (...), ..."``."""
    kinds = [f"{n} ({p.help})" if p.help else n for n, p in STUDENTS.items()]
    return f"{text}: {', '.join(kinds)}."


def sizes_help(text: str) -> str:
    """``text`` followed by each student's size parameter and default ladder."""
    knobs = [
        f"{n}: {p.size_param} ({p.default_sizes})" for n, p in STUDENTS.items() if p.size_param
    ]
    return f"{text} ({'; '.join(knobs)}; or 'default')."


def teacher_format_help(text: str = "Override format detection") -> str:
    """``"Override format detection: lightgbm, torchscript, ..."``."""
    return f"{text}: {', '.join(TEACHER_FORMATS.names())}."


def export_format_help() -> str:
    """``export --format`` choices: the exporters that write artifact files."""
    names = [n for n, e in EXPORTERS.items() if e.file_names]
    return " or ".join(names) + "."

"""Choice lists of CLI options, generated from the registries (not typed by hand).

``--student`` completes (shell completion) and documents exactly the registered students
(:data:`distill2rules.students.STUDENTS`); an unknown name is refused by the library with one
line naming the choices (exit 2), like any other bad input.
"""

from __future__ import annotations

from distill2rules.students import STUDENTS

__all__ = ["STUDENT_CHOICES", "complete_student", "student_help"]

STUDENT_CHOICES: tuple[str, ...] = tuple(STUDENTS)


def complete_student(incomplete: str) -> list[str]:
    """Shell completion for ``--student``."""
    return [s for s in STUDENT_CHOICES if s.startswith(incomplete)]


def student_help(text: str = "Student kind") -> str:
    return f"{text}: one of {', '.join(STUDENT_CHOICES)}."

"""Fixed choice lists of CLI options, generated from the registries (not typed by hand)."""

from __future__ import annotations

from typing import Literal

from distill2rules.students import STUDENTS

#: ``--student`` accepts exactly the registered students (:data:`distill2rules.students.STUDENTS`)
StudentName = Literal[tuple(STUDENTS)]  # type: ignore[valid-type]

__all__ = ["StudentName"]

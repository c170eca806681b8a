"""Small helpers shared by the CLI commands (console, option parsing, number formatting).

They live apart from :mod:`distill2rules.cli.main` so that the ``cmd_*`` modules can import them
at the top without a cycle (``main`` imports every ``cmd_*`` module to register it).
"""

from __future__ import annotations

import json
import os
from typing import Any, overload

from distill2rules.errors import ConfigError
from distill2rules.students import check_student_params

__all__ = ["check_student_params", "console", "fmt", "parse_float_or_auto", "parse_params"]


def console(stderr: bool = False):
    from rich.console import Console

    return Console(
        stderr=stderr, soft_wrap=False, width=max(100, int(os.environ.get("COLUMNS", "100")))
    )


def parse_params(params: list[str] | None) -> dict[str, Any]:
    """``--param interactions=5 --param max_terms=10`` → dict with JSON-parsed values."""
    out: dict[str, Any] = {}
    for item in params or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--param expects KEY=VALUE, got {item!r}.")
        try:
            out[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            out[key.strip()] = value
    return out


@overload
def parse_float_or_auto(value: str, name: str) -> float | str: ...
@overload
def parse_float_or_auto(value: str | None, name: str) -> float | str | None: ...
def parse_float_or_auto(value: str | None, name: str) -> float | str | None:
    if value is None:  # the library's default (e.g. the student's default temperature)
        return None
    if value.strip().lower() == "auto":
        return "auto"
    try:
        return float(value)
    except ValueError:
        raise ConfigError(f"--{name} must be a number or 'auto', got {value!r}.") from None


def fmt(v: Any, digits: int = 4) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)

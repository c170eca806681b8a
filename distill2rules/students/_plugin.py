"""What a student plug-in declares about itself (:class:`StudentPlugin`) and its size parsers.

Light on purpose: no scikit-learn, interpret or torch here. The estimator class is named as
``"module:Class"`` and imported by :meth:`StudentPlugin.load` on first use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from distill2rules.errors import ConfigError
from distill2rules.registry import resolve

__all__ = ["StudentPlugin", "count_size", "widths_size"]

SizeParser = Callable[[Any, str], Any]


def count_size(low: int = 1, *, all_means_none: bool = False) -> SizeParser:
    """A parser of integer sizes ``>= low``; with ``all_means_none``, ``"all"``/``"none"`` → None."""

    def parse(item: Any, param: str) -> Any:
        if all_means_none and str(item).strip().lower() in ("all", "none"):
            return None
        try:
            v = int(str(item))
        except ValueError:
            raise ConfigError(f"{param} sizes must be integers, got {item!r}.") from None
        if v < low:
            raise ConfigError(f"{param} must be >= {low}, got {v}.")
        return v

    return parse


_COUNT_SIZE = count_size()


def widths_size(item: Any, param: str) -> tuple[int, ...]:
    """MLP widths: ``"64-32"`` → ``(64, 32)``; ``16`` → ``(16,)``."""
    if isinstance(item, str):
        try:
            widths = tuple(int(p) for p in item.split("-"))
        except ValueError:
            raise ConfigError(f"MLP sizes are widths such as 16 or 64-32, got {item!r}.") from None
    else:
        widths = tuple(int(w) for w in (item if isinstance(item, (list, tuple)) else [item]))
    if not widths or min(widths) < 1:
        raise ConfigError(f"MLP widths must be positive, got {item!r}.")
    return widths


@dataclass(frozen=True)
class StudentPlugin:
    """A registered student kind and the facts the CLI, ``--sizes`` and sweeps need.

    Parameters
    ----------
    target : str or type
        The estimator class, or ``"module:Class"`` imported on first use (keeps registering
        free of scikit-learn / interpret / torch).
    help : str
        Short description, shown in ``--student``'s help (``"sparse linear scorecard"``).
    size_param : str, optional
        The constructor parameter ``--sizes`` sets (``max_terms``, ``hidden``...).
    default_sizes : str
        The ladder ``--sizes default`` pilots (``"5,10,all"``).
    parse_size : callable
        ``parse_size(item, size_param)`` → one size value; raises ConfigError.
    default_temperature : float
        τ ``distill`` uses when none is given (0 = the teacher's decisions).
    """

    target: str | type
    help: str = ""
    size_param: str | None = None
    default_sizes: str = ""
    parse_size: SizeParser = _COUNT_SIZE
    default_temperature: float = 1.0

    def load(self) -> type:
        """The estimator class (imports its module on first use)."""
        cls = resolve(self.target)
        if not isinstance(cls, type):
            raise ConfigError(f"student plug-in {self.target!r} is not a class.")
        return cls

    @property
    def class_name(self) -> str:
        """The estimator class's name, without importing it."""
        if isinstance(self.target, str):
            return self.target.rpartition(":")[2]
        return self.target.__name__

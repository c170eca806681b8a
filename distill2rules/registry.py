"""One plug-in idiom for students, teacher formats and exporters.

In the style of skl2onnx's ``register_converter`` / ``get_converter``: each kind of plug-in has
one :class:`Registry`, ``registry.register(name, obj, overwrite=False)`` adds an entry and
``registry.get(name)`` returns it or raises one line naming the choices. A plug-in declares its
own facts in the object it registers (a student its size parameter and help line, a teacher
format its ``sniff`` and ``load``, an exporter its file names), so the CLI's choices and help
are generated from the registries, never typed by hand.

Registering must stay cheap: an entry may name its heavy parts as ``"module:attr"`` strings,
imported on first use by :func:`resolve` (scikit-learn, torch, interpret and lightgbm are
imported only when a student is built or a teacher loaded).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from distill2rules.errors import ConfigError, Distill2RulesError

__all__ = ["Registry", "resolve"]

T = TypeVar("T")


def resolve(ref: Any) -> Any:
    """``"package.module:attr"`` imported on first use; any other object as it is.

    Examples
    --------
    >>> resolve("math:pi") > 3
    True
    """
    if isinstance(ref, str) and ":" in ref:
        module, _, attr = ref.partition(":")
        obj: Any = importlib.import_module(module)
        for part in attr.split("."):
            obj = getattr(obj, part)
        return obj
    return ref


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def _describe(obj: Any) -> str:
    target = getattr(obj, "target", obj)
    if isinstance(target, str):
        return target
    return f"{getattr(target, '__module__', '?')}.{getattr(target, '__qualname__', repr(target))}"


class Registry(dict[str, T]):
    """Name → plug-in. A ``dict`` that refuses to rebind a name by accident.

    Parameters
    ----------
    what : str
        What the entries are, for messages (``"student"``, ``"teacher format"``, ``"exporter"``).
    error : type, default ConfigError
        The :mod:`distill2rules.errors` type :meth:`get` raises for an unknown name.
    unknown : callable, optional
        ``unknown(name, choices) -> Exception``: a custom message for an unknown name.
    aliases : mapping, optional
        Extra names :meth:`get` accepts for an entry (``"gbt"`` → ``"lightgbm"``).

    Examples
    --------
    >>> r = Registry("widget")
    >>> r.register("a", 1)
    1
    >>> r.get("a"), r.names()
    (1, ('a',))
    >>> r.get("b")
    Traceback (most recent call last):
    ...
    distill2rules.errors.ConfigError: unknown widget 'b'. Choose one of: a.
    """

    def __init__(
        self,
        what: str,
        *,
        error: type[Distill2RulesError] = ConfigError,
        unknown: Callable[[str, tuple[str, ...]], Exception] | None = None,
    ) -> None:
        super().__init__()
        self.what = what
        self.error = error
        self.unknown = unknown
        self.aliases: dict[str, str] = {}

    # -- the idiom ------------------------------------------------------------------------
    def register(
        self, name: str, obj: T, *, overwrite: bool = False, aliases: Iterable[str] = ()
    ) -> T:
        """Register ``obj`` under ``name`` (and ``aliases``); returns ``obj``.

        Raises
        ------
        ConfigError
            ``name`` is empty, or already taken and ``overwrite`` is False.
        """
        if not isinstance(name, str) or not name:
            raise ConfigError(
                f"{_article(self.what)} {self.what} name must be a non-empty string, got {name!r}."
            )
        if overwrite:
            dict.__setitem__(self, name, obj)
        else:
            self[name] = obj
        for alias in aliases:
            self.aliases[alias] = name
        return obj

    def get(self, name: str, default: Any = None) -> T:  # type: ignore[override]
        """The entry registered under ``name`` (or an alias of it).

        Raises
        ------
        Distill2RulesError
            (``error`` given at construction) naming the registered choices.
        """
        key = self.aliases.get(name, name) if isinstance(name, str) else name
        if key in self:
            return dict.__getitem__(self, key)
        if default is not None:
            return default
        if self.unknown is not None:
            raise self.unknown(name, self.names())
        raise self.error(
            f"unknown {self.what} {name!r}.", hint=f"Choose one of: {', '.join(self.names())}."
        )

    def canonical(self, name: str) -> str:
        """The registered name of ``name`` or of the entry it is an alias of; raises as :meth:`get`."""
        self.get(name)
        return self.aliases.get(name, name)

    def names(self) -> tuple[str, ...]:
        """Registered names in registration order."""
        return tuple(self)

    # -- dict safety ------------------------------------------------------------------------
    def __setitem__(self, name: str, obj: T) -> None:
        if name in self:
            raise ConfigError(
                f"{_article(self.what)} {self.what} named '{name}' is already registered "
                f"({_describe(dict.__getitem__(self, name))}).",
                hint="Pick another name, or call register(name, obj, overwrite=True) to replace it.",
            )
        super().__setitem__(name, obj)

    def update(self, *args: Any, **kwargs: Any) -> None:
        """As ``dict.update``, through the no-rebind check of ``registry[name] = obj``."""
        for name, obj in dict(*args, **kwargs).items():
            self[name] = obj

    def setdefault(self, name: str, obj: Any = None) -> T:
        """As ``dict.setdefault``, through the no-rebind check."""
        if name not in self and obj is not None:
            self[name] = obj
        return dict.__getitem__(self, name)

    def __repr__(self) -> str:
        return f"Registry({self.what!r}: {', '.join(self.names())})"

"""The exporter registry: format name -> function ``fn(spec, **options)``.

Exporters are looked up by name (``"onnx"``, ``"rulecard"``, ...) so the CLI and the artifact
writer never hard-code a list. Registering a name twice is refused unless ``overwrite=True``
is passed explicitly, so two plug-ins cannot silently shadow each other.
"""

from __future__ import annotations

from typing import Any, Callable

from distill2rules.errors import ConfigError

__all__ = ["EXPORTERS", "ExporterRegistry", "get_exporter", "register"]

Exporter = Callable[..., Any]


class ExporterRegistry(dict):
    """A ``dict`` of exporters that refuses to rebind an existing name.

    ``registry[name] = fn`` raises :class:`~distill2rules.errors.ConfigError` when ``name``
    is taken; use :func:`register` with ``overwrite=True`` to replace an exporter on purpose.
    """

    def __setitem__(self, name: str, fn: Exporter) -> None:
        if name in self:
            raise ConfigError(
                f"an exporter named '{name}' is already registered ({_describe(self[name])}).",
                hint="Pick another name, or call register(name, fn, overwrite=True) to replace it.",
            )
        super().__setitem__(name, fn)

    def update(self, *args: Any, **kwargs: Any) -> None:  # noqa: D102 - as __setitem__
        for name, fn in dict(*args, **kwargs).items():
            self[name] = fn

    def setdefault(self, name: str, fn: Exporter | None = None) -> Exporter:  # noqa: D102
        if name not in self and fn is not None:
            self[name] = fn
        return self[name]


def _describe(fn: Exporter) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"


EXPORTERS: ExporterRegistry = ExporterRegistry()


def register(name: str, fn: Exporter, *, overwrite: bool = False) -> Exporter:
    """Register exporter ``fn`` under the format ``name``.

    Parameters
    ----------
    name : str
        Format name, e.g. ``"onnx"``.
    fn : callable
        ``fn(spec, **options)`` returning the exported object.
    overwrite : bool, default False
        Replace an existing exporter of the same name instead of raising.

    Returns
    -------
    callable
        ``fn``, so ``register`` can be used as a plain call or inside a decorator.

    Raises
    ------
    ConfigError
        If ``name`` is already taken and ``overwrite`` is False, or ``fn`` is not callable.
    """
    if not isinstance(name, str) or not name:
        raise ConfigError(f"an exporter name must be a non-empty string, got {name!r}.")
    if not callable(fn):
        raise ConfigError(f"exporter '{name}' must be callable, got {type(fn).__name__}.")
    if overwrite:
        dict.__setitem__(EXPORTERS, name, fn)
    else:
        EXPORTERS[name] = fn
    return fn


def get_exporter(name: str) -> Exporter:
    """The exporter registered under ``name``.

    Raises
    ------
    ConfigError
        If no exporter has that name (the message lists the available ones).
    """
    try:
        return EXPORTERS[name]
    except KeyError:
        known = ", ".join(sorted(EXPORTERS)) or "none"
        raise ConfigError(f"no exporter named '{name}'; available: {known}.") from None

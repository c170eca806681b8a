"""The exporter registry: format name -> :class:`Exporter` (``fn(spec, **options)`` + its files).

Exporters are looked up by name (``"onnx"``, ``"rulecard"``, ...) so the CLI (``export
--format``) and the artifact writers never hard-code a list. Registering a name twice is refused
unless ``overwrite=True`` is passed explicitly, so two plug-ins cannot silently shadow each
other. Built-in exporters are registered by ``"module:attr"`` reference: importing the registry
imports neither ``onnx`` nor any exporter module.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from distill2rules.errors import ConfigError
from distill2rules.registry import Registry, resolve

__all__ = ["EXPORTERS", "Exporter", "ExporterRegistry", "get_exporter", "register"]

Files = Mapping[str, "str | bytes"]


@dataclass(frozen=True)
class Exporter:
    """A registered exporter and the facts about it.

    Parameters
    ----------
    target : callable or str
        ``fn(spec, **options)`` returning the exported object, or ``"module:fn"`` imported on
        first use.
    file_names : tuple of str
        The artifact files it can write (first = the default one); empty for an exporter that
        writes no artifact file (``reasons``).
    files : callable or str, optional
        ``files(spec, **context) -> {file name: text or bytes}``: what ``export --format NAME``
        writes. ``context`` holds ``inputs``, ``metrics``, ``evaluation``, ``provenance``;
        a ``files`` function takes what it needs and ignores the rest (``**_``).
    help : str
        One line for ``--help``.
    """

    target: Callable[..., Any] | str
    file_names: tuple[str, ...] = ()
    files: Callable[..., Files] | str | None = None
    help: str = ""

    @property
    def fn(self) -> Callable[..., Any]:
        """The export function (imported on first use)."""
        fn = resolve(self.target)
        if not callable(fn):
            raise ConfigError(f"exporter {self.target!r} is not callable.")
        return fn

    def __call__(self, spec: Any, **options: Any) -> Any:
        return self.fn(spec, **options)

    def write_files(self, spec: Any, **context: Any) -> dict[str, str | bytes]:
        """``{file name: content}`` this exporter writes for ``spec``."""
        if self.files is None:
            raise ConfigError(f"exporter {self.target!r} writes no files.")
        return dict(resolve(self.files)(spec, **context))


def _unknown(name: str, choices: tuple[str, ...]) -> ConfigError:
    known = ", ".join(sorted(choices)) or "none"
    return ConfigError(f"no exporter named '{name}'; available: {known}.")


#: kept for code that names the registry's type
ExporterRegistry = Registry

#: format name -> :class:`Exporter`
EXPORTERS: Registry[Exporter] = Registry("exporter", unknown=_unknown)


def register(
    name: str,
    fn: Exporter | Callable[..., Any] | str,
    *,
    overwrite: bool = False,
    file_names: tuple[str, ...] = (),
    files: Callable[..., Files] | str | None = None,
    help: str = "",
) -> Exporter:
    """Register exporter ``fn`` under the format ``name``.

    Parameters
    ----------
    name : str
        Format name, e.g. ``"onnx"``.
    fn : Exporter, callable or str
        ``fn(spec, **options)`` returning the exported object (or ``"module:fn"``), or a
        ready :class:`Exporter`.
    overwrite : bool, default False
        Replace an existing exporter of the same name instead of raising.
    file_names, files, help
        The facts of :class:`Exporter` (ignored when ``fn`` is an Exporter).

    Returns
    -------
    Exporter

    Raises
    ------
    ConfigError
        If ``name`` is already taken and ``overwrite`` is False, or ``fn`` is not callable.
    """
    if isinstance(fn, Exporter):
        exporter = fn
    else:
        if not callable(fn) and not (isinstance(fn, str) and ":" in fn):
            raise ConfigError(f"exporter '{name}' must be callable, got {type(fn).__name__}.")
        exporter = Exporter(fn, file_names=tuple(file_names), files=files, help=help)
    return EXPORTERS.register(name, exporter, overwrite=overwrite)


def get_exporter(name: str) -> Exporter:
    """The exporter registered under ``name`` (call it as ``get_exporter(name)(spec)``).

    Raises
    ------
    ConfigError
        If no exporter has that name (the message lists the available ones).
    """
    return EXPORTERS.get(name)


register(
    "onnx",
    "distill2rules.exporters.onnx:to_onnx",
    file_names=("student.onnx", "student.columns.onnx", "student.codes.onnx"),
    files="distill2rules.exporters.onnx:onnx_files",
    help="the ONNX graph (student.onnx; --inputs columns/codes: student.columns/codes.onnx)",
)
register(
    "rulecard",
    "distill2rules.exporters.rulecard:rulecard",
    file_names=("rulecard.md", "rulecard.html", "rulecard.json"),
    files="distill2rules.exporters.rulecard:rulecard_files",
    help="the rule card as Markdown, HTML and JSON",
)
register("reasons", "distill2rules.exporters.reasons:explain_rows", help="reason codes of rows")

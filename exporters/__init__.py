"""Exporters: renderings of a student spec (ONNX graph, rule card, reason codes).

Every exporter reads only the spec (``docs/spec.md``) and needs numpy + onnx only. Exporters
are registered by format name in :data:`EXPORTERS` (:class:`Exporter`: the function, the
artifact files it writes, a help line); :func:`register` refuses to rebind a taken name unless
``overwrite=True``. Importing this package imports no exporter module and not ``onnx``: the
functions below are imported on first use (PEP 562).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from distill2rules.exporters._registry import EXPORTERS, Exporter, ExporterRegistry, get_exporter, register

if TYPE_CHECKING:  # pragma: no cover
    from distill2rules.exporters.onnx import onnx_feeds, save_onnx, to_onnx
    from distill2rules.exporters.reasons import counterfactual, explain_rows, reasons_table, reasons_to_jsonl
    from distill2rules.exporters.rulecard import render_html, render_markdown, rulecard, write_rulecard

_LAZY = {
    "onnx_feeds": "distill2rules.exporters.onnx",
    "save_onnx": "distill2rules.exporters.onnx",
    "to_onnx": "distill2rules.exporters.onnx",
    "counterfactual": "distill2rules.exporters.reasons",
    "explain_rows": "distill2rules.exporters.reasons",
    "reasons_table": "distill2rules.exporters.reasons",
    "reasons_to_jsonl": "distill2rules.exporters.reasons",
    "render_html": "distill2rules.exporters.rulecard",
    "render_markdown": "distill2rules.exporters.rulecard",
    "rulecard": "distill2rules.exporters.rulecard",
    "write_rulecard": "distill2rules.exporters.rulecard",
}


def __getattr__(name: str) -> Any:
    """Exporter functions, imported on first use (PEP 562)."""
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "EXPORTERS",
    "Exporter",
    "ExporterRegistry",
    "counterfactual",
    "explain_rows",
    "get_exporter",
    "onnx_feeds",
    "reasons_table",
    "reasons_to_jsonl",
    "register",
    "render_html",
    "render_markdown",
    "rulecard",
    "save_onnx",
    "to_onnx",
    "write_rulecard",
]

"""Exporters: renderings of a student spec (ONNX graph, rule card, reason codes).

Every exporter reads only the spec (``docs/spec.md``) and needs numpy + onnx only. Exporters
are registered by format name in :data:`EXPORTERS`; :func:`register` refuses to rebind a
taken name unless ``overwrite=True``. Importing this package does not import ``onnx``.
"""

from __future__ import annotations

from distill2rules.exporters._registry import EXPORTERS, ExporterRegistry, get_exporter, register
from distill2rules.exporters.onnx import onnx_feeds, save_onnx, to_onnx
from distill2rules.exporters.reasons import counterfactual, explain_rows, reasons_table, reasons_to_jsonl
from distill2rules.exporters.rulecard import render_html, render_markdown, rulecard, write_rulecard

register("onnx", to_onnx)
register("rulecard", rulecard)
register("reasons", explain_rows)

__all__ = [
    "EXPORTERS",
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

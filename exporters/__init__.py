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

from distill2rules.exporters._registry import (
    EXPORTERS,
    Exporter,
    ExporterRegistry,
    get_exporter,
    register,
)

if TYPE_CHECKING:  # pragma: no cover
    from distill2rules.exporters._catalogue import load_catalogue, normalise_catalogue
    from distill2rules.exporters._protected import protected_usage, resolve_protected
    from distill2rules.exporters._render import infer_adverse_class, rule_text
    from distill2rules.exporters._scorer_meta import scorer_metadata
    from distill2rules.exporters._support import attach_support
    from distill2rules.exporters.onnx import onnx_feeds, save_onnx, to_onnx
    from distill2rules.exporters.reasons import (
        counterfactual,
        explain_rows,
        reasons_table,
        reasons_to_jsonl,
    )
    from distill2rules.exporters.rulecard import (
        card_blocks,
        render_html,
        render_markdown,
        rulecard,
        write_rulecard,
    )

_LAZY = {
    "attach_support": "distill2rules.exporters._support",
    "card_blocks": "distill2rules.exporters.rulecard",
    "infer_adverse_class": "distill2rules.exporters._render",
    "load_catalogue": "distill2rules.exporters._catalogue",
    "normalise_catalogue": "distill2rules.exporters._catalogue",
    "protected_usage": "distill2rules.exporters._protected",
    "resolve_protected": "distill2rules.exporters._protected",
    "rule_text": "distill2rules.exporters._render",
    "scorer_metadata": "distill2rules.exporters._scorer_meta",
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
    "attach_support",
    "card_blocks",
    "counterfactual",
    "explain_rows",
    "get_exporter",
    "infer_adverse_class",
    "load_catalogue",
    "normalise_catalogue",
    "onnx_feeds",
    "protected_usage",
    "reasons_table",
    "reasons_to_jsonl",
    "register",
    "render_html",
    "render_markdown",
    "resolve_protected",
    "rule_text",
    "rulecard",
    "save_onnx",
    "scorer_metadata",
    "to_onnx",
    "write_rulecard",
]

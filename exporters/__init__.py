"""Exporters: renderings of a student spec (ONNX graph, rule card, reason codes).

Every exporter reads only the spec (``docs/spec.md``) and needs numpy + onnx only. Exporters
are registered by format name in :data:`EXPORTERS`; :func:`register` refuses to rebind a
taken name unless ``overwrite=True``. Importing this package does not import ``onnx``.
"""

from __future__ import annotations

from distill2rules.exporters._registry import EXPORTERS, ExporterRegistry, get_exporter, register
from distill2rules.exporters.onnx import onnx_feeds, save_onnx, to_onnx

register("onnx", to_onnx)

__all__ = [
    "EXPORTERS",
    "ExporterRegistry",
    "get_exporter",
    "onnx_feeds",
    "register",
    "save_onnx",
    "to_onnx",
]

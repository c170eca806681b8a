"""Using a fitted artifact: predict, export (thin library calls behind the CLI)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from distill2rules.errors import ConfigError


def predict_frame(art_dir: str | Path, X: pd.DataFrame) -> pd.DataFrame:
    """Probabilities of every class (columns ``p_<class>``) for raw rows ``X``."""
    from distill2rules import spec as spec_mod
    from distill2rules._stream import _check_probabilities
    from distill2rules.artifact import load_spec

    spec = load_spec(art_dir)
    proba = spec_mod.evaluate(spec, X)["probabilities"]
    _check_probabilities(proba, 0)
    return pd.DataFrame(proba, columns=[f"p_{c}" for c in spec["classes"]], index=X.index)


def predict_file(art_dir: str | Path, data: str | Path, out: str | Path, *, sep: str | None = None,
                 encoding: str | None = None) -> int:
    """Score a CSV/Parquet file with the artifact's student; write ``p_<class>`` columns to ``out``.

    Streams: rows are read, scored and written in chunks (:mod:`distill2rules._stream`).
    """
    from distill2rules._stream import predict_file as stream_predict

    return stream_predict(art_dir, data, out, sep=sep, encoding=encoding)


def rulecard_files(art_dir: str | Path, spec: Mapping[str, Any],
                   evaluation: Mapping[str, Any] | None = None) -> dict[str, str]:
    """``rulecard.md/.html/.json`` of an artifact: its spec, fit metrics, provenance and, when
    present, the latest ``evaluate`` result (``evaluation`` or ``evaluation.json``)."""
    import json

    from distill2rules.artifact import _dump, check_hashes, read_member
    from distill2rules.exporters.rulecard import render_html, render_markdown, rulecard

    d = Path(art_dir)
    manifest = check_hashes(d)  # a changed artifact is refused, never re-rendered
    listed = manifest["files"]
    metrics = json.loads(read_member(d, manifest, "metrics.json")) if "metrics.json" in listed else None
    if evaluation is None and "evaluation.json" in listed:
        evaluation = json.loads(read_member(d, manifest, "evaluation.json"))
    card = rulecard(spec, metrics=metrics, evaluation=evaluation,
                    provenance={"teacher": manifest.get("teacher"), "dataset": manifest.get("data", {}).get("name"),
                                **manifest.get("config", {})})
    return {"rulecard.md": render_markdown(card), "rulecard.html": render_html(card), "rulecard.json": _dump(card)}


def export_artifact(art_dir: str | Path, *, format: str = "onnx", inputs: str = "tensors", out: str | Path | None = None) -> list[Path]:
    """Export the artifact's student as ONNX or a rule card; into the artifact unless ``out`` is given."""
    from distill2rules.artifact import load_spec, update_artifact, write_file

    spec = load_spec(art_dir)  # checks every file's hash first: a tampered artifact is refused
    if inputs not in ("tensors", "columns", "codes"):
        raise ConfigError(f"--inputs must be 'tensors', 'columns' or 'codes', got {inputs!r}.")
    files: dict[str, Any] = {}
    if format == "onnx":
        from distill2rules.exporters import to_onnx

        name = {"tensors": "student.onnx", "columns": "student.columns.onnx", "codes": "student.codes.onnx"}[inputs]
        files[name] = to_onnx(spec, inputs=inputs).SerializeToString(deterministic=True)
    elif format == "rulecard":
        files = rulecard_files(art_dir, spec)
    else:
        raise ConfigError(f"unknown export format {format!r}.", hint="Use --format onnx or --format rulecard.")
    if out is None:
        update_artifact(art_dir, files)
        return [Path(art_dir) / n for n in files]
    out = Path(out)
    one = {".md": "rulecard.md", ".html": "rulecard.html", ".htm": "rulecard.html", ".json": "rulecard.json"}
    if format == "onnx" or (out.suffix.lower() in one and not out.is_dir()):
        # one file: the graph, or the rule card in the format the name asks for (card.md, card.html, card.json)
        content = next(iter(files.values())) if format == "onnx" else files[one[out.suffix.lower()]]
        write_file(out, content)
        return [out]
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for n, content in files.items():
        written.append(write_file(out / n, content))
    return written

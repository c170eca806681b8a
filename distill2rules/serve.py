"""Using a fitted artifact: predict, export (thin library calls behind the CLI)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from distill2rules import spec as spec_mod
from distill2rules._stream import check_probabilities
from distill2rules._stream import predict_file as stream_predict
from distill2rules.artifact import check_hashes, load_spec, read_member, update_artifact, write_file
from distill2rules.errors import ConfigError
from distill2rules.exporters import EXPORTERS, Exporter, get_exporter

_SUFFIX_ALIASES = {".htm": ".html"}


def predict_frame(art_dir: str | Path, X: pd.DataFrame) -> pd.DataFrame:
    """Probabilities of every class (columns ``p_<class>``) for raw rows ``X``."""
    spec = load_spec(art_dir)
    proba = spec_mod.evaluate(spec, X)["probabilities"]
    check_probabilities(proba, 0)
    return pd.DataFrame(proba, columns=[f"p_{c}" for c in spec["classes"]], index=X.index)


def predict_file(
    art_dir: str | Path,
    data: str | Path,
    out: str | Path,
    *,
    sep: str | None = None,
    encoding: str | None = None,
) -> int:
    """Score a CSV/Parquet file with the artifact's student; write ``p_<class>`` columns to ``out``.

    Streams: rows are read, scored and written in chunks (:mod:`distill2rules._stream`).
    """
    return stream_predict(art_dir, data, out, sep=sep, encoding=encoding)


def _artifact_context(
    art_dir: str | Path, evaluation: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """What exporters may show beside the spec: fit metrics, the latest ``evaluate`` result
    (``evaluation`` or ``evaluation.json``) and provenance, read from a hash-checked artifact."""
    d = Path(art_dir)
    manifest = check_hashes(d)  # a changed artifact is refused, never re-rendered
    listed = manifest["files"]
    metrics = (
        json.loads(read_member(d, manifest, "metrics.json")) if "metrics.json" in listed else None
    )
    if evaluation is None and "evaluation.json" in listed:
        evaluation = json.loads(read_member(d, manifest, "evaluation.json"))
    provenance = {
        "teacher": manifest.get("teacher"),
        "dataset": manifest.get("data", {}).get("name"),
        **manifest.get("config", {}),
    }
    return {"metrics": metrics, "evaluation": evaluation, "provenance": provenance}


def rulecard_files(
    art_dir: str | Path, spec: Mapping[str, Any], evaluation: Mapping[str, Any] | None = None
) -> dict[str, str | bytes]:
    """``rulecard.md/.html/.json`` of an artifact: its spec, fit metrics, provenance and, when
    present, the latest ``evaluate`` result (``evaluation`` or ``evaluation.json``)."""
    return get_exporter("rulecard").write_files(spec, **_artifact_context(art_dir, evaluation))


def _file_exporter(format: str) -> Exporter:
    """The registered exporter ``format`` if it writes artifact files; a ConfigError otherwise."""
    choices = [n for n, e in EXPORTERS.items() if e.file_names]
    if format not in choices:
        raise ConfigError(
            f"unknown export format {format!r}.",
            hint="Use " + " or ".join(f"--format {n}" for n in choices) + ".",
        )
    return EXPORTERS.get(format)


def export_artifact(
    art_dir: str | Path,
    *,
    format: str = "onnx",
    inputs: str = "tensors",
    out: str | Path | None = None,
) -> list[Path]:
    """Export the artifact's student with a registered exporter (``onnx``, ``rulecard``...);
    into the artifact unless ``out`` is given."""
    spec = load_spec(art_dir)  # checks every file's hash first: a tampered artifact is refused
    if inputs not in ("tensors", "columns", "codes"):
        raise ConfigError(f"--inputs must be 'tensors', 'columns' or 'codes', got {inputs!r}.")
    exporter = _file_exporter(format)
    files = exporter.write_files(spec, inputs=inputs, **_artifact_context(art_dir))
    if out is None:
        update_artifact(art_dir, files)
        return [Path(art_dir) / n for n in files]
    out = Path(out)
    suffix = _SUFFIX_ALIASES.get(out.suffix.lower(), out.suffix.lower())
    by_suffix = {Path(n).suffix.lower(): n for n in files}
    if len(files) == 1 or (suffix in by_suffix and not out.is_dir()):
        # one file: the graph, or the rule card in the format the name asks for (card.md, card.html, card.json)
        content = next(iter(files.values())) if len(files) == 1 else files[by_suffix[suffix]]
        write_file(out, content)
        return [out]
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for n, content in files.items():
        written.append(write_file(out / n, content))
    return written

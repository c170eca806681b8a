"""The notebook-facing methods every distilled model shares.

:class:`StudentMethods` gives ``to_onnx``, ``explain``, ``rule_card``, ``save`` and an HTML
``_repr_html_`` (a rule card summary) to anything that can produce its spec: the result of
:func:`distill2rules.distill`, a model loaded with :func:`distill2rules.load`, and every fitted
student estimator. They are thin calls into the exporters and the artifact writer, so a method's
output is the same as the CLI's for the same spec.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from distill2rules import spec as spec_mod
from distill2rules.artifact import (
    check_out_dir,
    dump_json,
    load_spec,
    read_manifest,
    write_artifact,
)
from distill2rules.errors import ArtifactError, ConfigError
from distill2rules.exporters import get_exporter
from distill2rules.exporters import to_onnx as spec_to_onnx
from distill2rules.exporters.reasons import explain_rows
from distill2rules.exporters.rulecard import render_html, render_markdown, rulecard

__all__ = ["RULE_CARD_FORMATS", "StudentMethods", "load", "save_spec_artifact"]

RULE_CARD_FORMATS = ("markdown", "html", "json", "dict")


class StudentMethods:
    """Mixin: subclasses implement :meth:`_api_spec` (and optionally metrics / provenance)."""

    # ------------------------------------------------------------------ what subclasses provide
    def _api_spec(self) -> dict[str, Any]:
        raise NotImplementedError

    def _api_metrics(self) -> Mapping[str, Any] | None:
        return None

    def _api_provenance(self) -> Mapping[str, Any] | None:
        return None

    # ------------------------------------------------------------------ the methods
    def to_onnx(self, path: str | Path | None = None, *, inputs: str = "tensors") -> Any:
        """The student as an ONNX graph (``onnx.ModelProto``); also written to ``path`` if given.

        See ``docs/onnx.md`` for its inputs (``numeric`` / ``categorical`` tensors, or one input per
        column with ``inputs="columns"``) and outputs (``probabilities``, ``label``, ...).
        """
        model = spec_to_onnx(self._api_spec(), inputs=inputs)
        if path is not None:
            p = Path(path)
            p.parent.mkdir(parents=True, exist_ok=True)
            tmp = p.with_name(f".{p.name}.tmp")
            tmp.write_bytes(model.SerializeToString(deterministic=True))
            tmp.replace(p)
        return model

    def explain(
        self, X: Any, *, top: int = 4, adverse_class: Any = None, counterfactuals: bool = True
    ) -> list[dict[str, Any]]:
        """Reason codes for every row of ``X`` (a DataFrame of raw rows): one dict per row with the
        decision, its probability, the ranked reasons and, for adverse decisions, a counterfactual."""
        import pandas as pd

        if top < 1:
            raise ConfigError(f"top must be >= 1, got {top}.")
        frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(X)
        return explain_rows(
            self._api_spec(),
            frame,
            top=top,
            adverse_class=adverse_class,
            counterfactuals=counterfactuals,
        )

    def rule_card(self, format: str = "markdown") -> Any:
        """The rule card as ``"markdown"`` or ``"html"`` text, ``"json"`` text, or a ``"dict"``."""
        if format not in RULE_CARD_FORMATS:
            raise ConfigError(
                f"unknown rule card format {format!r}.",
                hint=f"Use one of: {', '.join(RULE_CARD_FORMATS)}.",
            )
        card = rulecard(
            self._api_spec(), metrics=self._api_metrics(), provenance=self._api_provenance()
        )
        if format == "dict":
            return card
        if format == "json":
            return json.dumps(card, indent=1, default=str)
        return render_markdown(card) if format == "markdown" else render_html(card)

    def save(self, path: str | Path) -> Path:
        """Write an artifact directory (spec, ONNX graph, rule cards, manifest) that
        :func:`distill2rules.load` and every CLI command read; returns its path."""
        return save_spec_artifact(
            path, self._api_spec(), metrics=self._api_metrics(), provenance=self._api_provenance()
        )

    def _repr_html_(self) -> str:
        """Notebook display: kind, classes, size and headline metrics of the rule card."""
        try:
            card = self.rule_card("dict")
        except Exception as exc:  # noqa: BLE001 - a display must never raise
            return f"<pre>{html.escape(type(self).__name__)}: {html.escape(str(exc))}</pre>"
        s = card.get("summary", {})
        rows = [
            ("student", f"{s.get('model', '?')} ({s.get('kind', '?')})"),
            ("classes", ", ".join(map(str, s.get("classes", [])))),
            (
                "size",
                f"{s.get('n_terms', s.get('n_rules', '?'))} terms/rules, {s.get('n_params', '?')} parameters",
            ),
            (
                "inputs",
                (
                    f"{len(s.get('inputs', {}).get('numeric', []))} numeric, "
                    f"{len(s.get('inputs', {}).get('categorical', []))} categorical"
                ),
            ),
        ]
        if s.get("adverse_class") is not None:
            rows.append(("adverse class", str(s["adverse_class"])))
        rows += [
            (m.get("label", m.get("name", "")), m.get("text", ""))
            for m in card.get("metrics", [])[:6]
        ]
        body = "".join(
            f"<tr><th style='text-align:left'>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
            for k, v in rows
        )
        title = html.escape(str(card.get("title", "distill2rules student")))
        return (
            f"<div class='distill2rules'><strong>{title}</strong><table>{body}</table>"
            "<small>.rule_card() for the full card, .explain(X) for reason codes, "
            ".to_onnx() for the graph</small></div>"
        )


def save_spec_artifact(
    path: str | Path,
    spec: Mapping[str, Any],
    *,
    metrics: Mapping[str, Any] | None = None,
    provenance: Mapping[str, Any] | None = None,
    baseline_spec: Mapping[str, Any] | None = None,
) -> Path:
    """An artifact directory from a spec alone (what :meth:`StudentMethods.save` writes)."""
    check_out_dir(path)
    spec_mod.validate(dict(spec))
    files: dict[str, Any] = {
        "student.json": spec_mod.to_json(dict(spec)),
        **get_exporter("onnx").write_files(dict(spec)),
    }
    if metrics is not None:
        files["metrics.json"] = dump_json(metrics)
    if baseline_spec is not None:
        files["baseline.json"] = spec_mod.to_json(dict(baseline_spec))
    files.update(get_exporter("rulecard").write_files(spec, metrics=metrics, provenance=provenance))
    meta = dict(spec.get("meta") or {})
    manifest = {
        "config": {
            "student": spec.get("model"),
            "saved_by": "distill2rules.save",
            **dict(provenance or {}),
        },
        "teacher": meta.get("teacher") or {},
    }
    return write_artifact(path, files, manifest)


def load(path: str | Path) -> Any:
    """Load an artifact directory written by ``fit``, :func:`distill2rules.distill` or ``.save``.

    Returns a :class:`~distill2rules.pipeline.DistillResult` (spec, metrics, baseline spec) with
    the same methods as a fresh result: ``predict_proba``, ``to_onnx``, ``explain``,
    ``rule_card``, ``save``. The manifest must be readable; ``distill2rules verify DIR`` (or
    :func:`distill2rules.artifact.verify_artifact`) checks every hash and ONNX parity.
    """
    from distill2rules.pipeline import DistillResult  # lazy: cycle with pipeline; pulls pandas

    d = Path(path)
    if not d.is_dir():
        raise ArtifactError(
            f"no artifact directory at {d}.", hint="Pass a directory written by fit or .save()."
        )
    spec = load_spec(d)
    manifest = read_manifest(d)
    metrics = (
        json.loads((d / "metrics.json").read_text(encoding="utf-8"))
        if (d / "metrics.json").is_file()
        else {}
    )
    base = spec_mod.load(d / "baseline.json") if (d / "baseline.json").is_file() else None
    return DistillResult(
        spec=spec,
        metrics=metrics,
        baseline_spec=base,
        out_dir=d,
        provenance={
            "teacher": manifest.get("teacher"),
            "dataset": (manifest.get("data") or {}).get("name"),
            **(manifest.get("config") or {}),
        },
    )

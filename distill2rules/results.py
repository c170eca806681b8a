"""Typed results: what ``fit`` measured (:class:`FitMetrics`), what ``evaluate`` measured
(:class:`Evaluation`) and one configuration of a sweep (:class:`SweepRow`).

Each has one ``to_dict()`` (the JSON written to ``metrics.json`` / ``evaluation.json`` /
``sweep.json``, through :func:`distill2rules._json.jsonable`) and one ``from_dict()`` (which
reads old files too: a missing ``format`` key is the first version). Keys a reader does not
know are kept in ``extra`` and written back, so a newer writer's additions survive a round trip.
Readers (the report, the rule card) read fields, never guess among alternative key names.

Only the standard library and numpy are imported: the exporters read these too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from distill2rules._json import jsonable, unjson_number

__all__ = [
    "EVALUATION_FORMAT",
    "METRICS_FORMAT",
    "EvaluatedModel",
    "Evaluation",
    "FitMetrics",
    "ModelScores",
    "SplitMetrics",
    "SweepRow",
    "jsonable",
]

METRICS_FORMAT = "distill2rules.metrics/1"
EVALUATION_FORMAT = "distill2rules.evaluation/1"


def _known(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls) if f.name != "extra")


def _split(cls: type, d: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(known fields, other keys) of a mapping."""
    known = set(_known(cls))
    return {k: v for k, v in d.items() if k in known}, {
        k: v for k, v in d.items() if k not in known
    }


def _num(v: Any) -> float | None:
    """A finite-or-infinite float, else None (reads ``"inf"`` back)."""
    v = unjson_number(v)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        try:
            import numpy as np

            if isinstance(v, (np.integer, np.floating)):
                return float(v)
        except ImportError:  # pragma: no cover - numpy is a core dependency
            pass
        return None
    return float(v)


def _mapping(v: Any) -> dict[str, Any] | None:
    return dict(v) if isinstance(v, Mapping) else None


# ============================================================================ fit


_PREDICTIVE = (
    "n",
    "n_classes",
    "accuracy",
    "balanced_accuracy",
    "roc_auc",
    "log_loss",
    "brier",
    "ece",
    "reliability",
    "agreement_with_teacher",
)


@dataclass
class ModelScores:
    """One model (teacher, KD student or no-KD baseline) on one split of ``fit``.

    The predictive measures of :class:`~distill2rules.validation.metrics.PredictiveMetrics`;
    for a student also ``fidelity`` (agreement with the teacher), its full
    :class:`~distill2rules.validation.metrics.Fidelity` as ``fidelity_detail`` and
    ``retention`` (student / teacher accuracy).
    """

    n: int | None = None
    n_classes: int | None = None
    accuracy: float | None = None
    balanced_accuracy: float | None = None
    roc_auc: float | None = None
    log_loss: float | None = None
    brier: float | None = None
    ece: float | None = None
    reliability: list[dict[str, Any]] | None = None
    agreement_with_teacher: float | None = None
    fidelity: float | None = None
    fidelity_detail: dict[str, Any] | None = None
    retention: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> ModelScores | None:
        if not isinstance(d, Mapping):
            return None
        known, extra = _split(cls, d)
        for k in (
            "accuracy",
            "balanced_accuracy",
            "roc_auc",
            "log_loss",
            "brier",
            "ece",
            "agreement_with_teacher",
            "fidelity",
            "retention",
        ):
            if k in known:
                known[k] = _num(known[k])
        known["fidelity_detail"] = _mapping(known.get("fidelity_detail"))
        return cls(**known, extra=extra)

    @classmethod
    def of(
        cls, predictive: Mapping[str, Any], fidelity: Mapping[str, Any] | None = None
    ) -> ModelScores:
        """From a ``PredictiveMetrics`` dict and, for a student, a ``Fidelity`` dict (agreement → ``fidelity``;
        retention = accuracy / ``agreement_with_teacher``'s teacher accuracy is set by the caller)."""
        s = cls.from_dict(predictive) or cls()
        if fidelity is not None:
            s.fidelity_detail = dict(fidelity)
            s.fidelity = _num(fidelity.get("agreement"))
        return s

    @property
    def is_student(self) -> bool:
        return self.fidelity_detail is not None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: getattr(self, k) for k in _PREDICTIVE}
        if self.is_student:
            out.update(
                fidelity=self.fidelity,
                fidelity_detail=self.fidelity_detail,
                retention=self.retention,
            )
        out.update(self.extra)
        return jsonable(out)


@dataclass
class SplitMetrics:
    """Teacher, KD student and no-KD baseline on one split (``val`` or ``test``) of ``fit``."""

    n_rows: int | None = None
    teacher: ModelScores | None = None
    student: ModelScores | None = None
    baseline: ModelScores | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: Any) -> SplitMetrics | None:
        if not isinstance(d, Mapping):
            return None
        known, extra = _split(cls, d)
        for k in ("teacher", "student", "baseline"):
            if k in known:
                known[k] = ModelScores.from_dict(known[k])
        n = known.get("n_rows")
        known["n_rows"] = (
            int(n) if isinstance(n, (int, float)) and not isinstance(n, bool) else None
        )
        return cls(**known, extra=extra)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"n_rows": self.n_rows}
        for k in ("teacher", "student", "baseline"):
            v = getattr(self, k)
            if v is not None:
                out[k] = v.to_dict()
        out.update(self.extra)
        return jsonable(out)


# written only when set (``calibration`` is always written, None when the student is not calibrated)
_FIT_OPTIONAL = (
    "cutoff",
    "adverse_class",
    "protected",
    "warnings",
    "augment",
    "assistant",
    "autotune",
    "excluded_features",
)


@dataclass
class FitMetrics:
    """What ``fit`` measured (``metrics.json``; ``DistillResult.metrics`` is its ``to_dict()``).

    Attributes
    ----------
    student, temperature, alpha, temperature_source, targets, seed, classes
        The recipe: student kind, τ, α, where τ came from, the soft targets in words, seed,
        the classes (as text, in the spec's order).
    split_sizes, data_sources
        Rows per split and where each split's rows came from.
    val, test : SplitMetrics
        Teacher / student / baseline measures per split.
    size
        ``{"student": spec complexity, "teacher_parameters": n}``.
    calibration
        The calibration folded into the student (None without one).
    adverse_class, cutoff, protected, warnings, augment, assistant, autotune, excluded_features
        Present when the run had them (``cutoff``: ``fit --cutoff/--approval-rate``).
    timings
        Seconds per pipeline stage.
    """

    student: str | None = None
    temperature: float | None = None
    alpha: float | None = None
    temperature_source: str | None = None
    targets: str | None = None
    seed: int | None = None
    classes: list[str] = field(default_factory=list)
    split_sizes: dict[str, int] = field(default_factory=dict)
    data_sources: dict[str, Any] = field(default_factory=dict)
    val: SplitMetrics | None = None
    test: SplitMetrics | None = None
    size: dict[str, Any] = field(default_factory=dict)
    calibration: dict[str, Any] | None = None
    adverse_class: str | None = None
    cutoff: dict[str, Any] | None = None
    protected: dict[str, Any] | None = None
    warnings: list[str] | None = None
    augment: dict[str, Any] | None = None
    assistant: dict[str, Any] | None = None
    autotune: dict[str, Any] | None = None
    excluded_features: dict[str, Any] | None = None
    timings: dict[str, float] = field(default_factory=dict)
    format: str = METRICS_FORMAT
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | FitMetrics | None) -> FitMetrics:
        """Read ``metrics.json`` (any version this package wrote; partial mappings too)."""
        if isinstance(d, FitMetrics):
            return d
        if not isinstance(d, Mapping):
            return cls()
        known, extra = _split(cls, d)
        known.setdefault("format", METRICS_FORMAT)
        for k in ("val", "test"):
            if k in known:
                known[k] = SplitMetrics.from_dict(known[k])
        for k in ("temperature", "alpha"):
            if k in known:
                known[k] = _num(known[k])
        for k in ("split_sizes", "data_sources", "size", "timings"):
            if k in known:
                known[k] = _mapping(known[k]) or {}
        if "classes" in known:
            known["classes"] = [str(c) for c in known["classes"] or []]
        return cls(**known, extra=extra)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "format": self.format,
            "student": self.student,
            "temperature": self.temperature,
            "alpha": self.alpha,
            "temperature_source": self.temperature_source,
            "targets": self.targets,
            "seed": self.seed,
            "classes": list(self.classes),
            "split_sizes": self.split_sizes,
            "data_sources": self.data_sources,
        }
        for k in ("val", "test"):
            v = getattr(self, k)
            if v is not None:
                out[k] = v.to_dict()
        out.update(size=self.size, calibration=self.calibration)
        for k in _FIT_OPTIONAL:
            if getattr(self, k) is not None:
                out[k] = getattr(self, k)
        out["timings"] = self.timings
        out.update(self.extra)
        return jsonable(out)

    def split(self, name: str) -> SplitMetrics:
        """``val`` or ``test`` (empty when not measured)."""
        return getattr(self, name) or SplitMetrics()


# ============================================================================ evaluate


@dataclass
class EvaluatedModel:
    """One model's block of ``evaluation.json``: predictive measures, attributions, stability, cost."""

    predictive: dict[str, Any] = field(default_factory=dict)
    attributions: dict[str, Any] = field(default_factory=dict)
    stability: dict[str, Any] | None = None
    n_parameters: int | None = None
    memory_mb: float | None = None
    latency: dict[str, Any] | None = None
    onnx_latency: dict[str, Any] | None = None
    onnx_memory_mb: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: Any) -> EvaluatedModel:
        if not isinstance(d, Mapping):
            return cls()
        known, extra = _split(cls, d)
        for k in ("predictive", "attributions"):
            known[k] = _mapping(known.get(k)) or {}
        return cls(**known, extra=extra)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"predictive": self.predictive, "attributions": self.attributions}
        for k in (
            "stability",
            "n_parameters",
            "memory_mb",
            "latency",
            "onnx_latency",
            "onnx_memory_mb",
        ):
            if getattr(self, k) is not None:
                out[k] = getattr(self, k)
        out.update(self.extra)
        return jsonable(out)

    def p50_ms(self, which: str = "latency") -> float | None:
        """Median single-row latency in ms (``latency`` or ``onnx_latency``)."""
        lat = getattr(self, which) or {}
        return _num((lat.get("single_row") or {}).get("p50_ms"))


@dataclass
class Evaluation:
    """What ``evaluate`` measured (``evaluation.json``).

    Attributes
    ----------
    teacher, student : EvaluatedModel
    fidelity, alignment : dict
        ``Fidelity`` and ``Alignment`` results (student vs teacher).
    retention, prr : float
        Student / teacher accuracy; parameter reduction rate.
    data : dict
        Which rows were measured (``name``, ``split``, ``n_rows``, ``teacher``...).
    baseline, kd_vs_no_kd, mcnemar : dict, optional
        The no-KD baseline's measures, the side-by-side table and McNemar's test.
    """

    n_test: int | None = None
    n_classes: int | None = None
    classes: list[Any] = field(default_factory=list)
    teacher: EvaluatedModel = field(default_factory=EvaluatedModel)
    student: EvaluatedModel = field(default_factory=EvaluatedModel)
    fidelity: dict[str, Any] = field(default_factory=dict)
    retention: float | None = None
    alignment: dict[str, Any] = field(default_factory=dict)
    stability_columns: list[str] | None = None
    prr: float | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] | None = None
    baseline: dict[str, Any] | None = None
    kd_vs_no_kd: dict[str, Any] | None = None
    mcnemar: dict[str, Any] | None = None
    format: str = EVALUATION_FORMAT
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: Any) -> Evaluation | None:
        """Read ``evaluation.json`` (None for anything that is not a mapping)."""
        if isinstance(d, Evaluation):
            return d
        if not isinstance(d, Mapping):
            return None
        known, extra = _split(cls, d)
        known.setdefault("format", EVALUATION_FORMAT)
        for k in ("teacher", "student"):
            known[k] = EvaluatedModel.from_dict(known.get(k))
        for k in ("fidelity", "alignment", "seconds", "config"):
            known[k] = _mapping(known.get(k)) or {}
        for k in ("retention", "prr"):
            if k in known:
                known[k] = _num(known[k])
        return cls(**known, extra=extra)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "format": self.format,
            "n_test": self.n_test,
            "n_classes": self.n_classes,
            "classes": list(self.classes),
            "teacher": self.teacher.to_dict(),
            "student": self.student.to_dict(),
            "fidelity": self.fidelity,
            "retention": self.retention,
            "alignment": self.alignment,
        }
        if self.stability_columns is not None:
            out["stability_columns"] = self.stability_columns
        out.update(prr=self.prr, seconds=self.seconds, config=self.config)
        for k in ("data", "baseline", "kd_vs_no_kd", "mcnemar"):
            if getattr(self, k) is not None:
                out[k] = getattr(self, k)
        out.update(self.extra)
        return jsonable(out)


# ============================================================================ sweep


@dataclass
class SweepRow:
    """One configuration of ``sweep``: its settings and the mean (``*_sd``: sd) over seeds of each measure.

    Also one run of a configuration (``seed`` set, no ``*_sd``) and a row of ``pareto.json``.
    """

    temperature: float | None = None
    alpha: float | None = None
    size: Any = None
    n_seeds: int | None = None
    seeds: list[int] | None = None
    seed: int | None = None
    student: str | None = None
    accuracy: float | None = None
    fidelity: float | None = None
    ece: float | None = None
    params: float | None = None
    latency_ms: float | None = None
    cosine: float | None = None
    cosine_row: float | None = None
    cost: float | None = None
    J: float | None = None
    accuracy_sd: float | None = None
    fidelity_sd: float | None = None
    ece_sd: float | None = None
    params_sd: float | None = None
    latency_ms_sd: float | None = None
    cosine_sd: float | None = None
    cosine_row_sd: float | None = None
    cost_sd: float | None = None
    J_sd: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SweepRow:
        known, extra = _split(cls, d)
        for k, v in list(known.items()):
            if k not in ("size", "seeds", "student", "n_seeds", "seed"):
                known[k] = _num(v)
        return cls(**known, extra=extra)

    def to_dict(self) -> dict[str, Any]:
        out = {
            k: getattr(self, k)
            for k in _known(SweepRow)
            if getattr(self, k) is not None or k == "size"
        }
        out.update(self.extra)
        return jsonable(out)

    def config_key(self) -> tuple[Any, Any, Any]:
        """(τ, α, size): what identifies a configuration across seeds."""
        import json

        return tuple(
            json.dumps(v, sort_keys=True) for v in (self.temperature, self.alpha, self.size)
        )  # type: ignore[return-value]

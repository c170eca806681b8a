"""The validation wing: is the student accurate, faithful, explained alike, stable, small, fast?

Measures never train anything; they read a teacher (``distill2rules.teachers``), a student
spec (``distill2rules.spec``) and held-out rows. Every result object has ``to_dict()``
returning plain JSON types. Definitions and caveats: ``docs/validation.md``.

* :mod:`~distill2rules.validation.metrics` — accuracy, AUC, log loss, Brier, ECE, fidelity.
* :mod:`~distill2rules.validation.attribution` — SHAP in raw feature space and alignment.
* :mod:`~distill2rules.validation.stability` — explanation stability under noise.
* :mod:`~distill2rules.validation.efficiency` — parameters, PRR, latency, memory.
* :mod:`~distill2rules.validation.statistics` — paired t, Cohen's d, Wilcoxon, bootstrap, McNemar.
* :func:`evaluate_student` runs everything; :func:`format_table` shows it.
"""

from distill2rules.validation.attribution import (
    Alignment,
    Attributions,
    Explainers,
    alignment,
    student_attributions,
    target_output,
    teacher_attributions,
)
from distill2rules.validation.efficiency import (
    Latency,
    latency,
    memory_mb,
    n_parameters,
    onnx_latency,
    prr,
    spec_n_parameters,
)
from distill2rules.validation.metrics import (
    Fidelity,
    PredictiveMetrics,
    expected_calibration_error,
    fidelity,
    predictive_metrics,
    retention,
)
from distill2rules.validation.stability import Stability, stability
from distill2rules.validation.statistics import (
    BootstrapCI,
    TestResult,
    bootstrap_ci,
    cohens_d,
    mcnemar,
    paired_ttest,
    wilcoxon,
)
from distill2rules.validation.suite import evaluate_student, format_table

__all__ = [
    "Alignment",
    "Attributions",
    "BootstrapCI",
    "Explainers",
    "Fidelity",
    "Latency",
    "PredictiveMetrics",
    "Stability",
    "TestResult",
    "alignment",
    "bootstrap_ci",
    "cohens_d",
    "evaluate_student",
    "expected_calibration_error",
    "fidelity",
    "format_table",
    "latency",
    "mcnemar",
    "memory_mb",
    "n_parameters",
    "onnx_latency",
    "paired_ttest",
    "predictive_metrics",
    "prr",
    "retention",
    "spec_n_parameters",
    "stability",
    "student_attributions",
    "target_output",
    "teacher_attributions",
    "wilcoxon",
]

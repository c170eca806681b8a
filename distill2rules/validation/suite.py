"""Run every validation measure for one teacher-student pair, and show it as a table."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from distill2rules.errors import DataError, SchemaError
from distill2rules.spec import evaluate
from distill2rules.validation._results import jsonable
from distill2rules.validation.attribution import (
    Explainers,
    alignment,
)
from distill2rules.validation.efficiency import latency, memory_mb, n_parameters, onnx_latency, prr
from distill2rules.validation.metrics import (
    cutoff_decisions,
    fidelity,
    predictive_metrics,
    retention,
)
from distill2rules.validation.stability import stability

__all__ = ["evaluate_student", "format_table", "stability_columns"]


class _Steps:
    """A rich progress bar over named steps (silent when ``enabled`` is False)."""

    def __init__(self, names: Sequence[str], enabled: bool) -> None:
        self.names = list(names)
        self.enabled = enabled
        self.seconds: dict[str, float] = {}
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> _Steps:
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total}"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._progress.__enter__()
            self._task = self._progress.add_task("validating", total=len(self.names))
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.__exit__(*exc)

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        if self._progress is not None:
            self._progress.update(self._task, description=name)
        start = time.perf_counter()
        yield
        self.seconds[name] = time.perf_counter() - start
        if self._progress is not None:
            self._progress.advance(self._task)


def stability_columns(teacher: Any, spec: Mapping[str, Any], X: Any) -> list[str]:
    """Columns that get noise: numeric-typed teacher columns the student does not read as
    categorical, plus the student's numeric inputs."""
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    cat = set(spec["inputs"].get("categorical", []))
    cols = [
        c
        for c in teacher.feature_names
        if c in X.columns and c not in cat and is_numeric_dtype(X[c]) and not is_bool_dtype(X[c])
    ]
    cols += [c for c in spec["inputs"].get("numeric", []) if c not in cols and c in X.columns]
    return cols


def _sample(X: Any, n: int, seed: int) -> np.ndarray:
    if n >= len(X):
        return np.arange(len(X))
    return np.sort(np.random.default_rng(seed).choice(len(X), size=n, replace=False))


def evaluate_student(
    teacher: Any,
    spec: Mapping[str, Any],
    X_test: Any,
    y_test_idx: Any,
    *,
    X_background: Any,
    shap_rows: int = 500,
    sigmas: Sequence[float] = (0.01, 0.05, 0.1),
    stability_rows: int = 200,
    top_k: int = 5,
    n_permutations: int = 5,
    latency_calls: int = 1000,
    batch_sizes: Sequence[int] = (1, 100, 10000),
    seed: int = 0,
    onnx_path: Any = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Every validation measure for one teacher and one student spec on held-out rows.

    Long because it documents each of its options; the steps themselves are the helpers
    ``_predictive_steps``, ``Explainers``, ``_stability_step`` and ``_cost_steps``.

    Parameters
    ----------
    teacher : Teacher
        The black box (see ``distill2rules.teachers``).
    spec : dict
        The student spec.
    X_test : DataFrame
        Held-out raw rows.
    y_test_idx : array of int
        True class indices (the teacher's and the spec's class order).
    X_background : DataFrame
        Background rows for SHAP (typically a sample of the training data).
    shap_rows : int
        Test rows explained for the alignment (seeded sample).
    sigmas : sequence of float
        Noise levels for the stability index.
    stability_rows : int
        Rows (taken from the explained rows) for the stability index; 0 skips it.
    top_k : int
        Top-feature set size for the alignment.
    n_permutations : int
        Permutations per row when a PermutationExplainer is needed.
    latency_calls : int
        One-row calls per latency measurement; 0 skips latency.
    batch_sizes : sequence of int
        Batch sizes for latency.
    seed : int
        Seed for every sample and explainer.
    onnx_path : path or bytes, optional
        The student's ONNX graph; adds its onnxruntime latency and size.
    progress : bool
        Show a rich progress bar on stderr.

    Returns
    -------
    dict
        JSON-able: ``teacher`` and ``student`` blocks (predictive metrics, attributions
        summary, stability, parameters, memory, latency), ``fidelity``, ``retention``,
        ``alignment``, ``prr``, ``seconds`` per step and the ``config`` used.
    """
    y, k = _checked_labels(teacher, spec, X_test, y_test_idx)
    steps = ["predict", "metrics", "teacher SHAP", "student SHAP", "alignment"]
    steps += ["stability"] if stability_rows and sigmas else []
    steps += ["latency"] if latency_calls else []
    out: dict[str, Any] = {
        "n_test": len(X_test),
        "n_classes": k,
        "classes": list(spec["classes"]),
        "teacher": {},
        "student": {},
    }
    ex = Explainers(teacher, spec, X_background, n_permutations, seed)
    with _Steps(steps, progress) as run:
        p_t = _predictive_steps(run, out, teacher, spec, X_test, y)
        rows = _sample(X_test, shap_rows, seed)
        X_exp = X_test.iloc[rows]
        cls = p_t[rows].argmax(axis=1) if k > 2 else None
        with run.step("teacher SHAP"):
            phi_t = ex.teacher_phi(X_exp, cls)
            out["teacher"]["attributions"] = phi_t.to_dict()
        with run.step("student SHAP"):
            phi_s = ex.student_phi(X_exp, cls, phi_t.feature_names)
            out["student"]["attributions"] = phi_s.to_dict()
        with run.step("alignment"):
            out["alignment"] = alignment(phi_t, phi_s, top_k=top_k).to_dict()
        if "stability" in steps:
            with run.step("stability"):
                _stability_step(
                    out, ex, X_test, X_exp, cls, phi_t.feature_names, sigmas, stability_rows
                )
        _cost_steps(
            run,
            out,
            teacher,
            spec,
            X_test,
            onnx_path,
            "latency" in steps,
            batch_sizes,
            latency_calls,
        )
        out["seconds"] = dict(run.seconds)
    out["config"] = {
        "shap_rows": len(rows),
        "sigmas": list(sigmas),
        "stability_rows": stability_rows,
        "top_k": top_k,
        "n_permutations": n_permutations,
        "latency_calls": latency_calls,
        "batch_sizes": list(batch_sizes),
        "seed": seed,
    }
    return jsonable(out)


def _checked_labels(
    teacher: Any, spec: Mapping[str, Any], X_test: Any, y_test_idx: Any
) -> tuple[np.ndarray, int]:
    """The true class indices as a flat array and the class count (teacher and student agree)."""
    y = np.asarray(y_test_idx).ravel()
    if len(y) != len(X_test):
        raise DataError(f"y_test_idx has {len(y)} labels for {len(X_test)} rows.")
    k = int(teacher.n_classes)
    if k != len(spec["classes"]):
        raise SchemaError(
            f"the teacher has {k} classes but the student has {len(spec['classes'])}.",
            hint="Evaluate a student distilled from this teacher.",
        )
    return y, k


def _predictive_steps(
    run: _Steps, out: dict[str, Any], teacher: Any, spec: Mapping[str, Any], X_test: Any, y: Any
) -> np.ndarray:
    """``predict`` and ``metrics``: both models' predictive metrics, fidelity and retention.
    Returns the teacher's probabilities."""
    with run.step("predict"):
        p_t = np.asarray(teacher.predict_proba(X_test), dtype=np.float64)
        ev = evaluate(spec, X_test)
        p_s, lab_s = ev["probabilities"], ev["label"]  # decisions: argmax or the spec's threshold
    with run.step("metrics"):
        lab_t = cutoff_decisions(
            spec, p_t
        )  # a fit with --cutoff: the teacher decides at the cutoff
        m_t = predictive_metrics(y, p_t, label=lab_t)
        m_s = predictive_metrics(y, p_s, teacher_proba=p_t, label=lab_s, teacher_label=lab_t)
        out["teacher"]["predictive"] = m_t.to_dict()
        out["student"]["predictive"] = m_s.to_dict()
        out["fidelity"] = fidelity(p_s, p_t, student_label=lab_s, teacher_label=lab_t).to_dict()
        out["retention"] = retention(m_s.accuracy, m_t.accuracy)
    return p_t


def _stability_step(
    out: dict[str, Any],
    ex: Explainers,
    X_test: Any,
    X_exp: Any,
    cls: Any,
    names: Sequence[str],
    sigmas: Sequence[float],
    stability_rows: int,
) -> None:
    """Both models' SHAP stability index on the first ``stability_rows`` explained rows."""
    n_st = min(stability_rows, len(X_exp))
    cls_st = None if cls is None else cls[:n_st]
    cols = stability_columns(ex.teacher, ex.spec, X_test)
    for who, fn in ex.attribution_fns(cls_st, names).items():
        out[who]["stability"] = stability(
            fn, X_exp.iloc[:n_st], cols, sigmas=sigmas, n_rows=n_st, seed=ex.seed
        ).to_dict()
    out["stability_columns"] = cols


def _cost_steps(
    run: _Steps,
    out: dict[str, Any],
    teacher: Any,
    spec: Mapping[str, Any],
    X_test: Any,
    onnx_path: Any,
    timed: bool,
    batch_sizes: Sequence[int],
    latency_calls: int,
) -> None:
    """Parameters, memory and PRR; with ``timed``, the ``latency`` step (Python and ONNX)."""
    n_t, n_s = n_parameters(teacher), n_parameters(spec)
    out["teacher"].update(n_parameters=n_t, memory_mb=memory_mb(teacher))
    out["student"].update(n_parameters=n_s, memory_mb=memory_mb(spec))
    out["prr"] = prr(n_s, n_t)
    if timed:
        with run.step("latency"):
            kw: dict[str, Any] = {"n_calls": latency_calls, "batch_sizes": batch_sizes}
            out["teacher"]["latency"] = latency(teacher.predict_proba, X_test, **kw).to_dict()
            out["student"]["latency"] = latency(
                lambda X: evaluate(spec, X)["probabilities"], X_test, **kw
            ).to_dict()
            if onnx_path is not None:
                out["student"]["onnx_latency"] = onnx_latency(
                    onnx_path, spec, X_test, **kw
                ).to_dict()
    if onnx_path is not None:
        out["student"]["onnx_memory_mb"] = memory_mb(onnx_path)


# ----------------------------------------------------------------------------- table


def _fmt(v: Any, digits: int = 4) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        if v != 0 and (abs(v) < 10 ** -(digits - 1) or abs(v) >= 1e6):
            return f"{v:.{digits - 1}e}"
        return f"{v:.{digits}f}"
    return str(v)


def _pm(d: Mapping[str, Any] | None, mean: str = "mean", sd: str = "sd") -> str:
    if not d or d.get(mean) is None:
        return "—"
    m, s = d.get(mean), d.get(sd)
    return f"{m:.3f}" + ("" if s is None else f" ± {s:.3f}")


def _get(d: Mapping[str, Any], *path: str) -> Any:
    for p in path:
        if not isinstance(d, Mapping) or p not in d:
            return None
        d = d[p]
    return d


def format_table(result: Mapping[str, Any]) -> Any:
    """A ``rich.table.Table`` (measure | teacher | student) of :func:`evaluate_student`'s result."""
    from rich.table import Table

    t, s = result.get("teacher", {}), result.get("student", {})
    table = Table(
        title=f"Validation ({result.get('n_test', '?')} test rows, "
        f"{result.get('n_classes', '?')} classes)"
    )
    table.add_column("measure")
    table.add_column("teacher", justify="right")
    table.add_column("student", justify="right")
    for key, label in (
        ("accuracy", "accuracy"),
        ("balanced_accuracy", "balanced accuracy"),
        ("roc_auc", "ROC AUC"),
        ("log_loss", "log loss"),
        ("brier", "Brier score"),
        ("ece", "ECE"),
    ):
        table.add_row(label, _fmt(_get(t, "predictive", key)), _fmt(_get(s, "predictive", key)))
    table.add_section()
    fid = result.get("fidelity", {})
    table.add_row("fidelity (agreement)", "", _fmt(fid.get("agreement")))
    table.add_row(
        f"agreement near boundary (n={fid.get('boundary_n', '?')})",
        "",
        _fmt(fid.get("boundary_agreement")),
    )
    table.add_row("KL(teacher ‖ student)", "", _fmt(fid.get("kl")))
    table.add_row("accuracy retention", "", _fmt(result.get("retention")))
    al = result.get("alignment")
    if al:
        table.add_section()
        table.add_row(
            "explainer",
            str(_get(t, "attributions", "method")),
            str(_get(s, "attributions", "method")),
        )
        table.add_row("SHAP cosine per row", "", _pm(al, "cosine_mean", "cosine_sd"))
        table.add_row("SHAP cosine of importances", "", _fmt(al.get("global_cosine")))
        table.add_row("SHAP MAD (normalised)", "", _fmt(al.get("mad")))
        table.add_row("SHAP Spearman rank", "", _fmt(al.get("spearman")))
        table.add_row(f"top-{al.get('top_k')} overlap |∩|/k", "", _fmt(al.get("topk_overlap")))
    if "stability" in t or "stability" in s:
        table.add_section()
        for sig in _get(t, "stability", "sigmas") or []:
            key = repr(float(sig))
            table.add_row(
                f"stability σ={sig:g}",
                _pm(_get(t, "stability", "per_sigma", key)),
                _pm(_get(s, "stability", "per_sigma", key)),
            )
    table.add_section()
    table.add_row("parameters", _fmt(t.get("n_parameters")), _fmt(s.get("n_parameters")))
    table.add_row("parameter reduction (PRR)", "", _fmt(result.get("prr")))
    table.add_row("size (MB)", _fmt(t.get("memory_mb")), _fmt(s.get("memory_mb")))
    if "onnx_memory_mb" in s:
        table.add_row("ONNX size (MB)", "", _fmt(s.get("onnx_memory_mb")))
    if "latency" in t:
        table.add_row(
            "latency 1 row p50 (ms)",
            _fmt(_get(t, "latency", "single_row", "p50_ms")),
            _fmt(_get(s, "latency", "single_row", "p50_ms")),
        )
        for b in _get(t, "latency", "batch") or {}:
            if b != "1":
                table.add_row(
                    f"latency {b} rows mean (ms)",
                    _fmt(_get(t, "latency", "batch", b, "mean_ms")),
                    _fmt(_get(s, "latency", "batch", b, "mean_ms")),
                )
    if "onnx_latency" in s:
        table.add_row(
            "ONNX latency 1 row p50 (ms)", "", _fmt(_get(s, "onnx_latency", "single_row", "p50_ms"))
        )
        for b, v in (_get(s, "onnx_latency", "batch") or {}).items():
            if b != "1":
                table.add_row(f"ONNX latency {b} rows mean (ms)", "", _fmt(v.get("mean_ms")))
    return table

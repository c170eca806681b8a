"""Predictive quality, calibration and teacher-student fidelity.

All functions take class *indices* (``0..K-1``) and probability matrices ``[n, K]`` whose
columns follow the same class order for teacher and student.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from distill2rules.errors import DataError
from distill2rules.validation._results import Result

__all__ = [
    "Fidelity",
    "PredictiveMetrics",
    "cutoff_decisions",
    "expected_calibration_error",
    "fidelity",
    "predictive_metrics",
    "retention",
]

_EPS = 1e-12


def _as_proba(proba: Any, name: str) -> np.ndarray:
    p = np.asarray(proba, dtype=np.float64)
    if p.ndim == 1:  # probabilities of the positive class
        p = np.column_stack([1.0 - p, p])
    if p.ndim != 2 or p.shape[1] < 2:
        raise DataError(
            f"{name} must be a probability matrix [n, K] with K >= 2, got shape {p.shape}."
        )
    if not np.all(np.isfinite(p)):
        raise DataError(f"{name} holds NaN or infinite probabilities.")
    return p


def _as_labels(y: Any, n: int, k: int) -> np.ndarray:
    y = np.asarray(y).ravel()
    if y.shape[0] != n:
        raise DataError(f"y_true has {y.shape[0]} rows but the probabilities have {n}.")
    if not np.issubdtype(y.dtype, np.integer):
        if np.issubdtype(y.dtype, np.floating) and np.all(np.mod(y, 1) == 0):
            y = y.astype(np.int64)
        else:
            raise DataError(
                "y_true must hold class indices 0..K-1.",
                hint="Encode labels with the teacher's class order.",
            )
    if y.size and (y.min() < 0 or y.max() >= k):
        raise DataError(
            f"y_true holds class index {int(y.max()) if y.max() >= k else int(y.min())}, "
            f"outside 0..{k - 1}."
        )
    return y.astype(np.int64)


@dataclasses.dataclass
class PredictiveMetrics(Result):
    """Accuracy, ranking and calibration of one model on labelled rows.

    ``roc_auc`` is binary AUC, or the macro one-vs-rest mean over the classes that have both
    positives and negatives in ``y_true`` (``None`` if no class qualifies). ``brier`` follows
    scikit-learn: ``mean (p_1 - y)^2`` for two classes, ``mean sum_k (p_k - y_k)^2`` for more.
    ``reliability`` lists the equal-width confidence bins behind ``ece``.
    """

    n: int
    n_classes: int
    accuracy: float
    balanced_accuracy: float
    roc_auc: float | None
    log_loss: float
    brier: float
    ece: float
    reliability: list[dict[str, Any]]
    agreement_with_teacher: float | None = None


@dataclasses.dataclass
class Fidelity(Result):
    """How often the student's predicted class equals the teacher's.

    ``per_class[k]`` is the agreement on rows the *teacher* assigns to class ``k``
    (``None`` when the teacher predicts ``k`` nowhere). ``boundary_agreement`` is measured on
    the ``boundary_quantile`` share of rows with the smallest teacher margin ``p_top1 - p_top2``.
    ``kl`` is the mean ``KL(teacher || student)`` in nats.

    Agreement at ``p = 0.5`` misleads on imbalanced data (a constant student agrees with a
    teacher that rarely predicts the event), so ranking and balanced measures sit beside it:
    ``balanced_agreement`` is the mean of ``per_class`` (the balanced accuracy of the student's
    class against the teacher's); for two classes ``rank_auc`` is the AUC of the student's
    ``P(class 1)`` against the teacher's decision, and ``spearman`` / ``kendall`` are the rank
    correlations of the two models' ``P(class 1)``. With a ``cutoff`` (the probability of class
    1 above which a row is decided as class 1), ``agreement_at_cutoff`` compares both
    models' decisions at that cutoff.
    """

    agreement: float
    per_class: list[float | None]
    per_class_count: list[int]
    boundary_agreement: float
    boundary_n: int
    boundary_margin: float
    kl: float
    n: int
    balanced_agreement: float | None = None
    rank_auc: float | None = None
    spearman: float | None = None
    kendall: float | None = None
    cutoff: float | None = None
    agreement_at_cutoff: float | None = None


def expected_calibration_error(
    y_true_idx: Any, proba: Any, *, n_bins: int = 10
) -> tuple[float, list[dict[str, Any]]]:
    """Top-label ECE with ``n_bins`` equal-width bins ``(lo, hi]`` on the confidence ``max_k p_k``.

    ``ECE = sum_b (n_b / n) |acc_b - conf_b|``. Returns the ECE and the reliability bins
    (``confidence`` and ``accuracy`` are ``None`` for empty bins).
    """
    if n_bins < 1:
        raise DataError(f"n_bins must be >= 1, got {n_bins}.")
    p = _as_proba(proba, "proba")
    y = _as_labels(y_true_idx, p.shape[0], p.shape[1])
    conf = p.max(axis=1)
    correct = (p.argmax(axis=1) == y).astype(np.float64)
    idx = np.clip(np.ceil(conf * n_bins).astype(np.int64) - 1, 0, n_bins - 1)
    n = max(len(y), 1)
    ece = 0.0
    bins: list[dict[str, Any]] = []
    for b in range(n_bins):
        m = idx == b
        count = int(m.sum())
        entry: dict[str, Any] = {
            "lo": b / n_bins,
            "hi": (b + 1) / n_bins,
            "count": count,
            "confidence": None,
            "accuracy": None,
        }
        if count:
            c, a = float(conf[m].mean()), float(correct[m].mean())
            entry.update(confidence=c, accuracy=a)
            ece += count / n * abs(a - c)
        bins.append(entry)
    return float(ece), bins


def _roc_auc(y: np.ndarray, p: np.ndarray) -> float | None:
    from sklearn.metrics import roc_auc_score

    k = p.shape[1]
    classes = [1] if k == 2 else list(range(k))
    aucs = []
    for c in classes:
        pos = y == c
        if pos.all() or not pos.any():
            continue
        aucs.append(roc_auc_score(pos.astype(int), p[:, c]))
    return float(np.mean(aucs)) if aucs else None


def predictive_metrics(
    y_true_idx: Any,
    proba: Any,
    *,
    teacher_proba: Any = None,
    n_bins: int = 10,
    label: Any = None,
    teacher_label: Any = None,
) -> PredictiveMetrics:
    """Accuracy, balanced accuracy, ROC AUC, log loss, Brier score and ECE.

    Parameters
    ----------
    y_true_idx : array of int, shape (n,)
        True class indices.
    proba : array, shape (n, K)
        Predicted probabilities (a 1-D array is read as ``P(class 1)``).
    teacher_proba : array, shape (n, K), optional
        If given, ``agreement_with_teacher`` (argmax agreement) is filled in.
    n_bins : int
        Number of equal-width confidence bins for the ECE.
    label : array of int, shape (n,), optional
        The model's decisions when they are not the argmax of ``proba`` (a spec with a
        ``decision_threshold``: :func:`distill2rules.spec.decide`); accuracy and agreement use them.
    teacher_label : array of int, shape (n,), optional
        The teacher's decisions when they are not the argmax of ``teacher_proba`` (a user cutoff).

    Returns
    -------
    PredictiveMetrics

    Examples
    --------
    >>> m = predictive_metrics([0, 1, 1], [[0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    >>> round(m.accuracy, 3)
    0.667
    """
    from sklearn.metrics import balanced_accuracy_score, brier_score_loss, log_loss

    p = _as_proba(proba, "proba")
    n, k = p.shape
    if n == 0:
        raise DataError("cannot compute metrics on zero rows.")
    y = _as_labels(y_true_idx, n, k)
    pred = p.argmax(axis=1) if label is None else _as_labels(label, n, k)
    labels = list(range(k))
    pc = np.clip(p, _EPS, 1.0)
    pc = pc / pc.sum(axis=1, keepdims=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bal = float(balanced_accuracy_score(y, pred))
        ll = float(log_loss(y, pc, labels=labels))
        if k == 2:
            brier = float(np.mean((p[:, 1] - y) ** 2))
        else:
            brier = float(brier_score_loss(y, p, labels=labels))
    ece, bins = expected_calibration_error(y, p, n_bins=n_bins)
    agree = None
    if teacher_proba is not None:
        t = _as_proba(teacher_proba, "teacher_proba")
        if t.shape != p.shape:
            raise DataError(f"teacher_proba has shape {t.shape}, expected {p.shape}.")
        t_pred = t.argmax(axis=1) if teacher_label is None else _as_labels(teacher_label, n, k)
        agree = float(np.mean(t_pred == pred))
    return PredictiveMetrics(
        n=n,
        n_classes=k,
        accuracy=float(np.mean(pred == y)),
        balanced_accuracy=bal,
        roc_auc=_roc_auc(y, p),
        log_loss=ll,
        brier=brier,
        ece=ece,
        reliability=bins,
        agreement_with_teacher=agree,
    )


def fidelity(
    student_proba: Any,
    teacher_proba: Any,
    *,
    boundary_quantile: float = 0.1,
    cutoff: float | None = None,
    student_label: Any = None,
    teacher_label: Any = None,
) -> Fidelity:
    """Agreement of student and teacher predictions, overall, per class and near the boundary.

    Parameters
    ----------
    student_proba, teacher_proba : array, shape (n, K)
        Probabilities with the same class order.
    boundary_quantile : float in (0, 1]
        Share of rows, those with the smallest teacher margin ``p_(1) - p_(2)``, used for
        ``boundary_agreement`` (at least one row).
    cutoff : float in (0, 1), optional
        Binary only: decide class 1 when ``P(class 1) > cutoff`` (for both models, as
        :func:`distill2rules.spec.decide` does with a ``decision_threshold``) and report
        ``agreement_at_cutoff``.
    student_label : array of int, shape (n,), optional
        The student's decisions when they are not the argmax of its probabilities (a spec with
        a ``decision_threshold``).
    teacher_label : array of int, shape (n,), optional
        The teacher's decisions when they are not the argmax of its probabilities (``fit
        --cutoff`` / ``--approval-rate``: its decisions at the cutoff). Agreement, per-class,
        balanced and ranking agreement then compare with these decisions.

    Returns
    -------
    Fidelity
    """
    s = _as_proba(student_proba, "student_proba")
    t = _as_proba(teacher_proba, "teacher_proba")
    if s.shape != t.shape:
        raise DataError(f"student_proba has shape {s.shape} but teacher_proba has {t.shape}.")
    if not 0.0 < boundary_quantile <= 1.0:
        raise DataError(f"boundary_quantile must be in (0, 1], got {boundary_quantile}.")
    n, k = t.shape
    if n == 0:
        raise DataError("cannot compute fidelity on zero rows.")
    ts = t.argmax(axis=1) if teacher_label is None else _as_labels(teacher_label, n, k)
    ss = s.argmax(axis=1) if student_label is None else _as_labels(student_label, n, k)
    same = ts == ss
    per_class: list[float | None] = []
    counts: list[int] = []
    for c in range(k):
        m = ts == c
        counts.append(int(m.sum()))
        per_class.append(float(same[m].mean()) if m.any() else None)
    top2 = np.sort(t, axis=1)[:, -2:]
    margin = top2[:, 1] - top2[:, 0]
    n_b = max(1, int(np.ceil(boundary_quantile * n)))
    near = np.argsort(margin, kind="stable")[:n_b]
    tc = np.clip(t, _EPS, 1.0)
    sc = np.clip(s, _EPS, 1.0)
    kl = np.sum(t * (np.log(tc) - np.log(sc)), axis=1)
    seen = [a for a in per_class if a is not None]
    ranking = _ranking_agreement(s, t, ts) if k == 2 else {}
    at_cut = None
    if cutoff is not None and k == 2:
        at_cut = float(np.mean((s[:, 1] > cutoff) == (t[:, 1] > cutoff)))
    return Fidelity(
        agreement=float(same.mean()),
        per_class=per_class,
        per_class_count=counts,
        boundary_agreement=float(same[near].mean()),
        boundary_n=int(n_b),
        boundary_margin=float(margin[near].max()),
        kl=float(kl.mean()),
        n=int(n),
        balanced_agreement=float(np.mean(seen)) if seen else None,
        cutoff=float(cutoff) if cutoff is not None and k == 2 else None,
        agreement_at_cutoff=at_cut,
        **ranking,
    )


def _ranking_agreement(
    s: np.ndarray, t: np.ndarray, t_label: np.ndarray
) -> dict[str, float | None]:
    """AUC of the student's score against the teacher's decision; rank correlations of scores."""
    from scipy.stats import kendalltau, spearmanr
    from sklearn.metrics import roc_auc_score

    out: dict[str, float | None] = {"rank_auc": None, "spearman": None, "kendall": None}
    if 0 < int(t_label.sum()) < len(t_label):
        out["rank_auc"] = float(roc_auc_score(t_label, s[:, 1]))
    if np.ptp(s[:, 1]) > 0 and np.ptp(t[:, 1]) > 0:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out["spearman"] = float(spearmanr(s[:, 1], t[:, 1]).statistic)
            out["kendall"] = float(kendalltau(s[:, 1], t[:, 1]).statistic)
    return out


def retention(student_acc: float, teacher_acc: float) -> float:
    """Accuracy retention ``student_acc / teacher_acc`` (NaN when the teacher scores 0)."""
    if teacher_acc == 0:
        return float("nan")
    return float(student_acc) / float(teacher_acc)


def cutoff_decisions(spec: Mapping[str, Any], p_teacher: Any) -> np.ndarray | None:
    """The teacher's decisions at the user cutoff a spec records (``meta.cutoff``, from ``fit
    --cutoff`` / ``--approval-rate``): class 1 iff ``P(class 1) > threshold``. ``None`` without one
    (the teacher's decision is then its argmax)."""
    cut = (spec.get("meta") or {}).get("cutoff")
    p = np.asarray(p_teacher, dtype=np.float64)
    if not cut or p.ndim != 2 or p.shape[1] != 2:
        return None
    return (p[:, 1] > float(cut["threshold"])).astype(np.int64)

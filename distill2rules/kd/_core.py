"""Temperature scaling, α-mixing and the KD loss (numpy; a torch twin lives in ``_torch.py``).

Notation follows the paper: ``p^τ = softmax(z / τ)``; soft targets
``t = α·onehot(y) + (1 − α)·p_T^τ``; loss
``L = α·CE(y, p_S) + (1 − α)·τ²·KL(p_T^τ ‖ p_S^τ)``.

``τ = 0`` is the limit taken exactly, not a tiny τ: ``p_T^0`` is the one-hot of the teacher's
argmax (its *decision*; ties go to the first class, like ``argmax``), and the KD term becomes
the cross-entropy against that decision, ``CE(argmax z_T, p_S)`` (the ``τ²`` factor, which only
keeps gradient scales comparable across τ > 0, is dropped). Decision targets are the best
targets for fidelity for linear and additive students (see ``docs/concepts.md``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from distill2rules.errors import ConfigError, DataError, TeacherError

__all__ = [
    "check_alpha",
    "check_temperature",
    "kd_loss",
    "log_softmax",
    "one_hot",
    "soft_targets",
    "softmax",
]


def check_temperature(temperature: Any) -> float:
    """Validate τ: a finite number >= 0 (0 = the teacher's decisions as one-hot targets)."""
    try:
        t = float(temperature)
    except (TypeError, ValueError):
        raise ConfigError(
            f"temperature must be a number >= 0, got {temperature!r}.", hint="Try --temperature 2."
        ) from None
    if not math.isfinite(t) or t < 0:
        raise ConfigError(
            f"temperature must be >= 0, got {temperature}.",
            hint="Use 0 (the teacher's decisions), 1 (its probabilities) or a softer 2 to 5.",
        )
    return t


def check_alpha(alpha: Any) -> float:
    """Validate α: a number in [0, 1] (1 = hard labels only, 0 = teacher only)."""
    try:
        a = float(alpha)
    except (TypeError, ValueError):
        raise ConfigError(f"alpha must be a number in [0, 1], got {alpha!r}.") from None
    if not (0.0 <= a <= 1.0):
        raise ConfigError(
            f"alpha must be in [0, 1], got {alpha}.",
            hint="0 = learn from the teacher only, 1 = hard labels only.",
        )
    return a


def log_softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Row-wise ``log softmax(z / τ)``; ``τ = 0`` gives ``log onehot(argmax z)`` (0 and −inf)."""
    if temperature == 0:
        z = np.asarray(logits, dtype=np.float64)
        with np.errstate(divide="ignore"):
            return np.log(one_hot(np.argmax(z, axis=1), z.shape[1]))
    z = np.asarray(logits, dtype=np.float64) / temperature
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """``p^τ = softmax(z / τ)`` row-wise, numerically stable; ``τ = 0``: one-hot of the argmax."""
    return np.exp(log_softmax(logits, temperature))


def one_hot(y_idx: np.ndarray, n_classes: int) -> np.ndarray:
    y_idx = np.asarray(y_idx, dtype=np.int64)
    out = np.zeros((y_idx.shape[0], n_classes), dtype=np.float64)
    out[np.arange(y_idx.shape[0]), y_idx] = 1.0
    return out


def _check_logits(teacher_logits: np.ndarray) -> np.ndarray:
    z = np.asarray(teacher_logits, dtype=np.float64)
    if z.ndim != 2 or z.shape[1] < 2:
        raise TeacherError(f"teacher logits must have shape (n, K >= 2), got {z.shape}.")
    bad = ~np.isfinite(z).all(axis=1)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise TeacherError(
            f"teacher returned non-finite logits for {int(bad.sum())} row(s) (first: row {first}).",
            hint="Check the teacher's preprocessing and the input values (NaN/inf).",
        )
    return z


def soft_targets(
    teacher_logits: np.ndarray,
    y_idx: np.ndarray | None = None,
    *,
    temperature: float = 1.0,
    alpha: float = 0.0,
) -> np.ndarray:
    """Targets ``α·onehot(y) + (1 − α)·softmax(z_T / τ)``, shape (n, K); rows sum to 1.

    ``temperature=0``: ``softmax(z_T / 0)`` is exactly ``onehot(argmax z_T)``, the teacher's decisions.
    """
    temperature = check_temperature(temperature)
    alpha = check_alpha(alpha)
    z = _check_logits(teacher_logits)
    p_t = softmax(z, temperature)
    if alpha == 0.0:
        return p_t
    if y_idx is None:
        raise DataError("alpha > 0 mixes in the true labels, but no labels were given.")
    y_idx = np.asarray(y_idx)
    if y_idx.shape[0] != z.shape[0]:
        raise DataError(f"{y_idx.shape[0]} labels for {z.shape[0]} teacher rows.")
    return alpha * one_hot(y_idx, z.shape[1]) + (1.0 - alpha) * p_t


def kd_loss(
    student_logits: np.ndarray,
    teacher_logits: np.ndarray,
    y_idx: np.ndarray,
    *,
    temperature: float = 1.0,
    alpha: float = 0.0,
) -> float:
    """Mean ``α·CE(y, p_S) + (1 − α)·τ²·KL(p_T^τ ‖ p_S^τ)`` (paper eq. 4).

    ``τ = 0``: ``α·CE(y, p_S) + (1 − α)·CE(argmax z_T, p_S)`` (the exact limit, without τ²).
    """
    temperature = check_temperature(temperature)
    alpha = check_alpha(alpha)
    zs = np.asarray(student_logits, dtype=np.float64)
    zt = _check_logits(teacher_logits)
    y_idx = np.asarray(y_idx, dtype=np.int64)
    ce = -log_softmax(zs)[np.arange(len(y_idx)), y_idx]
    if temperature == 0:
        ce_t = -log_softmax(zs)[np.arange(len(zt)), np.argmax(zt, axis=1)]
        return float(np.mean(alpha * ce + (1.0 - alpha) * ce_t))
    log_pt = log_softmax(zt, temperature)
    log_ps = log_softmax(zs, temperature)
    kl = (np.exp(log_pt) * (log_pt - log_ps)).sum(axis=1)
    return float(np.mean(alpha * ce + (1.0 - alpha) * temperature**2 * kl))

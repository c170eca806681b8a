"""The KD loss in torch (the numpy reference is :func:`distill2rules.kd.kd_loss`).

``L = α·CE(y, p_S) + (1 − α)·τ²·KL(p_T^τ ‖ p_S^τ)`` with ``p^τ = softmax(z / τ)``; at ``τ = 0``
the KD term is ``CE(argmax z_T, p_S)`` (the exact limit, see :mod:`distill2rules.kd._core`). Imported
only by students that train with torch, so ``import distill2rules.kd`` stays torch-free.
"""

from __future__ import annotations

from typing import Any

from distill2rules.kd._core import check_alpha, check_temperature

__all__ = ["kd_loss_torch", "soft_cross_entropy_torch"]


def kd_loss_torch(
    student_logits: Any,
    teacher_logits: Any,
    y_idx: Any,
    *,
    temperature: float = 1.0,
    alpha: float = 0.0,
    sample_weight: Any | None = None,
) -> Any:
    """Mean (or ``sample_weight``-weighted mean) KD loss as a differentiable torch scalar.

    Parameters
    ----------
    student_logits, teacher_logits : torch.Tensor, shape (n, K)
        Logits (a binary student with one score ``s`` passes ``[0, s]``).
    y_idx : torch.Tensor of int64, shape (n,)
        True class indices (ignored when ``alpha == 0``).
    temperature, alpha : float
        τ >= 0 (0 = the teacher's decisions) and α in [0, 1].
    """
    import torch.nn.functional as F

    t = check_temperature(temperature)
    a = check_alpha(alpha)
    if t == 0:
        rows = (1.0 - a) * F.cross_entropy(
            student_logits, teacher_logits.argmax(dim=1), reduction="none"
        )
        if a > 0:
            rows = rows + a * F.cross_entropy(student_logits, y_idx, reduction="none")
        return (
            rows.mean()
            if sample_weight is None
            else (rows * sample_weight).sum() / sample_weight.sum()
        )
    log_ps_t = F.log_softmax(student_logits / t, dim=1)
    log_pt_t = F.log_softmax(teacher_logits / t, dim=1)
    kl = (log_pt_t.exp() * (log_pt_t - log_ps_t)).sum(dim=1)
    rows = (1.0 - a) * t * t * kl
    if a > 0:
        rows = rows + a * F.cross_entropy(student_logits, y_idx, reduction="none")
    if sample_weight is None:
        return rows.mean()
    return (rows * sample_weight).sum() / sample_weight.sum()


def soft_cross_entropy_torch(
    student_logits: Any, targets: Any, sample_weight: Any | None = None
) -> Any:
    """Mean ``−Σ_k t_k log p_S,k`` (soft targets ``t`` of shape (n, K))."""
    import torch.nn.functional as F

    rows = -(targets * F.log_softmax(student_logits, dim=1)).sum(dim=1)
    if sample_weight is None:
        return rows.mean()
    return (rows * sample_weight).sum() / sample_weight.sum()

"""Knowledge-distillation core: temperature scaling, α-mixing, the KD loss, soft-target reductions."""

from distill2rules.kd._core import (
    check_alpha,
    check_temperature,
    kd_loss,
    log_softmax,
    one_hot,
    soft_targets,
    softmax,
)
from distill2rules.kd._targets import (
    WeightedRows,
    as_logit_targets,
    as_weighted_rows,
    is_hard,
    is_near_hard,
)
from distill2rules.kd._torch import (
    kd_loss_torch,
    soft_cross_entropy_torch,
)  # torch imported on call

__all__ = [
    "WeightedRows",
    "as_logit_targets",
    "as_weighted_rows",
    "check_alpha",
    "check_temperature",
    "is_hard",
    "is_near_hard",
    "kd_loss",
    "kd_loss_torch",
    "log_softmax",
    "one_hot",
    "soft_cross_entropy_torch",
    "soft_targets",
    "softmax",
]

"""Size of a spec (number of learned parameters), used for PRR and for --sizes pilots.

The count lives in the spec kind classes (:meth:`distill2rules.spec.Spec.n_parameters`); these
are the students wing's names for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from distill2rules.spec import typed


def spec_size(spec: Mapping[str, Any]) -> int:
    """Non-zero learned numbers: additive scores/coefs + intercept; rule conditions + outcomes; MLP weights."""
    return typed(spec).n_parameters()


def spec_complexity(spec: Mapping[str, Any]) -> dict:
    """Human-facing size: terms / rules / conditions / hidden units."""
    return typed(spec).complexity()

"""KD core: properties of temperature scaling, α-mixing and the loss (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from distill2rules.errors import ConfigError, TeacherError
from distill2rules.kd import (
    as_logit_targets,
    as_weighted_rows,
    is_hard,
    kd_loss,
    log_softmax,
    one_hot,
    soft_targets,
    softmax,
)


def logits_strategy(max_k: int = 5):
    return st.integers(2, max_k).flatmap(
        lambda k: st.integers(1, 20).flatmap(
            lambda n: arrays(
                np.float64,
                (n, k),
                elements=st.floats(-30, 30, allow_nan=False, allow_infinity=False),
            )
        )
    )


temps = st.floats(0.05, 20.0)
alphas = st.floats(0.0, 1.0)


@settings(max_examples=60, deadline=None)
@given(z=logits_strategy(), t=temps)
def test_softmax_rows_sum_to_one_and_are_positive(z, t):
    p = softmax(z, t)
    assert np.allclose(p.sum(axis=1), 1.0)
    assert (p >= 0).all()


@settings(max_examples=60, deadline=None)
@given(z=logits_strategy(), t=temps, c=st.floats(0.1, 10))
def test_temperature_scaling_identity(z, t, c):
    # softmax((c·z) / (c·τ)) == softmax(z / τ): scaling logits and τ together changes nothing
    assert np.allclose(softmax(c * z, c * t), softmax(z, t), atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(z=logits_strategy(), shift=st.floats(-50, 50))
def test_softmax_is_shift_invariant(z, shift):
    assert np.allclose(softmax(z + shift, 2.0), softmax(z, 2.0), atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(z=logits_strategy(), t=temps, a=alphas, data=st.data())
def test_soft_targets_are_distributions_and_mix_linearly(z, t, a, data):
    y = np.asarray(
        data.draw(st.lists(st.integers(0, z.shape[1] - 1), min_size=len(z), max_size=len(z)))
    )
    tg = soft_targets(z, y, temperature=t, alpha=a)
    assert np.allclose(tg.sum(axis=1), 1.0)
    assert np.allclose(tg, a * one_hot(y, z.shape[1]) + (1 - a) * softmax(z, t))


@settings(max_examples=60, deadline=None)
@given(zs=logits_strategy(), t=temps, a=alphas, data=st.data())
def test_kd_loss_is_non_negative(zs, t, a, data):
    zt = data.draw(arrays(np.float64, zs.shape, elements=st.floats(-30, 30)))
    y = np.asarray(
        data.draw(st.lists(st.integers(0, zs.shape[1] - 1), min_size=len(zs), max_size=len(zs)))
    )
    assert kd_loss(zs, zt, y, temperature=t, alpha=a) >= -1e-12


@settings(max_examples=60, deadline=None)
@given(zs=logits_strategy(), t=temps, data=st.data())
def test_alpha_one_equals_plain_cross_entropy(zs, t, data):
    zt = data.draw(arrays(np.float64, zs.shape, elements=st.floats(-30, 30)))
    y = np.asarray(
        data.draw(st.lists(st.integers(0, zs.shape[1] - 1), min_size=len(zs), max_size=len(zs)))
    )
    ce = -log_softmax(zs)[np.arange(len(y)), y].mean()
    assert kd_loss(zs, zt, y, temperature=t, alpha=1.0) == pytest.approx(ce, rel=1e-9, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(z=logits_strategy(), t=temps)
def test_kd_term_is_zero_when_student_equals_teacher(z, t):
    y = np.zeros(len(z), dtype=int)
    assert kd_loss(z, z, y, temperature=t, alpha=0.0) == pytest.approx(0.0, abs=1e-9)


def test_bad_temperature_and_alpha_are_rejected():
    z = np.zeros((2, 2))
    with pytest.raises(ConfigError, match="temperature must be >= 0"):
        soft_targets(z, temperature=-1)
    with pytest.raises(ConfigError, match="temperature must be >= 0"):
        soft_targets(z, temperature=float("nan"))
    with pytest.raises(ConfigError, match=r"alpha must be in \[0, 1\]"):
        soft_targets(z, np.zeros(2, int), alpha=1.5)


def test_non_finite_teacher_logits_are_named():
    z = np.array([[0.0, 1.0], [np.nan, 0.0], [0.0, np.inf]])
    with pytest.raises(TeacherError, match=r"non-finite logits for 2 row\(s\) \(first: row 1\)"):
        soft_targets(z)


@settings(max_examples=40, deadline=None)
@given(z=logits_strategy(4), t=temps)
def test_weighted_rows_reproduce_soft_cross_entropy(z, t):
    tg = softmax(z, t)
    wr = as_weighted_rows(tg, min_weight=0.0)
    ls = log_softmax(np.ones_like(z) * np.arange(z.shape[1]))  # any student
    direct = -(tg * ls).sum()
    expanded = -(wr.weights * ls[wr.rows, wr.classes]).sum()
    assert expanded == pytest.approx(direct, rel=1e-9)


def test_logit_targets_recover_teacher_margin_at_alpha_zero():
    z = np.column_stack([np.zeros(5), np.linspace(-4, 4, 5)])
    tg = soft_targets(z, temperature=1.0)
    reg, w = as_logit_targets(tg)
    assert np.allclose(reg[:, 0], z[:, 1], atol=1e-6)
    assert (w > 0).all() and w.shape == (5, 1)
    assert is_hard(one_hot(np.array([0, 1]), 2)) and not is_hard(tg)

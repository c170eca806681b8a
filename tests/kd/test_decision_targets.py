"""τ = 0 (the teacher's decisions as targets), the EBM near-one-hot bug and calibration that keeps decisions.

The fidelity tests use a real LightGBM teacher trained on 2,500 Adult rows and distil on 2,500
other rows (the teacher never saw them), as in issue 18's study.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from distill2rules.kd import (
    is_hard,
    is_near_hard,
    kd_loss,
    log_softmax,
    one_hot,
    soft_targets,
    softmax,
)

needs_data = pytest.mark.skipif(
    not os.environ.get("DISTILL2RULES_DATA"), reason="needs DISTILL2RULES_DATA (adult)"
)


# ----------------------------------------------------------------------------- τ = 0 is exact


def test_temperature_zero_is_the_one_hot_argmax_not_a_tiny_temperature():
    z = np.array([[0.0, 1e-9], [3.0, -1.0], [1.0, 1.0], [-2.0, 5.0]])
    t = soft_targets(z, temperature=0)
    assert np.array_equal(t, one_hot(np.array([1, 0, 0, 1]), 2))  # ties go to the first class
    assert np.array_equal(softmax(z, 0), t)
    assert is_hard(t) and not is_hard(
        soft_targets(z, temperature=1e-3)
    )  # 1e-9 apart: τ = 1e-3 is still soft
    mixed = soft_targets(z, np.array([0, 0, 1, 1]), temperature=0, alpha=0.25)
    assert np.allclose(mixed, 0.25 * one_hot(np.array([0, 0, 1, 1]), 2) + 0.75 * t)


def test_kd_loss_at_zero_is_cross_entropy_on_the_teachers_decisions(torch_one_thread):
    torch = torch_one_thread
    from distill2rules.kd._torch import kd_loss_torch

    rng = np.random.default_rng(0)
    zs, zt = rng.normal(size=(50, 3)), rng.normal(size=(50, 3))
    y = rng.integers(0, 3, 50)
    ce_t = -log_softmax(zs)[np.arange(50), zt.argmax(1)].mean()
    ce_y = -log_softmax(zs)[np.arange(50), y].mean()
    assert kd_loss(zs, zt, y, temperature=0, alpha=0.0) == pytest.approx(ce_t, rel=1e-12)
    assert kd_loss(zs, zt, y, temperature=0, alpha=0.3) == pytest.approx(
        0.3 * ce_y + 0.7 * ce_t, rel=1e-12
    )
    got = kd_loss_torch(
        torch.tensor(zs), torch.tensor(zt), torch.tensor(y), temperature=0, alpha=0.3
    )
    assert float(got) == pytest.approx(0.3 * ce_y + 0.7 * ce_t, rel=1e-10)


def test_near_hard_targets_are_detected_where_logit_regression_would_clip():
    z = np.column_stack([np.zeros(200), np.linspace(-8, 8, 200)])
    assert not is_near_hard(soft_targets(z, temperature=1.0))
    assert is_near_hard(soft_targets(z, temperature=0.01))
    assert is_near_hard(soft_targets(z, temperature=0))


# ----------------------------------------------------------------------------- real teacher


@pytest.fixture(scope="module")
def adult(tmp_path_factory):
    from distill2rules.pipeline import load_inputs
    from distill2rules.teachers._train import train_teacher

    ds = load_inputs("adult", None)
    df = ds.frame.sample(5000, random_state=0).reset_index(drop=True)
    feats = [c for c in df.columns if c != ds.target]
    own = df.iloc[:2500]
    teacher = train_teacher(
        "gbt",
        own[feats],
        own[ds.target],
        out=tmp_path_factory.mktemp("t") / "model.txt",
        seed=0,
        n_estimators=60,
        n_jobs=1,
        progress=False,
    )
    return teacher, df.iloc[2500:].reset_index(drop=True), ds.target


def _fit(adult, student, **kw):
    from distill2rules.pipeline import distill

    teacher, frame, target = adult
    kw.setdefault(
        "student_params", {"interactions": 0, "outer_bags": 1} if student == "ebm" else {}
    )
    return distill(
        teacher,
        frame,
        target=target,
        student=student,
        progress=False,
        baseline=False,
        export_onnx=False,
        **kw,
    )


@needs_data
def test_ebm_below_temperature_one_matches_the_exact_one_hot_fit(adult):
    """Issue 18: at τ = 0.01 near-one-hot targets went to logit regression with ±12-clipped
    targets and ~1e-6 weights, and fidelity collapsed (.73 against .96 on held-out rows)."""
    exact = _fit(adult, "ebm", temperature=0, calibrate=False)
    assert exact.spec["meta"]["soft_method"] == "classifier (hard labels)"
    ref = exact.metrics["test"]["student"]["fidelity"]
    assert ref > 0.9
    for tau in (0.01, 0.5):
        res = _fit(adult, "ebm", temperature=tau, calibrate=False)
        assert res.metrics["test"]["student"]["fidelity"] >= ref - 0.02, (
            tau,
            res.spec["meta"]["soft_method"],
        )
    assert (
        "near-one-hot"
        in _fit(adult, "ebm", temperature=0.01, calibrate=False).spec["meta"]["soft_method"]
    )


@needs_data
def test_calibration_never_moves_a_decision(adult):
    """Issue 18: at τ = 0.01 Platt scaling on the true labels moved the tree student's decisions."""
    from distill2rules import spec as spec_mod

    _, frame, target = adult
    with_cal = _fit(adult, "tree", temperature=0.01)
    without = _fit(adult, "tree", temperature=0.01, calibrate=False)
    for split in ("val", "test"):
        assert (
            with_cal.metrics[split]["student"]["fidelity"]
            >= without.metrics[split]["student"]["fidelity"]
        )
    cal = with_cal.spec["calibration"]
    # a binary rule list: Platt, then each rule refined on its validation rows (decisions kept)
    assert cal["method"] == "platt+refit" and cal["val_decisions_moved"] == 0
    t = with_cal.spec["decision_threshold"]
    assert 0 < t < 1 and t != 0.5 and cal["decision_threshold"] == t
    X = frame.drop(columns=[target])
    a, b = spec_mod.evaluate(with_cal.spec, X), spec_mod.evaluate(without.spec, X)
    assert np.array_equal(a["label"], b["label"])  # every row, not only the validation split


# ----------------------------------------------------------------------------- the decision threshold


def _hand_specs():
    from tests.exporters.hand_specs import mlp_spec, rule_list_spec, scorecard_spec

    return {"additive": scorecard_spec(), "rule_list": rule_list_spec(), "mlp": mlp_spec()}


def _rows(spec, n=400, seed=0):
    import pandas as pd

    from tests.exporters.hand_specs import CHECKING, PURPOSE

    rng = np.random.default_rng(seed)
    cols = {}
    for c in spec["inputs"]["numeric"]:
        x = rng.normal(size=n) * {"duration": 12, "credit_amount": 4000, "age": 12}.get(c, 2) + {
            "duration": 24,
            "credit_amount": 5000,
            "age": 40,
            "a": 10,
        }.get(c, 0)
        x[rng.random(n) < 0.05] = np.nan
        cols[c] = x
    for c in spec["inputs"]["categorical"]:
        levels = {"checking_status": CHECKING, "purpose": PURPOSE}.get(c, ["u", "v"])
        cols[c] = rng.choice(np.asarray(levels + [None], dtype=object), size=n)
    return pd.DataFrame(cols)


@pytest.mark.parametrize("kind", ["additive", "rule_list", "mlp"])
def test_platt_records_the_threshold_that_keeps_every_decision(kind):
    """A Platt shift fitted on labels that disagree with the student would move decisions; the
    recorded ``decision_threshold`` keeps them in the reference evaluator, ONNX and the rule card."""
    import onnxruntime as ort

    from distill2rules import spec as spec_mod
    from distill2rules.exporters.onnx import onnx_feeds, to_onnx
    from distill2rules.exporters.rulecard import render_markdown, rulecard
    from distill2rules.students import calibrate_spec

    spec = _hand_specs()[kind]
    X = _rows(spec)
    num, cat = spec_mod.prepare_inputs(spec, X)
    before = spec_mod.evaluate(spec, X)
    p1 = before["probabilities"][:, 1]
    y = (np.random.default_rng(1).random(len(X)) < 0.6 * p1).astype(
        int
    )  # true labels: fewer positives
    cal = calibrate_spec(spec, num, cat, y, method="platt")
    after = spec_mod.evaluate(cal, X)
    t = cal["decision_threshold"]
    assert cal["calibration"]["shift"] != 0
    if cal["calibration"]["method"] == "platt":  # the boundary 0 moved by the shift
        assert t == pytest.approx(1 / (1 + np.exp(-cal["calibration"]["shift"])))
    else:  # rule lists: refined per rule, the threshold separates the rules' decisions
        assert kind == "rule_list" and cal["calibration"]["method"] == "platt+refit"
    assert (
        np.array_equal(after["label"], before["label"])
        and cal["calibration"]["val_decisions_moved"] == 0
    )
    assert not np.array_equal(
        after["probabilities"].argmax(1), before["label"]
    )  # argmax alone would move them
    sess = ort.InferenceSession(
        to_onnx(cal).SerializeToString(), providers=["CPUExecutionProvider"]
    )
    got = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, onnx_feeds(cal, X))))
    assert np.array_equal(got["label"], after["label"])
    assert np.allclose(got["probabilities"], after["probabilities"], atol=1e-6)
    assert "when P(" in render_markdown(rulecard(cal))


def test_threshold_must_be_a_probability_of_a_binary_spec():
    from distill2rules.errors import SpecError
    from distill2rules.spec import validate
    from tests.exporters.hand_specs import softmax_spec

    spec = _hand_specs()["additive"]
    for bad in (0.0, 1.0, "0.3", True):
        with pytest.raises(SpecError, match="decision_threshold"):
            validate({**spec, "decision_threshold": bad})
    with pytest.raises(SpecError, match="decision_threshold"):
        validate({**softmax_spec(), "decision_threshold": 0.4})

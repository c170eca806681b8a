"""`fit --cutoff` / `--approval-rate`: a decision cutoff on the adverse class's probability.

The cutoff becomes the spec's ``decision_threshold``; the spec evaluator, the ONNX ``label``
output, the pandas-free Scorer, the rule card and the metrics must all decide the same way.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from distill2rules import Scorer
from distill2rules.errors import ConfigError
from distill2rules.exporters import to_onnx
from distill2rules.exporters.onnx import check_onnx_parity
from distill2rules.spec import decide, evaluate
from distill2rules.students.cutoff import (
    apply_threshold,
    calibrate_about_threshold,
    check_cutoff_args,
    resolve_cutoff,
    shift_logits,
    threshold_for,
)
from tests.conftest import needs_data
from tests.exporters import hand_specs as hs


@pytest.mark.parametrize("adverse", [0, 1])
def test_declined_iff_adverse_probability_exceeds_the_cutoff(adverse):
    c = 0.3
    t = threshold_for(c, adverse)
    p1 = np.r_[np.linspace(0.0, 1.0, 1001), 0.3, 0.7, np.nextafter(0.7, 0), np.nextafter(0.3, 1)]
    probs = np.c_[1.0 - p1, p1]
    label = decide({"decision_threshold": t}, probs)
    declined = label == adverse
    assert declined.tolist() == (probs[:, adverse] > c).tolist()


@pytest.mark.parametrize(
    "args", [(1.5, None), (0.0, None), (None, 1.0), (None, -0.2), (0.3, 0.8), (float("nan"), None)]
)
def test_out_of_range_or_both_flags_are_config_errors(args):
    with pytest.raises(ConfigError):
        check_cutoff_args(*args)


def test_approval_rate_is_a_quantile_of_the_teachers_adverse_probability():
    rng = np.random.default_rng(0)
    p_bad = rng.random(1000)
    classes = np.asarray(["bad", "good"])  # adverse = classes[0]
    cut = resolve_cutoff(None, 0.8, classes, "bad", np.c_[p_bad, 1 - p_bad])
    assert cut.adverse_index == 0 and cut.source == "approval_rate"
    teacher_label = (1 - p_bad > cut.threshold).astype(int)  # the spec's rule on P(classes[1])
    assert np.mean(teacher_label == 1) == pytest.approx(0.8, abs=1e-3)  # 80 % approved ('good')
    assert cut.to_dict()["chosen_on"].endswith("on the 1000 training rows")
    with pytest.raises(ConfigError, match="binary"):
        resolve_cutoff(0.3, None, np.asarray(["a", "b", "c"]), "a")
    with pytest.raises(ConfigError, match="adverse class"):
        resolve_cutoff(0.3, None, classes, None)


def test_shifted_targets_decide_at_the_cutoff():
    z = np.c_[
        np.zeros(5),
        np.log(
            np.asarray([0.1, 0.25, 0.35, 0.6, 0.9]) / (1 - np.asarray([0.1, 0.25, 0.35, 0.6, 0.9]))
        ),
    ]
    assert np.argmax(shift_logits(z, 0.3), axis=1).tolist() == [0, 0, 1, 1, 1]


SPECS = {
    "scorecard": hs.scorecard_spec,
    "ebm": hs.ebm_spec,
    "rules": hs.rule_list_spec,
    "mlp": hs.mlp_spec,
}


@pytest.mark.parametrize("name", list(SPECS))
@pytest.mark.parametrize("adverse", [0, 1])
def test_onnx_label_and_scorer_decide_at_the_cutoff(name, adverse):
    spec = SPECS[name]()
    if len(spec["classes"]) != 2:
        pytest.skip("binary only")
    spec = apply_threshold(spec, threshold_for(0.3, adverse), shifted=False)
    spec.setdefault("meta", {})["cutoff"] = {"cutoff": 0.3, "threshold": spec["decision_threshold"]}
    model = to_onnx(spec)
    report = check_onnx_parity(model, spec, n_rows=3000, random_state=2)
    assert report.ok and report.label_mismatches == 0, report
    from tests.scoring.test_scorer import _frame, _records

    records = _records(spec, n=80, seed=3)
    want = evaluate(spec, _frame(spec, records))
    got = Scorer(to_onnx(spec, inputs="codes").SerializeToString()).score_many(records)
    assert got.label.tolist() == want["label"].tolist()
    p_adv = want["probabilities"][:, adverse]
    ok = np.isfinite(p_adv)  # adversarial rows may overflow an MLP
    assert ((want["label"] == adverse) == (p_adv > 0.3))[ok].all()


def test_calibration_about_the_cutoff_keeps_threshold_and_decisions():
    spec = apply_threshold(hs.scorecard_spec(), 0.3, shifted=False)
    rows = hs.applicants()
    frame = rows.sample(200, replace=True, random_state=0).reset_index(drop=True)
    from distill2rules.students._base import raw_inputs

    inp = raw_inputs(frame, spec["inputs"]["numeric"], spec["inputs"]["categorical"])
    before = evaluate(spec, frame)
    y = (np.random.default_rng(0).random(len(frame)) < before["probabilities"][:, 1] ** 2).astype(
        int
    )
    out = calibrate_about_threshold(spec, inp.numeric, inp.categorical, y)
    assert out["decision_threshold"] == 0.3
    assert out["calibration"]["val_decisions_moved"] == 0
    assert (evaluate(out, frame)["label"] == before["label"]).all()
    assert (
        out["calibration"]["val_log_loss_after"]
        <= out["calibration"]["val_log_loss_before"] + 1e-12
    )


@needs_data
def test_fit_cli_approval_rate_end_to_end(cli, german_gbt, tmp_path):
    out = tmp_path / "art"
    r = cli(
        "fit",
        "--teacher",
        german_gbt,
        "--data",
        "german_credit",
        "--student",
        "logreg",
        "--approval-rate",
        "0.7",
        "--out",
        out,
        "--quiet",
        "--json",
        "--no-baseline",
    )
    assert r.code == 0, r.err
    m = json.loads(r.out)
    cut = m["cutoff"]
    assert cut["adverse_class"] == "bad" and cut["source"] == "--approval-rate 0.7"
    assert cut["approval_rate_by_split"]["train"]["teacher"] == pytest.approx(0.7, abs=0.01)
    spec = json.loads((out / "student.json").read_text())
    assert spec["decision_threshold"] == pytest.approx(cut["threshold"])
    assert spec["meta"]["cutoff"]["cutoff"] == pytest.approx(cut["cutoff"])
    # the metrics compare the student's decisions with the teacher's decisions at the cutoff
    from distill2rules.data import load_dataset, split_frame
    from distill2rules.kd import softmax
    from distill2rules.teachers import load_teacher

    ds = load_dataset("german_credit")
    test = split_frame(ds.frame, ds.target, seed=0).test
    feats = [c for c in ds.frame.columns if c != ds.target]
    p_t = softmax(load_teacher(german_gbt).logits(test[feats]))  # classes bad, good
    t_label = (p_t[:, 1] > cut["threshold"]).astype(int)
    s = evaluate(spec, test[feats])
    assert m["test"]["student"]["fidelity"] == pytest.approx(float(np.mean(s["label"] == t_label)))
    assert cut["approval_rate_by_split"]["test"]["student"] == pytest.approx(
        float(np.mean(s["label"] == 1))
    )
    # the artifact's ONNX graph and Scorer decide the same way; the rule card states the cutoff
    assert cli("verify", out).code == 0
    scorer = Scorer.load(out)
    got = scorer.score_many(test[feats].to_dict("records"))
    assert got.label.tolist() == s["label"].tolist()
    card = (out / "rulecard.md").read_text()
    assert f"declined ('bad') when P('bad') > {cut['cutoff']:.6g}" in card
    assert "Approval rate at the cutoff" in card


@needs_data
def test_fit_cli_refuses_bad_cutoffs_in_one_line(cli, tmp_path):
    for args, msg in (
        (["--cutoff", "1.2"], "--cutoff must be"),
        (["--cutoff", "0.3", "--approval-rate", "0.8"], "both"),
    ):
        r = cli(
            "fit",
            "--teacher",
            tmp_path / "none.txt",
            "--data",
            "german_credit",
            "--out",
            tmp_path / "a",
            *args,
        )
        assert r.code == 2 and msg in r.err and len(r.err.strip().splitlines()) == 1, r.err
        assert not (tmp_path / "a").exists()

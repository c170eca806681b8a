"""The thin pipeline (issue 12): DistillConfig in, DistillRun out, calibration inside the student,
the artifact written once, fingerprints in the manifest that ``evaluate`` trusts."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from distill2rules.config import DistillConfig
from distill2rules.errors import ConfigError
from distill2rules.pipeline import DistillResult, DistillRun, distill


@pytest.fixture(scope="module")
def table() -> tuple[pd.DataFrame, LogisticRegression]:
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        {
            "a": rng.normal(size=400),
            "b": rng.normal(size=400),
            "c": rng.integers(0, 5, 400).astype(float),
        }
    )
    y = ((X["a"] + 0.5 * X["b"] + rng.normal(scale=0.5, size=400)) > 0).astype(int)
    teacher = LogisticRegression().fit(X, y)
    return X.assign(y=y), teacher


def _distill_logreg(table, **kw) -> DistillRun:
    """``distill`` of the table's teacher into a logreg student (no progress output)."""
    frame, teacher = table
    return distill(
        teacher,
        frame,
        target="y",
        student="logreg",
        teacher_features=["a", "b", "c"],
        progress=False,
        **kw,
    )


def test_config_is_frozen_and_validated_before_any_work(table):
    frame, teacher = table
    cfg = DistillConfig(
        teacher=teacher, data=frame, target="y", student="logreg", temperature="auto", seed=3
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.seed = 4  # type: ignore[misc]
    assert (
        cfg.auto_temperature
        and cfg.start_temperature == 1.0
        and cfg.student_params["random_state"] == 3
    )
    with pytest.raises(ConfigError, match="temperature"):
        DistillConfig(teacher=teacher, data="no such file.csv", temperature=-1)
    with pytest.raises(ConfigError, match="unknown student"):
        DistillConfig(teacher=teacher, data="no such file.csv", student="nope")
    with pytest.raises(TypeError, match="tempreature"):
        distill(teacher, frame, tempreature=2)


def test_distill_returns_a_run_usable_in_memory(table, tmp_path):
    run = _distill_logreg(table)
    assert isinstance(run, DistillRun) and isinstance(run, DistillResult)
    assert set(run.logits) == {"train", "val", "test"} and run.logits["test"].shape == (
        len(run.splits.test),
        2,
    )
    assert run.estimator.spec_ is run.spec and run.specs.keys() == {"student", "baseline"}
    assert (
        run.fit_metrics is not None
        and run.fit_metrics.test.student.fidelity == run.metrics["test"]["student"]["fidelity"]
    )
    assert run.metrics["format"] == "distill2rules.metrics/1"
    # calibration happened inside the student (an estimator parameter), on the validation split
    assert run.estimator.calibrate is True and run.spec["calibration"] is not None
    same = distill(config=run.config)
    assert json.dumps(same.spec, sort_keys=True, default=str) == json.dumps(
        run.spec, sort_keys=True, default=str
    )


def test_calibrate_is_a_student_parameter():
    from distill2rules.students import make_student

    rng = np.random.default_rng(1)
    X = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300)})
    y = pd.Series((X["a"] > 0).astype(int))
    plain = make_student("logreg", random_state=0).fit(
        X[:200], y[:200], X_val=X[200:], y_val=y[200:]
    )
    cal = make_student("logreg", random_state=0, calibrate=True).fit(
        X[:200], y[:200], X_val=X[200:], y_val=y[200:]
    )
    assert "calibration" not in plain.spec_ and cal.spec_["calibration"]["fitted_on"]
    assert cal.get_params()["calibrate"] is True


def test_artifact_written_once_with_fingerprint_and_split(table, tmp_path, monkeypatch):
    from distill2rules import artifact

    calls = []
    real = artifact.write_artifact
    monkeypatch.setattr(
        artifact, "write_artifact", lambda *a, **k: calls.append(a[0]) or real(*a, **k)
    )
    out = tmp_path / "art"
    _distill_logreg(table, out=out)
    assert calls == [out]
    m = json.loads((out / "manifest.json").read_text())
    assert m["data"]["fingerprint"].startswith("sha256:")
    assert (
        set(m["data"]["split"]["rows_sha256"]) == {"train", "val", "test"}
        and m["data"]["split"]["seed"] == 0
    )
    assert json.loads((out / "metrics.json").read_text())["format"] == "distill2rules.metrics/1"


def test_update_artifact_links_unchanged_files(table, tmp_path):
    from distill2rules.artifact import update_artifact, verify_artifact

    out = tmp_path / "art"
    _distill_logreg(table, out=out)
    before = (out / "student.json").stat().st_ino
    update_artifact(out, {"notes.txt": "hello\n"})
    assert (out / "student.json").stat().st_ino == before  # carried over by a link, not rewritten
    assert verify_artifact(out, n_parity_rows=50)["ok"]


def test_evaluate_knows_the_data_by_its_fingerprint(table, tmp_path):
    from distill2rules.data._fit import load_inputs
    from distill2rules.experiments.runs import _same_data

    frame, _ = table
    out = tmp_path / "art"
    _distill_logreg(table, out=out, baseline=False)
    mdata = json.loads((out / "manifest.json").read_text())["data"]
    assert _same_data(load_inputs(frame, "y"), mdata)
    changed = frame.copy()
    changed.loc[0, "a"] += 1.0  # same name, same row count, other values: not the fitted table
    assert not _same_data(load_inputs(changed, "y"), mdata)
    old = {
        k: v for k, v in mdata.items() if k not in ("fingerprint", "split")
    }  # a manifest from before fingerprints
    assert _same_data(load_inputs(changed, "y"), old)

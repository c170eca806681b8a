"""Typed results (distill2rules.results): one to_dict/from_dict, a format version, one jsonable."""

from __future__ import annotations

import json
import math

import numpy as np

from distill2rules._json import jsonable
from distill2rules.results import (
    EVALUATION_FORMAT,
    METRICS_FORMAT,
    Evaluation,
    FitMetrics,
    SweepRow,
)


def _student_block(acc: float) -> dict:
    return {
        "n": 10,
        "n_classes": 2,
        "accuracy": acc,
        "balanced_accuracy": acc,
        "roc_auc": None,
        "log_loss": 0.3,
        "brier": 0.1,
        "ece": 0.02,
        "reliability": [{"bin": 0, "n": 10}],
        "agreement_with_teacher": 0.9,
        "fidelity": 0.9,
        "fidelity_detail": {"agreement": 0.9, "kl": 0.01},
        "retention": 0.95,
    }


OLD_METRICS = {  # a metrics.json of the first version: no "format" key
    "student": "logreg",
    "temperature": 0.0,
    "alpha": 0.0,
    "temperature_source": "given",
    "targets": "argmax",
    "seed": 0,
    "classes": ["0", "1"],
    "split_sizes": {"train": 70, "val": 15, "test": 15},
    "data_sources": {"test": {"data": "x", "rows": 15, "held_out": False}},
    "test": {
        "n_rows": 15,
        "teacher": {
            k: v
            for k, v in _student_block(0.9).items()
            if k not in ("fidelity", "fidelity_detail", "retention")
        },
        "student": _student_block(0.85),
    },
    "size": {"student": {"parameters": 3}, "teacher_parameters": 100},
    "calibration": None,
    "adverse_class": "1",
    "timings": {"fit": 0.1},
    "something_new": {"kept": True},
}


def test_fit_metrics_round_trip_adds_only_the_version():
    m = FitMetrics.from_dict(OLD_METRICS)
    assert m.format == METRICS_FORMAT and m.test is not None and m.test.student is not None
    assert m.test.student.fidelity == 0.9 and m.test.teacher.fidelity is None and m.val is None
    assert m.extra == {"something_new": {"kept": True}}
    out = m.to_dict()
    assert out.pop("format") == METRICS_FORMAT
    assert out == OLD_METRICS
    assert FitMetrics.from_dict(m.to_dict()).to_dict() == m.to_dict()


def test_evaluation_round_trip_and_version():
    ev = {
        "n_test": 5,
        "n_classes": 2,
        "classes": [0, 1],
        "teacher": {
            "predictive": {"accuracy": 1.0},
            "attributions": {},
            "latency": {"single_row": {"p50_ms": 0.5}},
        },
        "student": {"predictive": {"accuracy": 0.8}, "attributions": {}},
        "fidelity": {"agreement": 0.8},
        "retention": 0.8,
        "alignment": {},
        "prr": 0.9,
        "seconds": {},
        "config": {},
        "data": {"name": "d", "split": "test"},
    }
    e = Evaluation.from_dict(ev)
    assert (
        e is not None
        and e.teacher.p50_ms() == 0.5
        and e.student.p50_ms() is None
        and e.baseline is None
    )
    out = e.to_dict()
    assert out.pop("format") == EVALUATION_FORMAT and out == ev
    assert Evaluation.from_dict(None) is None


def test_sweep_row_reads_fields_and_config_key():
    r = SweepRow.from_dict(
        {
            "temperature": 2.0,
            "alpha": 0.0,
            "size": [8, 4],
            "accuracy": 0.9,
            "J": "inf",
            "dataset": "x",
        }
    )
    assert r.J == math.inf and r.extra == {"dataset": "x"} and r.fidelity is None
    assert (
        r.config_key()
        == SweepRow.from_dict({"temperature": 2, "alpha": 0, "size": [8, 4]}).config_key()
    )
    assert r.to_dict()["J"] == "inf"


def test_one_jsonable_keeps_the_spec_convention():
    from distill2rules.spec import jsonable as spec_jsonable
    from distill2rules.validation._results import jsonable as results_jsonable

    assert spec_jsonable is jsonable and results_jsonable is jsonable
    obj = {
        "a": np.float32(1.5),
        "b": [math.inf, -math.inf, math.nan],
        "c": np.arange(2),
        3: np.bool_(True),
    }
    assert (
        json.dumps(jsonable(obj), sort_keys=True)
        == '{"3": true, "a": 1.5, "b": ["inf", "-inf", null], "c": [0, 1]}'
    )
    assert jsonable(FitMetrics(student="x"))["student"] == "x"

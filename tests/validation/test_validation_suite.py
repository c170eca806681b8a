"""The whole validation suite on real teacher-student pairs, and its table."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from rich.console import Console
from validation_helpers import mixed_additive_spec, rule_list_spec

from distill2rules.errors import DataError, SchemaError
from distill2rules.validation import evaluate_student, format_table

FAST = {
    "shap_rows": 40,
    "stability_rows": 15,
    "sigmas": (0.0, 0.1),
    "latency_calls": 10,
    "batch_sizes": (1, 50),
    "progress": False,
}


def _render(result) -> str:
    buf = io.StringIO()
    Console(file=buf, width=140).print(format_table(result))
    return buf.getvalue()


def test_suite_binary_tree_teacher_additive_student(
    breast_cancer, lgb_breast_teacher, lr_breast
) -> None:
    d = breast_cancer
    res = evaluate_student(
        lgb_breast_teacher, lr_breast, d["X_test"], d["y_test"], X_background=d["X_train"], **FAST
    )
    json.dumps(res, allow_nan=False)
    assert (
        res["teacher"]["predictive"]["accuracy"] > 0.9
        and res["student"]["predictive"]["accuracy"] > 0.9
    )
    assert 0.9 < res["fidelity"]["agreement"] <= 1.0
    assert res["retention"] == pytest.approx(
        res["student"]["predictive"]["accuracy"] / res["teacher"]["predictive"]["accuracy"]
    )
    assert res["alignment"]["global_cosine"] > 0.3
    assert res["teacher"]["stability"]["per_sigma"]["0.0"]["mean"] == 1.0
    assert res["student"]["stability"]["per_sigma"]["0.0"]["mean"] == 1.0
    assert res["student"]["n_parameters"] == 31 and 0 < res["prr"] < 1
    assert set(res["student"]["latency"]["batch"]) == {"1", "50"}
    assert "TreeExplainer" in res["teacher"]["attributions"]["method"]
    text = _render(res)
    for label in (
        "fidelity (agreement)",
        "SHAP cosine per row",
        "stability σ=0.1",
        "parameter reduction",
    ):
        assert label in text


def test_suite_multiclass_torch_teacher_with_onnx(
    wine, torch_wine, lr_wine, tmp_path, torch_one_thread
) -> None:
    exporters = pytest.importorskip("distill2rules.exporters")
    onnx_path = tmp_path / "student.onnx"
    onnx_path.write_bytes(exporters.to_onnx(lr_wine).SerializeToString())
    d = wine
    res = evaluate_student(
        torch_wine,
        lr_wine,
        d["X_test"],
        d["y_test"],
        X_background=d["X_train"],
        onnx_path=onnx_path,
        **{**FAST, "stability_rows": 0},
    )
    assert res["n_classes"] == 3 and res["student"]["predictive"]["roc_auc"] > 0.8
    assert res["teacher"]["attributions"]["method"] == "shap.DeepExplainer"
    assert "centred logit" in res["student"]["attributions"]["output"]
    assert "stability" not in res["student"]
    assert res["student"]["onnx_latency"]["single_row"]["n_calls"] == 10
    assert res["student"]["onnx_memory_mb"] > 0
    assert "ONNX latency 1 row p50" in _render(res)


def test_suite_rule_list_student_without_latency(mixed, lgb_mixed) -> None:
    d = mixed
    res = evaluate_student(
        lgb_mixed,
        rule_list_spec(),
        d["X_test"],
        d["y_test"],
        X_background=d["X_train"],
        **{**FAST, "latency_calls": 0, "shap_rows": 25, "stability_rows": 10},
    )
    assert "PermutationExplainer" in res["student"]["attributions"]["method"]
    assert res["stability_columns"] == ["x1", "x2", "x3"]
    assert "latency" not in res["teacher"]
    assert set(res["seconds"]) >= {"predict", "teacher SHAP", "student SHAP", "stability"}
    assert np.isfinite(res["alignment"]["mad"])


def test_suite_input_errors(mixed, lgb_mixed, lgb_wine) -> None:
    d = mixed
    with pytest.raises(DataError, match="labels"):
        evaluate_student(
            lgb_mixed,
            mixed_additive_spec(),
            d["X_test"],
            d["y_test"][:5],
            X_background=d["X_train"],
        )
    with pytest.raises(SchemaError, match="3 classes"):
        evaluate_student(
            lgb_wine, mixed_additive_spec(), d["X_test"], d["y_test"], X_background=d["X_train"]
        )

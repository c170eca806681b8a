"""SHAP attributions of real teachers and real specs, and the alignment measures."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
from validation_helpers import BlackBoxTeacher, mixed_additive_spec, mlp_spec, rule_list_spec

from distill2rules.errors import ConfigError, DataError, SchemaError
from distill2rules.spec import evaluate
from distill2rules.validation import (
    alignment,
    student_attributions,
    target_output,
    teacher_attributions,
)


def _score(spec, X):
    out = evaluate(spec, X)
    return out["scores"]


# ----------------------------------------------------------------------------- students


def test_exact_additive_sums_to_score_minus_mean_background_score(mixed) -> None:
    spec = mixed_additive_spec()
    X, bg = mixed["X_test"].iloc[:80], mixed["X_train"].iloc[:300]
    att = student_attributions(spec, X, bg)
    expected = _score(spec, X)[:, 0] - _score(spec, bg)[:, 0].mean()
    np.testing.assert_allclose(att.values.sum(axis=1), expected, atol=1e-10)
    np.testing.assert_allclose(
        att.values.sum(axis=1) + att.base_values, _score(spec, X)[:, 0], atol=1e-10
    )
    assert att.feature_names == ["x1", "x2", "x3", "c1", "c2"]
    assert att.method == "exact additive (interventional)"


def test_exact_additive_splits_pair_terms_half_and_half(mixed) -> None:
    spec = mixed_additive_spec()
    pair_only = copy.deepcopy(spec)
    pair_only["terms"] = [t for t in spec["terms"] if t["name"] == "x2 x c2"]
    X, bg = mixed["X_test"].iloc[:40], mixed["X_train"].iloc[:200]
    att = student_attributions(pair_only, X, bg)
    col = {f: j for j, f in enumerate(att.feature_names)}
    np.testing.assert_allclose(att.values[:, col["x2"]], att.values[:, col["c2"]])
    assert np.all(att.values[:, [col["x1"], col["x3"], col["c1"]]] == 0)


def test_permutation_equals_exact_for_additive_without_pairs(mixed) -> None:
    spec = mixed_additive_spec()
    spec["terms"] = [t for t in spec["terms"] if len(t.get("axes", [None])) == 1]
    X, bg = mixed["X_test"].iloc[:25], mixed["X_train"].iloc[:60]
    exact = student_attributions(spec, X, bg, method="exact")
    perm = student_attributions(
        spec, X, bg, method="permutation", max_background=60, n_permutations=2
    )
    assert "PermutationExplainer" in perm.method
    np.testing.assert_allclose(perm.values, exact.values, atol=1e-9)


def test_softmax_additive_explains_centred_logit_of_given_class(wine, lr_wine) -> None:
    X, bg = wine["X_test"].iloc[:30], wine["X_train"]
    cls = np.arange(30) % 3
    att = student_attributions(lr_wine, X, bg, class_index=cls)
    scores, scores_bg = _score(lr_wine, X), _score(lr_wine, bg)
    centred = scores - scores.mean(axis=1, keepdims=True)
    centred_bg = (scores_bg - scores_bg.mean(axis=1, keepdims=True)).mean(axis=0)
    rows = np.arange(30)
    np.testing.assert_allclose(
        att.values.sum(axis=1), centred[rows, cls] - centred_bg[cls], atol=1e-9
    )
    assert list(att.class_index) == list(cls)
    assert "centred logit" in att.output


@pytest.mark.parametrize("make_spec", [rule_list_spec, mlp_spec])
def test_permutation_students_are_additive_and_deterministic(mixed, make_spec) -> None:
    spec = make_spec()
    X, bg = mixed["X_test"].iloc[:30], mixed["X_train"]
    a = student_attributions(spec, X, bg, max_background=50, seed=3)
    b = student_attributions(spec, X, bg, max_background=50, seed=3)
    assert "PermutationExplainer" in a.method
    out = evaluate(spec, X)
    if spec["kind"] == "rule_list":
        p = np.clip(out["probabilities"], 1e-6, 1)
        f = np.log(p[:, 1]) - np.log(p[:, 0])
    else:
        f = out["scores"][:, 0]
    np.testing.assert_allclose(a.values.sum(axis=1) + a.base_values, f, atol=1e-9)
    np.testing.assert_array_equal(a.values, b.values)
    assert np.abs(a.values).sum() > 0


def test_student_feature_names_reindex_and_unused_features_are_zero(
    breast_cancer, lr_breast
) -> None:
    names = ["extra column"] + breast_cancer["numeric"]
    att = student_attributions(
        lr_breast, breast_cancer["X_test"].iloc[:10], breast_cancer["X_train"], feature_names=names
    )
    assert att.feature_names == names
    assert np.all(att.values[:, 0] == 0)
    with pytest.raises(SchemaError, match="not in the target list"):
        att.reindex(names[2:])


def test_student_errors(mixed) -> None:
    X = mixed["X_test"].iloc[:5]
    with pytest.raises(ConfigError, match="exact attributions need an additive"):
        student_attributions(rule_list_spec(), X, X, method="exact")
    with pytest.raises(ConfigError, match="unknown attribution method"):
        student_attributions(rule_list_spec(), X, X, method="kernel")
    with pytest.raises(DataError, match="DataFrame"):
        student_attributions(rule_list_spec(), X.to_numpy(), X)


# ----------------------------------------------------------------------------- teachers


def test_tree_teacher_sums_to_margin_minus_expected_margin(mixed, lgb_mixed) -> None:
    X = mixed["X_test"].iloc[:100]
    att = teacher_attributions(lgb_mixed, X, mixed["X_train"])
    margin = lgb_mixed.booster.predict(lgb_mixed.transform(X), raw_score=True)
    np.testing.assert_allclose(att.values.sum(axis=1) + att.base_values, margin, atol=1e-8)
    assert "TreeExplainer" in att.method
    assert att.values.shape == (100, 5)
    assert att.feature_names == ["x1", "x2", "x3", "c1", "c2"]
    imp = dict(zip(att.feature_names, att.importance(), strict=True))
    assert imp["x1"] > imp["c2"]  # x1 carries the strongest signal


def test_tree_teacher_multiclass_explains_predicted_class(wine, lgb_wine) -> None:
    X = wine["X_test"].iloc[:25]
    att = teacher_attributions(lgb_wine, X, wine["X_train"])
    z = lgb_wine.logits(X)
    np.testing.assert_array_equal(att.class_index, z.argmax(axis=1))
    np.testing.assert_allclose(
        att.values.sum(axis=1) + att.base_values, target_output(z), atol=1e-8
    )


def test_deep_teacher_binary_and_multiclass_are_additive(
    mixed, torch_mixed, wine, torch_wine, torch_one_thread
) -> None:
    X = mixed["X_test"].iloc[:30]
    att = teacher_attributions(torch_mixed, X, mixed["X_train"], max_background=40)
    assert att.method == "shap.DeepExplainer"
    np.testing.assert_allclose(
        att.values.sum(axis=1) + att.base_values, target_output(torch_mixed.logits(X)), atol=1e-4
    )
    Xw = wine["X_test"].iloc[:20]
    attw = teacher_attributions(torch_wine, Xw, wine["X_train"], max_background=40)
    zw = torch_wine.logits(Xw)
    np.testing.assert_allclose(
        attw.values.sum(axis=1) + attw.base_values, target_output(zw), atol=1e-4
    )
    fixed = teacher_attributions(torch_wine, Xw, wine["X_train"], max_background=40, class_index=0)
    np.testing.assert_allclose(
        fixed.values.sum(axis=1) + fixed.base_values, target_output(zw, 0), atol=1e-4
    )


def test_black_box_teacher_uses_permutation_on_raw_rows(mixed, lgb_mixed) -> None:
    teacher = BlackBoxTeacher(lgb_mixed)
    X = mixed["X_test"].iloc[:12]
    att = teacher_attributions(teacher, X, mixed["X_train"], max_background=30, n_permutations=2)
    assert "PermutationExplainer" in att.method
    np.testing.assert_allclose(
        att.values.sum(axis=1) + att.base_values, target_output(teacher.logits(X)), atol=1e-9
    )
    with pytest.raises(ConfigError, match="needs a LightGBM teacher"):
        teacher_attributions(teacher, X, X, method="tree")


def test_to_dict_is_json_and_values_optional(mixed, lgb_mixed) -> None:
    att = teacher_attributions(lgb_mixed, mixed["X_test"].iloc[:5], mixed["X_train"])
    short, full = att.to_dict(), att.to_dict(include_values=True)
    assert "values" not in short and len(full["values"]) == 5
    json.dumps(full, allow_nan=False)


# ----------------------------------------------------------------------------- alignment


def test_alignment_identities() -> None:
    rng = np.random.default_rng(0)
    phi = rng.normal(size=(50, 8)) * np.arange(1, 9)
    a = alignment(phi, phi, top_k=3)
    assert a.cosine_mean == pytest.approx(1.0)
    assert a.cosine_sd == pytest.approx(0.0, abs=1e-12)
    assert a.global_cosine == pytest.approx(1.0)
    assert a.mad == pytest.approx(0.0)
    assert a.spearman == pytest.approx(1.0)
    assert a.topk_overlap == 1.0 and a.topk_jaccard == 1.0
    order = np.argsort(-np.abs(phi).mean(axis=0))[:3]
    assert a.teacher_top == [f"x{j}" for j in order] == a.student_top


def test_alignment_drops_for_permuted_features() -> None:
    rng = np.random.default_rng(1)
    phi = rng.normal(size=(80, 8)) * np.arange(1, 9)
    shuffled = phi[:, ::-1]
    a, b = alignment(phi, phi), alignment(phi, shuffled, top_k=3)
    assert b.cosine_mean < a.cosine_mean - 0.5
    assert b.mad > 0.05 and b.spearman < 0 and b.topk_overlap == 0.0
    assert b.global_cosine < a.global_cosine


def test_alignment_is_scale_invariant_and_matches_by_name(mixed, lgb_mixed) -> None:
    att = teacher_attributions(lgb_mixed, mixed["X_test"].iloc[:20], mixed["X_train"])
    a = alignment(att, att.reindex(list(reversed(att.feature_names))))
    assert a.cosine_mean == pytest.approx(1.0) and a.mad == pytest.approx(0.0, abs=1e-12)
    scaled = alignment(att.values, 3 * att.values, top_k=2)
    assert scaled.cosine_mean == pytest.approx(1.0) and scaled.mad == pytest.approx(0.0, abs=1e-12)


def test_alignment_skips_zero_rows_and_checks_shapes() -> None:
    phi = np.array([[1.0, 2.0], [0.0, 0.0], [2.0, -1.0]])
    a = alignment(phi, phi)
    assert a.n_rows_used == 2
    with pytest.raises(DataError, match="shape"):
        alignment(phi, phi[:2])
    with pytest.raises(ConfigError, match="top_k"):
        alignment(phi, phi, top_k=0)

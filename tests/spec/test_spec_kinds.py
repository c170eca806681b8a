"""Spec kinds as types: classes, dispatch tables, size, calibration folding, coded evaluation,
and the JSON Schema checked on load."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from distill2rules import spec as spec_mod
from distill2rules.errors import SpecError
from distill2rules.spec import AdditiveSpec, KindTable, MLPSpec, RuleListSpec, Spec
from tests.exporters.hand_specs import (
    applicants,
    mlp_spec,
    rule_list_spec,
    scorecard_spec,
    softmax_spec,
)

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = sorted((ROOT / "tests" / "golden").glob("*/*/student.json"))


def _with_specials(spec: dict) -> dict:
    """A copy of a hand spec whose first numeric input declares -9 = "no record"."""
    s = copy.deepcopy(spec)
    col = s["inputs"]["numeric"][0]
    s["special_values"] = {col: {"-9": "no record"}}
    if s["kind"] == "additive":
        term = next(
            t
            for t in s["terms"]
            if t.get("feature") == col or [a["feature"] for a in t.get("axes", [])] == [col]
        )
        term["special"] = {"-9": {"label": "no record", "score": [0.7] * len(s["intercept"])}}
    elif s["kind"] == "mlp":
        s["preprocess"]["special"] = [{"feature": col, "value": -9.0, "label": "no record"}]
        s["layers"][0]["weight"] = [[*row, 0.5] for row in s["layers"][0]["weight"]]
    spec_mod.validate(s)
    return s


HAND = {
    "additive": scorecard_spec,
    "softmax": softmax_spec,
    "rule_list": rule_list_spec,
    "mlp": mlp_spec,
}


def _rows(spec: dict, n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cols: dict[str, object] = {}
    for c in spec["inputs"]["numeric"]:
        x = rng.normal(20, 15, n).round()
        x[rng.random(n) < 0.1] = np.nan
        x[rng.random(n) < 0.15] = -9.0
        cols[c] = x
    for c in spec["inputs"]["categorical"]:
        vocab = sorted(
            {
                v
                for t in spec.get("terms", [])
                for a in t.get("axes", [])
                if a["feature"] == c
                for v in a["categories"]
            }
            | {
                v
                for r in spec.get("rules", [])
                for cd in r["conditions"]
                if cd["feature"] == c
                for v in cd.get("values", [])
            }
            | {
                v
                for p in spec.get("preprocess", {}).get("categorical", [])
                if p["feature"] == c
                for v in p["categories"]
            }
        )
        cols[c] = rng.choice([*vocab, "unseen", None], n)
    return pd.DataFrame(cols)


@pytest.mark.parametrize(
    "name,cls",
    [
        ("additive", AdditiveSpec),
        ("softmax", AdditiveSpec),
        ("rule_list", RuleListSpec),
        ("mlp", MLPSpec),
    ],
)
def test_typed_gives_the_kind_class_and_stays_the_json_object(name, cls):
    raw = HAND[name]()
    s = spec_mod.typed(raw)
    assert type(s) is cls and isinstance(s, Spec) and isinstance(s, dict)
    assert s == raw and spec_mod.typed(s) is s
    assert spec_mod.to_json(s) == spec_mod.to_json(raw)
    assert spec_mod.kind_class(raw) is cls and spec_mod.kind_class(cls.kind) is cls
    assert type(spec_mod.from_json(spec_mod.to_json(raw))) is cls


def test_unknown_kind_is_one_spec_error_everywhere():
    bad = {**scorecard_spec(), "kind": "forest"}
    for call in (
        spec_mod.typed,
        spec_mod.validate,
        spec_mod.kind_class,
        lambda s: spec_mod.evaluate(s, applicants()),
    ):
        with pytest.raises(
            SpecError, match=r"unknown spec kind 'forest'; expected one of additive, rule_list, mlp"
        ):
            call(bad)
    assert spec_mod.KINDS == ("additive", "rule_list", "mlp") == spec_mod.kinds()


@pytest.mark.parametrize("name", list(HAND))
@pytest.mark.parametrize("specials", [False, True])
def test_coded_evaluation_matches_evaluate(name, specials):
    raw = HAND[name]()
    s = spec_mod.typed(_with_specials(raw) if specials else raw)
    X = _rows(s)
    num_cols, cat_cols = s.input_columns()
    vocab: dict[str, np.ndarray] = {}
    codes = np.zeros((len(X), len(num_cols) + len(cat_cols)), dtype=np.int64)
    for j, c in enumerate(num_cols + cat_cols):
        vals = (
            spec_mod.to_numeric_float32(X[c], c).astype(np.float64)
            if c in num_cols
            else spec_mod.to_category_strings(X[c])
        )
        vocab[c] = np.asarray(pd.unique(pd.Series(vals)))
        codes[:, j] = pd.Index(vocab[c]).get_indexer(vals)
    assert (codes >= 0).all()
    ref = s.evaluate(X)
    got = s.evaluate_codes(codes, vocab)
    key = "probabilities" if s.kind == "rule_list" else "scores"
    assert key in got
    np.testing.assert_allclose(got[key], ref[key], rtol=1e-12, atol=1e-12)
    if specials:  # the codes moved some rows off the plain path
        np.testing.assert_raises(
            AssertionError, np.testing.assert_allclose, spec_mod.evaluate(raw, X)[key], ref[key]
        )


def test_sizes_are_the_kinds_own_and_shared_by_every_reader():
    from distill2rules.exporters.rulecard import rulecard
    from distill2rules.students import spec_complexity, spec_size
    from distill2rules.validation import spec_n_parameters

    add, rules, mlp = (spec_mod.typed(f()) for f in (scorecard_spec, rule_list_spec, mlp_spec))
    # intercept + nonzero table scores (checking 4, duration 3, purpose 4, age 4) + 1 coefficient
    assert add.n_parameters() == 1 + 4 + 3 + 4 + 4 + 1
    assert add.complexity() == {"terms": 5, "pairs": 0, "parameters": add.n_parameters()}
    assert (
        rules.n_parameters() == 5 + 2 * 4
    )  # conditions + probabilities of 3 rules and the default
    assert rules.complexity() == {"rules": 3, "conditions": 5, "parameters": 13}
    assert mlp.n_parameters() == 12 + 3 + 3 + 1
    assert mlp.complexity() == {"layers": [3, 1], "parameters": 19}
    special = spec_mod.typed(_with_specials(scorecard_spec()))
    assert special.n_parameters() == add.n_parameters() + 1  # the special value's own score
    for s in (add, rules, mlp, special):
        assert (
            spec_size(s)
            == spec_n_parameters(s)
            == s.n_parameters()
            == spec_complexity(s)["parameters"]
        )
        assert rulecard(dict(s))["summary"]["n_params"] == s.n_parameters()
    summary = rulecard(dict(rules))["summary"]
    assert (summary["n_rules"], summary["n_conditions"]) == (3, 5)
    assert rulecard(dict(mlp))["summary"]["n_layers"] == 2


@pytest.mark.parametrize("name", list(HAND))
def test_calibration_folds_into_the_kind_without_touching_the_original(name):
    raw = HAND[name]()
    before = copy.deepcopy(raw)
    s = spec_mod.typed(raw)
    X = _rows(raw, 30)
    p0 = s.evaluate(X)["probabilities"]
    sharp = s.scaled(2.0)
    assert type(sharp) is type(s) and raw == before
    p2 = sharp.evaluate(X)["probabilities"]
    assert np.array_equal(p2.argmax(1), p0.argmax(1))  # a positive scale keeps every decision
    assert (p2.max(1) >= p0.max(1) - 1e-12).all() and (p2.max(1) > p0.max(1) + 1e-6).any()
    if len(s["classes"]) == 2:
        shifted = s.shifted(1.0).evaluate(X)["probabilities"][:, 1]
        assert (shifted > p0[:, 1]).all() and raw == before


def test_kind_table_dispatches_on_the_class_and_its_subclasses():
    table: KindTable[str] = KindTable("greeting")
    table.add(AdditiveSpec, "additive!")

    @table.register(RuleListSpec)
    def _rules() -> str:
        return "rules!"

    class Scorecard(AdditiveSpec):
        pass

    assert table.of(scorecard_spec()) == "additive!" and table.of(Scorecard) == "additive!"
    assert table.of(spec_mod.typed(rule_list_spec()))() == "rules!"
    with pytest.raises(SpecError, match="no greeting for spec kind 'mlp'"):
        table.of(mlp_spec())
    assert table.get(mlp_spec()) is None and AdditiveSpec in table and MLPSpec not in table
    with pytest.raises(TypeError):
        table.add(dict, "no")  # type: ignore[arg-type]


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}")
def test_every_golden_spec_matches_the_schema(path):
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert spec_mod.schema_errors(raw) == []
    assert spec_mod.to_json(spec_mod.load(path)) == path.read_text(encoding="utf-8")


def test_hand_specs_match_the_schema():
    for f in HAND.values():
        raw = json.loads(spec_mod.to_json(_with_specials(f())))
        assert spec_mod.schema_errors(raw) == []


@pytest.mark.parametrize(
    "mutate,where",
    [
        (lambda s: s["terms"][1].pop("scores"), "terms[1]: missing required key 'scores'"),
        (
            lambda s: s["terms"][1]["axes"][0].update(kind="ordinal"),
            "terms[1].axes[0].kind: 'ordinal' is not one of",
        ),
        (lambda s: s["terms"][2].update(coef="0.1"), "terms[2].coef: expected array"),
        (lambda s: s.update(link="probit"), "link: 'probit' is not one of"),
        (lambda s: s["terms"][2].update(clip=[0.0, "big"]), "terms[2].clip[1]: 'big' matches none"),
        (lambda s: s["inputs"].update(numeric="age"), "inputs.numeric: expected array"),
    ],
)
def test_load_refuses_a_spec_that_breaks_the_schema(mutate, where, tmp_path):
    s = json.loads(spec_mod.to_json(scorecard_spec()))
    mutate(s)
    assert any(e.startswith(where) for e in spec_mod.schema_errors(s)), spec_mod.schema_errors(s)
    p = tmp_path / "student.json"
    p.write_text(json.dumps(s), encoding="utf-8")
    with pytest.raises(SpecError, match=re.escape("does not match the spec schema: " + where)):
        spec_mod.load(p)


def test_rule_and_mlp_schema_parts_are_checked():
    r = json.loads(spec_mod.to_json(rule_list_spec()))
    r["rules"][0]["conditions"][0]["op"] = "like"
    r["rules"][1]["conditions"][0].pop("value")
    errs = spec_mod.schema_errors(r)
    assert any(e.startswith("rules[0].conditions[0].op") for e in errs)
    assert "rules[1].conditions[0]: missing required key 'value'" in errs
    m = json.loads(spec_mod.to_json(mlp_spec()))
    m["layers"][0]["activation"] = "gelu"
    assert any(e.startswith("layers[0].activation") for e in spec_mod.schema_errors(m))


def test_schema_ships_with_the_package_and_uses_only_supported_keywords():
    import distill2rules.spec._schema as schema_mod

    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'"distill2rules\.spec"\s*=\s*\[[^]]*"schema\.json"', pyproject)
    sch = spec_mod.schema()
    assert sch["properties"]["format"]["const"] == spec_mod.SPEC_FORMAT
    assert sch["properties"]["kind"]["enum"] == list(spec_mod.KINDS)

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if k not in ("properties", "$defs"):
                    assert k in schema_mod.KEYWORDS, k
                for child in v.values() if k in ("properties", "$defs") else [v]:
                    walk(child)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(sch)


def test_no_module_outside_the_spec_wing_imports_its_private_modules():
    offenders = []
    for root in ("distill2rules", "exporters"):
        for path in (ROOT / root).rglob("*.py"):
            if path.parent.name == "spec" and path.parent.parent.name == "distill2rules":
                continue
            text = path.read_text(encoding="utf-8")
            if re.search(
                r"distill2rules\.spec\._\w+\s+import|from distill2rules\.spec import _", text
            ):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []

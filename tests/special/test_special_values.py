"""Issue 13, special values: on German credit with synthetic bureau codes (see conftest), every
student treats -9/-8/-7 as levels of their own — in the spec, the ONNX graph, the rule card,
reason codes, counterfactuals and monotone constraints — never as numbers."""

from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pytest

from tests.special.conftest import CODES, COLUMN, SPECIAL

pytestmark = pytest.mark.slow

FAST = {
    "logreg": {},
    "scorecard": {},
    "ebm": {"interactions": 2, "outer_bags": 1, "max_bins": 64, "n_jobs": 1},
    "rules": {"max_rules": 8},
    "tree": {"max_depth": 4},
    "mlp": {"hidden": [8], "epochs": 20, "patience": 5},
}


_CACHE: dict = {}


def _fit(coded, student, **params):
    """One fit per (student, params) per worker: the first two tests share them."""
    key = (student, json.dumps(params, sort_keys=True))
    if key not in _CACHE:
        _CACHE[key] = _fit_now(coded, student, **params)
    return _CACHE[key]


def _fit_now(coded, student, **params):
    from distill2rules.pipeline import distill

    teacher, frame, target = coded
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # declared codes: no "looks like codes" warning
        return distill(
            teacher,
            frame,
            target=target,
            student=student,
            seed=0,
            baseline=False,
            progress=False,
            student_params={**FAST[student], **params},
            special_values=SPECIAL,
        )


def _numbers_on_column(spec):
    """Every number the spec compares or clips the coded column with (edges, thresholds, clips)."""
    out = []
    for term in spec.get("terms", []):
        if term["type"] == "linear" and term["feature"] == COLUMN:
            out += [v for v in term["clip"] if v is not None] + [term["impute"]]
        for ax in term.get("axes", []):
            if ax["feature"] == COLUMN and ax["kind"] == "numeric":
                out += list(ax["edges"])
    for rule in spec.get("rules", []):
        out += [
            c["value"]
            for c in rule["conditions"]
            if c["feature"] == COLUMN and c["op"] in ("<=", ">")
        ]
    for p in (spec.get("preprocess") or {}).get("numeric", []):
        if p["feature"] == COLUMN:
            out += list(p["clip"]) + [p["impute"], p["mean"]]
    return out


def _mean_p(est, frame, target, value, cls="bad"):
    X = frame.drop(columns=[target]).copy()
    X[COLUMN] = value
    p = est.predict_proba(X)
    return float(p[:, list(est.classes_).index(cls)].mean())


@pytest.mark.parametrize("student", list(FAST))
def test_every_student_gives_each_code_its_own_level(coded, torch_one_thread, student):
    import onnxruntime as ort

    from distill2rules.exporters import to_onnx
    from distill2rules.exporters.onnx import check_onnx_parity, onnx_feeds

    _teacher, frame, target = coded
    res = _fit(coded, student)
    spec, est = res.spec, res.student
    assert spec["special_values"] == SPECIAL
    # the codes are never a numeric edge, threshold, clip bound, impute value or mean
    numbers = _numbers_on_column(spec)
    assert numbers and min(float(v) for v in numbers) >= 0

    # how each student represents them
    if spec["kind"] == "additive":
        term = next(
            t
            for t in spec["terms"]
            if COLUMN in (t.get("feature"), *(a["feature"] for a in t.get("axes", [])))
        )
        assert {k: e["label"] for k, e in term["special"].items()} == CODES
        assert all(e["count"] > 0 for e in term["special"].values())
    elif spec["kind"] == "rule_list":
        conds = [c for r in spec["rules"] for c in r["conditions"] if c["feature"] == COLUMN]
        assert any(c["op"] in ("is_special", "not_special") or c.get("special") for c in conds)
    else:
        assert [(p["value"], p["label"]) for p in spec["preprocess"]["special"]] == [
            (float(k), v) for k, v in CODES.items()
        ]

    # each code has its own event rate in the data, and the student follows it: "no usable
    # trades" (-8, mostly bad) is riskier than "no record" (-9, mostly good), although as
    # numbers -9 < -8 are neighbours at the bottom of the scale
    assert _mean_p(est, frame, target, -8.0) > _mean_p(est, frame, target, -9.0) + 0.05

    # ONNX: adversarial rows (codes and their float32 neighbours on a tenth of the rows) and the
    # real rows fed as a user would
    model = to_onnx(spec)
    report = check_onnx_parity(model, spec, n_rows=4000, random_state=0)
    assert report.ok and report.label_mismatches == 0, report
    X = frame.drop(columns=[target])
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    out = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, onnx_feeds(spec, X))))
    np.testing.assert_allclose(out["probabilities"], est.predict_proba(X), atol=1e-5, rtol=0)
    meta = {p.key: p.value for p in model.metadata_props}
    assert json.loads(meta["special_values"]) == SPECIAL


@pytest.mark.parametrize("student", list(FAST))
def test_rule_card_and_reasons_show_labels_never_codes(coded, torch_one_thread, student):
    from distill2rules.exporters.reasons import explain_rows
    from distill2rules.exporters.rulecard import render_markdown, rulecard

    _teacher, frame, target = coded
    res = _fit(coded, student)
    spec = res.spec
    card = render_markdown(rulecard(spec))
    if spec["kind"] != "mlp" or spec["preprocess"].get("special"):
        assert "no record" in card or "no usable trades" in card
    for code in ("-9", "-8", "-7"):
        assert f"≤ {code}" not in card and f"> {code}" not in card and f"= {code}" not in card

    X = frame.drop(columns=[target])
    rows = X[X[COLUMN].isin([-9.0, -8.0, -7.0])].head(40)
    results = explain_rows(spec, rows, top=5)
    texts = [r["text"] for res_ in results for r in res_["reasons"]]
    texts += [res_["rule"]["text"] for res_ in results if res_.get("rule")]
    cfs = [res_["counterfactual"] for res_ in results if res_.get("counterfactual")]
    texts += [cf["text"] for cf in cfs]
    assert any(label in t for t in texts for label in CODES.values())
    code = re.compile(r"(?<![\d.])-[789](?![\d.])")  # -9, -8, -7 written as numbers
    for t in texts + [str(r.get("reference", "")) for res_ in results for r in res_["reasons"]]:
        assert not code.search(t), t
    for cf in cfs:  # counterfactuals never propose a code
        for c in [cf, *cf.get("alternatives", [])]:
            assert c["feature"] != COLUMN or c["to"] not in (-9.0, -8.0, -7.0)


@pytest.mark.parametrize("student", ["logreg", "scorecard", "ebm", "rules", "tree", "mlp"])
def test_monotone_trend_leaves_the_codes_out(coded, torch_one_thread, student):
    """``months_since_delinq:+`` (more months -> more 'good'): as numbers, -9 "no record" would
    be forced below every month; as a level it keeps its own, favourable score."""
    _teacher, frame, target = coded
    extra = {"monotone_method": "constrained"} if student == "mlp" else {}
    res = _fit(coded, student, monotone=f"{COLUMN}:+", **extra)
    spec, est = res.spec, res.student
    p_good = {v: _mean_p(est, frame, target, v, cls="good") for v in (-9.0, 0.0, 20.0, 60.0, 89.0)}
    assert (
        p_good[0.0] <= p_good[20.0] + 1e-9 <= p_good[60.0] + 2e-9 <= p_good[89.0] + 3e-9
    )  # the trend
    assert p_good[-9.0] > p_good[0.0] + 0.05  # "no record" is not the worst value
    if (
        spec["kind"] == "additive"
    ):  # the rule card's monotone check holds, and says the codes are outside it
        from distill2rules.exporters.rulecard import render_markdown, rulecard

        card = render_markdown(rulecard(spec))
        line = next(x for x in card.splitlines() if x.startswith(f"- {COLUMN} (+1)"))
        assert "(holds in the model)" in line and "'no record'" in line


def test_undeclared_codes_warn_naming_the_column(coded):
    from distill2rules.data._special import SpecialValuesWarning
    from distill2rules.pipeline import distill

    teacher, frame, target = coded
    with pytest.warns(SpecialValuesWarning, match=f"'{COLUMN}' \\(-9, -8, -7\\)"):
        res = distill(
            teacher,
            frame,
            target=target,
            student="tree",
            seed=0,
            baseline=False,
            progress=False,
            student_params={"max_depth": 2},
        )
    assert COLUMN in res.metrics["warnings"][0]
    assert "special_values" not in res.spec


def test_cli_special_values_flow_into_the_artifact(cli, coded, tmp_path):
    teacher, frame, target = coded
    data = tmp_path / "coded.csv"
    frame.to_csv(data, index=False)
    out = tmp_path / "run"
    flag = f"{COLUMN}:" + ",".join(f"{k}={v}" for k, v in CODES.items())

    def fit(dest, *extra):
        """``distill2rules fit`` of the coded table into ``dest`` (quiet)."""
        return cli(
            "fit",
            "--teacher",
            teacher,
            "--data",
            data,
            "--target",
            target,
            "--out",
            dest,
            "--quiet",
            *extra,
        )

    r = fit(
        out,
        "--student",
        "rules",
        "--special-values",
        flag,
        "--no-baseline",
        "-p",
        "max_rules=6",
    )
    assert r.code == 0, r.err
    assert "look like they carry special codes" not in r.err
    assert json.loads((out / "schema.json").read_text())["special_values"] == SPECIAL
    assert json.loads((out / "student.json").read_text())["special_values"] == SPECIAL
    assert (
        "no usable trades" in (out / "rulecard.md").read_text()
        or "no record" in (out / "rulecard.md").read_text()
    )
    assert cli("verify", out).code == 0

    # without a declaration: one warning line naming the column
    r = fit(
        tmp_path / "plain",
        "--student",
        "tree",
        "--no-baseline",
        "-p",
        "max_depth=2",
    )
    assert r.code == 0, r.err
    lines = [line for line in r.err.splitlines() if line.startswith("warning:")]
    assert len(lines) == 1 and COLUMN in lines[0] and "--special-values" in lines[0]

    # a bad declaration: one line, exit 2, no artifact
    r = fit(
        tmp_path / "bad",
        "--special-values",
        "purpose:-9=x",
    )
    assert r.code == 2 and "not numeric" in r.err and "Traceback" not in r.err
    assert not (tmp_path / "bad").exists()


@pytest.mark.parametrize("student", ["logreg", "rules", "tree"])
def test_scorer_shows_labels_and_follows_the_graph(coded, student):
    """The pandas-free Scorer (ONNX + its metadata) decides like the spec and names codes by label."""
    from distill2rules.exporters import to_onnx
    from distill2rules.scoring import Scorer

    _teacher, frame, target = coded
    res = _fit(coded, student)
    scorer = Scorer(to_onnx(res.spec).SerializeToString())
    X = frame.drop(columns=[target])
    rows = X[X[COLUMN].isin([-9.0, -8.0])].head(15)
    want = res.student.predict(rows)
    code = re.compile(r"(?<![\d.])-[789](?![\d.])")
    texts = []
    for (_, row), decision in zip(rows.iterrows(), want):
        record = {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()}
        out = scorer.explain(record, top=5)
        assert str(out["decision"]) == str(decision)
        texts += [r["text"] for r in out["reasons"]]
    assert any(label in t for t in texts for label in CODES.values())
    for t in texts:
        assert not code.search(t), t

"""The pandas-free Scorer: records in, the graph's decisions and the reason codes out.

Hand-built specs of every kind (fast) and real fits on Adult (categoricals; slow) are scored
three ways that must agree: the ``codes`` graph, the ``tensors`` (strings) graph and the spec
evaluator / ``explain_rows`` on the same rows as a DataFrame.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from distill2rules import RecordError, Scorer
from distill2rules.errors import ArtifactError
from distill2rules.exporters import explain_rows, to_onnx
from distill2rules.exporters.onnx import check_onnx_parity, onnx_feeds
from distill2rules.spec import evaluate
from tests.conftest import needs_data
from tests.exporters import hand_specs as hs
from tests.scoring.helpers import GOOD

SPECS = {
    "scorecard": hs.scorecard_spec,
    "ebm": hs.ebm_spec,
    "rules": hs.rule_list_spec,
    "softmax": hs.softmax_spec,
    "mlp": hs.mlp_spec,
    "numeric_only": lambda: hs.monotone_spec(None),
}


def _records(spec: dict, n: int = 60, seed: int = 0) -> list[dict]:
    """Raw records as a service receives them: ints, floats, None, NaN, numeric strings,
    integer / padded / unseen categories."""
    rng = np.random.default_rng(seed)
    from distill2rules.exporters.onnx import adversarial_inputs

    num, cat = adversarial_inputs(spec, n, random_state=seed)
    num_cols, cat_cols = spec["inputs"]["numeric"], spec["inputs"]["categorical"]
    out = []
    for i in range(n):
        r: dict = {}
        for j, c in enumerate(num_cols):
            v = float(num[i, j])
            pick = rng.integers(0, 6)
            if math.isnan(v):
                r[c] = None if pick < 3 else float("nan")
            elif pick == 0 and math.isfinite(v) and v.is_integer() and abs(v) < 1e9:
                r[c] = int(v)
            elif pick == 1 and math.isfinite(v):
                r[c] = repr(v)  # a numeric string, as a CSV or form field sends it
            else:
                r[c] = v
        for j, c in enumerate(cat_cols):
            s = str(cat[i, j])
            pick = rng.integers(0, 5)
            r[c] = None if s == "" and pick < 3 else (f"  {s} " if pick == 4 else s)
        out.append(r)
    return out


def _frame(spec: dict, records: list[dict]) -> pd.DataFrame:
    cols = spec["inputs"]["numeric"] + spec["inputs"]["categorical"]
    return pd.DataFrame({c: pd.Series([r[c] for r in records], dtype=object) for c in cols})


@pytest.mark.parametrize("name", list(SPECS))
@pytest.mark.parametrize("inputs", ["codes", "tensors", "columns"])
def test_scores_match_the_spec_evaluator(name, inputs):
    spec = SPECS[name]()
    scorer = Scorer(to_onnx(spec, inputs=inputs).SerializeToString())
    records = _records(spec)
    want = evaluate(spec, _frame(spec, records))
    got = scorer.score_many(records)
    np.testing.assert_allclose(got.probabilities, want["probabilities"], atol=1e-6, rtol=0)
    assert got.label.tolist() == want["label"].tolist()
    assert json.dumps(got.to_list()) == json.dumps([got[i] for i in range(len(got))])
    for i, r in enumerate(records):
        one = scorer.score(r)
        k = int(want["label"][i])
        assert one["decision"] == spec["classes"][k] == got.decision[i]
        assert one["probability"] == pytest.approx(
            want["probabilities"][i, k], abs=1e-6, nan_ok=True
        )
        assert json.dumps(one) == json.dumps(got[i])


@pytest.mark.parametrize("name", list(SPECS))
def test_codes_graph_matches_strings_graph_on_adversarial_rows(name):
    spec = SPECS[name]()
    report = check_onnx_parity(to_onnx(spec, inputs="codes"), spec, n_rows=5000, random_state=1)
    assert report.ok and report.label_mismatches == 0, report
    if spec["inputs"]["categorical"]:
        model = to_onnx(spec, inputs="codes")
        assert [i.name for i in model.graph.input] == ["numeric", "categorical"]
        assert (
            model.graph.input[1].type.tensor_type.elem_type == 7
        )  # int64: no string reaches the graph
        assert "LabelEncoder" not in {n.op_type for n in model.graph.node}


def test_codes_clamp_out_of_range_codes_to_missing_and_unseen():
    import onnxruntime as ort

    spec = hs.scorecard_spec()
    model = to_onnx(spec, inputs="codes")
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    num = np.asarray([[36, 9000, 30]] * 3, dtype=np.float32)
    n_check, n_purpose = len(hs.CHECKING), len(hs.PURPOSE)
    clamped = sess.run(
        None, {"numeric": num, "categorical": np.asarray([[-1, 99], [-7, 1000], [0, 1]], np.int64)}
    )
    exact = sess.run(
        None,
        {
            "numeric": num,
            "categorical": np.asarray([[0, n_purpose + 1], [0, n_purpose + 1], [0, 1]], np.int64),
        },
    )
    np.testing.assert_array_equal(clamped[0], exact[0])
    meta = json.loads({p.key: p.value for p in model.metadata_props}["scorer"])
    assert meta["categories"]["checking_status"] == hs.CHECKING and meta["inputs"] == "codes"
    assert len(meta["categories"]["checking_status"]) == n_check


@pytest.mark.parametrize("name", list(SPECS))
def test_explain_gives_the_reason_codes_of_explain_rows(name):
    spec = SPECS[name]()
    scorer = Scorer(to_onnx(spec, inputs="codes").SerializeToString())
    records = _records(spec, n=40, seed=3)
    ref = explain_rows(spec, _frame(spec, records), top=20, counterfactuals=False)
    for r, want in zip(records, ref):
        got = scorer.explain(r, top=20)
        assert len(scorer.explain(r, top=4)["reasons"]) == min(4, len(got["reasons"]))
        assert got["decision"] == want["decision"]
        assert got["probability"] == pytest.approx(want["probability"], abs=1e-6, nan_ok=True)
        if math.isnan(want["probability"]):
            continue
        if spec["kind"] == "rule_list":
            assert got["rule"]["index"] == want["rule"]["index"]
            # a default-rule decision too: the nearest rules' failed conditions, one per feature
            assert [(x["term"], x["features"], x["condition"]) for x in got["reasons"]] == [
                (x["term"], x["features"], x["condition"]) for x in want["reasons"]
            ], (r, got["reasons"], want["reasons"])
            continue
        _same_reasons(got["reasons"], want["reasons"], rtol=1e-3 if spec["kind"] == "mlp" else 1e-6)


def _same_reasons(got: list, want: list, rtol: float) -> None:
    """Same ranked impacts; the same terms except where two impacts tie (float32 vs float64 order).
    Impacts below float32 resolution (MLP occlusion through float32 probabilities) are left out."""
    floor = 1e-3 if rtol > 1e-4 else 1e-6
    got = [x for x in got if x["impact"] > floor]
    want = [x for x in want if x["impact"] > floor]
    assert len(got) == len(want)
    a, b = [x["impact"] for x in got], [x["impact"] for x in want]
    atol = 1e-5 if rtol < 1e-4 else 1e-2  # MLP: logits of float32 probabilities near 0 or 1
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    for i, (x, y) in enumerate(zip(got, want)):
        tied = any(abs(b[i] - v) <= atol + rtol * abs(v) for j, v in enumerate(b) if j != i)
        assert x["term"] == y["term"] or tied, (i, got, want)
        assert x["impact"] > 0 and x["text"]


@pytest.mark.parametrize("inputs", ["codes", "tensors"])
def test_score_many_over_several_blocks_matches_single_records(inputs):
    """prepare() converts block by block: every block, and a bad value in a later block, behave
    as single records do (the error names the record's position in the whole batch)."""
    from distill2rules.scoring import BLOCK

    spec = hs.scorecard_spec()
    scorer = Scorer(to_onnx(spec, inputs=inputs).SerializeToString())
    records = _records(spec, n=2 * BLOCK + 37, seed=3)
    records[BLOCK + 5]["purpose"] = 7  # a number in a categorical field: its canonical string
    records[BLOCK + 6]["duration"] = True
    got = scorer.score_many(records)
    singles = [scorer.score(r) for r in records]
    assert got.to_list() == singles
    num, cat = scorer.prepare(records)
    one_num, one_cat = scorer.prepare(records[BLOCK + 5 : BLOCK + 6])
    np.testing.assert_array_equal(num[BLOCK + 5], one_num[0])
    assert cat[BLOCK + 5].tolist() == one_cat[0].tolist()
    bad = [dict(r) for r in records]
    bad[BLOCK + 9]["credit_amount"] = "lots"
    with pytest.raises(
        RecordError, match=rf"^record {BLOCK + 9}: field 'credit_amount' should be a number"
    ):
        scorer.score_many(bad)
    bad = [dict(r) for r in records]
    bad[2 * BLOCK + 1]["checking_status"] = {"x": 1}
    with pytest.raises(
        RecordError, match=rf"^record {2 * BLOCK + 1}: field 'checking_status' should be a category"
    ):
        scorer.score_many(bad)
    bad = [dict(r) for r in records]
    del bad[BLOCK + 2]["age"]
    bad[BLOCK + 2]["agee"] = 1  # right field count, wrong name
    with pytest.raises(RecordError, match=rf"^record {BLOCK + 2}: missing field\(s\): 'age'"):
        scorer.score_many(bad)
    with pytest.raises(RecordError, match=rf"^record {BLOCK}: a record must be a JSON object"):
        scorer.score_many(records[:BLOCK] + ["x" * 5] + records[BLOCK:])  # type: ignore[list-item]


def test_score_many_runs_an_mlp_in_row_blocks_with_the_same_answers(monkeypatch):
    from distill2rules import scoring

    spec = hs.mlp_spec()
    scorer = Scorer(to_onnx(spec, inputs="codes").SerializeToString())
    records = _records(spec, n=61, seed=5)
    whole = scorer.score_many(records)
    monkeypatch.setattr(scoring, "_RUN_ROWS", {"mlp": 8})  # 7 blocks of 8 and one of 5
    got = scorer.score_many(records)
    want = evaluate(spec, _frame(spec, records))
    assert got.label.tolist() == whole.label.tolist() == want["label"].tolist()
    np.testing.assert_array_equal(got.probabilities, whole.probabilities)
    np.testing.assert_allclose(got.probabilities, want["probabilities"], atol=1e-6, rtol=0)
    assert json.dumps(got.to_list()) == json.dumps([scorer.score(r) for r in records])  # NaN rows


@pytest.mark.parametrize("inputs", ["codes", "tensors"])
def test_memoised_category_texts_stay_exact_and_bounded(inputs, monkeypatch):
    """Texts the code table lacks (padded, unseen) are memoised per column, bounded, and never
    confused with numbers that hash alike (1 == 1.0 == True are different categories)."""
    from distill2rules import scoring

    monkeypatch.setattr(scoring, "_MEMO_SIZE", 5)
    spec = hs.scorecard_spec()
    scorer = Scorer(to_onnx(spec, inputs=inputs).SerializeToString())
    base = {"duration": 36, "credit_amount": 9000.0, "age": 30, "checking_status": "< 0 DM"}
    texts = [" car", "car ", "boat", "1", "True", None, "", "radio/tv"] + [
        f"x{i}" for i in range(20)
    ]
    values = texts + [1, 1.0, True, float("nan")]
    records = [{**base, "purpose": v} for v in values] * 3
    want = evaluate(spec, _frame(spec, records))
    for _ in range(2):  # cold memo, then warm
        got = scorer.score_many(records)
        assert got.label.tolist() == want["label"].tolist()
        np.testing.assert_allclose(got.probabilities, want["probabilities"], atol=1e-6, rtol=0)
        assert [scorer.score(r) for r in records] == got.to_list()
    j = scorer.cat_cols.index("purpose")
    assert len(scorer._lookups[j]) <= len(scorer._tables[j]) + 1 + 5
    _, cat = scorer.prepare([{**base, "purpose": v} for v in ("car", " car", 1, True, "True")])
    assert cat[0, j] == cat[1, j]  # the padded text is the category
    assert cat[2, j] != cat[3, j] or inputs == "codes"  # "1" and "True": both unseen (codes: same)
    with pytest.raises(RecordError, match=r"^record 1: field 'purpose' should be a category"):
        scorer.score_many([{**base, "purpose": "car"}, {**base, "purpose": ["car"]}])


def test_batch_lookup_over_all_columns_keeps_each_columns_codes(monkeypatch):
    """A codes graph's batch path looks every categorical cell up in one dict over all the
    columns' keys: a text one column knows stays unseen in another, texts memoised during a
    batch (more than the table first holds, from several threads at once) keep their own
    column's code, and every answer is the single-record one and the spec evaluator's."""
    import threading

    from distill2rules import scoring

    monkeypatch.setattr(scoring, "BLOCK", 16)  # several blocks, memo entries added between them
    spec = hs.scorecard_spec()
    scorer = Scorer(to_onnx(spec, inputs="codes").SerializeToString())
    j_check, j_purpose = (scorer.cat_cols.index(c) for c in ("checking_status", "purpose"))
    capacity = scorer._code_of.shape[1]
    base = dict(GOOD)
    swapped = [
        {**base, "checking_status": "car", "purpose": "< 0 DM"},  # known texts, wrong column
        {**base, "checking_status": "radio/tv", "purpose": "car"},
        # padded texts are memoised with their column's code: never lent to another column
        {**base, "checking_status": " < 0 DM", "purpose": " car"},
    ]
    fresh = [  # new texts, more than the all-columns table first holds, some in both columns
        {**base, "checking_status": f"t{i}", "purpose": f"t{i // 2}"} for i in range(3 * capacity)
    ]
    lent = [{**base, "checking_status": " car", "purpose": " < 0 DM"}]  # in a later block
    missing = [{**base, "purpose": None}, {**base, "checking_status": ""}]
    records = swapped + fresh + lent + missing
    want = evaluate(spec, _frame(spec, records))
    answers: list = []

    def batch() -> None:
        answers.append(scorer.score_many(records))

    threads = [threading.Thread(target=batch) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    answers.append(scorer.score_many(records))  # warm: every text now memoised
    assert scorer._code_of.shape[1] > capacity  # the table grew
    singles = [scorer.score(r) for r in records]
    for got in answers:
        assert got.label.tolist() == want["label"].tolist()
        np.testing.assert_allclose(got.probabilities, want["probabilities"], atol=1e-6, rtol=0)
        assert got.to_list() == singles
    _, cat = scorer.prepare(records)
    unseen = scorer._unseen
    assert cat[0, j_check] == unseen[j_check] and cat[0, j_purpose] == unseen[j_purpose]
    assert cat[1, j_purpose] == scorer._tables[j_purpose]["car"]
    assert cat[2, j_check] == scorer._tables[j_check]["< 0 DM"]
    assert cat[2, j_purpose] == scorer._tables[j_purpose]["car"]
    assert cat[-3, j_check] == unseen[j_check] and cat[-3, j_purpose] == unseen[j_purpose]
    assert (cat[3:-2, j_check] == unseen[j_check]).all()
    assert cat[-2, j_purpose] == 0 and cat[-1, j_check] == 0  # None and "": missing


@pytest.mark.parametrize("inputs", ["codes", "tensors"])
def test_missing_numbers_in_a_batch_are_nan_as_in_single_records(inputs):
    """A numeric column with nulls is packed again with NaN in their place (one C call); with
    numeric text too it goes value by value: either way, each record's single-record answer."""
    from distill2rules.scoring import BLOCK

    spec = hs.scorecard_spec()
    scorer = Scorer(to_onnx(spec, inputs=inputs).SerializeToString())
    records = [
        {**GOOD, "duration": i % 60, "credit_amount": 500.0 + 37 * i, "age": 20 + i % 50}
        for i in range(BLOCK + 40)
    ]  # plain numbers: only the nulls keep a column off the first packing
    for i in range(0, len(records), 7):
        records[i]["credit_amount"] = None
    records[BLOCK + 3]["age"] = " 41 "  # text in a block that also has nulls
    records[BLOCK + 4]["age"] = None
    num, _ = scorer.prepare(records)
    j = scorer.num_cols.index("credit_amount")
    assert np.isnan(num[::7, j]).all() and np.isnan(num[BLOCK + 4, scorer.num_cols.index("age")])
    assert num[BLOCK + 3, scorer.num_cols.index("age")] == 41
    assert scorer.score_many(records).to_list() == [scorer.score(r) for r in records]


def test_records_are_validated_with_one_clear_error():
    spec = hs.scorecard_spec()
    scorer = Scorer(to_onnx(spec, inputs="codes").SerializeToString())
    good = {
        "duration": 36,
        "credit_amount": 9000.0,
        "age": 30,
        "checking_status": "< 0 DM",
        "purpose": "car",
    }
    assert scorer.score(good)["decision"] == "bad"
    with pytest.raises(RecordError, match=r"missing field\(s\): 'age'") as err:
        scorer.score({k: v for k, v in good.items() if k != "age"})
    assert err.value.field == "age" and isinstance(err.value, ValueError)
    with pytest.raises(RecordError, match=r"unknown field\(s\): 'agee'.*extra='ignore'"):
        scorer.score({**good, "agee": 3})
    with pytest.raises(RecordError, match=r"field 'duration' should be a number, got 'long'"):
        scorer.score({**good, "duration": "long"})
    with pytest.raises(RecordError, match=r"field 'purpose' should be a category .* got list"):
        scorer.explain({**good, "purpose": ["car"]})
    with pytest.raises(RecordError, match="must be a JSON object"):
        scorer.score([1, 2, 3])  # type: ignore[arg-type]
    with pytest.raises(RecordError, match=r"^record 1: field 'age' should be a number"):
        scorer.score_many([good, {**good, "age": {"years": 3}}])
    with pytest.raises(RecordError, match=r"^record 2: missing field"):
        scorer.score_many([good, good, {"duration": 1}])
    # null, NaN, "?" and "" are missing values, not errors; padded categories match
    missing = {
        **good,
        "duration": None,
        "credit_amount": "?",
        "age": float("nan"),
        "checking_status": " < 0 DM ",
    }
    assert scorer.score(missing) == scorer.score(
        {**missing, "duration": "", "checking_status": "< 0 DM"}
    )
    lenient = Scorer(to_onnx(spec).SerializeToString(), extra="ignore")
    assert lenient.score({**good, "id": 7}) == scorer.score(good)
    with pytest.raises(ValueError, match="extra must be"):
        Scorer(to_onnx(spec).SerializeToString(), extra="warn")


def test_load_reads_an_artifact_directory_and_refuses_a_tampered_graph(tmp_path):
    from distill2rules.artifact import write_artifact
    from distill2rules.spec import to_json

    spec = hs.ebm_spec()
    files = {
        "student.json": to_json(spec),
        "student.onnx": to_onnx(spec).SerializeToString(),
        "student.codes.onnx": to_onnx(spec, inputs="codes").SerializeToString(),
    }
    art = write_artifact(tmp_path / "art", files, {"config": {}})
    scorer = Scorer.load(art)
    assert scorer.inputs == "codes" and scorer.path == str(art)  # the faster graph is preferred
    assert Scorer.load(art / "student.onnx").inputs == "tensors"
    assert scorer.schema()["fields"][0]["name"] == "age"
    data = bytearray((art / "student.codes.onnx").read_bytes())
    data[-3] ^= 1
    (art / "student.codes.onnx").write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match="does not match its sha256"):
        Scorer.load(art)
    with pytest.raises(ArtifactError, match="no such model file"):
        Scorer.load(tmp_path / "nope")


def test_graphs_without_scorer_metadata_still_load():
    """Graphs exported before the "scorer" metadata key: rebuilt from the stored spec."""
    import onnx

    spec = hs.scorecard_spec()
    model = to_onnx(spec)
    kept = [p for p in model.metadata_props if p.key != "scorer"]
    del model.metadata_props[:]
    model.metadata_props.extend(kept)
    old = Scorer(model.SerializeToString())
    new = Scorer(to_onnx(spec).SerializeToString())
    r = {
        "duration": 30,
        "credit_amount": 5000.0,
        "age": 40,
        "checking_status": "0 <= X < 200 DM",
        "purpose": "radio/tv",
    }
    assert old.explain(r) == new.explain(r)
    h = onnx.helper
    x = h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1])
    y = h.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1])
    bare = h.make_model(
        h.make_graph([h.make_node("Identity", ["x"], ["y"])], "g", [x], [y]),
        ir_version=10,
        opset_imports=[h.make_opsetid("", 18)],
    )
    with pytest.raises(ValueError, match="no distill2rules metadata"):
        Scorer(bare.SerializeToString())


def test_scorer_imports_no_pandas_and_scores_without_it(tmp_path):
    """The core-install contract: numpy + onnxruntime + stdlib (pandas made unimportable)."""
    spec = hs.scorecard_spec()
    path = tmp_path / "student.codes.onnx"
    path.write_bytes(to_onnx(spec, inputs="codes").SerializeToString())
    code = f"""
import sys
sys.modules['pandas'] = None  # any import of pandas now fails
from distill2rules import Scorer
s = Scorer.load({str(path)!r})
r = {{"duration": 36, "credit_amount": 9000.0, "age": 30, "checking_status": "< 0 DM", "purpose": "car"}}
e = s.explain(r)
assert e["decision"] == "bad" and e["reasons"], e
assert s.score_many([r, r]).decision == ["bad", "bad"]
heavy = [m for m in ("pandas", "scipy", "sklearn", "torch", "lightgbm", "onnx", "typer") if sys.modules.get(m)]
print("heavy:", heavy)
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert out.returncode == 0, out.stderr
    assert "heavy: []" in out.stdout


def test_onnx_feeds_turns_strings_into_codes_for_a_codes_graph():
    spec = hs.scorecard_spec()
    model = to_onnx(spec, inputs="codes")
    feeds = onnx_feeds(model, hs.applicants())
    assert feeds["categorical"].dtype == np.int64
    assert feeds["categorical"].tolist() == [[1, 1], [2, 2], [4, 2], [0, len(hs.PURPOSE) + 1]]


# ----------------------------------------------------------------------------- real fits


FAST = {
    "logreg": {},
    "ebm": {"interactions": 2, "outer_bags": 1, "max_bins": 64},
    "rules": {"max_rules": 6},
    "mlp": {"hidden": [16], "epochs": 10},
}


@pytest.fixture(scope="module")
def adult_fits(tmp_path_factory):
    """Small real students distilled from a real LightGBM teacher on 3,000 Adult rows."""
    import os

    os.environ.setdefault("DISTILL2RULES_N_JOBS", "1")
    from distill2rules.data import load_dataset, split_frame
    from distill2rules.pipeline import distill
    from distill2rules.teachers import train_teacher

    ds = load_dataset("adult")
    frame = ds.frame.sample(n=3000, random_state=0).reset_index(drop=True)
    path = tmp_path_factory.mktemp("adult_teacher") / "model.txt"
    train_teacher(
        "gbt",
        frame.drop(columns=[ds.target]),
        frame[ds.target],
        out=path,
        seed=0,
        n_estimators=30,
        n_jobs=1,
        progress=False,
    )
    X = split_frame(frame, ds.target, seed=0).test.drop(columns=[ds.target]).head(300)
    specs = {
        s: distill(
            path,
            frame,
            target=ds.target,
            student=s,
            seed=0,
            baseline=False,
            calibrate=False,
            progress=False,
            student_params=p,
            adverse_class=">50K",
        ).spec
        for s, p in FAST.items()
    }
    return specs, X


@needs_data
@pytest.mark.slow
@pytest.mark.parametrize("student", list(FAST))
def test_real_fits_codes_vs_strings_vs_spec(adult_fits, torch_one_thread, student):
    specs, X = adult_fits
    spec = specs[student]
    assert spec["inputs"]["categorical"], "Adult students read categorical columns"
    records = X.to_dict("records")
    want = evaluate(spec, X)
    codes = Scorer(to_onnx(spec, inputs="codes").SerializeToString())
    strings = Scorer(to_onnx(spec, inputs="tensors").SerializeToString())
    a, b = codes.score_many(records), strings.score_many(records)
    np.testing.assert_allclose(a.probabilities, want["probabilities"], atol=1e-5, rtol=0)
    np.testing.assert_array_equal(a.label, want["label"])
    np.testing.assert_array_equal(a.probabilities, b.probabilities)
    report = check_onnx_parity(to_onnx(spec, inputs="codes"), spec, n_rows=3000, random_state=0)
    assert report.ok, report
    ref = explain_rows(spec, X.head(60), top=30, counterfactuals=False)
    for r, w in zip(records[:60], ref):
        got = codes.explain(r, top=30)
        assert got == strings.explain(r, top=30)
        assert got["decision"] == w["decision"]
        if student == "rules":
            assert got["rule"]["index"] == w["rule"]["index"]
        else:
            _same_reasons(got["reasons"], w["reasons"], rtol=1e-3 if student == "mlp" else 1e-5)

"""An artifact means what it says: tampered parts are caught by verify, refused by every reader.

Attack class: an artifact edited after `fit` — with the manifest re-hashed (so hashes alone pass)
or without (so only the hashes give it away). `verify` must catch cross-part disagreement;
`predict`, `explain`, `export`, `report` and `evaluate` must refuse a changed artifact (exit 2)
and never re-bless it by re-hashing the manifest.
"""

from __future__ import annotations

import json
import math

import pytest
from security_helpers import edit_json, rehash

from distill2rules.errors import ArtifactError


def _verify_fails(cli, art, *words):
    r = cli("verify", art)
    assert r.code == 2, r.out + r.err
    assert "internal error" not in r.err
    for w in words:
        assert w in r.err, r.err
    return r


def test_intact_artifact_verifies(cli, art):
    r = cli("verify", art)
    assert r.code == 0, r.err
    assert "consistent" in r.out


def test_swapped_classes_rehashed_fail_verify(cli, art):
    """The red-team case: classes [bad, good] -> [good, bad] in student.json, manifest re-hashed."""
    edit_json(
        art / "student.json", lambda s: s.__setitem__("classes", list(reversed(s["classes"])))
    )
    rehash(art)
    _verify_fails(cli, art, "classes")


def test_adverse_class_rehashed_fails_verify(cli, art):
    edit_json(art / "student.json", lambda s: s["meta"].__setitem__("adverse_class", "good"))
    rehash(art)
    _verify_fails(cli, art, "adverse class")


def test_calibration_rehashed_fails_verify(cli, art):
    def scale(s):
        s["calibration"]["scale"] = 3.0

    edit_json(art / "student.json", scale)
    rehash(art)
    _verify_fails(cli, art, "calibration")


def test_inputs_rehashed_fail_verify(cli, art):
    def drop_input(s):
        s["inputs"]["numeric"] = s["inputs"]["numeric"][::-1]

    edit_json(art / "baseline.json", drop_input)
    rehash(art)
    _verify_fails(cli, art, "baseline.json")


def test_onnx_metadata_classes_rehashed_fail_verify(cli, art):
    import onnx

    model = onnx.load(art / "student.onnx")
    for p in model.metadata_props:
        if p.key == "classes":
            p.value = json.dumps(["good", "bad"])
    (art / "student.onnx").write_bytes(model.SerializeToString())
    rehash(art)
    _verify_fails(cli, art, "student.onnx")


@pytest.mark.parametrize("command", ["predict", "explain", "export", "report", "evaluate"])
def test_readers_refuse_a_changed_artifact_and_never_rebless_it(
    cli, art, rows_csv, german_gbt, tmp_path, command
):
    edit_json(
        art / "student.json", lambda s: s.__setitem__("classes", list(reversed(s["classes"])))
    )
    manifest_before = (art / "manifest.json").read_bytes()
    args = {
        "predict": ["predict", art, "--data", rows_csv, "--out", tmp_path / "p.csv"],
        "explain": ["explain", art, "--data", rows_csv, "--no-counterfactuals"],
        "export": ["export", art, "--format", "rulecard"],
        "report": ["report", art, "-q"],
        "evaluate": [
            "evaluate",
            art,
            "--data",
            "german_credit",
            "--teacher",
            german_gbt,
            "--shap-rows",
            5,
            "--latency-calls",
            0,
            "--sigmas",
            "0.05",
            "-q",
        ],
    }[command]
    r = cli(*args)
    assert r.code == 2, r.out + r.err
    assert "changed after it was written" in r.err and "student.json" in r.err
    assert (art / "manifest.json").read_bytes() == manifest_before  # not re-hashed
    assert not (tmp_path / "p.csv").exists()
    assert cli("verify", art).code == 2  # still caught


def test_unlisted_file_is_refused(cli, art, rows_csv, tmp_path):
    (art / "extra.onnx").write_bytes(b"not a model")
    r = cli("predict", art, "--data", rows_csv, "--out", tmp_path / "p.csv")
    assert r.code == 2 and "unlisted" in r.err


def test_update_artifact_refuses_a_tampered_artifact(art):
    from distill2rules.artifact import update_artifact

    (art / "metrics.json").write_text("{}")
    with pytest.raises(ArtifactError, match="changed after it was written"):
        update_artifact(art, {"note.txt": "x"})


def test_predict_refuses_non_finite_probabilities(cli, art, rows_csv, tmp_path):
    """A NaN intercept (JSON accepts NaN) must not give blank probabilities with exit 0."""
    text = (art / "student.json").read_text()
    spec = json.loads(text)
    spec["intercept"] = [math.nan for _ in spec["intercept"]]
    (art / "student.json").write_text(json.dumps(spec))
    rehash(art)
    r = cli("predict", art, "--data", rows_csv, "--out", tmp_path / "p.csv")
    assert r.code == 2, r.out + r.err
    assert "non-finite" in r.err
    assert not (tmp_path / "p.csv").exists()


# ----------------------------------------------------------------------------- signing


def test_signature_round_trip_and_tamper(cli, art, tmp_path):
    from distill2rules.artifact import read_sign_key, sign_artifact

    key_file = tmp_path / "key"
    key_file.write_text("0123456789abcdef0123456789abcdef\n")
    other = tmp_path / "other"
    other.write_text("fedcba9876543210fedcba9876543210\n")
    sign_artifact(art, read_sign_key(key_file))
    ok = cli("verify", art, "--sign-key", key_file)
    assert ok.code == 0 and "signature valid" in ok.out, ok.err
    assert "not checked" in cli("verify", art).out
    wrong = cli("verify", art, "--sign-key", other)
    assert wrong.code == 2 and "another key" in wrong.err
    # a rehashed edit keeps the signature block, but the MAC no longer matches
    edit_json(art / "metrics.json", lambda m: m.__setitem__("seed", 99))
    rehash(art)
    bad = cli("verify", art, "--sign-key", key_file)
    assert bad.code == 2 and "signature does not match" in bad.err


def test_signed_files_cannot_be_replaced_but_reports_are_unsigned_additions(cli, art, tmp_path):
    from distill2rules.artifact import read_sign_key, sign_artifact

    key_file = tmp_path / "key"
    key_file.write_text("0123456789abcdef0123456789abcdef")
    sign_artifact(art, read_sign_key(key_file))
    r = cli("export", art, "--format", "rulecard")
    assert r.code == 2 and "signature" in r.err
    assert cli("report", art, "-q").code == 0
    ok = cli("verify", art, "--sign-key", key_file, "--json")
    assert ok.code == 0, ok.err
    assert json.loads(ok.out)["signature"]["unsigned_files"] == ["report.html"]


def test_unsigned_artifact_fails_a_key_check_and_short_keys_are_refused(cli, art, tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text("0123456789abcdef0123456789abcdef")
    r = cli("verify", art, "--sign-key", key_file)
    assert r.code == 2 and "not signed" in r.err
    short = tmp_path / "short"
    short.write_text("abc")
    r = cli("verify", art, "--sign-key", short)
    assert r.code == 2 and "at least 16" in r.err


# ----------------------------------------------------------------------------- serve


def test_serve_refuses_a_changed_artifact(cli, art):
    """`serve` checks every file's hash before binding, as predict/explain do (the graph itself is intact)."""
    edit_json(
        art / "student.json", lambda s: s.__setitem__("classes", list(reversed(s["classes"])))
    )
    manifest_before = (art / "manifest.json").read_bytes()
    r = cli("serve", art, "--port", 0)
    assert r.code == 2, r.out + r.err
    assert "changed after it was written" in r.err and "student.json" in r.err
    assert "Traceback" not in r.err and "internal error" not in r.err
    # the graph file of that artifact, passed on its own, is refused too
    r = cli("serve", art / "student.onnx", "--port", 0)
    assert r.code == 2 and "changed after it was written" in r.err
    assert (art / "manifest.json").read_bytes() == manifest_before


def test_serve_refuses_an_unlisted_file_and_a_folder_without_manifest(art, tmp_path):
    import shutil

    from distill2rules.server import make_server

    (art / "rulecard.json").write_text('{"summary": "<script>forged</script>"}')
    with pytest.raises(ArtifactError, match="unlisted"):
        make_server(art, port=0)
    bare = tmp_path / "bare"
    bare.mkdir()
    shutil.copy(art / "student.onnx", bare / "student.onnx")
    with pytest.raises(ArtifactError, match="no manifest.json"):
        make_server(bare, port=0)


def test_serve_builds_the_model_card_from_verified_parts(art, tmp_path):
    import shutil

    from distill2rules.server import make_server

    srv = make_server(art, port=0)
    try:
        card = json.loads(srv.model_json)["rulecard"]
        assert card and card["summary"]
    finally:
        srv.server_close()
    # a bare graph outside any artifact: the card comes from the graph's own spec, never from neighbours
    solo = tmp_path / "solo"
    solo.mkdir()
    shutil.copy(art / "student.onnx", solo / "model.onnx")
    (solo / "rulecard.json").write_text('{"summary": "forged"}')
    srv = make_server(solo / "model.onnx", port=0)
    try:
        assert json.loads(srv.model_json)["rulecard"]["summary"] != "forged"
    finally:
        srv.server_close()

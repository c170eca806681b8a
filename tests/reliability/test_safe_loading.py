"""No code execution from model files: pickles are refused end to end, archives cannot escape,
artifacts are JSON/ONNX only and loading one never resolves a pickle global."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
from reliability_helpers import leftovers, needs_data

from distill2rules.errors import TeacherError, UnsafeFileError

pytestmark = needs_data


class _Evil:
    """Unpickling this creates ``marker``: proof that the file ran code."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _torch_save(obj, path: Path) -> None:
    import torch

    torch.save(obj, path)


def _pickle_dump(obj, path: Path) -> None:
    with open(path, "wb") as fh:
        pickle.dump(obj, fh)


def _joblib_dump(obj, path: Path) -> None:
    import joblib

    joblib.dump(obj, path)


MALICIOUS = {
    "model.pt (torch.save zip)": ("model.pt", lambda m, p: _torch_save({"0.weight": _Evil(m)}, p)),
    "legacy.pt (raw pickle)": ("legacy.pt", lambda m, p: _pickle_dump(_Evil(m), p)),
    "model.pkl (pickle)": ("model.pkl", lambda m, p: _pickle_dump(_Evil(m), p)),
    "model.joblib (joblib)": ("model.joblib", lambda m, p: _joblib_dump(_Evil(m), p)),
    "model.pkl (joblib, zlib)": (
        "model.pkl",
        lambda m, p: __import__("joblib").dump(_Evil(m), p, compress=3),
    ),
}


@pytest.mark.parametrize("case", list(MALICIOUS))
def test_fit_refuses_a_pickle_that_would_run_code(cli, german_csv, tmp_path, case):
    name, build = MALICIOUS[case]
    marker = tmp_path / "PWNED"
    teacher = tmp_path / name
    build(marker, teacher)
    out = tmp_path / "arts" / "out"
    r = cli(
        "fit",
        "--teacher",
        teacher,
        "--data",
        german_csv,
        "--target",
        "credit_risk",
        "--student",
        "logreg",
        "--out",
        out,
        "-q",
    )
    assert r.code == 2, r.err
    lines = r.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "--trust-pickle" in lines[0], r.err
    assert "Traceback" not in r.err
    assert not marker.exists(), "the pickle ran code"
    assert not out.exists() and leftovers(out) == []


def test_distill_api_raises_unsafe_file_error(german_csv, tmp_path):
    from distill2rules.pipeline import distill

    marker = tmp_path / "PWNED"
    _torch_save({"w": _Evil(marker)}, tmp_path / "model.pt")
    with pytest.raises(UnsafeFileError, match="--trust-pickle"):
        distill(
            tmp_path / "model.pt",
            german_csv,
            target="credit_risk",
            student="logreg",
            out=tmp_path / "o",
            progress=False,
        )
    assert not marker.exists() and not (tmp_path / "o").exists()


def test_a_whole_pickled_torch_module_is_refused(cli, german_csv, tmp_path):
    """torch.save(module) pickles the class: weights_only loading refuses it, no code runs."""
    from torch import nn

    _torch_save(nn.Sequential(nn.Linear(20, 2)), tmp_path / "net.pt")
    r = cli(
        "fit",
        "--teacher",
        tmp_path / "net.pt",
        "--data",
        german_csv,
        "--target",
        "credit_risk",
        "--out",
        tmp_path / "o",
        "-q",
    )
    assert r.code == 2 and "--trust-pickle" in r.err, r.err
    assert not (tmp_path / "o").exists()


def _torchscript_with_member(tmp_path: Path, member: str) -> Path:
    import torch
    from torch import nn

    good = tmp_path / "good.pt"
    torch.jit.save(torch.jit.trace(nn.Linear(20, 2), torch.zeros(1, 20)), str(good))
    bad = tmp_path / "bad.pt"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item))
        dst.writestr(member, "overwrite me")
    return bad


@pytest.mark.parametrize(
    "member",
    ["../escape.txt", "good/../../escape.txt", "/tmp/distill2rules-escape.txt", "C:/evil.txt"],
)
def test_archive_member_paths_cannot_escape(cli, german_csv, tmp_path, member):
    bad = _torchscript_with_member(tmp_path, member)
    out = tmp_path / "o"
    r = cli(
        "fit", "--teacher", bad, "--data", german_csv, "--target", "credit_risk", "--out", out, "-q"
    )
    assert r.code == 2, r.err
    assert "unsafe path" in r.err and r.err.count("\n") == 1, r.err
    assert not out.exists()
    assert not (tmp_path.parent / "escape.txt").exists()
    for fmt in ("torchscript", "torch_state_dict"):  # forcing the format does not skip the check
        from distill2rules.teachers import load_teacher

        with pytest.raises(TeacherError, match="unsafe path"):
            load_teacher(bad, format=fmt)


def test_manifest_entries_cannot_escape_the_artifact(cli, german_artifact, tmp_path):
    """A tampered manifest naming ../ or absolute paths is refused by verify, predict and export."""
    import shutil

    art = tmp_path / "art"
    shutil.copytree(german_artifact, art)
    secret = tmp_path / "secret.txt"
    secret.write_text("do not copy me")
    m = json.loads((art / "manifest.json").read_text())
    m["files"]["../secret.txt"] = "0" * 64
    (art / "manifest.json").write_text(json.dumps(m))
    for args in (("verify", art), ("export", art, "--format", "onnx")):
        r = cli(*args)
        assert r.code == 2 and "outside the artifact" in r.err, (args, r.err)
    assert not (art / "secret.txt").exists()


def test_artifacts_hold_only_json_onnx_and_text(german_artifact):
    import onnx

    names = sorted(p.name for p in german_artifact.rglob("*") if p.is_file())
    assert "student.json" in names and "student.onnx" in names
    for p in german_artifact.rglob("*"):
        if not p.is_file():
            continue
        raw = p.read_bytes()
        assert not raw.startswith(b"\x80") and not raw.startswith(b"PK"), (
            f"{p.name} looks like a pickle/zip"
        )
        if p.suffix == ".json":
            json.loads(raw.decode("utf-8"))
        elif p.suffix == ".onnx":
            onnx.checker.check_model(onnx.load_from_string(raw))
        else:
            assert p.suffix in {".md", ".html"}, p.name
            raw.decode("utf-8")


def test_using_an_artifact_never_unpickles(german_artifact, german_frame, tmp_path):
    """verify / predict / explain / export run under an audit hook that aborts on any pickle global lookup."""
    import shutil

    art = tmp_path / "art"
    shutil.copytree(german_artifact, art)
    rows = tmp_path / "rows.csv"
    german_frame.drop(columns="credit_risk").head(20).to_csv(rows, index=False)
    script = textwrap.dedent(f"""
        import sys
        def hook(event, args):
            if event == "pickle.find_class":
                print("UNPICKLE", event, args[:2], file=sys.stderr)
                import os; os._exit(99)
        from distill2rules.cli.main import main
        sys.addaudithook(hook)
        for argv in (["verify", {str(art)!r}], ["predict", {str(art)!r}, "--data", {str(rows)!r}, "--out", {str(tmp_path / "p.csv")!r}],
                     ["explain", {str(art)!r}, "--data", {str(rows)!r}, "--top", "2", "--json"], ["export", {str(art)!r}, "--format", "rulecard"]):
            try:
                main(argv)
            except SystemExit as exc:
                if exc.code:
                    print("FAILED", argv[0], exc.code, file=sys.stderr); sys.exit(3)
        print("ALL OK")
    """)
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "ALL OK" in proc.stdout and "UNPICKLE" not in proc.stderr
    assert (tmp_path / "p.csv").is_file()

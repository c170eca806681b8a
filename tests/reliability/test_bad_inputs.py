"""The bad-input matrix: every case fails with ONE line naming the problem and the fix, exit code 2,
no traceback, no artifact and no temp directory left behind, both through the CLI and ``distill()``.

Decisions (see docs/security.md): NaN in a feature is a legal missing value; ±inf and huge values
are clipped by the students, and a teacher that turns them into NaN/inf logits is a clear error.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from reliability_helpers import leftovers, needs_data, numeric_csv, onnx_teacher

from distill2rules.errors import (
    ConfigError,
    DataError,
    Distill2RulesError,
    SchemaError,
    TeacherError,
)

pytestmark = needs_data


@dataclass
class Case:
    """``build(tmp, ctx) -> (teacher, data, target, cli_extra, api_extra)``."""

    build: Callable[[Path, dict], tuple]
    error: type[Distill2RulesError]
    match: str
    flags: dict[str, Any] = field(default_factory=dict)


def _german(
    tmp: Path, ctx: dict, name: str, frame: pd.DataFrame | None = None, raw: bytes | None = None
):
    p = tmp / name
    if raw is not None:
        p.write_bytes(raw)
    else:
        (ctx["frame"] if frame is None else frame).to_csv(p, index=False)
    return ctx["teacher"], p, "credit_risk", [], {}


def _with(flags_cli: list[str], api: dict):
    def build(tmp, ctx):
        return ctx["teacher"], ctx["csv"], "credit_risk", flags_cli, api

    return build


def _numeric(teacher_kind: str, negative: bool, inf: bool = False):
    def build(tmp, ctx):
        df = numeric_csv(tmp / "num.csv", negative=negative)
        if inf:
            df.loc[::9, "b"] = np.inf
            df.loc[4::9, "c"] = -np.inf
            df.to_csv(tmp / "num.csv", index=False)
        return onnx_teacher(tmp / "t.onnx", teacher_kind), tmp / "num.csv", "y", [], {}

    return build


def _teacher_file(name: str, content: Callable[[dict], bytes]):
    def build(tmp, ctx):
        p = tmp / name
        p.write_bytes(content(ctx))
        return p, ctx["csv"], "credit_risk", [], {}

    return build


def _torchscript_truncated(ctx: dict) -> bytes:
    import io

    import torch
    from torch import nn

    buf = io.BytesIO()
    torch.jit.save(torch.jit.trace(nn.Linear(20, 2), torch.zeros(1, 20)), buf)
    raw = buf.getvalue()
    return raw[: len(raw) // 2]


def _frame_edit(fn: Callable[[pd.DataFrame], pd.DataFrame]):
    def build(tmp, ctx):
        return _german(tmp, ctx, "edited.csv", frame=fn(ctx["frame"].copy()))

    return build


def _dup_columns(df: pd.DataFrame) -> pd.DataFrame:
    df.columns = [c if c != "age" else "duration_months" for c in df.columns]
    return df


def _nan_target(df):
    df.loc[[3, 30], "credit_risk"] = np.nan
    return df


CASES: dict[str, Case] = {
    "data file missing": Case(
        lambda t, c: (c["teacher"], t / "nope.csv", "credit_risk", [], {}),
        DataError,
        r"nope\.csv: not found.*Check the path",
    ),
    "data file empty": Case(
        lambda t, c: _german(t, c, "empty.csv", raw=b""), DataError, r"is empty"
    ),
    "header only": Case(
        lambda t, c: _german(t, c, "hdr.csv", raw=b"a,b,credit_risk\n"),
        DataError,
        r"has no data rows",
    ),
    "wrong delimiter": Case(
        lambda t, c: _german(
            t, c, "hash.csv", raw=c["frame"].to_csv(index=False, sep="#").encode()
        ),
        DataError,
        r"read as one column.*wrong delimiter.*--sep",
    ),
    "ragged rows": Case(
        lambda t, c: _german(
            t, c, "rag.csv", raw=b"a,b,credit_risk\n1,2,good\n3,4,bad,5,6,7\n" * 1
        ),
        DataError,
        r"cannot parse.*--sep",
    ),
    "non-UTF-8 bytes": Case(
        lambda t, c: _german(
            t, c, "latin.csv", raw=c["csv"].read_bytes().replace(b"< 0 DM", b"< 0 \xe9DM")
        ),
        DataError,
        r"not valid UTF-8: byte 0xe9.*--encoding latin-1",
    ),
    "target missing": Case(
        lambda t, c: (c["teacher"], c["csv"], "nope", [], {}),
        DataError,
        r"has no column 'nope'.*--target",
    ),
    "target not given": Case(
        lambda t, c: (c["teacher"], c["csv"], None, [], {}),
        DataError,
        r"needs a target column.*--target",
    ),
    "target one class": Case(
        _frame_edit(lambda d: d.assign(credit_risk="good")),
        DataError,
        r"one class|1 class|single class",
    ),
    "target NaN": Case(
        _frame_edit(_nan_target),
        DataError,
        r"target 'credit_risk' has 2 missing values.*Drop those rows",
    ),
    "duplicated columns": Case(
        _frame_edit(_dup_columns), DataError, r"duplicated column names.*'duration_months'.*Rename"
    ),
    "unknown column (monotone)": Case(
        _with(["--monotone", "nosuch:+"], {"student_params": {"monotone": "nosuch:+"}}),
        ConfigError,
        r"unknown column.*nosuch",
    ),
    "teacher lacks a column": Case(
        _frame_edit(lambda d: d.drop(columns="duration_months")),
        SchemaError,
        r"teacher expects columns duration_months that the data lacks.*Pass the data",
    ),
    "teacher column renamed": Case(
        _frame_edit(lambda d: d.rename(columns={"age": "age_years"})),
        SchemaError,
        r"teacher expects columns age that the data lacks",
    ),
    "teacher file missing": Case(
        lambda t, c: (t / "model.txt", c["csv"], "credit_risk", [], {}),
        TeacherError,
        r"does not exist.*--teacher",
    ),
    "teacher file empty": Case(
        _teacher_file("model.txt", lambda c: b""), TeacherError, r"is empty"
    ),
    "corrupted model.txt": Case(
        _teacher_file("model.txt", lambda c: c["teacher"].read_bytes()[:6000]),
        TeacherError,
        r"not a complete LightGBM model.*re-save it",
    ),
    "corrupted ONNX": Case(
        _teacher_file("model.onnx", lambda c: b"\x08\x07" + b"\xff garbage" * 40),
        TeacherError,
        r"onnxruntime could not load model\.onnx.*corrupted",
    ),
    "corrupted TorchScript": Case(
        _teacher_file("model.pt", _torchscript_truncated),
        TeacherError,
        r"model\.pt.*(corrupt|truncat|not a)",
    ),
    "teacher NaN logits": Case(
        _numeric("sqrt", negative=True),
        TeacherError,
        r"teacher returned NaN/inf logits for \d+ rows",
    ),
    "±inf features, teacher gives NaN": Case(
        _numeric("linear", negative=False, inf=True),
        TeacherError,
        r"NaN/inf logits .*infinite.*replace infinite values",
    ),
    "temperature negative": Case(
        _with(["--temperature", "-2"], {"temperature": -2}),
        ConfigError,
        r"temperature must be >= 0, got -2.*Use 0",
    ),
    "temperature NaN": Case(
        _with(["--temperature", "nan"], {"temperature": float("nan")}),
        ConfigError,
        r"temperature must be >= 0, got nan",
    ),
    "alpha negative": Case(
        _with(["--alpha", "-0.1"], {"alpha": -0.1}),
        ConfigError,
        r"alpha must be in \[0, 1\], got -0.1",
    ),
    "alpha above 1": Case(
        _with(["--alpha", "1.5"], {"alpha": 1.5}),
        ConfigError,
        r"alpha must be in \[0, 1\], got 1.5",
    ),
    "out is a non-artifact folder": Case(
        _with([], {}),
        Distill2RulesError,
        r"exists and is not a distill2rules artifact.*--out",
        flags={"out_exists": True},
    ),
}


@pytest.fixture(scope="module")
def ctx(german_gbt, german_frame, german_csv):
    return {"teacher": german_gbt, "frame": german_frame, "csv": german_csv}


def _out(tmp_path: Path, case: Case) -> Path:
    out = tmp_path / "arts" / "out"
    out.parent.mkdir()
    if case.flags.get("out_exists"):
        out.mkdir()
        (out / "notes.txt").write_text("precious")
    return out


def _assert_nothing_written(out: Path, case: Case) -> None:
    if case.flags.get("out_exists"):
        assert (out / "notes.txt").read_text() == "precious" and sorted(
            p.name for p in out.iterdir()
        ) == ["notes.txt"]
    else:
        assert not out.exists(), "an artifact directory was left behind"
    assert leftovers(out) == [], leftovers(out)


def _fit_args(teacher, data, out, *extra) -> list:
    """The CLI arguments of a quiet logreg ``fit`` without a baseline."""
    return [
        "fit",
        "--teacher",
        teacher,
        "--data",
        data,
        "--student",
        "logreg",
        "--out",
        out,
        "-q",
        "--no-baseline",
        *extra,
    ]


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_cli(cli, ctx, tmp_path, name):
    case = CASES[name]
    teacher, data, target, extra, _ = case.build(tmp_path, ctx)
    out = _out(tmp_path, case)
    args = _fit_args(teacher, data, out, *extra)
    if target is not None:
        args += ["--target", target]
    r = cli(*args)
    assert r.code == 2, (r.code, r.err)
    lines = [ln for ln in r.err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), r.err
    assert "Traceback" not in r.err
    assert pytest.importorskip("re").search(case.match, lines[0]), lines[0]
    _assert_nothing_written(out, case)
    CLI_RESULTS[name] = lines[0]


CLI_RESULTS: dict[str, str] = {}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_api(ctx, tmp_path, name):
    from distill2rules.pipeline import distill

    case = CASES[name]
    teacher, data, target, _, api = case.build(tmp_path, ctx)
    out = _out(tmp_path, case)
    with pytest.raises(case.error, match=case.match) as exc:
        distill(
            teacher,
            data,
            target=target,
            student="logreg",
            baseline=False,
            out=out,
            progress=False,
            **api,
        )
    assert "\n" not in str(exc.value)
    assert exc.value.hint, f"no fix named for {name!r}: {exc.value}"
    _assert_nothing_written(out, case)


# ----------------------------------------------------------------------------- accepted inputs


def _fit_ok(cli, teacher, data, target, out, *extra):
    r = cli(*_fit_args(teacher, data, out, "--target", target, *extra))
    assert r.code == 0, r.err
    assert cli("verify", out).code == 0
    return json.loads((out / "student.json").read_text())


def test_nan_features_are_missing_values(cli, ctx, tmp_path):
    df = ctx["frame"].copy()
    df.loc[::5, "duration_months"] = np.nan
    df.loc[::7, "purpose"] = np.nan
    df.to_csv(tmp_path / "nan.csv", index=False)
    _fit_ok(cli, ctx["teacher"], tmp_path / "nan.csv", "credit_risk", tmp_path / "o")


def test_inf_and_huge_features_are_clipped(cli, ctx, tmp_path):
    """LightGBM scores ±inf/1e300 finitely; the student clips them and predicts finite probabilities."""
    from distill2rules.serve import predict_frame

    df = ctx["frame"].copy()
    df["credit_amount"] = df["credit_amount"].astype(float)
    df.loc[::11, "credit_amount"] = np.inf
    df.loc[3::11, "credit_amount"] = -np.inf
    df.loc[5::11, "age"] = 1e300
    df.to_csv(tmp_path / "inf.csv", index=False)
    _fit_ok(cli, ctx["teacher"], tmp_path / "inf.csv", "credit_risk", tmp_path / "o")
    p = predict_frame(tmp_path / "o", df.drop(columns="credit_risk")).to_numpy()
    assert np.isfinite(p).all() and np.allclose(p.sum(axis=1), 1.0)


def test_unseen_categories_and_missing_values_at_predict_time(cli, ctx, tmp_path, german_artifact):
    rows = ctx["frame"].drop(columns="credit_risk").head(30).copy()
    rows.loc[rows.index[:10], "purpose"] = "spaceship"
    rows.loc[rows.index[10:15], "housing"] = np.nan
    rows.loc[rows.index[15:20], "duration_months"] = np.nan
    rows.to_csv(tmp_path / "rows.csv", index=False)
    r = cli(
        "predict", german_artifact, "--data", tmp_path / "rows.csv", "--out", tmp_path / "p.csv"
    )
    assert r.code == 0, r.err
    p = pd.read_csv(tmp_path / "p.csv").to_numpy()
    assert (
        p.shape == (30, 2) and np.isfinite(p).all() and np.allclose(p.sum(axis=1), 1.0, atol=1e-6)
    )


def test_non_utf8_data_works_with_the_named_fix(cli, ctx, tmp_path):
    raw = ctx["csv"].read_bytes().replace(b"< 0 DM", b"< 0 \xe9DM").replace(b",", b"#")
    (tmp_path / "latin.csv").write_bytes(raw)
    spec = _fit_ok(
        cli,
        ctx["teacher"],
        tmp_path / "latin.csv",
        "credit_risk",
        tmp_path / "o",
        "--encoding",
        "latin-1",
        "--sep",
        "#",
    )
    assert spec["classes"] == ["bad", "good"]

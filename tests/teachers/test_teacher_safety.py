"""Unsafe and broken teacher files fail with one clear line, and never run code."""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from teacher_helpers import numeric_frame, save_torchscript

from distill2rules.errors import SchemaError, TeacherError, UnsafeFileError
from distill2rules.teachers import (
    check_features,
    check_zip_members,
    detect_format,
    load_teacher,
    write_sidecar,
)


class _Evil:
    """Unpickling this creates the marker file: proof that code ran."""

    marker: str = ""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert "\n" not in text, text
    return text


# ----------------------------------------------------------------------------- pickles


def test_malicious_pickle_pt_is_refused_and_never_runs(tmp_path):
    import torch

    marker = tmp_path / "PWNED"
    torch.save({"weights": _Evil(marker)}, tmp_path / "model.pt")
    assert detect_format(tmp_path / "model.pt") == "torch_state_dict"
    with pytest.raises(UnsafeFileError, match="can run code when loaded.*--trust-pickle") as exc:
        load_teacher(tmp_path / "model.pt")
    _one_line(exc)
    assert not marker.exists()


def test_malicious_raw_pickle_pt_is_refused(tmp_path):
    marker = tmp_path / "PWNED"
    with open(tmp_path / "legacy.pt", "wb") as fh:
        pickle.dump(_Evil(marker), fh)
    with pytest.raises(UnsafeFileError, match="--trust-pickle"):
        load_teacher(tmp_path / "legacy.pt")
    assert not marker.exists()


@pytest.mark.parametrize("name", ["model.pkl", "model.joblib", "no_extension"])
def test_malicious_pkl_is_refused_and_never_runs(tmp_path, name):
    marker = tmp_path / "PWNED"
    with open(tmp_path / name, "wb") as fh:
        pickle.dump(_Evil(marker), fh)
    assert detect_format(tmp_path / name) == "pickle"
    with pytest.raises(
        UnsafeFileError,
        match=rf"{name} is a pickle, which can run code when loaded; "
        r"re-export it with skops or ONNX, or pass --trust-pickle",
    ):
        load_teacher(tmp_path / name)
    assert not marker.exists()


def test_pickle_loads_only_when_trusted(tmp_path):
    import joblib
    from sklearn.linear_model import LogisticRegression

    X, y = numeric_frame(80, d=2)
    lr = LogisticRegression().fit(X, y)
    joblib.dump(lr, tmp_path / "lr.joblib", compress=3)
    with pytest.raises(UnsafeFileError):
        load_teacher(tmp_path / "lr.joblib")
    t = load_teacher(tmp_path / "lr.joblib", trust_pickle=True)
    assert t.kind == "pickle" and t.describe()["trusted_pickle"] is True
    np.testing.assert_allclose(t.predict_proba(X), lr.predict_proba(X), atol=1e-6)
    np.testing.assert_allclose(t.logits(X)[:, 1], lr.decision_function(X), atol=1e-6)


def test_skops_untrusted_types_are_listed(tmp_path):
    import skops.io as sio
    from sklearn.tree import DecisionTreeClassifier

    X, y = numeric_frame(80, d=2)
    tree = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y)
    sio.dump(tree, tmp_path / "tree.skops")
    with pytest.raises(UnsafeFileError, match=r"sklearn\.tree\._tree\.Tree.*--trust-pickle") as exc:
        load_teacher(tmp_path / "tree.skops")
    _one_line(exc)
    t = load_teacher(tmp_path / "tree.skops", trust_pickle=True)
    np.testing.assert_allclose(
        t.predict_proba(X),
        np.clip(tree.predict_proba(X), 1e-7, None)
        / np.clip(tree.predict_proba(X), 1e-7, None).sum(1, keepdims=True),
        atol=1e-9,
    )
    assert t.n_parameters() == tree.tree_.node_count


# ----------------------------------------------------------------------------- archives


def test_zip_with_parent_member_is_rejected_before_loading(tmp_path):
    import torch
    from torch import nn

    good = save_torchscript(nn.Linear(2, 2), torch.zeros(1, 2), tmp_path / "good.pt")
    bad = tmp_path / "bad.pt"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item))
        dst.writestr("../../escape.txt", "x")
    with pytest.raises(TeacherError, match="unsafe path '../../escape.txt'"):
        load_teacher(bad)
    with pytest.raises(TeacherError, match="unsafe path"):
        load_teacher(bad, format="torchscript")
    abs_zip = tmp_path / "abs.skops"
    with zipfile.ZipFile(abs_zip, "w") as zf:
        zf.writestr("schema.json", "{}")
        zf.writestr("/etc/evil", "x")
    with pytest.raises(TeacherError, match="unsafe path '/etc/evil'"):
        check_zip_members(abs_zip)


# ----------------------------------------------------------------------------- broken files


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(TeacherError, match="does not exist"):
        load_teacher(tmp_path / "nope.pt")
    with pytest.raises(TeacherError, match="is a directory"):
        load_teacher(tmp_path)


def test_unknown_format_names_the_flag(tmp_path):
    p = tmp_path / "model.bin"
    p.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(
        TeacherError,
        match=r"cannot tell the format of model.bin; pass --teacher-format "
        r"lightgbm\|torchscript\|torch_state_dict\|onnx\|skops\|pickle",
    ) as exc:
        load_teacher(p)
    _one_line(exc)
    with pytest.raises(TeacherError, match="unknown teacher format 'xgboost'"):
        load_teacher(p, format="xgboost")


def test_corrupted_lightgbm_model_txt(tmp_path, lgb_binary_cat):
    path = lgb_binary_cat[0]
    text = path.read_text()
    broken = tmp_path / "broken.txt"
    broken.write_text(text[: len(text) // 3])
    assert detect_format(broken) == "lightgbm"
    with pytest.raises(TeacherError, match="broken.txt is not a complete LightGBM model") as exc:
        load_teacher(broken)
    _one_line(exc)


@pytest.mark.parametrize(
    "damage",
    [
        ("internal_weight=", "nternal_weight="),  # LightGBM's parser aborts the process on this one
        ("[bagging_fraction: 1]", "[bagg"),  # ... and segfaults on this one
        ("cat_boundaries=", "cat_boundarie="),
        ("left_child=1 ", "left_child=9 "),
        ("leaf_value=", "leaf_value=1_0 "),
    ],
)
def test_damaged_lightgbm_file_is_caught_before_lightgbm_parses_it(
    tmp_path, lgb_binary_cat, damage
):
    text = lgb_binary_cat[0].read_text()
    old, new = damage
    assert old in text
    broken = tmp_path / "damaged.txt"
    broken.write_text(text.replace(old, new, 1))
    with pytest.raises(TeacherError, match="damaged.txt is not a complete LightGBM model"):
        load_teacher(broken)
    not_a_model = tmp_path / "notes.txt"
    not_a_model.write_text("hello\n")
    with pytest.raises(TeacherError, match="not a LightGBM model.txt"):
        load_teacher(not_a_model)


def test_corrupted_torchscript(tmp_path):
    import torch
    from torch import nn

    good = save_torchscript(nn.Linear(2, 2), torch.zeros(1, 2), tmp_path / "good.pt")
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[:500])
    with pytest.raises(TeacherError, match="not a valid PyTorch file"):
        load_teacher(truncated)
    mangled = tmp_path / "mangled.pt"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(mangled, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            dst.writestr(item, b"garbage (" + data[:10] if item.filename.endswith(".py") else data)
    assert detect_format(mangled) == "torchscript"
    with pytest.raises(
        TeacherError, match="cannot read mangled.pt: its code member .* corrupted"
    ) as exc:
        load_teacher(mangled)  # the code check parses it before torch.jit.load does
    _one_line(exc)
    with pytest.raises(TeacherError, match="torch.jit.load could not read mangled.pt") as exc:
        load_teacher(mangled, trust_code=True)
    _one_line(exc)


def test_corrupted_onnx(tmp_path):
    p = tmp_path / "model.onnx"
    p.write_bytes(b"\x08\x07garbage" * 10)
    with pytest.raises(TeacherError, match="onnxruntime could not load model.onnx") as exc:
        load_teacher(p)
    _one_line(exc)


def test_wrong_forced_format(tmp_path, lgb_binary_cat):
    with pytest.raises(TeacherError, match="not a TorchScript archive"):
        load_teacher(lgb_binary_cat[0], format="torchscript")


def test_bad_sidecar(tmp_path):
    import torch
    from torch import nn

    path = save_torchscript(nn.Linear(3, 2), torch.zeros(1, 3), tmp_path / "m.pt")
    (tmp_path / "m.json").write_text("{not json")
    with pytest.raises(TeacherError, match="sidecar m.json is not valid JSON"):
        load_teacher(path)
    write_sidecar(
        tmp_path / "m.json", {"feature_names": ["a", "b", "c"], "classes": ["x", "y", "z"]}
    )
    with pytest.raises(TeacherError, match="lists 3 classes but m.pt returns 2"):
        load_teacher(path)
    write_sidecar(tmp_path / "m.json", {"feature_names": ["a", "b"]})
    with pytest.raises(TeacherError, match=r"failed on a float32 input of shape \[2, 2\]"):
        load_teacher(path)


# ----------------------------------------------------------------------------- features and outputs


def test_feature_mismatch_messages(tmp_path, lgb_binary_cat):
    t = load_teacher(lgb_binary_cat[0])
    with pytest.raises(
        SchemaError, match="teacher expects columns colour, income that the data lacks"
    ):
        check_features(t, ["age", "height"])
    check_features(t, ["income", "colour", "age", "target"])  # extra columns are fine
    with pytest.raises(SchemaError, match="conflict with those recorded"):
        load_teacher(lgb_binary_cat[0], feature_names=["a", "b", "c"])
    with pytest.raises(TeacherError, match="3 class labels given but the teacher has 2 classes"):
        load_teacher(lgb_binary_cat[0], classes=["a", "b", "c"])
    assert load_teacher(lgb_binary_cat[0], classes=["no", "yes"]).classes_ == ["no", "yes"]


def test_count_mismatch_for_teacher_without_names(tmp_path):
    import torch
    from torch import nn

    t = load_teacher(save_torchscript(nn.Linear(3, 2), torch.zeros(1, 3), tmp_path / "m.pt"))
    with pytest.raises(
        SchemaError, match="takes 3 input columns but the data has 2 feature columns"
    ):
        check_features(t, ["a", "b"])
    with pytest.raises(SchemaError, match="takes 3 input columns but the data has 4"):
        t.logits(pd.DataFrame(np.zeros((2, 4))))
    with pytest.raises(SchemaError, match="should be numeric for the teacher but holds 'abc'"):
        t.logits(pd.DataFrame({"a": [1.0], "b": ["abc"], "c": [0.0]}))


def test_non_finite_logits_are_reported_with_row(tmp_path):
    import torch
    from torch import nn

    t = load_teacher(save_torchscript(nn.Linear(3, 1), torch.zeros(1, 3), tmp_path / "m.pt"))
    X = pd.DataFrame(np.ones((40, 3)), columns=["a", "b", "c"])
    X.iloc[[17, 21, 30], 1] = np.nan  # a bare network has no imputation: NaN in, NaN out
    with pytest.raises(
        TeacherError,
        match=r"teacher returned NaN/inf logits for 3 rows \(first: row 17\); "
        r"check its preprocessing or the input values",
    ) as exc:
        t.logits(X, batch_size=16)
    _one_line(exc)
    with pytest.raises(TeacherError, match="NaN/inf"):
        t.logits_from_model_input(X.to_numpy(dtype=np.float32))
    assert np.isfinite(t.logits(X.fillna(0.0))).all()

"""Each teacher format loads and its logits match the native model."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from teacher_helpers import CATEGORIES, mixed_frame, numeric_frame, save_torchscript

from distill2rules.errors import SchemaError, TeacherError
from distill2rules.teachers import (
    Teacher,
    check_features,
    detect_format,
    load_teacher,
    softmax,
    write_sidecar,
)

# ----------------------------------------------------------------------------- LightGBM


def test_lightgbm_binary_matches_native_raw_score(lgb_binary_cat):
    path, booster, X, Xc = lgb_binary_cat
    t = load_teacher(path)
    assert isinstance(t, Teacher) and t.kind == "lightgbm"
    assert t.feature_names == ["age", "colour", "income"]
    assert t.n_classes == 2 and t.classes_ is None
    z = t.logits(X)  # plain string column, mapped through pandas_categorical
    assert z.shape == (len(X), 2) and z.dtype == np.float64
    np.testing.assert_array_equal(z[:, 0], 0.0)
    np.testing.assert_allclose(z[:, 1], booster.predict(Xc, raw_score=True), rtol=0, atol=1e-12)
    np.testing.assert_allclose(t.predict_proba(X)[:, 1], booster.predict(Xc), atol=1e-12)
    assert t.categorical_features == {"colour": sorted(CATEGORIES)}


def test_lightgbm_unseen_and_missing_category_is_nan_like_lightgbm(lgb_binary_cat):
    path, booster, X, _ = lgb_binary_cat
    t = load_teacher(path)
    rows = X.iloc[:4].copy()
    rows["colour"] = ["purple", None, " red ", "blue"]  # unseen, missing, padded, known
    native = rows.copy()
    native["colour"] = pd.Categorical(
        ["purple", None, "red", "blue"]
    )  # lightgbm re-maps to its categories
    expected = booster.predict(native, raw_score=True)
    np.testing.assert_allclose(t.logits(rows)[:, 1], expected, atol=1e-12)
    Z = t.transform(rows)
    assert Z.dtype == np.float32
    assert np.isnan(Z[0, 1]) and np.isnan(Z[1, 1])
    assert Z[2, 1] == sorted(CATEGORIES).index("red") and Z[3, 1] == sorted(CATEGORIES).index(
        "blue"
    )


def test_lightgbm_columns_reordered_and_extra_columns_ignored(lgb_binary_cat):
    path, _, X, _ = lgb_binary_cat
    t = load_teacher(path)
    shuffled = X[["income", "colour", "age"]].assign(target=1, other="x")
    np.testing.assert_allclose(t.logits(shuffled), t.logits(X), atol=0)


def test_lightgbm_transform_roundtrip_and_groups(lgb_binary_cat):
    path, _, X, _ = lgb_binary_cat
    t = load_teacher(path)
    np.testing.assert_allclose(t.logits_from_model_input(t.transform(X)), t.logits(X), atol=1e-6)
    assert t.feature_groups == {"age": [0], "colour": [1], "income": [2]}
    # splits + leaves, one tree per iteration
    assert t.n_parameters() == sum(
        2 * tr["num_leaves"] - 1 for tr in t.booster.dump_model()["tree_info"]
    )
    assert t.n_parameters() > 30


def test_lightgbm_multiclass_without_names_binds_data_columns(lgb_multiclass_numpy):
    path, booster, X = lgb_multiclass_numpy
    t = load_teacher(path)
    assert t.feature_names == [] and t.n_features_in == 4 and t.n_classes == 3
    with pytest.raises(SchemaError, match="takes 4 input columns but the data has 5"):
        check_features(t, [*X.columns, "extra"])
    check_features(t, X.columns)
    assert t.feature_names == list(X.columns)
    z = t.logits(X)
    np.testing.assert_allclose(z, booster.predict(X.to_numpy(), raw_score=True), atol=1e-12)
    np.testing.assert_allclose(softmax(z), booster.predict(X.to_numpy()), atol=1e-12)


def test_lightgbm_sidecar_gives_classes_and_original_names(tmp_path):
    import lightgbm as lgb

    X, y = numeric_frame(200, d=3, seed=3)
    X.columns = ["fixed acidity", "pH", "alcohol"]
    booster = lgb.train(
        {"objective": "binary", "verbosity": -1, "num_threads": 1}, lgb.Dataset(X, y), 5
    )
    path = tmp_path / "wine.txt"
    booster.save_model(str(path))
    assert "fixed_acidity" in booster.feature_name()  # LightGBM renames spaces
    bare = load_teacher(path)
    np.testing.assert_allclose(bare.logits(X)[:, 1], booster.predict(X.to_numpy(), raw_score=True))
    named = load_teacher(path, feature_names=list(X.columns))  # same names up to LightGBM's '_'
    assert named.feature_names == list(X.columns)
    write_sidecar(
        tmp_path / "wine.json", {"feature_names": list(X.columns), "classes": ["bad", "good"]}
    )
    t = load_teacher(path)
    assert t.feature_names == list(X.columns) and t.classes_ == ["bad", "good"]
    assert load_teacher(path, sidecar=tmp_path / "wine.json").classes_ == ["bad", "good"]
    assert len(t.describe()["files"]) == 2 and t.fingerprint() != bare.fingerprint()
    write_sidecar(
        tmp_path / "wine.json", {"architecture": {"layers": [3, 1]}, "classes": ["x", "y"]}
    )
    assert load_teacher(path).classes_ is None  # a network's sidecar is not this model's


# ----------------------------------------------------------------------------- TorchScript


def _mlp(d_in: int, d_out: int):
    from torch import nn

    return nn.Sequential(nn.Linear(d_in, 16), nn.ReLU(), nn.Linear(16, d_out))


@pytest.mark.parametrize("d_out, k", [(1, 2), (2, 2), (3, 3)])
def test_torchscript_without_sidecar_matches_forward(tmp_path, d_out, k):
    import torch

    X, _ = numeric_frame(50, d=4, k=k)
    net = _mlp(4, d_out)
    path = save_torchscript(net, torch.zeros(2, 4), tmp_path / "net.pt")
    assert detect_format(path) == "torchscript"
    t = load_teacher(path)
    assert (
        t.kind == "torchscript"
        and t.n_classes == k
        and t.n_features_in == 4
        and t.feature_names == []
    )
    with torch.no_grad():
        raw = net(torch.tensor(X.to_numpy(), dtype=torch.float32)).double().numpy()
    z = t.logits(X)
    assert z.shape == (50, k)
    if d_out == 1:
        np.testing.assert_allclose(z, np.column_stack([np.zeros(50), raw[:, 0]]), atol=1e-6)
    elif d_out == 2:
        np.testing.assert_allclose(z[:, 1], raw[:, 1] - raw[:, 0], atol=1e-6)
    else:
        np.testing.assert_allclose(z, raw, atol=1e-6)
    np.testing.assert_allclose(
        softmax(z),
        torch.softmax(torch.tensor(raw), 1).numpy()
        if d_out > 1
        else softmax(np.column_stack([np.zeros(50), raw[:, 0]])),
        atol=1e-6,
    )
    assert t.n_parameters() == sum(p.numel() for p in net.parameters())


def test_torchscript_sidecar_names_and_preprocessing(tmp_path):
    import torch

    X, _ = mixed_frame(60)
    net = _mlp(2 + len(CATEGORIES), 1)
    path = save_torchscript(net, torch.zeros(2, 6), tmp_path / "model.torchscript.pt")
    prep = {
        "numeric": [
            {"feature": "age", "mean": 40.0, "scale": 10.0, "impute": 41.0},
            {"feature": "income", "mean": 3e4, "scale": 2e4},
        ],
        "categorical": [{"feature": "colour", "categories": CATEGORIES}],
    }
    write_sidecar(
        tmp_path / "model.json",
        {
            "feature_names": ["age", "colour", "income"],
            "classes": ["no", "yes"],
            "preprocessing": prep,
        },
    )
    t = load_teacher(path)  # finds model.json by the name before the first dot
    assert t.feature_names == ["age", "colour", "income"] and t.classes_ == ["no", "yes"]
    assert t.feature_groups == {"age": [0], "colour": [1, 2, 3, 4], "income": [5]}
    assert t.model_input_names[1] == "colour=red"
    rows = X.iloc[:5].copy()
    rows.loc[rows.index[0], "age"] = np.nan
    rows.loc[rows.index[1], "colour"] = "purple"
    Z = t.transform(rows)
    assert Z.dtype == np.float32 and Z.shape == (5, 6)
    assert Z[0, 0] == pytest.approx(0.1)  # imputed 41 -> (41 - 40) / 10
    assert Z[1, 1:5].sum() == 0  # unseen category -> all zeros
    np.testing.assert_allclose(Z[2, 1:5].sum(), 1.0)
    with torch.no_grad():
        raw = net(torch.from_numpy(Z))[:, 0].double().numpy()
    np.testing.assert_allclose(t.logits(rows)[:, 1], raw, atol=1e-6)
    np.testing.assert_allclose(t.logits_from_model_input(Z), t.logits(rows), atol=0)


# ----------------------------------------------------------------------------- state_dict


def test_state_dict_with_sidecar_matches_forward(tmp_path):
    import torch

    from distill2rules.teachers import build_mlp

    X, _ = numeric_frame(40, d=3, k=3)
    net = build_mlp([3, 8, 8, 3], "tanh")
    torch.save(net.state_dict(), tmp_path / "sd.pt")
    write_sidecar(
        tmp_path / "sd.json",
        {
            "architecture": {"type": "mlp", "layers": [3, 8, 8, 3], "activation": "tanh"},
            "feature_names": ["f0", "f1", "f2"],
            "classes": ["a", "b", "c"],
            "preprocessing": {"numeric": [{"feature": "f1", "mean": 1.0, "scale": 2.0}]},
        },
    )
    assert detect_format(tmp_path / "sd.pt") == "torch_state_dict"
    t = load_teacher(tmp_path / "sd.pt")
    assert t.kind == "torch_state_dict" and t.classes_ == ["a", "b", "c"]
    Z = X.to_numpy().astype(np.float32).copy()
    Z[:, 1] = (Z[:, 1] - 1.0) / 2.0
    with torch.no_grad():
        expected = net(torch.from_numpy(Z)).double().numpy()
    np.testing.assert_allclose(t.logits(X), expected, atol=1e-6)
    assert t.n_parameters() == 3 * 8 + 8 + 8 * 8 + 8 + 8 * 3 + 3
    assert isinstance(t.module[1], torch.nn.Tanh)


def test_state_dict_with_other_key_names_is_matched_by_shape(tmp_path):
    import torch
    from torch import nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden = nn.Linear(3, 5)
            self.out = nn.Linear(5, 1)

        def forward(self, x):
            return self.out(torch.relu(self.hidden(x)))

    net = Net()
    torch.save({"model_state_dict": net.state_dict(), "epoch": 3}, tmp_path / "ckpt.pt")
    write_sidecar(
        tmp_path / "ckpt.json",
        {"architecture": {"layers": [3, 5, 1]}, "feature_names": ["a", "b", "c"]},
    )
    t = load_teacher(tmp_path / "ckpt.pt")
    X = pd.DataFrame(np.random.default_rng(0).normal(size=(10, 3)), columns=["a", "b", "c"])
    with torch.no_grad():
        expected = net(torch.tensor(X.to_numpy(), dtype=torch.float32))[:, 0].double().numpy()
    np.testing.assert_allclose(t.logits(X)[:, 1], expected, atol=1e-6)


def test_state_dict_without_sidecar_is_a_clear_error(tmp_path):
    import torch

    torch.save(_mlp(3, 2).state_dict(), tmp_path / "lonely.pt")
    with pytest.raises(TeacherError, match="needs a sidecar JSON"):
        load_teacher(tmp_path / "lonely.pt")


def test_state_dict_shape_mismatch(tmp_path):
    import torch

    torch.save(_mlp(3, 2).state_dict(), tmp_path / "m.pt")
    write_sidecar(tmp_path / "m.json", {"architecture": {"layers": [3, 32, 2]}})
    with pytest.raises(TeacherError, match="do not fit architecture.layers"):
        load_teacher(tmp_path / "m.pt")


# ----------------------------------------------------------------------------- ONNX


def _onnx_linear(path, W, b, *, softmax_out: bool, label_output: bool = False):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    d, k = W.shape
    nodes = [
        helper.make_node("MatMul", ["x", "W"], ["xw"]),
        helper.make_node("Add", ["xw", "b"], ["z"]),
    ]
    outputs = []
    if label_output:
        nodes.append(helper.make_node("ArgMax", ["z"], ["label"], axis=1, keepdims=0))
        outputs.append(helper.make_tensor_value_info("label", TensorProto.INT64, ["n"]))
    if softmax_out:
        nodes.append(helper.make_node("Softmax", ["z"], ["out"], axis=1))
    else:
        nodes.append(helper.make_node("Identity", ["z"], ["out"]))
    outputs.append(helper.make_tensor_value_info("out", TensorProto.FLOAT, ["n", k]))
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", d])],
        outputs,
        initializer=[
            numpy_helper.from_array(W.astype(np.float32), "W"),
            numpy_helper.from_array(b.astype(np.float32), "b"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=10)
    onnx.save(model, str(path))
    return path


@pytest.mark.parametrize("softmax_out", [False, True])
@pytest.mark.parametrize("k", [2, 3])
def test_onnx_logits_or_probabilities(tmp_path, softmax_out, k):
    rng = np.random.default_rng(k)
    W, b = rng.normal(size=(4, k)), rng.normal(size=k)
    path = _onnx_linear(tmp_path / "m.onnx", W, b, softmax_out=softmax_out, label_output=True)
    shutil.copy(path, tmp_path / "m.bin")
    assert detect_format(tmp_path / "m.bin") == "onnx"  # from content, not extension
    t = load_teacher(path)
    assert t.kind == "onnx" and t.n_classes == k and t.n_features_in == 4
    X, _ = numeric_frame(30, d=4)
    z_native = X.to_numpy().astype(np.float32) @ W.astype(np.float32) + b.astype(np.float32)
    np.testing.assert_allclose(t.predict_proba(X), softmax(z_native), atol=1e-5)
    desc = t.describe()
    assert desc["onnx_output"] == "out"
    assert ("log-probabilities" in desc["output"]) == softmax_out
    assert t.n_parameters() == W.size + b.size
    if not softmax_out and k == 3:
        np.testing.assert_allclose(t.logits(X), z_native, atol=1e-5)


def test_onnx_sidecar_declares_output_and_names(tmp_path):
    W, b = np.eye(3, 2), np.zeros(2)
    path = _onnx_linear(tmp_path / "m.onnx", W, b, softmax_out=False)
    (tmp_path / "m.json").write_text(
        json.dumps({"feature_names": ["a", "b", "c"], "output": "logits"})
    )
    t = load_teacher(path)
    assert t.feature_names == ["a", "b", "c"]
    X = pd.DataFrame({"c": [0.0, 1.0], "b": [2.0, 0.0], "a": [1.0, 0.5]})
    np.testing.assert_allclose(t.logits(X)[:, 1], X["b"] - X["a"], atol=1e-6)
    with pytest.raises(SchemaError, match="teacher expects columns c that the data lacks"):
        t.logits(X[["a", "b"]])


# ----------------------------------------------------------------------------- skops / pickle


def test_skops_logistic_regression(tmp_path):
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    X, y = numeric_frame(120, d=3, k=3)
    lr = LogisticRegression(max_iter=500).fit(X, y)
    sio.dump(lr, tmp_path / "lr.skops")
    assert detect_format(tmp_path / "lr.skops") == "skops"
    t = load_teacher(tmp_path / "lr.skops")
    assert t.kind == "skops" and t.classes_ == [0, 1, 2] and t.feature_names == ["f0", "f1", "f2"]
    np.testing.assert_allclose(t.predict_proba(X), lr.predict_proba(X), atol=1e-6)
    np.testing.assert_allclose(t.logits_from_model_input(t.transform(X)), t.logits(X), atol=1e-6)
    assert t.n_parameters() == 3 * 3 + 3


def test_trusted_pickled_torch_module_loads(tmp_path):
    import torch

    net = _mlp(3, 2)
    torch.save(net, tmp_path / "whole.pt")
    t = load_teacher(tmp_path / "whole.pt", trust_pickle=True, feature_names=["a", "b", "c"])
    assert t.kind == "pickle" and t.feature_names == ["a", "b", "c"]
    X = pd.DataFrame(np.ones((2, 3)), columns=["a", "b", "c"])
    with torch.no_grad():
        raw = net(torch.ones(2, 3)).double().numpy()
    np.testing.assert_allclose(t.logits(X)[:, 1], raw[:, 1] - raw[:, 0], atol=1e-6)

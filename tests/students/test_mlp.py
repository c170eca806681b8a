"""MLP student: the exact KD loss, early stopping, determinism, lowering to the mlp spec."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from distill2rules.errors import ConfigError, DataError
from distill2rules.kd import kd_loss, softmax
from distill2rules.students.mlp import MLPStudent, parse_hidden


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    n = 600
    X = pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "b": rng.uniform(0, 5, n),
            "c": rng.choice(["x", "y", "z"], n).astype(object),
        }
    )
    X.loc[::17, "b"] = np.nan
    X.loc[::23, "c"] = None
    z1 = 2 * X["a"] - (X["b"].fillna(2.5) - 2.5) + (X["c"] == "x") * 1.5
    z = np.column_stack([np.zeros(n), z1.to_numpy()])
    y = (rng.random(n) < softmax(z)[:, 1]).astype(int)
    return X, y, z


@pytest.mark.parametrize(
    "temperature, alpha, k", [(1.0, 0.0, 2), (3.0, 0.5, 2), (2.0, 0.25, 4), (5.0, 1.0, 3)]
)
def test_torch_kd_loss_equals_numpy_reference(torch_one_thread, temperature, alpha, k):
    torch = torch_one_thread
    from distill2rules.kd._torch import kd_loss_torch

    rng = np.random.default_rng(k)
    zs, zt = rng.normal(size=(50, k)) * 3, rng.normal(size=(50, k)) * 3
    y = rng.integers(0, k, 50)
    got = kd_loss_torch(
        torch.tensor(zs), torch.tensor(zt), torch.tensor(y), temperature=temperature, alpha=alpha
    )
    assert float(got) == pytest.approx(
        kd_loss(zs, zt, y, temperature=temperature, alpha=alpha), rel=1e-10, abs=1e-12
    )


def test_mlp_training_loss_is_the_exact_kd_loss(torch_one_thread, data):
    torch = torch_one_thread
    _X, y, z = data
    est = MLPStudent(hidden=(8,), temperature=3.0, alpha=0.3, random_state=0)
    net = est._build(5, (8,), 1).double()
    x = torch.randn(40, 5, dtype=torch.float64)
    batch = {
        "x": x,
        "y": torch.tensor(y[:40]),
        "z": torch.tensor(z[:40]),
        "w": torch.ones(40, dtype=torch.float64),
    }
    loss = est._loss(net, batch, 2, train=True).item()
    s = net(x).detach().numpy()[:, 0]
    ref = kd_loss(np.column_stack([np.zeros(40), s]), z[:40], y[:40], temperature=3.0, alpha=0.3)
    assert loss == pytest.approx(ref, rel=1e-10)
    est.l1 = 0.01  # the L1 term is added on top, on weight matrices only
    l1 = sum(
        p.detach().abs().sum().item() for n_, p in net.named_parameters() if n_.endswith("weight")
    )
    assert est._loss(net, batch, 2, train=True).item() == pytest.approx(ref + 0.01 * l1, rel=1e-10)


def test_mlp_learns_the_teacher_and_lowers_to_the_spec(torch_one_thread, data):
    X, y, z = data
    est = MLPStudent(hidden=(16, 8), epochs=60, patience=5, random_state=0)
    est.fit(
        X[:450],
        y[:450],
        teacher_logits=z[:450],
        X_val=X[450:],
        y_val=y[450:],
        teacher_logits_val=z[450:],
    )
    spec = est.to_spec()
    assert spec["kind"] == "mlp" and spec["link"] == "logistic"
    assert [len(layer["bias"]) for layer in spec["layers"]] == [16, 8, 1]
    assert spec["meta"]["loss"] == "kd" and spec["meta"]["early_stopping_on"] == "X_val"
    assert [p["feature"] for p in spec["preprocess"]["categorical"]] == ["c"]
    assert spec["preprocess"]["categorical"][0]["categories"] == [
        "x",
        "y",
        "z",
    ]  # missing → all zeros
    assert est.n_epochs_ <= 60 and 1 <= est.best_epoch_ <= est.n_epochs_
    fid = np.mean(est.predict(X[450:]) == z[450:].argmax(axis=1))
    assert fid > 0.9
    # the student's scores approach the teacher's logits (α = 0, τ = 1: the KD optimum is z_S = z_T)
    assert np.corrcoef(est.decision_function(X[450:]), z[450:, 1])[0, 1] > 0.9


def test_same_seed_same_network_and_internal_split(torch_one_thread, data):
    X, y, z = data
    a = MLPStudent(hidden=(8,), epochs=8, random_state=3).fit(X, y, soft_targets=softmax(z))
    b = MLPStudent(hidden=(8,), epochs=8, random_state=3).fit(X, y, soft_targets=softmax(z))
    assert a.to_spec()["layers"] == b.to_spec()["layers"]
    assert a.to_spec()["meta"]["early_stopping_on"].startswith("internal")
    c = MLPStudent(hidden=(8,), epochs=8, random_state=4).fit(X, y, soft_targets=softmax(z))
    assert c.to_spec()["layers"] != a.to_spec()["layers"]


def test_l1_shrinks_weights(torch_one_thread, data):
    X, y, z = data

    def weight_mass(est):
        return sum(np.abs(np.asarray(layer["weight"])).sum() for layer in est.to_spec()["layers"])

    plain = MLPStudent(hidden=(16,), epochs=15, patience=15, random_state=0).fit(
        X, y, teacher_logits=z
    )
    sparse = MLPStudent(hidden=(16,), epochs=15, patience=15, l1=1e-2, random_state=0).fit(
        X, y, teacher_logits=z
    )
    assert weight_mass(sparse) < 0.8 * weight_mass(plain)


def test_inputs_and_parameters_are_checked(torch_one_thread, data):
    X, y, z = data
    assert parse_hidden("64-32") == (64, 32) and parse_hidden(16) == (16,)
    with pytest.raises(ConfigError, match="hidden must"):
        MLPStudent(hidden="64-x").fit(X, y)
    with pytest.raises(ConfigError, match="activation must be"):
        MLPStudent(activation="gelu").fit(X, y)
    with pytest.raises(DataError, match=r"teacher_logits must have shape \(600, 2\)"):
        MLPStudent(epochs=1).fit(X, y, teacher_logits=z[:, :1])

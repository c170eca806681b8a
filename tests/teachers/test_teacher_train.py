"""Reference teacher training: round trips through load_teacher with identical logits."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from teacher_helpers import CATEGORIES, mixed_frame

from distill2rules.errors import ConfigError, DataError
from distill2rules.teachers import load_teacher, softmax, train_teacher


@pytest.fixture(scope="module")
def breast_cancer():
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    return X, y


def test_gbt_breast_cancer_round_trip(tmp_path, breast_cancer):
    import lightgbm as lgb

    X, y = breast_cancer
    t = train_teacher("gbt", X, y, out=tmp_path / "gbt.txt", n_jobs=1, progress=False)
    assert t.kind == "lightgbm" and t.classes_ == [0, 1]
    assert t.feature_names == list(
        X.columns
    )  # original names, although LightGBM stores 'mean_radius'
    booster = lgb.Booster(model_file=str(tmp_path / "gbt.txt"))
    native = booster.predict(X.to_numpy(), raw_score=True)
    z = t.logits(X)
    np.testing.assert_array_equal(z[:, 1], native)
    np.testing.assert_array_equal(load_teacher(tmp_path / "gbt.txt").logits(X), z)
    assert booster.num_trees() == 200 and t.n_parameters() > 200
    assert (t.predict_proba(X).argmax(1) == y).mean() > 0.97
    again = train_teacher("gbt", X, y, out=tmp_path / "again.txt", n_jobs=1, progress=False)
    assert again.fingerprint() == t.fingerprint()  # same seed, same bytes


def test_mlp_breast_cancer_round_trip(tmp_path, breast_cancer):
    import torch

    X, y = breast_cancer
    t = train_teacher("mlp", X, y, out=tmp_path / "mlp.pt", max_epochs=12, n_jobs=1, progress=False)
    assert t.kind == "torch_state_dict" and t.n_outputs == 1 and t.n_classes == 2
    assert sum(isinstance(m, torch.nn.ReLU) for m in t.module.modules()) == 5
    assert t.n_parameters() == sum(p.numel() for p in t.module.parameters()) > 100_000
    z = t.logits(X)
    assert (softmax(z).argmax(1) == y).mean() > 0.93
    reloaded = load_teacher(tmp_path / "mlp.pt")
    np.testing.assert_array_equal(reloaded.logits(X), z)
    script = load_teacher(tmp_path / "mlp.torchscript.pt")  # reads mlp.json for its preprocessing
    assert script.kind == "torchscript" and script.classes_ == [0, 1]
    np.testing.assert_allclose(script.logits(X), z, atol=1e-5)
    Z = t.transform(X)
    assert Z.dtype == np.float32 and abs(float(Z.mean())) < 0.1  # standardised
    np.testing.assert_allclose(t.logits_from_model_input(Z), z, atol=0)
    with torch.no_grad():
        np.testing.assert_allclose(
            t.module(torch.from_numpy(Z))[:, 0].double().numpy(), z[:, 1], atol=1e-6
        )
    meta = json.loads((tmp_path / "mlp.json").read_text())["meta"]
    assert 1 <= meta["best_epoch"] <= meta["epochs_run"] <= 12
    assert t.describe()["meta"]["torchscript"] == "mlp.torchscript.pt"


def test_mlp_multiclass_with_categoricals_and_validation(tmp_path):
    X, y01 = mixed_frame(500, seed=4)
    y = np.where(X["colour"] == "black", "c", np.where(y01 == 1, "b", "a"))
    X.loc[X.index[:20], "income"] = np.nan
    X.loc[X.index[20:30], "colour"] = None
    t = train_teacher(
        "mlp",
        X.iloc[:400],
        y[:400],
        X_val=X.iloc[400:],
        y_val=y[400:],
        out=tmp_path,
        hidden=(16, 8),
        max_epochs=4,
        seed=3,
        n_jobs=1,
        progress=False,
    )
    assert (tmp_path / "mlp.pt").exists() and (tmp_path / "mlp.json").exists()
    assert t.classes_ == ["a", "b", "c"] and t.n_outputs == 3
    assert t.feature_groups == {"age": [0], "colour": [1, 2, 3, 4], "income": [5]}
    assert t.model_input_names[1:5] == [f"colour={c}" for c in sorted(CATEGORIES)]
    z = t.logits(X)
    assert z.shape == (500, 3) and np.isfinite(z).all()
    np.testing.assert_allclose(t.logits_from_model_input(t.transform(X)), z, atol=0)
    t2 = train_teacher(
        "mlp",
        X.iloc[:400],
        y[:400],
        X_val=X.iloc[400:],
        y_val=y[400:],
        out=tmp_path / "b.pt",
        hidden=(16, 8),
        max_epochs=4,
        seed=3,
        n_jobs=1,
        progress=False,
    )
    np.testing.assert_array_equal(t2.logits(X), z)  # deterministic given the seed


def test_gbt_with_categoricals_matches_lightgbm_pandas_path(tmp_path):
    import lightgbm as lgb

    X, y01 = mixed_frame(500, seed=5)
    y = np.where(y01 == 1, "yes", "no")
    t = train_teacher(
        "gbt",
        X.iloc[:400],
        y[:400],
        X_val=X.iloc[400:],
        y_val=y[400:],
        out=tmp_path / "m.txt",
        n_estimators=60,
        n_jobs=1,
        progress=False,
    )
    assert t.classes_ == ["no", "yes"] and t.categorical_features == {"colour": sorted(CATEGORIES)}
    booster = lgb.Booster(model_file=str(tmp_path / "m.txt"))
    Xc = X.assign(colour=pd.Categorical(X["colour"], categories=sorted(CATEGORIES)))
    np.testing.assert_array_equal(t.logits(X)[:, 1], booster.predict(Xc, raw_score=True))
    assert booster.num_trees() <= 60


@pytest.mark.skipif(
    not os.environ.get("DISTILL2RULES_DATA"), reason="needs DISTILL2RULES_DATA (real datasets)"
)
def test_gbt_on_adult_subsample_maps_categories_like_lightgbm(tmp_path):
    import lightgbm as lgb

    cols = [
        "age",
        "workclass",
        "fnlwgt",
        "education",
        "education-num",
        "marital-status",
        "occupation",
        "relationship",
        "race",
        "sex",
        "capital-gain",
        "capital-loss",
        "hours-per-week",
        "native-country",
        "income",
    ]
    path = Path(os.environ["DISTILL2RULES_DATA"]) / "adult" / "adult.data.gz"
    df = pd.read_csv(
        path, header=None, names=cols, skipinitialspace=True, na_values="?", nrows=3000
    )
    X, y = df.drop(columns="income"), df["income"]
    t = train_teacher(
        "gbt", X, y, out=tmp_path / "adult.txt", n_estimators=40, n_jobs=1, progress=False
    )
    assert t.classes_ == ["<=50K", ">50K"] and len(t.categorical_features) == 8
    booster = lgb.Booster(model_file=str(tmp_path / "adult.txt"))
    cats = dict(zip(t.categorical_features, booster.pandas_categorical))
    native = pd.DataFrame(
        {
            lgb_name: pd.Categorical(X[name], categories=cats[name]) if name in cats else X[name]
            for name, lgb_name in zip(t.feature_names, booster.feature_name())
        }
    )
    np.testing.assert_array_equal(t.logits(X)[:, 1], booster.predict(native, raw_score=True))


def test_train_teacher_input_errors(tmp_path):
    X, y = mixed_frame(50)
    with pytest.raises(ConfigError, match="unknown teacher kind 'svm'"):
        train_teacher("svm", X, y, out=tmp_path / "m")
    with pytest.raises(DataError, match="single class"):
        train_teacher("gbt", X, np.zeros(50), out=tmp_path / "m.txt", progress=False)
    with pytest.raises(DataError, match="pass both X_val and y_val"):
        train_teacher("gbt", X, y, X_val=X, out=tmp_path / "m.txt", progress=False)
    with pytest.raises(DataError, match="target has 49 values but the features have 50 rows"):
        train_teacher("mlp", X, y[:49], out=tmp_path / "m.pt", progress=False)

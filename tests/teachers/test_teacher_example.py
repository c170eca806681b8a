"""examples/train_teacher_outside.py writes files that load without any sidecar."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from distill2rules.teachers import check_features, load_teacher

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "train_teacher_outside.py"


def test_example_script_teachers_plug_in(tmp_path):
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    df = X.iloc[:, :6].copy()
    df["site"] = np.where(np.arange(len(df)) % 3 == 0, "north", "south")  # a string column
    df["diagnosis"] = np.where(y == 1, "benign", "malignant")
    df.to_csv(tmp_path / "data.csv", index=False)
    assert (
        "distill2rules"
        not in EXAMPLE.read_text()
        .replace("distill2rules.teachers.load_teacher", "")
        .split('"""', 2)[2]
        .split("def main")[0]
    )  # the training code itself never imports us
    proc = subprocess.run(
        [
            sys.executable,
            str(EXAMPLE),
            "--data",
            str(tmp_path / "data.csv"),
            "--target",
            "diagnosis",
            "--out-dir",
            str(tmp_path / "out"),
            "--epochs",
            "3",
            "--trees",
            "30",
            "--threads",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "dropped non-numeric: site" in proc.stdout

    data = pd.read_csv(tmp_path / "data.csv")
    gbt = load_teacher(tmp_path / "out" / "model.txt")
    assert gbt.feature_names == [
        c.replace(" ", "_") for c in data.columns if c != "diagnosis"
    ]  # LightGBM's names
    check_features(gbt, data.columns)  # 'mean radius' in the data is 'mean_radius' in model.txt
    assert gbt.feature_names == [
        c for c in data.columns if c != "diagnosis"
    ]  # ... so it adopts the data's names
    assert gbt.categorical_features == {"site": ["north", "south"]}
    assert (gbt.predict_proba(data).argmax(1) == (data["diagnosis"] == "malignant")).mean() > 0.9

    feats = pd.read_csv(tmp_path / "out" / "mlp_features.csv")
    assert list(feats.columns) == list(X.columns[:6]) + ["diagnosis"]
    mlp = load_teacher(tmp_path / "out" / "mlp.pt")
    assert mlp.kind == "torchscript" and mlp.feature_names == [] and mlp.n_classes == 2
    check_features(mlp, feats.columns.drop("diagnosis"))
    z = mlp.logits(feats.drop(columns="diagnosis"))
    assert z.shape == (len(feats), 2) and np.isfinite(z).all()
    assert (z.argmax(1) == (feats["diagnosis"] == "malignant")).mean() > 0.8

"""examples/train_teacher_outside.py writes files that load without any sidecar."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import numpy as np
import pandas as pd

from distill2rules.teachers import check_features, load_teacher

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "train_teacher_outside.py"


def test_example_script_teachers_plug_in(tmp_path, capsys):
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    df = X.iloc[:, :6].copy()
    df["site"] = np.where(np.arange(len(df)) % 3 == 0, "north", "south")  # a string column
    df["diagnosis"] = np.where(y == 1, "benign", "malignant")
    df.to_csv(tmp_path / "data.csv", index=False)
    # the script stands alone: it never imports distill2rules
    assert not re.search(r"^\s*(import|from)\s+distill2rules", EXAMPLE.read_text(), re.MULTILINE)
    script = runpy.run_path(str(EXAMPLE), run_name="example")  # the real script, in-process
    script["main"](
        [
            "--data", str(tmp_path / "data.csv"), "--target", "diagnosis",
            "--out-dir", str(tmp_path / "out"), "--epochs", "3", "--trees", "30", "--threads", "1",
        ]
    )  # fmt: skip
    assert "dropped non-numeric: site" in capsys.readouterr().out

    data = pd.read_csv(tmp_path / "data.csv")
    gbt = load_teacher(tmp_path / "out" / "model.txt")
    features = [c for c in data.columns if c != "diagnosis"]
    assert gbt.feature_names == [c.replace(" ", "_") for c in features]  # LightGBM's spelling
    check_features(gbt, data.columns)  # 'mean radius' in the data is 'mean_radius' in model.txt
    assert gbt.feature_names == features  # ... so it adopts the data's names
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

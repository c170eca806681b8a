"""Time SHAP alignment: 1,000 Adult rows, a 200-tree LightGBM teacher, an additive student.

Target: under 20 s for teacher attributions + student attributions + alignment.

Run:  DISTILL2RULES_DATA=/path/to/datasets python benchmarks/alignment_speed.py

The teacher is trained by the library (``train_teacher("gbt", n_estimators=200)``); the
student is a scikit-learn logistic regression on one-hot categoricals and raw numerics,
lowered by hand to an additive spec (linear terms + categorical tables). Training time is
not part of the measurement.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np
import pandas as pd


def logreg_spec(X: pd.DataFrame, y: np.ndarray, numeric: list[str], categorical: list[str]) -> dict:
    """Fit an L2 logistic regression and lower it to an additive spec."""
    from sklearn.linear_model import LogisticRegression

    from distill2rules.spec import SPEC_FORMAT, to_category_strings, validate

    mean, scale = X[numeric].mean().to_numpy(), X[numeric].std().to_numpy()
    cats = {
        c: sorted(set(to_category_strings(X[c].to_numpy(dtype=object))) - {""}) for c in categorical
    }
    blocks = [np.nan_to_num((X[numeric].to_numpy(dtype=np.float64) - mean) / scale)]
    for c in categorical:
        s = to_category_strings(X[c].to_numpy(dtype=object))
        blocks.append(np.column_stack([s == v for v in cats[c]]).astype(np.float64))
    lr = LogisticRegression(C=0.5, max_iter=500).fit(np.hstack(blocks), y)
    w, b = lr.coef_[0], float(lr.intercept_[0])
    terms, j = [], 0
    for i, c in enumerate(numeric):
        coef = w[j] / scale[i]
        b -= coef * mean[i]
        terms.append(
            {
                "type": "linear",
                "name": c,
                "feature": c,
                "coef": [coef],
                "impute": float(mean[i]),
                "clip": [-np.inf, np.inf],
            }
        )
        j += 1
    for c in categorical:
        n = len(cats[c])
        scores = [[0.0]] + [[float(v)] for v in w[j : j + n]] + [[0.0]]
        terms.append(
            {
                "type": "table",
                "name": c,
                "scores": scores,
                "axes": [{"feature": c, "kind": "categorical", "categories": cats[c]}],
            }
        )
        j += n
    spec = {
        "format": SPEC_FORMAT,
        "kind": "additive",
        "model": "logreg",
        "classes": [0, 1],
        "link": "logistic",
        "inputs": {"numeric": numeric, "categorical": categorical},
        "intercept": [b],
        "terms": terms,
        "calibration": None,
        "meta": {},
    }
    validate(spec)
    return spec


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--trees", type=int, default=200)
    args = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    from distill2rules.data import load_dataset
    from distill2rules.teachers import train_teacher
    from distill2rules.validation import alignment, student_attributions, teacher_attributions

    ds = load_dataset("adult")
    X, y_raw = ds.X, ds.y.astype(str).to_numpy()
    positive = ds.positive_class or max(set(y_raw))
    y = (y_raw == positive).astype(np.int64)
    rng = np.random.default_rng(0)
    perm = rng.permutation(len(X))
    train, test = perm[:20000], perm[20000 : 20000 + args.rows]
    X_train, X_test = X.iloc[train].reset_index(drop=True), X.iloc[test].reset_index(drop=True)
    numeric = [c for c in X.columns if pd.api.types.is_numeric_dtype(X[c])]
    categorical = [c for c in X.columns if c not in numeric]

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        teacher = train_teacher(
            "gbt", X_train, y[train], out=tmp, n_estimators=args.trees, progress=False
        )
    spec = logreg_spec(X_train, y[train], numeric, categorical)
    print(f"setup (training, not timed below): {time.perf_counter() - t0:.1f} s")

    background = X_train.iloc[:500]
    start = time.perf_counter()
    phi_t = teacher_attributions(teacher, X_test, background)
    phi_s = student_attributions(spec, X_test, background, feature_names=phi_t.feature_names)
    al = alignment(phi_t, phi_s)
    total = time.perf_counter() - start
    print(f"teacher: {phi_t.method}: {phi_t.seconds:.2f} s")
    print(f"student: {phi_s.method}: {phi_s.seconds:.2f} s")
    print(
        f"alignment on {len(X_test)} rows: cosine {al.cosine_mean:.3f} ± {al.cosine_sd:.3f}, "
        f"global cosine {al.global_cosine:.3f}, MAD {al.mad:.4f}, Spearman {al.spearman:.3f}, "
        f"top-{al.top_k} overlap {al.topk_overlap:.2f}"
    )
    print(f"TOTAL seconds: {total:.2f} (target < 20)")


if __name__ == "__main__":
    main()

"""Rule-list student vs imodels' FIGS, side by side, on the same teacher and split.

For each seed: a LightGBM teacher (200 trees) is trained on the 70% train split; the
``rules`` student is distilled from its soft targets through :func:`distill2rules.pipeline.distill`
(``max_rules`` = R); ``imodels.FIGSClassifier(max_rules=R)`` is fitted on the teacher's hard
labels of the same rows (one-hot categoricals, median-imputed numerics: FIGS needs a numeric
matrix and takes no soft targets). Printed: test fidelity (agreement with the teacher) and
accuracy of both, and the rule list's size.

    DISTILL2RULES_DATA=/work/shared/datasets .venv/bin/python benchmarks/rules_vs_figs.py \\
        --dataset adult --max-rules 5,10,20 --seeds 0
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd


def _figs_matrix(
    train: pd.DataFrame, test: pd.DataFrame, categorical: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    both = pd.concat([train, test], keys=["train", "test"])
    for c in both.columns:
        if c not in categorical:
            both[c] = pd.to_numeric(both[c], errors="coerce")
            both[c] = both[c].fillna(train[c].median() if c in train else 0.0)
        else:
            both[c] = both[c].astype(object).where(both[c].notna(), "missing").astype(str)
    enc = pd.get_dummies(both, columns=categorical, dtype=float)
    return enc.loc["train"].to_numpy(dtype=float), enc.loc["test"].to_numpy(dtype=float)


def run(dataset: str, max_rules: list[int], seeds: list[int], workdir: Path) -> list[dict]:
    from imodels import FIGSClassifier

    from distill2rules.data import split_frame
    from distill2rules.pipeline import align_teacher_classes, distill, load_inputs
    from distill2rules.teachers import train_teacher

    ds = load_inputs(dataset, None)
    feats = [c for c in ds.frame.columns if c != ds.target]
    y_all = ds.frame[ds.target]
    classes = np.unique(y_all.astype(str)) if y_all.dtype == object else np.unique(y_all)
    cats = [c for c in ds.schema.categorical_columns if c in feats]
    rows = []
    for seed in seeds:
        splits = split_frame(ds.frame, ds.target, seed=seed)
        teacher = train_teacher(
            "gbt",
            splits.train[feats],
            splits.train[ds.target],
            out=workdir / f"{dataset}-{seed}" / "model.txt",
            seed=seed,
            X_val=splits.val[feats],
            y_val=splits.val[ds.target],
            progress=False,
        )
        perm = align_teacher_classes(teacher, classes)
        z_tr = np.asarray(teacher.logits(splits.train[feats]))[:, perm]
        z_te = np.asarray(teacher.logits(splits.test[feats]))[:, perm]
        A, B = _figs_matrix(splits.train[feats], splits.test[feats], cats)
        y_te = np.searchsorted(classes, splits.test[ds.target].astype(classes.dtype).to_numpy())
        for r in max_rules:
            t0 = time.perf_counter()
            res = distill(
                teacher,
                ds.frame,
                target=ds.target,
                schema=ds.schema,
                student="rules",
                seed=seed,
                student_params={"max_rules": r},
                baseline=False,
                progress=False,
                out=None,
            )
            t_rules = time.perf_counter() - t0
            m = res.metrics["test"]["student"]
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                figs = FIGSClassifier(max_rules=r, random_state=seed).fit(A, z_tr.argmax(1))
            pred = figs.predict(B)
            t_figs = time.perf_counter() - t0
            rows.append(
                {
                    "dataset": dataset,
                    "seed": seed,
                    "max_rules": r,
                    "rules_fidelity": m["fidelity"],
                    "rules_accuracy": m["accuracy"],
                    "rules_used": res.metrics["size"]["student"]["rules"],
                    "rules_conditions": res.metrics["size"]["student"]["conditions"],
                    "figs_fidelity": float(np.mean(pred == z_te.argmax(1))),
                    "figs_accuracy": float(np.mean(pred == y_te)),
                    "figs_trees": len(figs.trees_),
                    "seconds_rules": round(t_rules, 1),
                    "seconds_figs": round(t_figs, 1),
                }
            )
            print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="adult")
    ap.add_argument("--max-rules", default="5,10,20")
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="rules_vs_figs_"))
    rows = run(
        args.dataset,
        [int(v) for v in args.max_rules.split(",")],
        [int(v) for v in args.seeds.split(",")],
        work,
    )
    print(
        f"\n{'dataset':<14}{'seed':>5}{'R':>4} | {'rules fid':>9} {'acc':>7} {'#rules':>6} | {'FIGS fid':>9} {'acc':>7}"
    )
    for r in rows:
        print(
            f"{r['dataset']:<14}{r['seed']:>5}{r['max_rules']:>4} | {r['rules_fidelity']:>9.4f} {r['rules_accuracy']:>7.4f} "
            f"{r['rules_used']:>6} | {r['figs_fidelity']:>9.4f} {r['figs_accuracy']:>7.4f}"
        )


if __name__ == "__main__":
    main()

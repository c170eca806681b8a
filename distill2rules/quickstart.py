"""`distill2rules quickstart` and `teacher train`: offline, end to end, on an embedded dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from distill2rules.data import split_frame
from distill2rules.errors import ConfigError
from distill2rules.pipeline import distill, load_inputs
from distill2rules.teachers import train_teacher


def train_reference_teacher(
    kind: str,
    data: Any,
    out: str | Path,
    *,
    target: str | None = None,
    seed: int = 0,
    progress: bool = True,
) -> dict[str, Any]:
    """Train the paper's reference teacher on the 70% train split (15% validation for early stopping)."""

    if kind not in ("mlp", "gbt"):
        raise ConfigError(f"--kind must be 'mlp' or 'gbt', got {kind!r}.")
    ds = load_inputs(data, target)
    splits = split_frame(ds.frame, ds.target, seed=seed)
    feats = [c for c in ds.frame.columns if c != ds.target]
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    teacher = train_teacher(
        kind,
        splits.train[feats],
        splits.train[ds.target],
        out=out,
        seed=seed,
        X_val=splits.val[feats],
        y_val=splits.val[ds.target],
        progress=progress,
    )
    return {
        "kind": teacher.kind,
        "parameters": int(teacher.n_parameters()),
        "dataset": ds.name,
        "target": ds.target,
    }


def run_quickstart(
    out: str | Path, *, seed: int = 0, temperature: float = 2.0, progress: bool = True
) -> list[dict[str, Any]]:
    """Train a GBT teacher on breast_cancer, distill logreg and EBM students, return a comparison."""

    out = Path(out)
    teacher_path = out / "teacher" / "model.txt"
    train_reference_teacher("gbt", "breast_cancer", teacher_path, seed=seed, progress=progress)
    rows: list[dict[str, Any]] = []
    for student, params in (("logreg", {}), ("ebm", {"interactions": 5})):
        res = distill(
            teacher_path,
            "breast_cancer",
            student=student,
            temperature=temperature,
            alpha=0.0,
            seed=seed,
            out=out / student,
            student_params=params,
            progress=progress,
        )
        test = res.metrics["test"]
        if not rows:
            t = test["teacher"]
            rows.append(
                {
                    "model": "teacher (LightGBM)",
                    "accuracy": t["accuracy"],
                    "roc_auc": t.get("roc_auc"),
                    "size": f"{res.metrics['size']['teacher_parameters']} params",
                }
            )
        for name, key in (
            (f"{student} (KD, τ={temperature:g})", "student"),
            (f"{student} (no KD)", "baseline"),
        ):
            m = test.get(key)
            if m:
                rows.append(
                    {
                        "model": name,
                        "accuracy": m["accuracy"],
                        "roc_auc": m.get("roc_auc"),
                        "fidelity": m.get("fidelity"),
                        "retention": m.get("retention"),
                        "size": f"{res.metrics['size']['student']['parameters']} params"
                        if key == "student"
                        else "",
                        "artifact": str(out / student) if key == "student" else "",
                    }
                )
    return rows

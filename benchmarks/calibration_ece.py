"""ECE of distilled (KD) vs hard-label (no-KD) rule-list and tree students on Adult after calibration.

Usage: python benchmarks/calibration_ece.py [--teacher runs/bench/.../model.txt]
Trains a 200-tree LightGBM teacher on the seed-0 train split when none is given.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from distill2rules.pipeline import distill
from distill2rules.quickstart import train_reference_teacher


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--teacher", type=Path, default=None)
    ap.add_argument("--workdir", type=Path, default=Path("runs/calibration"))
    args = ap.parse_args()
    teacher = args.teacher
    if teacher is None:
        teacher = args.workdir / "gbt" / "model.txt"
        if not teacher.is_file():
            train_reference_teacher("gbt", "adult", teacher, seed=0, progress=False)
    print("| student | τ | ECE KD | ECE no KD | fidelity KD / no KD | calibration |")
    print("|---|---|---|---|---|---|")
    for student in ("rules", "tree"):
        for tau in (1.0, 3.0):
            r = distill(
                teacher,
                "adult",
                student=student,
                temperature=tau,
                alpha=0.0,
                seed=0,
                progress=False,
            )
            t = r.metrics["test"]
            print(
                f"| {student} | {tau:g} | {t['student']['ece']:.4f} | {t['baseline']['ece']:.4f} | "
                f"{t['student']['fidelity']:.3f} / {t['baseline']['fidelity']:.3f} | {r.spec['calibration']['method']} |",
                flush=True,
            )


if __name__ == "__main__":
    main()

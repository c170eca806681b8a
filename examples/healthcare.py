"""Healthcare: distill a tumour classifier (breast cancer) into an EBM a clinician can read, and write the report.

An Explainable Boosting Machine is a sum of one curve per measurement: a reviewer can check
that "larger worst-radius → more likely malignant" holds and see where it saturates. This
example trains a LightGBM teacher, distills an EBM student at temperature τ = 2, validates it
(accuracy, fidelity, SHAP alignment with the teacher, stability, latency: ``evaluation.json``)
and writes the self-contained HTML report (``report.html``) with the EBM's shape plots.

Run::

    python examples/healthcare.py --out runs/healthcare            # ~1 min
    python examples/healthcare.py --small --out /tmp/healthcare    # test settings (or DISTILL2RULES_EXAMPLE_SMALL=1)

Open ``runs/healthcare/ebm/report.html`` in a browser.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("runs/healthcare"))
    ap.add_argument(
        "--small",
        action="store_true",
        default=bool(os.environ.get("DISTILL2RULES_EXAMPLE_SMALL")),
        help="fast settings for tests",
    )
    args = ap.parse_args(argv)

    from distill2rules.experiments.runs import evaluate_artifact
    from distill2rules.pipeline import distill
    from distill2rules.quickstart import train_reference_teacher
    from distill2rules.report import build_report

    progress = not args.small
    teacher = args.out / "teacher" / "model.txt"
    print(f"1. teacher: LightGBM on breast_cancer → {teacher}")
    train_reference_teacher("gbt", "breast_cancer", teacher, seed=0, progress=progress)

    params = (
        {"interactions": 0, "outer_bags": 1} if args.small else {"interactions": 5, "outer_bags": 8}
    )
    art = args.out / "ebm"
    print(f"2. student: EBM {params}, τ = 2 → {art}")
    res = distill(
        teacher,
        "breast_cancer",
        student="ebm",
        temperature=2.0,
        alpha=0.0,
        seed=0,
        out=art,
        student_params=params,
        adverse_class="malignant",
        progress=progress,
    )
    t = res.metrics["test"]
    print(
        f"   test accuracy teacher {t['teacher']['accuracy']:.3f} / student {t['student']['accuracy']:.3f}; "
        f"fidelity {t['student']['fidelity']:.3f}; no-KD student {t['baseline']['accuracy']:.3f}"
    )

    print("3. validation: SHAP alignment, stability, latency → evaluation.json")
    ev = evaluate_artifact(
        art,
        "breast_cancer",
        shap_rows=40 if args.small else 500,
        sigmas=(0.05,) if args.small else (0.01, 0.05, 0.1),
        latency_calls=20 if args.small else 1000,
        progress=progress,
    )
    al = ev["alignment"]
    print(
        f"   per-row SHAP cosine {al['cosine_mean']:.3f} ± {al['cosine_sd']:.3f}; teacher top features {al['teacher_top'][:3]}"
    )

    path = build_report(art, progress=progress)
    print(f"4. report: {path}")


if __name__ == "__main__":
    main()

"""Every student kind, distilled (KD) vs trained on hard labels (no KD), through the CLI.

For each dataset and teacher kind: ``distill2rules teacher train --kind {gbt,mlp}``, then
``distill2rules fit --student S --json`` for S in logreg, ebm, rules, tree, mlp. ``fit``
already fits the no-KD baseline side by side; this script collects the test-split fidelity,
accuracy and ECE of both into JSON lines and a Markdown table.

    DISTILL2RULES_DATA=/work/shared/datasets .venv/bin/python benchmarks/students_kd.py \\
        --datasets adult,german_credit,wine_quality --teachers gbt,mlp --workdir runs/students_kd
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

CLI = [sys.executable, "-m", "distill2rules.cli.main"]
STUDENTS = ("logreg", "ebm", "rules", "tree", "mlp")


def _run(args: list[str]) -> str:
    proc = subprocess.run(CLI + args, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:3])}… failed: {proc.stderr.strip()[-400:]}")
    return proc.stdout


def teacher_path(work: Path, dataset: str, kind: str) -> Path:
    p = work / dataset / kind / ("model.txt" if kind == "gbt" else "model.pt")
    if not p.exists():
        _run(["teacher", "train", "--kind", kind, "--data", dataset, "--out", str(p), "--quiet"])
    return p


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", default="adult,german_credit,wine_quality")
    ap.add_argument("--teachers", default="gbt,mlp")
    ap.add_argument("--students", default=",".join(STUDENTS))
    ap.add_argument("--temperature", default="1.0")
    ap.add_argument("--alpha", default="0.0")
    ap.add_argument("--workdir", type=Path, default=Path("runs/students_kd"))
    ap.add_argument(
        "--param",
        action="append",
        default=[],
        help="STUDENT:KEY=VALUE passed as -p KEY=VALUE to that student",
    )
    args = ap.parse_args()
    extra: dict[str, list[str]] = {}
    for item in args.param:
        s, _, kv = item.partition(":")
        extra.setdefault(s, []).extend(["-p", kv])
    out_lines = args.workdir / "results.jsonl"
    args.workdir.mkdir(parents=True, exist_ok=True)
    rows = []
    for dataset in args.datasets.split(","):
        for kind in args.teachers.split(","):
            t0 = time.perf_counter()
            try:
                tpath = teacher_path(args.workdir, dataset, kind)
            except RuntimeError as exc:
                print(f"teacher {kind} on {dataset}: {exc}", flush=True)
                continue
            for student in args.students.split(","):
                t1 = time.perf_counter()
                try:
                    text = _run(
                        [
                            "fit",
                            "--teacher",
                            str(tpath),
                            "--data",
                            dataset,
                            "--student",
                            student,
                            "--out",
                            str(args.workdir / dataset / kind / student),
                            "--temperature",
                            args.temperature,
                            "--alpha",
                            args.alpha,
                            "--json",
                            "--quiet",
                            "--no-onnx",
                            *extra.get(student, []),
                        ]
                    )
                except RuntimeError as exc:
                    print(f"{dataset} {kind} {student}: {exc}", flush=True)
                    continue
                m = json.loads(text)
                test = m["test"]
                row = {
                    "dataset": dataset,
                    "teacher": kind,
                    "student": student,
                    "temperature": m["temperature"],
                    "alpha": m["alpha"],
                    "teacher_accuracy": test["teacher"]["accuracy"],
                    **{
                        f"{who}_{key}": test[blk][key]
                        for who, blk in (("kd", "student"), ("nokd", "baseline"))
                        for key in ("fidelity", "accuracy", "ece")
                    },
                    "size": m["size"]["student"],
                    "seconds": round(time.perf_counter() - t1, 1),
                }
                rows.append(row)
                with open(out_lines, "a", encoding="utf-8") as fh:
                    fh.write(json.dumps(row) + "\n")
                print(json.dumps(row), flush=True)
            print(f"{dataset}/{kind}: {time.perf_counter() - t0:.0f} s", flush=True)
    print(
        "\n| dataset | teacher | student | fidelity KD | fidelity no-KD | accuracy KD | accuracy no-KD | ECE KD | ECE no-KD |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['dataset']} | {r['teacher']} | {r['student']} | {r['kd_fidelity']:.4f} | {r['nokd_fidelity']:.4f} | "
            f"{r['kd_accuracy']:.4f} | {r['nokd_accuracy']:.4f} | {r['kd_ece']:.4f} | {r['nokd_ece']:.4f} |"
        )


if __name__ == "__main__":
    main()

"""Golden outputs: the proof that a refactor changes nothing a user can see.

    DISTILL2RULES_DATA=../shared/datasets .venv/bin/python tests/golden/make_golden.py          # regenerate
    DISTILL2RULES_DATA=../shared/datasets .venv/bin/python tests/golden/make_golden.py --check  # compare

For every student kind on Adult (a fixed 2,000-row sample) and German credit, ``distill2rules fit``
runs with seed 0 against a committed LightGBM teacher, and ``student.json``, ``baseline.json`` and
``student.onnx`` are kept under ``tests/golden/<dataset>/<student>/``. ``--check`` refits into a
temporary folder and compares the files byte for byte (``tests/golden/test_golden.py`` does the
same in ``make test``).

Regenerate only for an *intended* behaviour change, in the same commit, and say so in its message.
A pure refactor must leave every file here unchanged.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
STUDENTS = ("logreg", "scorecard", "ebm", "rules", "tree", "mlp")
FILES = ("student.json", "baseline.json", "student.onnx")
# dataset -> (registry name, target, rows kept: None = all, extra fit arguments)
DATASETS: dict[str, tuple[str, str, int | None, tuple[str, ...]]] = {
    "adult": ("adult", "income", 2000, ("--adverse-class", "<=50K")),
    "german_credit": ("german_credit", "credit_risk", None, ()),
}


def cases() -> Iterator[tuple[str, str]]:
    for ds in DATASETS:
        for student in STUDENTS:
            yield ds, student


def _cli(*args: str, cwd: Path) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    proc = subprocess.run(
        [sys.executable, "-m", "distill2rules", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"distill2rules {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}"
        )


def make_inputs() -> None:
    """Write the committed data samples and teachers (only when missing: they pin the goldens)."""
    from distill2rules.data import load_dataset

    for key, (name, target, rows, _) in DATASETS.items():
        data, teacher = HERE / key / "data.csv", HERE / key / "teacher.txt"
        if data.is_file() and teacher.is_file():
            continue
        data.parent.mkdir(parents=True, exist_ok=True)
        frame = load_dataset(name).frame
        if rows is not None:
            frame = frame.sample(n=rows, random_state=0).reset_index(drop=True)
        frame.to_csv(data, index=False)
        _cli(
            "teacher",
            "train",
            "--kind",
            "gbt",
            "--data",
            data.name,
            "--target",
            target,
            "--seed",
            "0",
            "--out",
            teacher.name,
            "-q",
            cwd=data.parent,
        )


def fit_case(ds: str, student: str, out: Path) -> Path:
    """Fit one golden case into ``out`` (run from the dataset folder: paths in the manifest stay relative)."""
    _, target, _, extra = DATASETS[ds]
    _cli(
        "fit",
        "--teacher",
        "teacher.txt",
        "--data",
        "data.csv",
        "--target",
        target,
        "--student",
        student,
        "--seed",
        "0",
        *extra,
        "--out",
        str(out),
        "-q",
        cwd=HERE / ds,
    )
    return out


def regenerate() -> None:
    make_inputs()
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(max_workers=2) as pool:
        jobs = {case: pool.submit(fit_case, *case, Path(tmp) / "-".join(case)) for case in cases()}
        for (ds, student), job in jobs.items():
            art = job.result()
            dest = HERE / ds / student
            shutil.rmtree(dest, ignore_errors=True)
            dest.mkdir(parents=True)
            for name in FILES:
                shutil.copyfile(art / name, dest / name)
            print(f"wrote {dest.relative_to(HERE)}")


def compare(ds: str, student: str, art: Path) -> list[str]:
    """Names of the golden files that differ from the fitted artifact ``art``."""
    return [
        name
        for name in FILES
        if (art / name).read_bytes() != (HERE / ds / student / name).read_bytes()
    ]


def check() -> int:
    bad = 0
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(max_workers=2) as pool:
        jobs = {case: pool.submit(fit_case, *case, Path(tmp) / "-".join(case)) for case in cases()}
        for (ds, student), job in jobs.items():
            diff = compare(ds, student, job.result())
            bad += bool(diff)
            print(
                f"{ds:14s} {student:10s} {'DIFFERS: ' + ', '.join(diff) if diff else 'identical'}"
            )
    return 1 if bad else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare instead of regenerating")
    sys.exit(check() if parser.parse_args().check else regenerate())

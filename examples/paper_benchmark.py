"""The paper's benchmark in quick mode: teachers vs students with and without distillation.

Runs :func:`distill2rules.experiments.paper.run_paper_benchmark` (the same code as
``distill2rules benchmark paper``): per dataset and seed a fresh teacher, the student with
knowledge distillation (τ = 4, α = 0.5) and without it, then accuracy, SHAP cosine and
stability (Table 2), KD-vs-no-KD statistics (Table 3) and a temperature curve. Results go to
``--out`` (``paper_results.json``, ``table2.md``, ``table3.md``, ``temperature_curve.csv``).

Run::

    python examples/paper_benchmark.py --out runs/paper_quick        # quick preset: 2 seeds, Adult subsampled (long)
    python examples/paper_benchmark.py --small --out /tmp/paper      # smoke preset: breast_cancer, 1 seed (tests)

The full preset (5 seeds, every row) is ``distill2rules benchmark paper`` without ``--quick``;
its numbers are in ``docs/performance.md``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("runs/paper_quick"))
    ap.add_argument(
        "--small",
        action="store_true",
        default=bool(os.environ.get("DISTILL2RULES_EXAMPLE_SMALL")),
        help="smoke preset for tests: breast_cancer only, one seed, τ curve {1, 4}",
    )
    args = ap.parse_args(argv)

    from distill2rules.experiments.paper import (
        PaperSettings,
        format_curve,
        format_table2,
        format_table3,
        run_paper_benchmark,
    )

    settings = PaperSettings.preset(smoke=args.small, quick=not args.small)
    result = run_paper_benchmark(settings, out=args.out, progress=not args.small)
    print(
        f"mode {settings.mode}: datasets {', '.join(settings.datasets)}, seeds {list(settings.seeds)}\n"
    )
    print(format_table2(result))
    print()
    print(format_table3(result))
    print()
    print(format_curve(result["temperature_curve"]))
    print(f"\nresults written to {args.out}/paper_results.json")


if __name__ == "__main__":
    main()

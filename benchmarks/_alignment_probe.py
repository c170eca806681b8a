"""Teacher-vs-student SHAP alignment on the test split, run in a fresh process by ``toolkit_cost.py``.

Usage: python _alignment_probe.py TEACHER STUDENT_JSON DATA TARGET ROWS → JSON with the
validation suite's per-step ``seconds`` and the alignment summary.
"""

from __future__ import annotations

import json
import sys
import time


def main(teacher_path: str, spec_path: str, data: str, target: str, rows: int) -> None:
    t0 = time.perf_counter()
    from pathlib import Path

    from distill2rules.data import split_frame
    from distill2rules.pipeline import _class_index, load_inputs
    from distill2rules.spec import from_json
    from distill2rules.teachers import load_teacher
    from distill2rules.validation import evaluate_student

    ds = load_inputs(data, target)
    splits = split_frame(ds.frame, ds.target, seed=0)
    feats = [c for c in ds.frame.columns if c != ds.target]
    teacher = load_teacher(teacher_path)
    spec = from_json(Path(spec_path).read_text())
    import numpy as np

    classes = np.asarray(spec["classes"], dtype=object)
    y = _class_index(splits.test[ds.target], classes)
    setup = time.perf_counter() - t0
    res = evaluate_student(
        teacher,
        spec,
        splits.test[feats],
        y,
        X_background=splits.train[feats],
        shap_rows=rows,
        stability_rows=0,
        latency_calls=0,
        progress=False,
    )
    print(
        json.dumps(
            {
                "setup_s": setup,
                "seconds": res["seconds"],
                "shap_rows": res["config"]["shap_rows"],
                "alignment": res.get("alignment", {}),
            },
            default=str,
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))

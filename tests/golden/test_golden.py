"""Same inputs, same seed -> the same student.json, baseline.json and student.onnx, byte for byte.

The files under tests/golden/ were written by ``tests/golden/make_golden.py``; a refactor must keep
them. An intended behaviour change regenerates them in the same commit (see that script).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("make_golden", HERE / "make_golden.py")
assert _spec is not None and _spec.loader is not None
golden = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(golden)


@pytest.mark.parametrize(("dataset", "student"), list(golden.cases()))
def test_fit_matches_golden_files(dataset: str, student: str, tmp_path: Path) -> None:
    art = golden.fit_case(dataset, student, tmp_path / "art")
    differ = golden.compare(dataset, student, art)
    assert not differ, (
        f"{dataset}/{student}: {', '.join(differ)} changed. If the change is intended, "
        "regenerate with `python tests/golden/make_golden.py` and say so in the commit."
    )

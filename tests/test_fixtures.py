"""The committed fixture artifact (used by ``make wheel-smoke``) still verifies with the current code.

If this fails after a change to the artifact or spec format, regenerate the fixture:
``DISTILL2RULES_DATA=../shared/datasets .venv/bin/python tests/fixtures/make_fixtures.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

FIXTURES = Path(__file__).parent / "fixtures"
ARTIFACT = FIXTURES / "artifact_german_logreg"


def test_fixture_artifact_verifies_and_scores():
    from distill2rules import spec as spec_mod
    from distill2rules.artifact import verify_artifact
    from distill2rules.serve import predict_file

    report = verify_artifact(ARTIFACT)
    assert report["files_checked"] >= 5
    rows = pd.read_csv(FIXTURES / "german_rows.csv")
    assert len(rows) == 8
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "p.csv"
        assert predict_file(ARTIFACT, FIXTURES / "german_rows.csv", out) == 8
        got = pd.read_csv(out)
    spec = spec_mod.from_json((ARTIFACT / "student.json").read_text())
    want = spec_mod.evaluate(spec, rows)["probabilities"]
    np.testing.assert_allclose(got.to_numpy(), want, atol=1e-6)

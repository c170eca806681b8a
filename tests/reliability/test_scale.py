"""Scale: 150,000 rows × 10 features fit (logreg, small EBM) under 4 GB peak RSS; teacher scoring is batched."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

_SCRIPT = textwrap.dedent("""
    import json, resource, sys, time
    from pathlib import Path
    import numpy as np, pandas as pd, lightgbm as lgb
    from distill2rules.pipeline import distill
    tmp = Path(sys.argv[1]); n, d = 150_000, 10
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, d)).astype(np.float64)
    logit = X[:, 0] - 0.7 * X[:, 1] + 0.5 * X[:, 2] * X[:, 3] + 0.3 * np.sin(3 * X[:, 4])
    y = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "yes", "no")
    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(d)]).assign(y=y)
    booster = lgb.train({"objective": "binary", "num_leaves": 15, "verbose": -1, "num_threads": 2, "seed": 0},
                        lgb.Dataset(df.drop(columns="y"), label=(y == "yes").astype(int)), num_boost_round=40)
    booster.save_model(str(tmp / "model.txt"))
    out = {}
    for student, params in (("logreg", {}), ("ebm", {"interactions": 0, "outer_bags": 1, "max_bins": 32, "max_rounds": 300, "learning_rate": 0.1})):
        t0 = time.perf_counter()
        res = distill(tmp / "model.txt", df, target="y", student=student, temperature=2.0, student_params=params,
                      baseline=False, out=tmp / student, progress=False)
        out[student] = {"seconds": round(time.perf_counter() - t0, 1),
                        "fidelity": res.metrics["test"]["student"]["fidelity"]}
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))
""")


@pytest.mark.slow
def test_150k_rows_fit_under_4_gb(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(tmp_path)], capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    print("scale:", res)
    assert res["peak_rss_mb"] < 4096, res
    for student in ("logreg", "ebm"):
        assert res[student]["fidelity"] > 0.85, res
        assert (tmp_path / student / "student.onnx").is_file()


def test_teacher_scoring_is_batched(tmp_path):
    """Teacher.logits feeds the model at most batch_size rows at a time (bounded memory)."""
    import lightgbm as lgb
    import pandas as pd

    from distill2rules.teachers import load_teacher

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(3000, 4)), columns=list("abcd"))
    y = (X["a"] > 0).astype(int)
    lgb.train(
        {"objective": "binary", "verbose": -1, "num_threads": 1},
        lgb.Dataset(X, label=y),
        num_boost_round=5,
    ).save_model(str(tmp_path / "m.txt"))
    t = load_teacher(tmp_path / "m.txt")
    sizes = []
    real = t._logits_batch
    t._logits_batch = lambda frame: (sizes.append(len(frame)), real(frame))[1]
    z = t.logits(X, batch_size=1000)
    assert sizes == [1000, 1000, 1000] and z.shape == (3000, 2)
    sizes.clear()
    z2 = t.logits(X)
    np.testing.assert_allclose(z, z2)
    assert max(sizes) <= 8192

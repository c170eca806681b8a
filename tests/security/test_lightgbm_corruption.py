"""LightGBM model.txt is checked in Python before LightGBM's C++ parser sees it.

Issue 15: ``num_tree_per_iteration`` edited from 1 to 2 aborted the process ("double free or
corruption", exit 134); a tree whose child indices loop hung forever; ``sigmoid:k`` was ignored.
The CLI cases run in a child process so a crash or hang is caught rather than taking pytest down.
"""

from __future__ import annotations

import re
import subprocess
import time

import numpy as np
import pandas as pd
import pytest
from security_helpers import cli_subprocess, fit_args, fix_tree_sizes, one_line_error, train_lgb


def _edit(src, dst, old: str, new: str, *, count: int = 1):
    text = src.read_text()
    assert old in text, old
    dst.write_text(fix_tree_sizes(text.replace(old, new, count)))
    return dst


def test_num_tree_per_iteration_edit_gives_exit_2_not_a_crash(lgb_txt, small_csv, tmp_path):
    bad = _edit(
        lgb_txt, tmp_path / "model.txt", "num_tree_per_iteration=1\n", "num_tree_per_iteration=2\n"
    )
    proc = cli_subprocess(*fit_args(bad, small_csv, tmp_path / "art"), timeout=120)
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-500:])
    line = one_line_error(proc.stderr)
    assert "num_tree_per_iteration=2" in line and "num_class=1" in line
    assert not (tmp_path / "art").exists()


def _tree0(text: str) -> tuple[str, str]:
    left = re.search(r"^Tree=0\n(?:.*\n)*?left_child=(.*)$", text, flags=re.MULTILINE).group(1)
    right = re.search(r"^Tree=0\n(?:.*\n)*?right_child=(.*)$", text, flags=re.MULTILINE).group(1)
    return left, right


def test_cyclic_tree_gives_exit_2_quickly(lgb_txt, small_csv, tmp_path):
    text = lgb_txt.read_text()
    left, right = _tree0(text)
    lefts = left.split()
    assert len(lefts) >= 2
    lefts[-1] = "0"  # the last internal node's left child is the root: a loop
    bad = _edit(
        lgb_txt,
        tmp_path / "model.txt",
        f"left_child={left}\nright_child={right}",
        f"left_child={' '.join(lefts)}\nright_child={right}",
    )
    start = time.perf_counter()
    try:
        proc = cli_subprocess(*fit_args(bad, small_csv, tmp_path / "art"), timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("a cyclic tree made the CLI hang")
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-500:])
    assert "reached twice" in one_line_error(proc.stderr)
    assert time.perf_counter() - start < 60


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("num_class=1\n", "num_class=2\n", "num_tree_per_iteration=1 disagrees with num_class=2"),
        (
            "objective=binary sigmoid:1\n",
            "objective=binary sigmoid:nan\n",
            "sigmoid:nan must be finite",
        ),
        ("objective=binary sigmoid:1\n", "objective=binary sigmoid:-2\n", "must be finite and > 0"),
        ("objective=binary sigmoid:1\n", "objective=multiclass num_class:2\n", "needs >= 2"),
        ("max_feature_idx=3\n", "max_feature_idx=2\n", "feature_names does not match"),
    ],
)
def test_header_disagreements_are_refused(lgb_txt, tmp_path, old, new, message):
    from distill2rules.errors import TeacherError
    from distill2rules.teachers import load_teacher

    bad = _edit(lgb_txt, tmp_path / "model.txt", old, new)
    with pytest.raises(TeacherError, match=re.escape(message)):
        load_teacher(bad)


@pytest.mark.parametrize(
    ("which", "mutate", "message"),
    [
        (
            "left",
            lambda v: [*v[:-1], "-1" if v[-1] != "-1" else "-2"],
            "reached twice",
        ),  # shared leaf
        ("right", lambda v: [str(len(v) - 1)] * len(v), "reached twice"),  # shared node
        ("left", lambda v: [str(len(v))] + v[1:], "out of range"),  # child index past the nodes
    ],
)
def test_tree_shape_corruptions_are_refused(lgb_txt, tmp_path, which, mutate, message):
    from distill2rules.errors import TeacherError
    from distill2rules.teachers import load_teacher

    text = lgb_txt.read_text()
    left, right = _tree0(text)
    vals = (left if which == "left" else right).split()
    new_vals = " ".join(mutate(vals))
    assert new_vals != " ".join(vals)
    new_left, new_right = (new_vals, right) if which == "left" else (left, new_vals)
    bad = _edit(
        lgb_txt,
        tmp_path / "model.txt",
        f"left_child={left}\nright_child={right}",
        f"left_child={new_left}\nright_child={new_right}",
    )
    with pytest.raises(TeacherError, match=message):
        load_teacher(bad)


def test_split_feature_past_max_feature_idx_is_refused(lgb_txt, tmp_path):
    from distill2rules.errors import TeacherError
    from distill2rules.teachers import load_teacher

    text = lgb_txt.read_text()
    feats = re.search(r"^Tree=0\n(?:.*\n)*?split_feature=(.*)$", text, flags=re.MULTILINE).group(1)
    bad = _edit(
        lgb_txt,
        tmp_path / "model.txt",
        f"split_feature={feats}\n",
        "split_feature=" + " ".join(["4"] * len(feats.split())) + "\n",
    )
    with pytest.raises(TeacherError, match="split_feature out of range"):
        load_teacher(bad)


def test_sigmoid_k_is_honoured(small_frame, tmp_path):
    """A real model trained with sigmoid=2: our probabilities equal Booster.predict's."""
    import lightgbm as lgb

    from distill2rules.teachers import load_teacher, softmax

    path = train_lgb(small_frame, tmp_path / "model.txt", sigmoid=2.0)
    assert "objective=binary sigmoid:2" in path.read_text()
    teacher = load_teacher(path)
    X = small_frame[list("abcd")].head(200)
    want = lgb.Booster(model_file=str(path)).predict(X)
    got = softmax(teacher.logits(X))[:, 1]
    np.testing.assert_allclose(got, want, atol=1e-12)
    raw = lgb.Booster(model_file=str(path)).predict(X, raw_score=True)
    assert np.abs(1 / (1 + np.exp(-raw)) - want).max() > 0.01  # k=1 would have been wrong
    assert teacher.describe()["sigmoid"] == 2.0


def test_sigmoid_k_scales_tree_shap_to_the_teacher_logit(small_frame, tmp_path):
    pytest.importorskip("shap")
    from distill2rules.teachers import load_teacher
    from distill2rules.validation import teacher_attributions

    path = train_lgb(small_frame, tmp_path / "model.txt", sigmoid=2.0)
    teacher = load_teacher(path)
    X = small_frame[list("abcd")]
    att = teacher_attributions(teacher, X.head(20), X.head(100), class_index=1)
    z = teacher.logits(X.head(20))
    np.testing.assert_allclose(
        att.values.sum(axis=1) + att.base_values, z[:, 1] - z[:, 0], atol=1e-6
    )


def test_real_multiclass_model_still_loads(small_frame, tmp_path):
    from distill2rules.teachers import load_teacher

    frame = small_frame.assign(y=np.digitize(small_frame.a, [-0.5, 0.5]))
    path = train_lgb(frame, tmp_path / "multi.txt", objective="multiclass", num_class=3)
    teacher = load_teacher(path)
    assert teacher.n_classes == 3
    assert np.isfinite(teacher.logits(pd.DataFrame(frame[list("abcd")].head(5)))).all()

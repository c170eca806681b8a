"""Usage errors exit 2 with click's usage message; bad option and `-p` values are one-line errors.

Attack class: malformed command lines. None may reach "internal error ... please report it"
(exit 1), and none may silently fit something else (`-p max_terms=-3` fitted a constant model).
"""

from __future__ import annotations

import pytest

USAGE = [
    (["fit", "--bogus"], "No such option: --bogus"),
    (["fit", "--data", "german_credit"], "Missing option '--teacher'"),
    (
        ["fit", "--teacher", "t.txt", "--data", "german_credit", "--seed", "abc"],
        "Invalid value for '--seed'",
    ),
    (
        ["fit", "--teacher", "t.txt", "--data", "german_credit", "--out", "o", "--seed", "-1"],
        "Invalid value for '--seed'",
    ),
    (["verify"], "Missing argument"),
    (["no-such-command"], "No such command"),
    (["explain", "art", "--data", "x.csv", "--top", "many"], "Invalid value for '--top'"),
    (["teacher", "train", "--kind", "gbt"], "Missing option"),
]


@pytest.mark.parametrize("args,message", USAGE, ids=[" ".join(a) for a, _ in USAGE])
def test_usage_errors_exit_2_with_clicks_message(cli, args, message):
    r = cli(*args)
    assert r.code == 2, r.out + r.err
    assert "internal error" not in r.err
    assert "Usage: distill2rules" in r.err and message in r.err, r.err


def test_no_command_shows_usage_and_exits_2(cli):
    r = cli()
    assert r.code == 2
    assert "internal error" not in r.err
    assert "Usage" in r.err + r.out


def test_help_still_exits_0(cli):
    assert cli("--help").code == 0
    assert cli("fit", "--help").code == 0


BAD_PARAMS = [
    (["-p", "max_terms=-3"], "max_terms >= 1"),
    (["-p", "bogus=1"], "has no parameter 'bogus'"),
    (["-p", "l1=abc"], "expects a number"),
    (["-p", "l1=-0.5"], "l1 >= 0"),
    (["-p", "max_iter=2.5"], "expects an integer"),
    (["-p", "max_terms"], "KEY=VALUE"),
    (["-p", "random_state=-1"], "seed must be >= 0"),
    (["-p", "categorical_features=[1, 2]"], "expects"),
]


@pytest.mark.parametrize("extra,message", BAD_PARAMS, ids=[" ".join(a) for a, _ in BAD_PARAMS])
def test_bad_student_params_are_one_line_exit_2_before_any_work(cli, tmp_path, extra, message):
    out = tmp_path / "out"
    r = cli(
        "fit",
        "--teacher",
        tmp_path / "missing-teacher.txt",
        "--data",
        "german_credit",
        "--student",
        "logreg",
        "--out",
        out,
        *extra,
    )
    assert r.code == 2, r.out + r.err
    assert "internal error" not in r.err
    assert message in r.err, r.err
    assert len(r.err.strip().splitlines()) == 1
    assert not out.exists()


def test_params_of_other_students_are_checked_against_their_own_signature(cli, tmp_path):
    r = cli(
        "fit",
        "--teacher",
        tmp_path / "t.txt",
        "--data",
        "german_credit",
        "--student",
        "ebm",
        "--out",
        tmp_path / "o",
        "-p",
        "learning_rate=0",
    )
    assert r.code == 2 and "learning_rate > 0" in r.err
    r = cli(
        "fit",
        "--teacher",
        tmp_path / "t.txt",
        "--data",
        "german_credit",
        "--student",
        "rules",
        "--out",
        tmp_path / "o",
        "-p",
        "max_terms=3",
    )
    assert r.code == 2 and "has no parameter 'max_terms'" in r.err


def test_valid_params_pass_the_check():
    from distill2rules.students._params import check_student_params

    assert check_student_params(
        "logreg", {"max_terms": 5, "l1": 0.01, "categorical_features": ["a"]}
    ) == {"max_terms": 5, "l1": 0.01, "categorical_features": ["a"]}
    assert check_student_params("ebm", {"interactions": 0, "n_jobs": -1})["n_jobs"] == -1
    assert check_student_params("logreg", {"max_terms": None})["max_terms"] is None

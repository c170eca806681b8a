"""scikit-learn's estimator checks over every registered student, with the known exceptions listed.

Small settings keep the suite fast (EBM mains-only with one bag, few MLP epochs); the checks
themselves use sklearn's small generated data sets. Each expected failure says why it is
accepted (the pattern of interpret's ``test_ebm.py``). ``xfail_strict`` is on: a check that
starts passing must leave the list.
"""

from __future__ import annotations

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from distill2rules.students import STUDENTS, make_student

SMALL = {
    "logreg": {},
    "ebm": {"interactions": 0, "outer_bags": 1, "max_rounds": 100, "n_jobs": 1},
    "rules": {"max_rules": 4, "beam_width": 2},
    "tree": {"max_depth": 3},
    "mlp": {"hidden": (16,), "epochs": 60, "patience": 60, "random_state": 0},
}

# Why each accepted failure is not a bug.
WEIGHTS_NOT_REPEATS = (
    "weights are normalised and soft targets regularised/binned: a weight of 2 is equal to a "
    "repeated row in expectation, not bit for bit"
)
COMMON: dict[str, str] = {}
PER_STUDENT: dict[str, dict[str, str]] = {
    "logreg": {
        "check_non_transformer_estimators_n_iter": "max_iter bounds scipy's optimizer; no n_iter_ is kept",
        "check_sample_weight_equivalence_on_dense_data": WEIGHTS_NOT_REPEATS,
    },
    # scorecard: with 2 % bins (one distinct value per bin on the check's tiny data) a weight of 2 fits
    # as a repeated row, so the sample-weight check passes
    "scorecard": {
        "check_non_transformer_estimators_n_iter": "max_iter bounds scipy's optimizer; no n_iter_ is kept"
    },
    "ebm": {
        "check_sample_weight_equivalence_on_dense_data": WEIGHTS_NOT_REPEATS
        + " (and EBM bags rows at random)"
    },
    "tree": {"check_sample_weight_equivalence_on_dense_data": WEIGHTS_NOT_REPEATS},
    "mlp": {
        "check_sample_weight_equivalence_on_dense_data": WEIGHTS_NOT_REPEATS
        + " (and minibatches are shuffled)"
    },
}


def expected_failures(estimator) -> dict[str, str]:
    return {**COMMON, **PER_STUDENT.get(estimator.student_name, {})}


def _students():
    return [make_student(name, **SMALL.get(name, {})) for name in STUDENTS]


@parametrize_with_checks(_students(), expected_failed_checks=expected_failures)
def test_sklearn_compatible_student(estimator, check):
    check(estimator)


@pytest.mark.parametrize("name", list(STUDENTS))
def test_integer_column_names_fit_and_predict(name):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(120, 3)))  # columns 0, 1, 2
    y = (X[0] + X[1] > 0).astype(int)
    est = make_student(name, **SMALL.get(name, {})).fit(X, y)
    assert est.predict_proba(X).shape == (120, 2)
    assert list(est.feature_names_in_) == ["0", "1", "2"]


def test_continuous_target_and_zero_weights_are_refused():
    import numpy as np

    from distill2rules.errors import DataError

    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 2))
    with pytest.raises(DataError, match="Unknown label type: 'continuous'"):
        make_student("logreg").fit(X, rng.normal(size=50))
    with pytest.raises(DataError, match="non-zero"):
        make_student("logreg").fit(X, (X[:, 0] > 0).astype(int), sample_weight=np.zeros(50))

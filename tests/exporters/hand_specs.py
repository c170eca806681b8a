"""Hand-built student specs for the rule-card and reason-code tests (no student needed)."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd

from distill2rules.spec import SPEC_FORMAT, validate

CHECKING = ["< 0 DM", "0 <= X < 200 DM", ">= 200 DM", "no checking account"]
PURPOSE = ["car", "radio/tv", "education", "business"]


def scorecard_spec() -> dict:
    """German-credit-like logistic scorecard; classes good/bad, score = log-odds of 'bad'."""
    spec = {
        "format": SPEC_FORMAT,
        "kind": "additive",
        "model": "logreg",
        "link": "logistic",
        "classes": ["good", "bad"],
        "inputs": {
            "numeric": ["duration", "credit_amount", "age"],
            "categorical": ["checking_status", "purpose"],
        },
        "intercept": [-1.0],
        "terms": [
            {
                "name": "checking_status",
                "type": "table",
                "axes": [
                    {"feature": "checking_status", "kind": "categorical", "categories": CHECKING}
                ],
                "scores": [[0.0], [0.9], [0.5], [-0.2], [-0.8], [0.0]],
            },
            {
                "name": "duration",
                "type": "table",
                "axes": [{"feature": "duration", "kind": "numeric", "edges": [12.0, 24.0, 36.0]}],
                "scores": [[0.0], [-0.5], [0.0], [0.4], [0.9]],
            },
            {
                "name": "credit_amount",
                "type": "linear",
                "feature": "credit_amount",
                "coef": [1e-4],
                "impute": 3000.0,
                "clip": [250.0, 18424.0],
                "display": {"quantiles": [1000.0, 2300.0, 4000.0, 8000.0]},
            },
            {
                "name": "purpose",
                "type": "table",
                "axes": [{"feature": "purpose", "kind": "categorical", "categories": PURPOSE}],
                "scores": [[0.0], [0.3], [-0.2], [0.4], [0.1], [0.0]],
            },
            {
                "name": "age",
                "type": "table",
                "axes": [{"feature": "age", "kind": "numeric", "edges": [25.0, 35.0, 50.0]}],
                "scores": [[0.0], [0.4], [0.25], [-0.1], [-0.3]],
            },
        ],
        "monotone": {"age": -1},
        "meta": {
            "teacher": {
                "kind": "lightgbm",
                "path": "teacher/model.txt",
                "fingerprint": "sha256:abc123",
            },
            "dataset": "german_credit",
            "n_rows": 1000,
            "target": "class",
            "seed": 0,
            "temperature": 3.0,
            "alpha": 0.3,
            "limits": ["Not validated for business loans over 20,000 DM."],
        },
    }
    validate(spec)
    return spec


def applicants() -> pd.DataFrame:
    """Row 0: clearly bad; row 1: barely bad (score 0.1); row 2: good; row 3: missing values."""
    return pd.DataFrame(
        {
            "checking_status": ["< 0 DM", "0 <= X < 200 DM", "no checking account", None],
            "duration": [36, 30, 6, np.nan],
            "credit_amount": [9000.0, 5000.0, 1200.0, 30000.0],
            "purpose": ["car", "radio/tv", "radio/tv", "vacation"],
            "age": [30, 40, 55, 45],
        }
    )


def monotone_spec(monotone: dict | None) -> dict:
    """One non-monotone income table: decreasing income slightly would flip, increasing a lot would too."""
    spec = {
        "format": SPEC_FORMAT,
        "kind": "additive",
        "model": "logreg",
        "link": "logistic",
        "classes": ["bad", "good"],  # score = log-odds of 'good'
        "inputs": {"numeric": ["income"], "categorical": []},
        "intercept": [0.0],
        "terms": [
            {
                "name": "income",
                "type": "table",
                "axes": [{"feature": "income", "kind": "numeric", "edges": [10.0, 20.0, 30.0]}],
                "scores": [[0.0], [-1.0], [0.5], [-0.5], [1.0]],
            }
        ],
    }
    if monotone:
        spec["monotone"] = monotone
    validate(spec)
    return spec


def ebm_spec() -> dict:
    """EBM-like: long numeric table, categorical table, two pairs (one strong, one weak)."""
    rng = np.random.default_rng(0)
    edges = [float(e) for e in np.linspace(18, 80, 41)]  # 43 bins: condensed in the card
    age_scores = [[0.0]] + [[float(v)] for v in np.round(np.sin(np.linspace(0, 3, 42)) * 0.8, 3)]
    spec = {
        "format": SPEC_FORMAT,
        "kind": "additive",
        "model": "ebm",
        "link": "logistic",
        "classes": [0, 1],
        "inputs": {"numeric": ["age", "hours"], "categorical": ["job"]},
        "intercept": [-0.3],
        "terms": [
            {
                "name": "age",
                "type": "table",
                "axes": [{"feature": "age", "kind": "numeric", "edges": edges}],
                "scores": age_scores,
            },
            {
                "name": "job",
                "type": "table",
                "axes": [
                    {
                        "feature": "job",
                        "kind": "categorical",
                        "categories": ["clerk", "manager", "labourer"],
                    }
                ],
                "scores": [[0.0], [-0.2], [0.6], [-0.4], [0.0]],
            },
            {
                "name": "hours",
                "type": "table",
                "axes": [{"feature": "hours", "kind": "numeric", "edges": [40.0]}],
                "scores": [[0.0], [-0.1], [0.3]],
            },
            {
                "name": "age x hours",
                "type": "table",
                "axes": [
                    {"feature": "age", "kind": "numeric", "edges": [30.0, 50.0]},
                    {"feature": "hours", "kind": "numeric", "edges": [40.0]},
                ],
                "scores": np.round(rng.normal(0, 0.05, (4, 3, 1)), 3).tolist(),
            },
            {
                "name": "job x hours",
                "type": "table",
                "axes": [
                    {
                        "feature": "job",
                        "kind": "categorical",
                        "categories": ["clerk", "manager", "labourer"],
                    },
                    {"feature": "hours", "kind": "numeric", "edges": [40.0]},
                ],
                "scores": [
                    [[0.0], [0.0], [0.0]],
                    [[0.0], [0.5], [-0.5]],
                    [[0.0], [-0.2], [0.9]],
                    [[0.0], [0.1], [-0.1]],
                    [[0.0], [0.0], [0.0]],
                ],
            },
        ],
    }
    validate(spec)
    return spec


def rule_list_spec() -> dict:
    spec = {
        "format": SPEC_FORMAT,
        "kind": "rule_list",
        "model": "rules",
        "classes": ["good", "bad"],
        "inputs": {
            "numeric": ["duration", "credit_amount"],
            "categorical": ["checking_status", "purpose"],
        },
        "rules": [
            {
                "name": "R1",
                "conditions": [
                    {
                        "feature": "checking_status",
                        "op": "in",
                        "values": CHECKING[:2],
                        "missing": False,
                    },
                    {"feature": "duration", "op": ">", "value": 24.0, "missing": False},
                ],
                "probabilities": [0.29, 0.71],
                "support": 83,
                "class_counts": [24, 59],
            },
            {
                "name": "R2",
                "conditions": [
                    {"feature": "credit_amount", "op": ">", "value": 10000.0, "missing": True}
                ],
                "probabilities": [0.4, 0.6],
                "support": 30,
                "class_counts": [12, 18],
            },
            {
                "name": "R3",
                "conditions": [
                    {"feature": "purpose", "op": "in", "values": ["education"], "missing": False},
                    {"feature": "duration", "op": "<=", "value": 12.5, "missing": False},
                ],
                "probabilities": [0.55, 0.45],
                "support": 40,
                "class_counts": [22, 18],
            },
        ],
        "default": {"probabilities": [0.8, 0.2], "support": 600, "class_counts": [480, 120]},
        "meta": {"ordered": True},
    }
    validate(spec)
    return spec


def softmax_spec() -> dict:
    spec = {
        "format": SPEC_FORMAT,
        "kind": "additive",
        "model": "ebm",
        "link": "softmax",
        "classes": ["low", "mid", "high"],
        "inputs": {"numeric": ["x", "z"], "categorical": ["c"]},
        "intercept": [0.2, 0.0, -0.2],
        "terms": [
            {
                "name": "x",
                "type": "table",
                "axes": [{"feature": "x", "kind": "numeric", "edges": [0.0, 1.0]}],
                "scores": [[0, 0, 0], [1.0, 0.0, -1.0], [0.0, 0.3, 0.0], [-1.0, 0.0, 1.2]],
            },
            {
                "name": "z",
                "type": "linear",
                "feature": "z",
                "coef": [-0.5, 0.1, 0.4],
                "impute": 0.0,
                "clip": [-3.0, 3.0],
            },
            {
                "name": "c",
                "type": "table",
                "axes": [{"feature": "c", "kind": "categorical", "categories": ["a", "b"]}],
                "scores": [[0, 0, 0], [0.4, 0.0, -0.4], [-0.3, 0.1, 0.2], [0, 0, 0]],
            },
        ],
    }
    validate(spec)
    return spec


def mlp_spec() -> dict:
    """Linear-in-the-inputs MLP (identity activations) so occlusion impacts are known exactly."""
    spec = {
        "format": SPEC_FORMAT,
        "kind": "mlp",
        "model": "mlp",
        "link": "logistic",
        "classes": ["no", "yes"],
        "inputs": {"numeric": ["a", "b"], "categorical": ["c"]},
        "preprocess": {
            "numeric": [
                {"feature": "a", "mean": 10.0, "scale": 2.0, "impute": 10.0, "clip": [0.0, 20.0]},
                {"feature": "b", "mean": 0.0, "scale": 1.0, "impute": 0.0, "clip": [None, None]},
            ],
            "categorical": [{"feature": "c", "categories": ["u", "v"]}],
        },
        "layers": [
            {
                "weight": [[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]],
                "bias": [0.0, 0.0, 0.0],
                "activation": "identity",
            },
            {"weight": [[2.0, -0.5, 1.0]], "bias": [0.1], "activation": "identity"},
        ],
    }
    validate(spec)
    return spec


def copy_spec(spec: dict) -> dict:
    return copy.deepcopy(spec)

"""Test helpers for the validation wing: real teachers (LightGBM, torch) behind tiny adapters that
follow the Teacher contract, data sets, and real student specs (hand-built or fitted)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from distill2rules.spec import SPEC_FORMAT, validate

INF = float("inf")


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


class _Prep:
    """Standardise numerics, one-hot categoricals; remember the model inputs of each column."""

    def __init__(
        self, X: pd.DataFrame, numeric: list[str], categorical: list[str], standardise: bool
    ) -> None:
        self.numeric, self.categorical = list(numeric), list(categorical)
        self.feature_names = self.numeric + self.categorical
        self.mean = X[numeric].mean().to_numpy() if standardise else np.zeros(len(numeric))
        self.scale = X[numeric].std().to_numpy() if standardise else np.ones(len(numeric))
        self.vocab = {c: sorted(X[c].dropna().astype(str).unique()) for c in categorical}
        groups, j = {}, 0
        for c in numeric:
            groups[c] = [j]
            j += 1
        for c in categorical:
            groups[c] = list(range(j, j + len(self.vocab[c])))
            j += len(self.vocab[c])
        self.feature_groups = groups
        self.d_model = j

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        out = np.zeros((len(X), self.d_model), dtype=np.float32)
        num = X[self.numeric].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
        out[:, : len(self.numeric)] = np.nan_to_num((num - self.mean) / self.scale)
        for c in self.categorical:
            vals = (
                X[c]
                .astype(object)
                .where(X[c].notna(), None)
                .map(lambda v: None if v is None else str(v))
            )
            for i, v in enumerate(self.vocab[c]):
                out[:, self.feature_groups[c][i]] = (vals == v).to_numpy()
        return out


class LGBTeacher:
    """A LightGBM booster over one-hot inputs (Teacher contract)."""

    kind = "lightgbm"
    attribution = "tree"

    def __init__(self, booster: Any, prep: _Prep, n_classes: int) -> None:
        self.booster, self.prep, self.n_classes = booster, prep, n_classes
        self.feature_names = prep.feature_names
        self.feature_groups = prep.feature_groups

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        return self.prep.transform(X)

    def logits_from_model_input(self, Z: np.ndarray) -> np.ndarray:
        raw = np.asarray(self.booster.predict(Z, raw_score=True, num_threads=1), dtype=np.float64)
        return np.column_stack([np.zeros(len(raw)), raw]) if raw.ndim == 1 else raw

    def logits(self, X: pd.DataFrame) -> np.ndarray:
        return self.logits_from_model_input(self.transform(X))

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return _softmax(self.logits(X))

    def n_parameters(self) -> int:
        return int(sum(2 * t["num_leaves"] - 1 for t in self.booster.dump_model()["tree_info"]))


class TorchTeacher(LGBTeacher):
    """A torch MLP (nn.ReLU modules) over standardised / one-hot inputs (Teacher contract)."""

    kind = "torch_state_dict"
    attribution = "deep"

    def __init__(self, module: Any, prep: _Prep, n_classes: int) -> None:
        self.module, self.prep, self.n_classes = module, prep, n_classes
        self.feature_names = prep.feature_names
        self.feature_groups = prep.feature_groups

    def logits_from_model_input(self, Z: np.ndarray) -> np.ndarray:
        import torch

        with torch.no_grad():
            raw = self.module(torch.as_tensor(Z, dtype=torch.float32)).double().numpy()
        return np.column_stack([np.zeros(len(raw)), raw[:, 0]]) if raw.shape[1] == 1 else raw

    def n_parameters(self) -> int:
        return int(sum(p.numel() for p in self.module.parameters()))


class BlackBoxTeacher:
    """Only logits: what an ONNX teacher looks like to validation (no booster, no module)."""

    kind = "onnx"

    def __init__(self, inner: LGBTeacher) -> None:
        self._inner = inner
        self.feature_names, self.n_classes = inner.feature_names, inner.n_classes
        self.feature_groups = inner.feature_groups

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        return self._inner.transform(X)

    def logits_from_model_input(self, Z: np.ndarray) -> np.ndarray:
        return self._inner.logits_from_model_input(Z)

    def logits(self, X: pd.DataFrame) -> np.ndarray:
        return self._inner.logits(X)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return self._inner.predict_proba(X)

    def n_parameters(self) -> int:
        return self._inner.n_parameters()


def mixed_frame(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Numerics (one with NaN), a string categorical (with missing), an integer categorical."""
    rng = np.random.default_rng(seed)
    x1, x2, x3 = rng.normal(size=n), rng.normal(2.0, 3.0, size=n), rng.uniform(0, 100, size=n)
    c1 = rng.choice(np.array(["red", "green", "blue"], dtype=object), size=n)
    c1[rng.random(n) < 0.05] = None
    c2 = rng.integers(0, 4, size=n)
    x3[rng.random(n) < 0.05] = np.nan
    z = (
        1.2 * x1
        - 0.4 * x2
        + 0.02 * np.nan_to_num(x3, nan=50.0)
        + (c1 == "red") * 1.5
        - 0.5 * (c2 == 2)
        - 0.7
    )
    z += 0.8 * (x2 > 2) * (c2 == 1)
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(np.int64)
    X = pd.DataFrame({"x1": x1, "x2": x2, "x3": x3, "c1": c1, "c2": c2})
    return X, y


def train_lgb(
    X: pd.DataFrame,
    y: np.ndarray,
    numeric: list[str],
    categorical: list[str],
    n_classes: int,
    rounds: int = 60,
) -> LGBTeacher:
    import lightgbm as lgb

    prep = _Prep(X, numeric, categorical, standardise=False)
    params = {
        "objective": "binary" if n_classes == 2 else "multiclass",
        "verbose": -1,
        "num_leaves": 8,
        "learning_rate": 0.1,
        "min_data_in_leaf": 5,
        "num_threads": 1,
        "seed": 0,
        "deterministic": True,
    }
    if n_classes > 2:
        params["num_class"] = n_classes
    booster = lgb.train(params, lgb.Dataset(prep.transform(X), y), rounds)
    return LGBTeacher(booster, prep, n_classes)


def train_torch(
    X: pd.DataFrame,
    y: np.ndarray,
    numeric: list[str],
    categorical: list[str],
    n_classes: int,
    out_dim: int | None = None,
) -> TorchTeacher:
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(0)
    prep = _Prep(X, numeric, categorical, standardise=True)
    out_dim = out_dim or (1 if n_classes == 2 else n_classes)
    module = torch.nn.Sequential(
        torch.nn.Linear(prep.d_model, 16),
        torch.nn.ReLU(),
        torch.nn.Linear(16, 8),
        torch.nn.ReLU(),
        torch.nn.Linear(8, out_dim),
    )
    Z, t = torch.as_tensor(prep.transform(X)), torch.as_tensor(y)
    opt = torch.optim.Adam(module.parameters(), lr=0.02)
    for _ in range(150):
        opt.zero_grad()
        out = module(Z)
        if out_dim == 1:
            loss = torch.nn.functional.binary_cross_entropy_with_logits(out[:, 0], t.float())
        else:
            loss = torch.nn.functional.cross_entropy(out, t)
        loss.backward()
        opt.step()
    module.eval()
    return TorchTeacher(module, prep, n_classes)


def logreg_spec(
    X: pd.DataFrame, y: np.ndarray, numeric: list[str], C: float = 1.0
) -> dict[str, Any]:
    """A fitted LogisticRegression lowered to an additive spec (coefficients on the raw scale)."""
    from sklearn.linear_model import LogisticRegression

    mean, scale = X[numeric].mean().to_numpy(), X[numeric].std().to_numpy()
    lr = LogisticRegression(C=C, max_iter=2000).fit((X[numeric].to_numpy() - mean) / scale, y)
    coef = lr.coef_ / scale  # (K', d) on the raw scale
    intercept = lr.intercept_ - coef @ mean
    k = len(lr.classes_)
    terms = [
        {
            "type": "linear",
            "name": c,
            "feature": c,
            "coef": list(coef[:, j]),
            "impute": float(mean[j]),
            "clip": [-INF, INF],
        }
        for j, c in enumerate(numeric)
    ]
    spec = {
        "format": SPEC_FORMAT,
        "kind": "additive",
        "model": "logreg",
        "classes": list(range(k)),
        "inputs": {"numeric": list(numeric), "categorical": []},
        "link": "logistic" if k == 2 else "softmax",
        "intercept": list(intercept),
        "terms": terms,
        "calibration": None,
        "meta": {},
    }
    validate(spec)
    return spec


def mixed_additive_spec() -> dict[str, Any]:
    """Linear, one-axis numeric table, categorical table and a numeric x categorical pair."""
    spec = {
        "format": SPEC_FORMAT,
        "kind": "additive",
        "model": "ebm",
        "classes": [0, 1],
        "inputs": {"numeric": ["x1", "x2", "x3"], "categorical": ["c1", "c2"]},
        "link": "logistic",
        "intercept": [-0.6],
        "calibration": None,
        "meta": {},
        "terms": [
            {
                "type": "linear",
                "name": "x1",
                "feature": "x1",
                "coef": [1.1],
                "impute": 0.0,
                "clip": [-3.0, 3.0],
            },
            {
                "type": "table",
                "name": "x3",
                "axes": [{"feature": "x3", "kind": "numeric", "edges": [25.0, 50.0, 75.0]}],
                "scores": [[0.0], [-0.5], [-0.2], [0.3], [0.6]],
            },
            {
                "type": "table",
                "name": "c1",
                "axes": [
                    {"feature": "c1", "kind": "categorical", "categories": ["blue", "green", "red"]}
                ],
                "scores": [[0.1], [-0.3], [-0.2], [1.2], [0.0]],
            },
            {
                "type": "table",
                "name": "x2 x c2",
                "axes": [
                    {"feature": "x2", "kind": "numeric", "edges": [2.0]},
                    {"feature": "c2", "kind": "categorical", "categories": ["0", "1", "2", "3"]},
                ],
                "scores": [
                    [[0.0]] * 6,
                    [[0.3], [0.2], [-0.1], [-0.6], [0.1], [0.0]],
                    [[-0.4], [-0.5], [0.7], [-1.0], [-0.3], [0.0]],
                ],
            },
        ],
    }
    validate(spec)
    return spec


def rule_list_spec() -> dict[str, Any]:
    spec = {
        "format": SPEC_FORMAT,
        "kind": "rule_list",
        "model": "rules",
        "classes": [0, 1],
        "inputs": {"numeric": ["x1", "x2", "x3"], "categorical": ["c1", "c2"]},
        "calibration": None,
        "meta": {},
        "rules": [
            {
                "name": "R1",
                "conditions": [
                    {"feature": "x1", "op": ">", "value": 0.8, "missing": False},
                    {"feature": "c1", "op": "in", "values": ["red"], "missing": False},
                ],
                "probabilities": [0.05, 0.95],
                "support": 1,
                "class_counts": [0, 1],
            },
            {
                "name": "R2",
                "conditions": [{"feature": "x1", "op": "<=", "value": -0.5, "missing": True}],
                "probabilities": [0.85, 0.15],
                "support": 1,
                "class_counts": [1, 0],
            },
            {
                "name": "R3",
                "conditions": [
                    {"feature": "c2", "op": "not_in", "values": ["2"], "missing": False},
                    {"feature": "x3", "op": ">", "value": 60.0, "missing": False},
                ],
                "probabilities": [0.3, 0.7],
                "support": 1,
                "class_counts": [0, 1],
            },
        ],
        "default": {"probabilities": [0.6, 0.4], "support": 1, "class_counts": [1, 0]},
    }
    validate(spec)
    return spec


def mlp_spec(seed: int = 0) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    d_in = 3 + 3 + 4
    spec = {
        "format": SPEC_FORMAT,
        "kind": "mlp",
        "model": "mlp",
        "classes": [0, 1],
        "link": "logistic",
        "inputs": {"numeric": ["x1", "x2", "x3"], "categorical": ["c1", "c2"]},
        "calibration": None,
        "meta": {},
        "preprocess": {
            "numeric": [
                {"feature": "x1", "mean": 0.0, "scale": 1.0, "impute": 0.0, "clip": [-INF, INF]},
                {"feature": "x2", "mean": 2.0, "scale": 3.0, "impute": 2.0, "clip": [-INF, INF]},
                {
                    "feature": "x3",
                    "mean": 50.0,
                    "scale": 29.0,
                    "impute": 50.0,
                    "clip": [0.0, 100.0],
                },
            ],
            "categorical": [
                {"feature": "c1", "categories": ["blue", "green", "red"]},
                {"feature": "c2", "categories": ["0", "1", "2", "3"]},
            ],
        },
        "layers": [
            {
                "weight": rng.normal(0, 0.6, (6, d_in)).tolist(),
                "bias": rng.normal(0, 0.1, 6).tolist(),
                "activation": "relu",
            },
            {
                "weight": rng.normal(0, 0.6, (1, 6)).tolist(),
                "bias": [0.0],
                "activation": "identity",
            },
        ],
    }
    validate(spec)
    return spec

"""The MLP kind: preprocessing (standardised numerics, one-hot categoricals, one 0/1 input per
special value) + dense layers + link.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import numpy as np

from distill2rules.errors import SpecError
from distill2rules.spec._core import check_link, column_lookup, link_probabilities
from distill2rules.spec._kinds import Spec, register_kind
from distill2rules.spec._special import mask_specials, values_mask

__all__ = ["MLPSpec", "mlp_design_matrix", "mlp_scores"]


def mlp_design_matrix(spec: Mapping[str, Any], num: np.ndarray, cat: np.ndarray) -> np.ndarray:
    """The MLP's input vector: standardised numerics, one-hot categoricals, then one 0/1
    input per ``preprocess.special`` entry (special values are missing for the numerics)."""
    lookup = column_lookup(spec)
    raw = num
    num, _ = mask_specials(spec, num)
    blocks = []
    for p in spec["preprocess"].get("numeric", []):
        _, j = lookup[p["feature"]]
        x = num[:, j].astype(np.float64)
        x = np.where(np.isnan(x), p.get("impute", 0.0), x)
        lo, hi = p.get("clip", [None, None])
        x = np.clip(x, -np.inf if lo is None else lo, np.inf if hi is None else hi)
        blocks.append(((x - p["mean"]) / p["scale"])[:, None])
    for p in spec["preprocess"].get("categorical", []):
        _, j = lookup[p["feature"]]
        col = cat[:, j]
        cats = list(p["categories"])
        onehot = np.zeros((len(col), len(cats)), dtype=np.float64)
        pos = {c: i for i, c in enumerate(cats)}
        for i, v in enumerate(col):
            k = pos.get(v)
            if k is not None:
                onehot[i, k] = 1.0
        blocks.append(onehot)
    for p in spec["preprocess"].get("special", []) or []:
        _, j = lookup[p["feature"]]
        blocks.append(values_mask(raw[:, j], [p["value"]]).astype(np.float64)[:, None])
    n = num.shape[0] if num.ndim == 2 else cat.shape[0]
    return np.hstack(blocks) if blocks else np.zeros((n, 0))


def mlp_scores(spec: Mapping[str, Any], num: np.ndarray, cat: np.ndarray) -> np.ndarray:
    """The network's output scores ``[n, K']`` (before the link)."""
    return _forward(mlp_design_matrix(spec, num, cat), spec["layers"])


def _forward(h: np.ndarray, layers: Any) -> np.ndarray:
    for layer in layers:
        h = h @ np.asarray(layer["weight"], dtype=np.float64).T + np.asarray(
            layer["bias"], dtype=np.float64
        )
        act = layer.get("activation", "identity")
        if act == "relu":
            h = np.maximum(h, 0.0)
        elif act == "tanh":
            h = np.tanh(h)
        elif act != "identity":
            raise SpecError(f"unknown activation '{act}'.")
    return h


@register_kind
class MLPSpec(Spec):
    """Dense layers over a fixed preprocessing; explained by occlusion."""

    kind = "mlp"

    def outputs(self, num: np.ndarray, cat: np.ndarray) -> dict[str, np.ndarray]:
        scores = mlp_scores(self, num, cat)
        return {"scores": scores, "probabilities": link_probabilities(scores, self["link"])}

    def evaluate_codes(
        self, codes: np.ndarray, vocab: Mapping[str, np.ndarray]
    ) -> dict[str, np.ndarray]:
        """``scores`` on coded rows; one-hot blocks are built once per vocabulary entry."""
        if self.get("special_values"):
            return super().evaluate_codes(codes, vocab)
        num_cols, cat_cols = self.input_columns()
        codes = np.asarray(codes).astype(np.int64)
        position = {c: j for j, c in enumerate(num_cols + cat_cols)}
        pre = self["preprocess"]
        blocks = [
            mlp_design_matrix(
                {
                    "inputs": self["inputs"],
                    "preprocess": {"numeric": pre.get("numeric", []), "categorical": []},
                },
                self._decode_numeric(codes, vocab),
                np.empty((len(codes), len(cat_cols)), dtype=object),
            )
        ]
        for p in pre.get("categorical", []):
            vm = self._vocab_matrix(p["feature"], vocab)
            onehot = mlp_design_matrix(
                {"inputs": self["inputs"], "preprocess": {"numeric": [], "categorical": [p]}},
                np.zeros((len(vm), len(num_cols)), np.float32),
                vm,
            )
            blocks.append(onehot[codes[:, position[p["feature"]]]])
        return {"scores": _forward(np.hstack(blocks), self["layers"])}

    def n_parameters(self) -> int:
        """Weights plus biases."""
        return int(
            sum(
                np.asarray(ly["weight"]).size + np.asarray(ly["bias"]).size for ly in self["layers"]
            )
        )

    def complexity(self) -> dict[str, Any]:
        return {
            "layers": [len(ly["bias"]) for ly in self["layers"]],
            "parameters": self.n_parameters(),
        }

    def scaled(self, a: float) -> MLPSpec:
        """The last layer's weights and bias multiplied by ``a``."""
        s = copy.deepcopy(self)
        last = s["layers"][-1]
        last["weight"] = (a * np.asarray(last["weight"], dtype=float)).tolist()
        last["bias"] = (a * np.asarray(last["bias"], dtype=float)).tolist()
        return s

    def shifted(self, b: float) -> MLPSpec:
        s = copy.deepcopy(self)
        s["layers"][-1]["bias"] = [v + b for v in s["layers"][-1]["bias"]]
        return s

    def check(self) -> None:
        check_link(self)
        if not self.get("layers"):
            raise SpecError("an mlp spec needs at least one layer.")

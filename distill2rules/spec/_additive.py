"""The additive kind: intercept + terms (``linear`` or ``table`` over 1-2 binned/categorical
axes) + link (``logistic`` for two classes with one score, ``softmax`` for K scores).

Logistic regression, the scorecard and the EBM all lower to it.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import numpy as np

from distill2rules.errors import SpecError
from distill2rules.spec._core import (
    MISSING_CATEGORY,
    check_link,
    column_lookup,
    link_probabilities,
    n_scores,
)
from distill2rules.spec._kinds import Spec, register_kind
from distill2rules.spec._special import mask_specials, special_codes, validate_specials

__all__ = ["AdditiveSpec", "additive_contributions", "axis_index", "term_features"]


def axis_index(
    axis: Mapping[str, Any], num: np.ndarray, cat: np.ndarray, lookup: Mapping[str, tuple[str, int]]
) -> np.ndarray:
    """Bin index of every row along one table axis (see ``docs/spec.md``).

    numeric: 0 = missing (NaN); otherwise ``1 + #edges <= x`` (so -inf -> 1, +inf -> m + 1).
    categorical: 0 = missing (``""``); ``1..n`` = the listed categories; ``n + 1`` = unseen.
    """
    kind, j = lookup[axis["feature"]]
    if axis["kind"] == "numeric":
        if kind != "numeric":
            raise SpecError(f"axis on '{axis['feature']}' is numeric but the input is categorical.")
        x = num[:, j].astype(np.float64)
        edges = np.asarray(axis["edges"], dtype=np.float64)
        idx = 1 + np.searchsorted(edges, x, side="right")
        idx[np.isnan(x)] = 0
        return idx.astype(np.int64)
    if axis["kind"] == "categorical":
        if kind != "categorical":
            raise SpecError(f"axis on '{axis['feature']}' is categorical but the input is numeric.")
        cats = list(axis["categories"])
        pos = {c: i + 1 for i, c in enumerate(cats)}
        unseen = len(cats) + 1
        col = cat[:, j]
        return np.fromiter(
            (0 if v == MISSING_CATEGORY else pos.get(v, unseen) for v in col),
            dtype=np.int64,
            count=len(col),
        )
    raise SpecError(f"unknown axis kind '{axis['kind']}'.")


def additive_contributions(spec: Mapping[str, Any], num: np.ndarray, cat: np.ndarray) -> np.ndarray:
    """Per-term contributions ``[n, n_terms, K']`` of an additive spec (special values: see
    :mod:`distill2rules.spec._special`)."""
    lookup = column_lookup(spec)
    num, codes = mask_specials(spec, num)
    k = len(spec["intercept"])
    n = num.shape[0] if num.size or num.shape[0] else cat.shape[0]
    terms = spec["terms"]
    out = np.zeros((n, len(terms), k), dtype=np.float64)
    for t, term in enumerate(terms):
        if term["type"] == "linear":
            _, j = lookup[term["feature"]]
            x = num[:, j].astype(np.float64)
            lo, hi = term.get("clip", [-np.inf, np.inf])
            lo = -np.inf if lo is None else lo
            hi = np.inf if hi is None else hi
            x = np.where(np.isnan(x), term.get("impute", 0.0), x)
            x = np.clip(x, lo, hi)
            out[:, t, :] = x[:, None] * np.asarray(term["coef"], dtype=np.float64)[None, :]
        elif term["type"] == "table":
            scores = np.asarray(term["scores"], dtype=np.float64)
            idx = tuple(axis_index(ax, num, cat, lookup) for ax in term["axes"])
            out[:, t, :] = scores[idx]
        else:
            raise SpecError(f"unknown additive term type '{term['type']}'.")
        if term.get("special"):
            _special_scores(spec, term, out[:, t, :], codes, lookup)
    return out


def _special_scores(
    spec: Mapping[str, Any],
    term: Mapping[str, Any],
    out: np.ndarray,
    codes: Mapping[int, np.ndarray],
    lookup: Mapping[str, tuple[str, int]],
) -> None:
    """Rows holding a special value get the term's score for it (in place)."""
    feature = term["feature"] if term["type"] == "linear" else term["axes"][0]["feature"]
    j = lookup[feature][1]
    idx = codes.get(j)
    if idx is None:
        return
    for i, (_, key, _) in enumerate(special_codes(spec, feature)):
        entry = term["special"].get(key)
        if entry is not None:
            out[idx == i] = np.asarray(entry["score"], dtype=np.float64)


def term_features(term: Mapping[str, Any]) -> list[str]:
    """The input columns one additive term reads."""
    if term["type"] == "linear":
        return [term["feature"]]
    return [a["feature"] for a in term["axes"]]


@register_kind
class AdditiveSpec(Spec):
    """``intercept + sum(terms)`` through a link; per-term contributions are the explanation."""

    kind = "additive"

    def outputs(self, num: np.ndarray, cat: np.ndarray) -> dict[str, np.ndarray]:
        contrib = additive_contributions(self, num, cat)
        scores = np.asarray(self["intercept"], dtype=np.float64)[None, :] + contrib.sum(axis=1)
        return {
            "contributions": contrib,
            "scores": scores,
            "probabilities": link_probabilities(scores, self["link"]),
        }

    def evaluate_codes(
        self, codes: np.ndarray, vocab: Mapping[str, np.ndarray]
    ) -> dict[str, np.ndarray]:
        """``scores`` on coded rows; a categorical axis's bin is looked up per vocabulary entry."""
        if self.get("special_values"):
            return super().evaluate_codes(codes, vocab)
        num_cols, cat_cols = self.input_columns()
        lookup = column_lookup(self)
        codes = np.asarray(codes).astype(np.int64)
        num = self._decode_numeric(codes, vocab)
        empty_cat = np.empty((len(codes), len(cat_cols)), dtype=object)
        position = {c: j for j, c in enumerate(num_cols + cat_cols)}
        scores = np.tile(np.asarray(self["intercept"], dtype=np.float64), (len(codes), 1))
        for term in self["terms"]:
            if term["type"] != "table":
                one = {"inputs": self["inputs"], "intercept": self["intercept"], "terms": [term]}
                scores += additive_contributions(one, num, empty_cat)[:, 0, :]
                continue
            idx = []
            for ax in term["axes"]:
                if ax["kind"] == "categorical":
                    vm = self._vocab_matrix(ax["feature"], vocab)
                    table = axis_index(
                        ax, np.zeros((len(vm), len(num_cols)), np.float32), vm, lookup
                    )
                    idx.append(table[codes[:, position[ax["feature"]]]])
                else:
                    idx.append(axis_index(ax, num, empty_cat, lookup))
            scores += np.asarray(term["scores"], dtype=np.float64)[tuple(idx)]
        return {"scores": scores}

    def n_parameters(self) -> int:
        """Non-zero coefficients, table scores and special-value scores, plus the intercept(s)
        (bin edges and category lists are structure, not counted)."""
        n = len(self["intercept"])
        for t in self["terms"]:
            arr = np.asarray(t["coef"] if t["type"] == "linear" else t["scores"], dtype=float)
            n += int(np.count_nonzero(arr))
            n += sum(int(np.count_nonzero(e["score"])) for e in (t.get("special") or {}).values())
        return n

    def complexity(self) -> dict[str, Any]:
        pairs = sum(1 for t in self["terms"] if t["type"] == "table" and len(t["axes"]) == 2)
        return {"terms": len(self["terms"]), "pairs": pairs, "parameters": self.n_parameters()}

    def scaled(self, a: float) -> AdditiveSpec:
        s = copy.deepcopy(self)
        s["intercept"] = [a * v for v in s["intercept"]]
        for t in s["terms"]:
            if t["type"] == "linear":
                t["coef"] = [a * v for v in t["coef"]]
            else:
                t["scores"] = (a * np.asarray(t["scores"], dtype=float)).tolist()
            for e in (t.get("special") or {}).values():  # special values' own scores
                e["score"] = [a * v for v in e["score"]]
        return s

    def shifted(self, b: float) -> AdditiveSpec:
        s = copy.deepcopy(self)
        s["intercept"] = [s["intercept"][0] + b]
        return s

    def check_specials(self) -> None:
        validate_specials(self, n_scores(self))

    def check(self) -> None:
        check_link(self)
        known = set(self["inputs"]["numeric"]) | set(self["inputs"]["categorical"])
        kp = n_scores(self)
        if len(self.get("intercept", [])) != kp:
            raise SpecError(f"additive intercept must have {kp} value(s).")
        for term in self.get("terms", []):
            feats = (
                [term.get("feature")]
                if term.get("type") == "linear"
                else [a.get("feature") for a in term.get("axes", [])]
            )
            for f in feats:
                if f not in known:
                    raise SpecError(f"term '{term.get('name')}' uses unknown input '{f}'.")
            if term.get("type") == "table":
                shape = np.shape(term["scores"])
                want = []
                for a in term["axes"]:
                    want.append(
                        len(a["edges"]) + 2 if a["kind"] == "numeric" else len(a["categories"]) + 2
                    )
                if list(shape) != [*want, kp]:
                    raise SpecError(
                        f"term '{term.get('name')}' scores have shape {shape}, expected {(*want, kp)}."
                    )
            elif term.get("type") != "linear":
                raise SpecError(f"unknown term type {term.get('type')!r}.")

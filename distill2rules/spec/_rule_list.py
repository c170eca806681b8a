"""The rule-list kind: ordered rules (conjunctions of conditions) -> class probabilities, plus a
default rule. The first rule whose conditions all hold decides.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from distill2rules.errors import SpecError
from distill2rules.spec._core import MISSING_CATEGORY, column_lookup
from distill2rules.spec._kinds import Spec, register_kind
from distill2rules.spec._special import special_codes, values_mask

__all__ = ["RuleListSpec", "condition_holds", "fired_rule"]


def condition_holds(
    cond: Mapping[str, Any],
    num: np.ndarray,
    cat: np.ndarray,
    lookup: Mapping[str, tuple[str, int]],
    specials: Sequence[float] = (),
) -> np.ndarray:
    """Boolean mask of rows satisfying one condition (missing rows get ``cond["missing"]``).

    ``specials`` are the feature's special values: a comparison holds for them iff they are
    listed in ``cond["special"]`` (see :mod:`distill2rules.spec._special`).
    """
    kind, j = lookup[cond["feature"]]
    return _HOLDS[kind](cond, num, cat, j, specials)


def _numeric_holds(
    cond: Mapping[str, Any], num: np.ndarray, cat: np.ndarray, j: int, specials: Sequence[float]
) -> np.ndarray:
    """:func:`condition_holds` on numeric column ``j``."""
    op = cond["op"]
    miss_value = bool(cond.get("missing", False))
    x = num[:, j].astype(np.float64)
    isnan = np.isnan(x)
    if op in ("is_special", "not_special"):
        inside = values_mask(x, cond.get("values", []))
        return inside if op == "is_special" else ~inside
    if op == "<=":
        res = x <= cond["value"]
    elif op == ">":
        res = x > cond["value"]
    elif op == "is_missing":
        return isnan.copy()
    elif op == "not_missing":
        return ~isnan
    else:
        raise SpecError(f"operator '{op}' does not apply to numeric feature '{cond['feature']}'.")
    res = np.where(isnan, miss_value, res)
    if len(specials):
        res = np.where(values_mask(x, specials), values_mask(x, cond.get("special", [])), res)
    return res


def _categorical_holds(
    cond: Mapping[str, Any], num: np.ndarray, cat: np.ndarray, j: int, specials: Sequence[float]
) -> np.ndarray:
    """:func:`condition_holds` on categorical column ``j`` (``specials`` do not apply)."""
    op = cond["op"]
    miss_value = bool(cond.get("missing", False))
    col = cat[:, j]
    ismiss = np.fromiter((v == MISSING_CATEGORY for v in col), dtype=bool, count=len(col))
    if op in ("in", "not_in"):
        values = set(cond["values"])
        inside = np.fromiter((v in values for v in col), dtype=bool, count=len(col))
        res = inside if op == "in" else ~inside
    elif op == "is_missing":
        return ismiss
    elif op == "not_missing":
        return ~ismiss
    else:
        raise SpecError(
            f"operator '{op}' does not apply to categorical feature '{cond['feature']}'."
        )
    return np.where(ismiss, miss_value, res)


#: the condition test for each column kind of :func:`~distill2rules.spec._core.column_lookup`
_HOLDS: dict[str, Callable[..., np.ndarray]] = {
    "numeric": _numeric_holds,
    "categorical": _categorical_holds,
}


def fired_rule(spec: Mapping[str, Any], num: np.ndarray, cat: np.ndarray) -> np.ndarray:
    """Index of the first rule whose conditions all hold; ``len(rules)`` for the default rule."""
    lookup = column_lookup(spec)
    n = num.shape[0] if num.ndim == 2 and num.shape[1] else cat.shape[0]
    rules = spec["rules"]
    fired = np.full(n, len(rules), dtype=np.int64)
    open_ = np.ones(n, dtype=bool)
    for r, rule in enumerate(rules):
        m = open_.copy()
        for cond in rule["conditions"]:
            m &= condition_holds(
                cond, num, cat, lookup, [v for v, _, _ in special_codes(spec, cond["feature"])]
            )
        fired[m] = r
        open_ &= ~m
    return fired


@register_kind
class RuleListSpec(Spec):
    """Ordered rules; the fired rule (``rule``, ``len(rules)`` = default) is the explanation."""

    kind = "rule_list"

    def probability_table(self) -> np.ndarray:
        """``[n_rules + 1, K]``: every rule's class probabilities, then the default's."""
        return np.asarray(
            [r["probabilities"] for r in self["rules"]] + [self["default"]["probabilities"]],
            dtype=np.float64,
        )

    def outputs(self, num: np.ndarray, cat: np.ndarray) -> dict[str, np.ndarray]:
        fired = fired_rule(self, num, cat)
        return {"rule": fired, "probabilities": self.probability_table()[fired]}

    def evaluate_codes(
        self, codes: np.ndarray, vocab: Mapping[str, np.ndarray]
    ) -> dict[str, np.ndarray]:
        """``probabilities`` on coded rows; categorical conditions are decided per vocabulary entry."""
        if self.get("special_values"):
            return super().evaluate_codes(codes, vocab)
        num_cols, cat_cols = self.input_columns()
        lookup = column_lookup(self)
        codes = np.asarray(codes).astype(np.int64)
        position = {c: j for j, c in enumerate(num_cols + cat_cols)}
        num = self._decode_numeric(codes, vocab)
        empty_cat = np.empty((len(codes), len(cat_cols)), dtype=object)
        rules = self["rules"]
        fired = np.full(len(codes), len(rules), dtype=np.int64)
        open_ = np.ones(len(codes), dtype=bool)
        for r, rule in enumerate(rules):
            m = open_.copy()
            for cond in rule["conditions"]:
                c = cond["feature"]
                if c in cat_cols:
                    vm = self._vocab_matrix(c, vocab)
                    table = condition_holds(
                        cond, np.zeros((len(vm), len(num_cols)), np.float32), vm, lookup
                    )
                    m &= table[codes[:, position[c]]]
                else:
                    m &= condition_holds(cond, num, empty_cat, lookup)
            fired[m] = r
            open_ &= ~m
        return {"probabilities": self.probability_table()[fired]}

    def n_parameters(self) -> int:
        """One per condition plus the class probabilities of every rule and of the default."""
        k = len(self["classes"])
        return sum(len(r["conditions"]) + k for r in self["rules"]) + k

    def complexity(self) -> dict[str, Any]:
        return {
            "rules": len(self["rules"]),
            "conditions": sum(len(r["conditions"]) for r in self["rules"]),
            "parameters": self.n_parameters(),
        }

    def scaled(self, a: float) -> RuleListSpec:
        """Every rule's probabilities sharpened as ``softmax(a * log p)``."""
        s = copy.deepcopy(self)
        for r in [*list(s["rules"]), s["default"]]:
            logp = a * np.log(np.clip(np.asarray(r["probabilities"], dtype=float), 1e-12, 1.0))
            p = np.exp(logp - logp.max())
            r["probabilities"] = (p / p.sum()).tolist()
        return s

    def shifted(self, b: float) -> RuleListSpec:
        s = copy.deepcopy(self)
        for r in [*list(s["rules"]), s["default"]]:
            p = np.clip(np.asarray(r["probabilities"], dtype=float), 1e-12, 1.0)
            z = np.log(p[1] / p[0]) + b
            p1 = 1.0 / (1.0 + np.exp(-z))
            r["probabilities"] = [1.0 - p1, p1]
        return s

    def check(self) -> None:
        known = set(self["inputs"]["numeric"]) | set(self["inputs"]["categorical"])
        k = len(self["classes"])
        for rule in [*list(self.get("rules", [])), self.get("default", {})]:
            if len(rule.get("probabilities", [])) != k:
                raise SpecError(f"every rule needs {k} class probabilities.")
            for cond in rule.get("conditions", []):
                if cond.get("feature") not in known:
                    raise SpecError(f"rule condition uses unknown input {cond.get('feature')!r}.")

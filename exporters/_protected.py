"""Fair-lending guard: which columns are protected characteristics, and how a student uses them.

``--protected col,...`` names them explicitly (matched case-insensitively on column names);
by default, columns whose names contain one of :data:`DEFAULT_PROTECTED` as whole words
(``_``, ``-``, ``.``, spaces and camelCase split words) are protected: ``sex``, ``gender``,
``race``, ``ethnicity``, ``religion``, ``marital`` (status), ``age``, ``national origin``,
``nationality``, ``native country``, ``citizenship``, ``foreign worker``, ``personal status``
(German credit's sex and marital status), ``disability``, ``pregnancy``, ``color``. So
``age`` and ``age_years`` match, ``mileage`` and ``average_balance`` do not.
``--protected none`` switches the guard off.

Reason codes never cite a protected feature; the counterfactual search never changes one;
the rule card and report flag the ones the student uses, with their effect.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from distill2rules.errors import ConfigError
from distill2rules.exporters._render import (
    clip_bounds,
    feature_label,
    points_scale,
    representative_values,
)
from distill2rules.exporters._support import term_counts
from distill2rules.spec import AdditiveSpec, KindTable, MLPSpec, RuleListSpec

__all__ = ["DEFAULT_PROTECTED", "protected_usage", "resolve_protected"]

DEFAULT_PROTECTED: tuple[str, ...] = (
    "sex",
    "gender",
    "race",
    "ethnicity",
    "ethnic",
    "religion",
    "marital",
    "age",
    "national origin",
    "nationality",
    "native country",
    "citizenship",
    "foreign worker",
    "personal status",
    "disability",
    "pregnancy",
    "color",
    "colour",
)


def _words(name: str) -> list[str]:
    name = re.sub(r"([a-z])([A-Z])", r"\1 \2", str(name))
    return [w for w in re.split(r"[^0-9a-zA-Z]+", name.lower()) if w]


def _contains(words: Sequence[str], phrase: Sequence[str]) -> bool:
    n = len(phrase)
    return any(list(words[i : i + n]) == list(phrase) for i in range(len(words) - n + 1))


def resolve_protected(columns: Iterable[str], protected: Any = None) -> list[str]:
    """The protected columns among ``columns``.

    ``protected``: None (the default name list), ``"none"``/empty (no guard), a comma-separated
    string or a list of column names (matched case-insensitively; unknown names raise).
    """
    cols = [str(c) for c in columns]
    if protected is None:
        phrases = [p.split() for p in DEFAULT_PROTECTED]
        return [c for c in cols if any(_contains(_words(c), ph) for ph in phrases)]
    if isinstance(protected, str):
        if protected.strip().lower() in ("", "none"):
            return []
        protected = [p for p in protected.split(",")]
    wanted = [str(p).strip() for p in protected if str(p).strip()]
    lower = {c.lower(): c for c in cols}
    unknown = [p for p in wanted if p.lower() not in lower]
    if unknown:
        raise ConfigError(
            f"--protected names unknown column(s): {', '.join(unknown)}.",
            hint=f"Columns: {', '.join(cols[:12])}{' ...' if len(cols) > 12 else ''}.",
        )
    return [lower[p.lower()] for p in wanted]


def _term_features(term: Mapping[str, Any]) -> list[str]:
    return [term["feature"]] if term["type"] == "linear" else [a["feature"] for a in term["axes"]]


def protected_usage(spec: Mapping[str, Any], protected: Sequence[str]) -> list[dict[str, Any]]:
    """How the student uses each protected feature: one entry per feature it reads.

    Additive students: the terms on it and their effect, the spread of the term's score (log-odds
    for a logistic link; points on the card's scale) over the values training rows hold.
    Rule lists: the rules with a condition on it and the training rows they cover. MLPs: the
    feature is an input (no separable effect).
    """
    used = set(spec["inputs"].get("numeric", [])) | set(spec["inputs"].get("categorical", []))
    out: list[dict[str, Any]] = []
    for f in protected:
        if f not in used:
            continue
        entry: dict[str, Any] = {"feature": f, "label": feature_label(spec, f)}
        if _USAGE.of(spec)(spec, f, entry):
            out.append(entry)
    return out


def _term_spread(spec: Mapping[str, Any], term: Mapping[str, Any]) -> float:
    """Range of a term's score over the values training rows hold (all bins when unknown)."""
    if term["type"] == "linear":
        q = ((spec.get("data_support") or {}).get("quantiles") or {}).get(term["feature"])
        vals = [q[1], q[99]] if q else representative_values(term)
        lo, hi = clip_bounds(term)
        coef = np.abs(np.asarray(term["coef"], dtype=np.float64)).max()
        v = np.clip(np.asarray(vals, dtype=np.float64), lo, hi)
        return float(coef * (v.max() - v.min()))
    scores = np.asarray(term["scores"], dtype=np.float64)
    counts = term_counts(term)
    mask = np.ones(scores.shape[:-1], dtype=bool)
    if counts is not None:
        mask = counts > 0
    if not mask.any():
        return 0.0
    cell = scores[mask]  # [cells, K']
    return float((cell.max(axis=0) - cell.min(axis=0)).max())


def _additive_usage(spec: Mapping[str, Any], f: str, entry: dict[str, Any]) -> bool:
    """The terms on ``f`` and their largest score spread (False: no term uses it)."""
    terms, spread = [], 0.0
    for term in spec["terms"]:
        if f not in _term_features(term):
            continue
        terms.append(str(term.get("name")))
        spread = max(spread, _term_spread(spec, term))
    if not terms:
        return False
    entry["terms"] = terms
    entry["effect"] = spread
    unit = "log-odds" if spec.get("link") == "logistic" else "score units"
    entry["text"] = (
        f"{entry['label']}: moves the score by up to {spread:.2f} {unit}"
        + (
            f" ({spread * points_scale(spec)[0]:.0f} points)"
            if spec.get("link") == "logistic"
            else ""
        )
        + f" across the values applicants hold (term{'s' if len(terms) > 1 else ''} "
        + ", ".join(terms)
        + ")"
    )
    return True


def _rule_list_usage(spec: Mapping[str, Any], f: str, entry: dict[str, Any]) -> bool:
    """The rules with a condition on ``f`` and the rows they cover (False: none)."""
    rules = [
        (str(r.get("name") or f"R{i + 1}"), r.get("support"))
        for i, r in enumerate(spec["rules"])
        if any(c["feature"] == f for c in r.get("conditions", []))
    ]
    if not rules:
        return False
    entry["rules"] = [r for r, _ in rules]
    entry["effect"] = int(sum(int(s or 0) for _, s in rules))
    entry["text"] = (
        f"{entry['label']}: used in rule{'s' if len(rules) > 1 else ''} "
        f"{', '.join(r for r, _ in rules)} (covering {entry['effect']} training rows)"
    )
    return True


def _mlp_usage(spec: Mapping[str, Any], f: str, entry: dict[str, Any]) -> bool:
    """An input of the network: no separable effect."""
    entry["effect"] = None
    entry["text"] = f"{entry['label']}: an input of the network (its effect is not separable)"
    return True


# how each spec kind uses a feature: fills ``entry`` (``effect``, ``text``, ...), False to leave it out
_USAGE: KindTable[Callable[[Mapping[str, Any], str, dict[str, Any]], bool]] = KindTable(
    "fair-lending usage"
)
_USAGE.add(AdditiveSpec, _additive_usage)
_USAGE.add(RuleListSpec, _rule_list_usage)
_USAGE.add(MLPSpec, _mlp_usage)

"""Text helpers shared by the rule card and the reason codes.

Everything here turns pieces of a student spec (bins, categories, rule conditions, class
labels) into short human-readable strings. No model logic lives here: the meaning of a spec
is :func:`distill2rules.spec.evaluate`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from distill2rules.conditions import Condition, is_missing
from distill2rules.errors import ConfigError
from distill2rules.spec import decide, jsonable, special_key, special_label, special_values

#: Scorecard scaling: a total of ``BASE_SCORE`` points means even odds (1:1) of the
#: favourable class and every ``PDO`` more points double those odds.
BASE_SCORE = 600.0
PDO = 20.0
POINTS_PER_LOGODDS = PDO / math.log(2.0)

#: Class labels that read as the adverse outcome of a binary decision (lower case).
NEGATIVE_LABELS = frozenset(
    {
        "bad",
        "default",
        "defaulted",
        "delinquent",
        "deny",
        "denied",
        "decline",
        "declined",
        "reject",
        "rejected",
        "refused",
        "no",
        "false",
        "fraud",
        "churn",
        "churned",
        "risky",
        "high risk",
        "positive risk",
    }
)

__all__ = [
    "BASE_SCORE",
    "PDO",
    "POINTS_PER_LOGODDS",
    "adverse_index",
    "bin_label",
    "cell_label",
    "class_index",
    "clip_bounds",
    "condition_holds_for",
    "condition_text",
    "condition_with_value",
    "feature_label",
    "fmt_num",
    "fmt_value",
    "infer_adverse_class",
    "jsonable",
    "points_scale",
    "representative_values",
    "rule_decision",
    "rule_text",
    "special_labels",
    "special_points",
    "special_text",
    "value_text",
]


# ----------------------------------------------------------------------------- numbers


def fmt_num(x: Any) -> str:
    """Short, exact-looking text for a number: ``24``, ``24.5``, ``0.3``, ``∞``, ``missing``."""
    if x is None:
        return "missing"
    if isinstance(x, str):
        if x in ("inf", "-inf"):
            x = float(x)
        else:
            return x
    f = float(x)
    if math.isnan(f):
        return "missing"
    if math.isinf(f):
        return "∞" if f > 0 else "-∞"
    if f.is_integer() and abs(f) < 1e15:
        return str(int(f))
    text = f"{f:.6g}"
    if "e" in text and abs(f) >= 1:
        text = f"{f:.0f}"
    return text


def fmt_value(x: Any) -> str:
    """An applicant's value: numbers via :func:`fmt_num`, categories quoted, missing spelled out."""
    if x is None or (isinstance(x, str) and x == ""):
        return "missing"
    if isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool):
        return fmt_num(x)
    return f"'{x}'"


def f32_value(x: float) -> float | None:
    """A float32 input as the shortest Python float that prints like it (``0.1``, not ``0.100000001``)."""
    x32 = np.float32(x)
    if np.isnan(x32):
        return None
    return float(str(x32))


def points_scale(spec: Mapping[str, Any]) -> tuple[float, float]:
    """``(points per log-odds, points at even odds)`` of a spec's points scale.

    A scorecard records its own scaling (``meta.scorecard.points``: ``pdo``, ``base_score``,
    ``base_odds``); every other spec uses the default (``PDO`` points double the odds,
    ``BASE_SCORE`` at even odds). Reasons, the scorer metadata and the rule card all read it
    here, so their points agree with the card's.
    """
    card = (spec.get("meta") or {}).get("scorecard")
    pts = (card.get("points") if isinstance(card, Mapping) else None) or {}
    try:
        pdo = float(pts.get("pdo", PDO))
        base_score = float(pts.get("base_score", BASE_SCORE))
        base_odds = float(pts.get("base_odds", 50.0 if isinstance(card, Mapping) else 1.0))
    except (TypeError, ValueError):
        return POINTS_PER_LOGODDS, BASE_SCORE
    if not (pdo > 0 and base_odds > 0 and math.isfinite(pdo) and math.isfinite(base_score)):
        return POINTS_PER_LOGODDS, BASE_SCORE
    factor = pdo / math.log(2.0)
    return factor, base_score - factor * math.log(base_odds)


# ----------------------------------------------------------------------------- labels


def feature_label(spec: Mapping[str, Any], feature: str) -> str:
    """Display name of a raw column: ``meta["feature_labels"][feature]`` if given, else the name."""
    labels = (spec.get("meta") or {}).get("feature_labels") or {}
    return str(labels.get(feature, feature))


def class_index(spec: Mapping[str, Any], label: Any) -> int:
    """Index of a class label in ``spec["classes"]`` (compared as given, then as text)."""
    classes = list(spec["classes"])
    for i, c in enumerate(classes):
        if c == label and type(c) is type(label):
            return i
    for i, c in enumerate(classes):
        if str(c) == str(label):
            return i
    raise ConfigError(
        f"adverse class {label!r} is not one of the student's classes {classes}.",
        hint="Pass one of the listed labels.",
    )


def infer_adverse_class(classes: Sequence[Any]) -> Any:
    """The adverse class of a binary target when the labels say which one it is, else None.

    The event class is adverse: ``1`` for 0/1 labels, ``True`` for booleans (``true``/``false``
    text too), otherwise the one label that reads as negative (``bad``, ``default``,
    ``declined``, ``no``, ``fraud``, ``churn``, ...). Two arbitrary labels give None.
    """
    classes = list(classes)
    if len(classes) != 2:
        return None
    text = [str(c).strip().lower() for c in classes]
    for pair, event in (({"0", "1"}, "1"), ({"0.0", "1.0"}, "1.0"), ({"false", "true"}, "true")):
        if set(text) == pair:
            return classes[text.index(event)]
    negative = [c for c, t in zip(classes, text) if t in NEGATIVE_LABELS]
    return negative[0] if len(negative) == 1 else None


def adverse_index(
    spec: Mapping[str, Any], adverse_class: Any = None, *, strict: bool = True
) -> int | None:
    """Index of the adverse (declined) class, or None when the decision has no adverse side.

    Order: the ``adverse_class`` argument; ``spec["meta"]["adverse_class"]``; for two classes,
    :func:`infer_adverse_class` (the event class: ``1`` of 0/1, ``True``, the negative-looking
    label). Two arbitrary labels raise :class:`ConfigError` asking for ``--adverse-class``
    (``strict=False``: None, no adverse side). Multiclass specs have no adverse class unless
    one is given.
    """
    if adverse_class is not None:
        return class_index(spec, adverse_class)
    meta_choice = (spec.get("meta") or {}).get("adverse_class")
    if meta_choice is not None:
        return class_index(spec, meta_choice)
    classes = list(spec["classes"])
    if len(classes) != 2:
        return None
    inferred = infer_adverse_class(classes)
    if inferred is None:
        if not strict:
            return None
        raise ConfigError(
            f"cannot tell which class is adverse: {classes[0]!r} or {classes[1]!r}.",
            hint=f"Pass --adverse-class (e.g. --adverse-class {classes[0]}).",
        )
    return class_index(spec, inferred)


def bin_label(axis: Mapping[str, Any], index: int, name: str | None = None) -> str:
    """Readable range/category of bin ``index`` of a table axis (see ``docs/spec.md``)."""
    name = name or str(axis["feature"])
    if index == 0:
        return "missing"
    if axis["kind"] == "numeric":
        edges = [float(e) for e in axis["edges"]]
        m = len(edges)
        if m == 0:
            return "any value"
        if index == 1:
            return f"{name} < {fmt_num(edges[0])}"
        if index == m + 1:
            return f"{name} ≥ {fmt_num(edges[-1])}"
        return f"{fmt_num(edges[index - 2])} ≤ {name} < {fmt_num(edges[index - 1])}"
    cats = list(axis["categories"])
    if index == len(cats) + 1:
        return "other (unseen)"
    return str(cats[index - 1])


def cell_label(axes: Sequence[Mapping[str, Any]], cell: Sequence[int], names: Sequence[str]) -> str:
    """A table cell as text: one-axis bins bare, pair cells joined with ``and``."""
    parts = []
    for ax, i, name in zip(axes, cell, names):
        text = bin_label(ax, int(i), name)
        if ax["kind"] == "categorical" and 0 < int(i) <= len(ax["categories"]):
            text = f"{name} = '{text}'" if len(axes) > 1 else f"'{text}'"
        elif text == "missing":
            text = f"{name} missing"
        elif text == "other (unseen)":
            text = f"{name} unseen"
        parts.append(text)
    return " and ".join(parts)


def _value_set(values: Sequence[Any]) -> str:
    shown = []
    for v in values:
        s = str(v)
        shown.append(f"'{s}'" if (s == "" or "," in s or "{" in s or "}" in s) else s)
    return "{" + ", ".join(shown) + "}"


def special_text(values: Sequence[Any], labels: Mapping[str, str] | None) -> str:
    """Special values by their labels: ``'no record'`` or ``{'no record', 'no usable trades'}``."""
    shown = [f"'{(labels or {}).get(special_key(v), 'code ' + special_key(v))}'" for v in values]
    return shown[0] if len(shown) == 1 else "{" + ", ".join(shown) + "}"


def condition_text(
    cond: Mapping[str, Any], name: str | None = None, labels: Mapping[str, str] | None = None
) -> str:
    """One rule condition as text, e.g. ``duration > 24`` or ``purpose in {car, radio/tv}``.

    ``labels`` (code key -> label) names the feature's special values: ``X is 'no record'``.
    """
    name = name or str(cond["feature"])
    op = cond["op"]
    if op in ("is_special", "not_special"):
        values = list(cond.get("values", []))
        if not values:
            return f"{name} is {'never' if op == 'is_special' else 'any'} special value"
        many = len(values) > 1
        verb = (
            ("is one of " if many else "is ")
            if op == "is_special"
            else ("is none of " if many else "is not ")
        )
        return f"{name} {verb}{special_text(values, labels)}"
    if op == "is_missing":
        return f"{name} is missing"
    if op == "not_missing":
        return f"{name} is not missing"
    if op in ("<=", ">"):
        sym = "≤" if op == "<=" else ">"
        text = f"{name} {sym} {fmt_num(cond['value'])}"
    elif op in ("in", "not_in"):
        values = list(cond["values"])
        if len(values) == 1:
            text = f"{name} {'=' if op == 'in' else '≠'} {values[0]}"
        else:
            text = f"{name} {'in' if op == 'in' else 'not in'} {_value_set(values)}"
    else:
        text = f"{name} {op} {cond.get('value', cond.get('values'))}"
    extra = (["missing"] if cond.get("missing", False) else []) + (
        [special_text(cond["special"], labels)] if cond.get("special") else []
    )
    if extra:
        text += f" (or {', or '.join(extra)})"
    return text


def condition_holds_for(
    cond: Mapping[str, Any], value: Any, specials: Sequence[float] = ()
) -> bool:
    """Whether one condition holds for one prepared value (float32 number or canonical string).

    Mirrors :func:`distill2rules.spec.evaluate`: a missing value takes ``cond["missing"]``, a
    special value (one of the feature's ``specials``) is in ``cond["special"]`` or fails. One
    implementation with the Scorer's: :class:`distill2rules.conditions.Condition`.
    """
    return Condition(cond, specials)(value)


def _label_of(value: Any, labels: Mapping[str, str] | None) -> str | None:
    if not labels or is_missing(value) or not isinstance(value, (int, float, np.number)):
        return None

    return labels.get(special_key(value))


def special_labels(spec: Mapping[str, Any], feature: str) -> dict[str, str]:
    """``{code key: label}`` of a feature's special values (empty when it has none)."""
    return special_values(spec).get(feature, {})


def special_points(spec: Mapping[str, Any], feature: str) -> list[float]:
    """A feature's special values as floats (for :func:`condition_holds_for`)."""
    return [float(k) for k in special_labels(spec, feature)]


def value_text(spec: Mapping[str, Any], feature: str, value: Any) -> str:
    """An applicant's value as shown: a special value by its label (``'no record'``), never the code."""
    label = (
        special_label(spec, feature, value) if isinstance(value, (int, float, np.number)) else None
    )
    return f"'{label}'" if label is not None else fmt_value(value)


def condition_with_value(
    cond: Mapping[str, Any],
    value: Any,
    name: str | None = None,
    labels: Mapping[str, str] | None = None,
) -> str:
    """A condition with the applicant's value, true as stated: ``duration = 36 > 24``.

    When the condition fails the text states what is true instead (``duration = 12 ≤ 24``).
    ``labels`` (code key -> label) names the feature's special values.
    """
    name = name or str(cond["feature"])
    op = cond["op"]
    label = _label_of(value, labels)
    points = [float(k) for k in (labels or {})]
    holds = condition_holds_for(cond, value, points)
    if label is not None:  # a special value: by its label, never as a number
        if op == "is_special" and holds:
            return f"{name} is '{label}'"
        verdict = "meets" if holds else "does not meet"
        return f"{name} is '{label}', which {verdict} '{condition_text(cond, name, labels)}'"
    if op in ("is_special", "not_special"):
        verdict = "meets" if holds else "does not meet"
        return (
            f"{name} = {fmt_value(value)}, which {verdict} '{condition_text(cond, name, labels)}'"
        )
    if op in ("is_missing", "not_missing") or is_missing(value):
        if is_missing(value):
            if op in ("is_missing", "not_missing"):
                return f"{name} is missing"
            verdict = "counts as meeting" if holds else "does not meet"
            return f"{name} is missing, which {verdict} '{condition_text(cond, name)}'"
        return f"{name} = {fmt_value(value)} is not missing"
    if op in ("<=", ">"):
        sym = "≤" if (op == "<=") == holds else ">"
        return f"{name} = {fmt_num(value)} {sym} {fmt_num(cond['value'])}"
    values = list(cond["values"])
    inside = (op == "in") == holds
    if len(values) == 1:
        rel = "=" if inside else "≠"
        return (
            f"{name} = {fmt_value(value)} {rel} '{values[0]}'"
            if not inside
            else f"{name} = {fmt_value(value)}"
        )
    rel = "is one of" if inside else "is not one of"
    return f"{name} = {fmt_value(value)}, which {rel} {_value_set(values)}"


def rule_decision(spec: Mapping[str, Any], rule: Mapping[str, Any]) -> tuple[int, float]:
    """Class index a rule predicts (first maximum, or the spec's ``decision_threshold``) and its probability."""
    probs = np.asarray(rule["probabilities"], dtype=np.float64)
    k = int(decide(spec, probs[None, :])[0])
    return k, float(probs[k])


def rule_text(spec: Mapping[str, Any], rule: Mapping[str, Any], *, default: bool = False) -> str:
    """``IF c1 AND c2 THEN bad (p = 0.71, support 83)``; the default rule reads ``ELSE ...``."""
    k, p = rule_decision(spec, rule)
    outcome = f"{spec['classes'][k]} (p = {p:.2f}"
    if rule.get("support") is not None:
        outcome += f", support {fmt_num(rule['support'])}"
    outcome += ")"
    if default:
        return f"ELSE {outcome}"

    sv = special_values(spec)
    conds = [
        condition_text(c, feature_label(spec, c["feature"]), sv.get(c["feature"]))
        for c in rule.get("conditions", [])
    ]
    if not conds:
        return f"ALWAYS {outcome}"
    return "IF " + " AND ".join(conds) + f" THEN {outcome}"


# ----------------------------------------------------------------------------- linear terms


def representative_values(term: Mapping[str, Any]) -> list[float]:
    """Values at which to show a linear term: its ``display`` quantiles if stored, else clip bounds.

    ``display`` may be a list of numbers, ``{"quantiles": [...]}`` / ``{"values": [...]}``, or a
    mapping of quantile -> value. Falls back to the finite clip bounds, their midpoint and the
    impute value.
    """
    disp = term.get("display")
    vals: list[float] = []
    if isinstance(disp, Mapping):
        inner = disp.get("quantiles", disp.get("values"))
        if inner is None:
            inner = list(disp.values())
        if isinstance(inner, Mapping):
            inner = list(inner.values())
        disp = inner
    if isinstance(disp, (list, tuple)):
        for v in disp:
            try:
                f = float(v)
            except (TypeError, ValueError):
                continue
            if math.isfinite(f):
                vals.append(f)
    if not vals:
        lo, hi = clip_bounds(term)
        finite = [b for b in (lo, hi) if math.isfinite(b)]
        vals = list(finite)
        if len(finite) == 2:
            vals.insert(1, (lo + hi) / 2.0)
        imp = term.get("impute")
        if imp is not None and math.isfinite(float(imp)):
            vals.append(float(imp))
        if not vals:
            vals = [0.0, 1.0]
    return sorted(set(vals))


def clip_bounds(term: Mapping[str, Any]) -> tuple[float, float]:
    """A linear term's ``clip`` as two floats (missing or None bounds are infinite)."""
    lo, hi = term.get("clip", [None, None])
    lo = -math.inf if lo is None else float(lo)
    hi = math.inf if hi is None else float(hi)
    return lo, hi

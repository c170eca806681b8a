"""Reason codes and one-feature counterfactuals for individual decisions.

Every number here is computed from :func:`distill2rules.spec.evaluate`, the same semantics the
ONNX graph implements, so a reason code can never disagree with the deployed model:

* additive students: each term's contribution (the ONNX ``contributions`` output) is compared
  with the term's *reference* value. With ``reference="best"`` the reference is the value that
  argues most strongly against the decision (for a declined applicant: the most favourable
  value of that term, the classic adverse-action reference); the impact is how far the
  applicant's value moved the score toward the decision, in log-odds (and scorecard points).
* rule lists: the rule that fired (its index equals the ONNX ``rule`` output) and its
  conditions with the applicant's values.
* MLP students: occlusion (each feature replaced by its reference value); approximate.

See ``docs/explanations.md``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

import numpy as np

from distill2rules.errors import ConfigError, SpecError
from distill2rules.spec import evaluate, is_special_value, prepare_inputs

from distill2rules.exporters._render import (
    BASE_SCORE,
    POINTS_PER_LOGODDS,
    adverse_index,
    cell_label,
    clip_bounds,
    condition_holds_for,
    condition_text,
    condition_with_value,
    f32_value,
    feature_label,
    fmt_num,
    fmt_value,
    jsonable,
    representative_values,
    rule_decision,
    rule_text,
    special_labels,
    special_points,
    value_text,
)

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["counterfactual", "explain_rows", "reasons_table", "reasons_to_jsonl"]

REFERENCES = ("best", "zero")
_EPS = 1e-12
_MARGIN = 1e-6  # a counterfactual must beat the adverse class by more than this probability


# ============================================================================ front door


def explain_rows(
    spec: Mapping[str, Any],
    X: "pd.DataFrame",
    *,
    top: int = 4,
    adverse_class: Any = None,
    reference: str = "best",
    counterfactuals: bool = True,
    immutable: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """Reason codes for every row of ``X``.

    Parameters
    ----------
    spec : mapping
        A student spec (see ``docs/spec.md``).
    X : DataFrame
        Raw rows with the columns the student reads.
    top : int, default 4
        Maximum number of reasons per row.
    adverse_class : class label, optional
        The adverse (declined) class. Default: ``spec["meta"]["adverse_class"]``; for two
        classes, the label that reads as negative (``bad``, ``no``, ``default``...), else
        ``classes[0]``; multiclass specs have none unless given.
    reference : {"best", "zero"}, default "best"
        Reference of additive terms. ``"best"``: per term, the value least supportive of the
        decision (for a declined row, the most favourable value). ``"zero"``: the raw
        contribution (for centred models such as EBMs, relative to the average row).
    counterfactuals : bool, default True
        Search a one-feature change that flips each adverse decision (see :func:`counterfactual`).
    immutable : sequence of str
        Features the counterfactual search must not change (e.g. age).

    Returns
    -------
    list of dict
        One dict per row: ``row``, ``index``, ``decision``, ``probability`` (of the decision),
        ``adverse``, ``method``, ``approximate``, ``reasons`` (ranked; each with ``rank``,
        ``term``, ``features``, ``value``, ``reference``, ``impact``, ``points``, ``text``),
        ``contributions`` (additive: the ONNX ``contributions`` row), ``rule`` (rule lists:
        the fired rule, ``rule["index"]`` = ONNX ``rule``) and ``counterfactual``.

    Examples
    --------
    >>> results = explain_rows(spec, X.head(3))  # doctest: +SKIP
    >>> print(reasons_table(results))  # doctest: +SKIP
    """
    if reference not in REFERENCES:
        raise ConfigError(f"reference must be one of {', '.join(REFERENCES)}, got {reference!r}.")
    if int(top) < 1:
        raise ConfigError(f"top must be a positive number of reasons, got {top!r}.")
    import pandas as pd  # lazy: keeps `import distill2rules.exporters` light

    if isinstance(X, pd.Series):
        X = X.to_frame().T
    elif isinstance(X, Mapping):
        X = pd.DataFrame(X)
    num, cat = prepare_inputs(spec, X)
    out = evaluate(spec, numeric=num, categorical=cat)
    ctx = _Context(spec, adverse_index(spec, adverse_class))
    kind = spec["kind"]
    if kind == "additive":
        rows = _explain_additive(ctx, num, cat, out, int(top), reference)
    elif kind == "rule_list":
        rows = _explain_rule_list(ctx, num, cat, out, int(top))
    elif kind == "mlp":
        rows = _explain_mlp(ctx, num, cat, out, int(top))
    else:  # pragma: no cover - validate() refuses unknown kinds
        raise SpecError(f"unknown spec kind '{kind}'.")
    index = list(X.index)
    searcher = _Searcher(ctx, immutable) if counterfactuals else None
    for i, row in enumerate(rows):
        row["index"] = jsonable(index[i])
        row["counterfactual"] = None
        if searcher is not None and row["adverse"]:
            row["counterfactual"] = searcher.search(num[i], cat[i])
    return rows


def counterfactual(
    spec: Mapping[str, Any],
    row: Any,
    *,
    adverse_class: Any = None,
    immutable: Sequence[str] = (),
    n_alternatives: int = 3,
) -> dict[str, Any] | None:
    """Smallest change to ONE feature that turns an adverse decision into another one.

    Candidate values are the places where the model can change its mind: table bin edges,
    rule thresholds, clip bounds and categories, each probed just below/at/above, then refined
    by bisection (for linear pieces) and rounded to a readable number. Every candidate is
    checked with :func:`distill2rules.spec.evaluate`. Monotone constraints (``spec["monotone"]``,
    two-class specs) restrict a feature to the direction that improves the outcome. Distance is
    ``|to - from| / spread`` for numbers (spread = the feature's known range) and 1 for a change
    of category; the smallest wins.

    Parameters
    ----------
    spec : mapping
        A student spec.
    row : DataFrame (one row), Series or mapping
        The applicant's raw values.
    adverse_class : class label, optional
        As in :func:`explain_rows`.
    immutable : sequence of str
        Features not to change.
    n_alternatives : int, default 3
        How many next-best changes (other features) to list under ``alternatives``.

    Returns
    -------
    dict or None
        ``{"feature", "from", "to", "distance", "new_decision", "new_probability", "text",
        "alternatives"}`` (``new_probability`` = probability of ``new_decision``), or None
        when the row is not adverse or no single change flips it.
    """
    frame = _one_row_frame(row)
    num, cat = prepare_inputs(spec, frame)
    ctx = _Context(spec, adverse_index(spec, adverse_class))
    if ctx.adverse is None:
        return None
    out = evaluate(spec, numeric=num, categorical=cat)
    if int(out["label"][0]) != ctx.adverse:
        return None
    return _Searcher(ctx, immutable, n_alternatives=n_alternatives).search(num[0], cat[0])


def reasons_to_jsonl(results: Iterable[Mapping[str, Any]]) -> str:
    """One JSON object per line (UTF-8 text, NaN as null)."""
    return "".join(json.dumps(jsonable(r), ensure_ascii=False, allow_nan=False) + "\n" for r in results)


def reasons_table(results: Sequence[Mapping[str, Any]]) -> str:
    """Plain-text table: one line per reason, counterfactuals underneath (no rich markup)."""
    header = ("row", "decision", "p", "#", "reason")
    lines: list[tuple[str, ...]] = []
    extra: dict[int, list[str]] = {}
    for r in results:
        reasons = r.get("reasons") or []
        first = (str(r.get("index", r.get("row"))), str(r.get("decision")), f"{r.get('probability', float('nan')):.2f}")
        if r.get("rule") is not None:
            lines.append(first + ("rule", r["rule"]["text"]))
            first = ("", "", "")
        if not reasons:
            lines.append(first + ("-", "no reason above the reference"))
        for j, reason in enumerate(reasons):
            lines.append((first if j == 0 else ("", "", "")) + (str(reason["rank"]), reason["text"]))
        cf = r.get("counterfactual")
        if cf:
            extra[len(lines) - 1] = [f"counterfactual: {cf['text']}"]
    widths = [max(len(h), *(len(l[c]) for l in lines)) if lines else len(h) for c, h in enumerate(header[:-1])]

    def fmt(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells[:-1], widths)) + "  " + cells[-1]

    out = [fmt(header), fmt(tuple("-" * w for w in widths) + ("-" * 6,))]
    for n, line in enumerate(lines):
        out.append(fmt(line))
        for e in extra.get(n, []):
            out.append(" " * (sum(widths) + 2 * len(widths)) + e)
    return "\n".join(out) + "\n"


# ============================================================================ context


@dataclass
class _Context:
    """A spec plus the derived facts every explanation needs."""

    spec: Mapping[str, Any]
    adverse: int | None
    num_cols: list[str] = field(init=False)
    cat_cols: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.num_cols = list(self.spec["inputs"].get("numeric", []))
        self.cat_cols = list(self.spec["inputs"].get("categorical", []))

    @property
    def classes(self) -> list[Any]:
        return list(self.spec["classes"])

    @property
    def logistic(self) -> bool:
        return self.spec.get("link") == "logistic"

    def label(self, feature: str) -> str:
        return feature_label(self.spec, feature)

    def raw_value(self, num_row: np.ndarray, cat_row: np.ndarray, feature: str) -> Any:
        """The applicant's (prepared) value: float, category string, or None when missing."""
        if feature in self.num_cols:
            return f32_value(num_row[self.num_cols.index(feature)])
        v = cat_row[self.cat_cols.index(feature)]
        return None if v == "" else str(v)

    def toward(self, values: np.ndarray, k: int) -> np.ndarray:
        """Scores ``[..., K']`` -> score toward class ``k`` (log-odds of k for a logistic link)."""
        values = np.asarray(values, dtype=np.float64)
        if self.logistic:
            return values[..., 0] if k == 1 else -values[..., 0]
        return values[..., k]

    def base_row(self, k: int, p: float, label: Any, approximate: bool, method: str) -> dict[str, Any]:
        return {
            "row": 0,
            "index": None,
            "decision": jsonable(label),
            "decision_index": int(k),
            "probability": float(p),
            "adverse": self.adverse is not None and int(k) == self.adverse,
            "adverse_class": None if self.adverse is None else jsonable(self.classes[self.adverse]),
            "method": method,
            "approximate": approximate,
            "reasons": [],
        }


# ============================================================================ additive


@dataclass
class _Reference:
    value: float  # score toward the class at the reference value
    text: str  # the reference value, readable


def _term_features(term: Mapping[str, Any]) -> list[str]:
    if term["type"] == "linear":
        return [term["feature"]]
    return [ax["feature"] for ax in term["axes"]]


def _linear_reference(ctx: _Context, term: Mapping[str, Any], k: int) -> _Reference:
    lo, hi = clip_bounds(term)
    cands = [b for b in (lo, hi) if math.isfinite(b)]
    if len(cands) < 2:
        disp = representative_values(term)
        cands += [v for v in (min(disp), max(disp)) if lo <= v <= hi]
    cands = sorted(set(cands)) or [float(term.get("impute", 0.0))]
    coef = np.asarray(term["coef"], dtype=np.float64)
    vals = [float(ctx.toward(coef * np.clip(c, lo, hi), k)) for c in cands]
    j = int(np.argmin(vals))
    return _Reference(vals[j], fmt_num(cands[j]))


def _table_reference(ctx: _Context, term: Mapping[str, Any], k: int) -> _Reference:
    axes = term["axes"]
    tw = ctx.toward(np.asarray(term["scores"], dtype=np.float64), k)
    mask = np.ones(tw.shape, dtype=bool)
    for a, ax in enumerate(axes):
        valid = np.ones(tw.shape[a], dtype=bool)
        valid[0] = False  # missing is not a value an applicant can have as "best"
        if ax["kind"] == "categorical":
            valid[-1] = False  # nor is an unseen category
        shape = [1] * tw.ndim
        shape[a] = -1
        mask &= valid.reshape(shape)
    if not mask.any():
        mask[:] = True
    cell = np.unravel_index(int(np.argmin(np.where(mask, tw, np.inf))), tw.shape)
    names = [ctx.label(ax["feature"]) for ax in axes]
    return _Reference(float(tw[cell]), cell_label(axes, [int(c) for c in cell], names))


def _term_reference(ctx: _Context, term: Mapping[str, Any], k: int, reference: str) -> _Reference:
    if reference == "zero":
        return _Reference(0.0, "zero (the term's baseline)")
    if term["type"] == "linear":
        return _linear_reference(ctx, term, k)
    return _table_reference(ctx, term, k)


def _term_value_text(ctx: _Context, term: Mapping[str, Any], num_row: np.ndarray,
                     cat_row: np.ndarray) -> tuple[Any, str]:
    """The applicant's value(s) for a term, raw and as text."""
    feats = _term_features(term)
    parts = []
    raw = {}
    for f in feats:
        v = ctx.raw_value(num_row, cat_row, f)
        raw[f] = v
        name = ctx.label(f)
        if v is not None and is_special_value(ctx.spec, f, v):
            parts.append(f"{name} is {value_text(ctx.spec, f, v)}")  # a level of its own, not a number
            continue
        if v is None:
            text = f"{name} is missing"
            if term["type"] == "linear":
                text += f", counted as {fmt_num(term.get('impute', 0.0))}"
        else:
            text = f"{name} is {fmt_value(v)}"
            if term["type"] == "linear":
                lo, hi = clip_bounds(term)
                if v < lo or v > hi:
                    text += f", counted as {fmt_num(min(max(v, lo), hi))}"
            else:
                ax = next(a for a in term["axes"] if a["feature"] == f)
                if ax["kind"] == "categorical" and str(v) not in {str(c) for c in ax["categories"]}:
                    text += ", unseen in training"
        parts.append(text)
    return (raw[feats[0]] if len(feats) == 1 else raw), " and ".join(parts)


def _additive_text(ctx: _Context, k: int, value_text: str, ref: _Reference, impact: float, reference: str) -> str:
    units = "log-odds" if ctx.logistic else "score units"
    amount = f"{impact:.2f} {units}"
    if ctx.logistic:
        amount += f", {impact * POINTS_PER_LOGODDS:.0f} points"
    if reference == "zero":
        return f"{value_text} (pushes toward '{ctx.classes[k]}' by {amount})"
    if ctx.adverse is not None and k == ctx.adverse:
        return f"{value_text} (worse than best value {ref.text} by {amount})"
    if ctx.logistic:
        return f"{value_text} (better than worst value {ref.text} by {amount})"
    return f"{value_text} (favours '{ctx.classes[k]}' by {amount} over {ref.text})"


def _explain_additive(ctx: _Context, num: np.ndarray, cat: np.ndarray, out: Mapping[str, np.ndarray],
                      top: int, reference: str) -> list[dict[str, Any]]:
    spec = ctx.spec
    terms = spec["terms"]
    contrib = out["contributions"]  # [n, T, K']
    labels = out["label"]
    probs = out["probabilities"]
    refs: dict[tuple[int, int], _Reference] = {}
    rows = []
    for i in range(len(labels)):
        k = int(labels[i])
        row = ctx.base_row(k, probs[i, k], ctx.classes[k], False, f"additive, reference={reference}")
        row["row"] = i
        row["contributions"] = [float(v) for v in (contrib[i, :, 0] if ctx.logistic else contrib[i, :, k])]
        toward = ctx.toward(contrib[i], k)  # [T]
        score = float(ctx.toward(out["scores"][i], k))
        row["score"] = score
        if ctx.logistic and ctx.adverse is not None:
            fav = 1 - ctx.adverse
            row["points"] = BASE_SCORE + POINTS_PER_LOGODDS * float(ctx.toward(out["scores"][i], fav))
        reasons = []
        for t, term in enumerate(terms):
            key = (t, k)
            if key not in refs:
                refs[key] = _term_reference(ctx, term, k, reference)
            ref = refs[key]
            impact = float(toward[t]) - ref.value
            if impact <= _EPS:
                continue
            value, value_text = _term_value_text(ctx, term, num[i], cat[i])
            reasons.append({
                "term": term.get("name", f"term {t}"),
                "term_index": t,
                "features": _term_features(term),
                "value": value,
                "reference": ref.text,
                "contribution": float(toward[t]),
                "impact": impact,
                "points": impact * POINTS_PER_LOGODDS if ctx.logistic else None,
                "text": _additive_text(ctx, k, value_text, ref, impact, reference),
            })
        reasons.sort(key=lambda r: (-r["impact"], r["term_index"]))
        row["reasons"] = [{"rank": j + 1, **r} for j, r in enumerate(reasons[:top])]
        rows.append(row)
    return rows


# ============================================================================ rule lists


def _explain_rule_list(ctx: _Context, num: np.ndarray, cat: np.ndarray, out: Mapping[str, np.ndarray],
                       top: int) -> list[dict[str, Any]]:
    spec = ctx.spec
    rules = list(spec["rules"])
    ordered = bool((spec.get("meta") or {}).get("ordered", True))
    rows = []
    for i, fired in enumerate(out["rule"]):
        fired = int(fired)
        k = int(out["label"][i])
        row = ctx.base_row(k, out["probabilities"][i, k], ctx.classes[k], False, "rule list")
        row["row"] = i
        is_default = fired == len(rules)
        rule = spec["default"] if is_default else rules[fired]
        name = "default" if is_default else str(rule.get("name") or f"R{fired + 1}")
        skipped = []
        if ordered or is_default:
            for r, earlier in enumerate(rules[:fired]):
                failed = next((c for c in earlier["conditions"]
                               if not condition_holds_for(c, ctx.raw_value(num[i], cat[i], c["feature"]),
                                                          special_points(spec, c["feature"]))), None)
                if failed is not None:
                    value = ctx.raw_value(num[i], cat[i], failed["feature"])
                    skipped.append({"rule": str(earlier.get("name") or f"R{r + 1}"), "index": r,
                                    "failed": condition_with_value(failed, value, ctx.label(failed["feature"]),
                                                                   special_labels(spec, failed["feature"]))})
        row["rule"] = {
            "index": fired,
            "name": name,
            "is_default": is_default,
            "text": rule_text(spec, rule, default=is_default),
            "conditions": [condition_text(c, ctx.label(c["feature"]), special_labels(spec, c["feature"]))
                           for c in rule.get("conditions", [])],
            "probability": rule_decision(spec, rule)[1],
            "probabilities": {str(c): float(p) for c, p in zip(ctx.classes, rule["probabilities"])},
            "support": rule.get("support"),
            "skipped": skipped,
        }
        reasons = []
        for cond in rule.get("conditions", []):
            value = ctx.raw_value(num[i], cat[i], cond["feature"])
            reasons.append({
                "term": name,
                "features": [cond["feature"]],
                "value": value,
                "condition": condition_text(cond, ctx.label(cond["feature"]), special_labels(spec, cond["feature"])),
                "impact": None,
                "points": None,
                "text": condition_with_value(cond, value, ctx.label(cond["feature"]), special_labels(spec, cond["feature"])),
            })
        if is_default:
            # nothing matched: the reasons are why each rule did not apply
            reasons = [{"term": s["rule"], "features": [], "value": None, "condition": None, "impact": None,
                        "points": None, "text": f"{s['rule']} does not apply: {s['failed']}"} for s in skipped]
        row["reasons"] = [{"rank": j + 1, **r} for j, r in enumerate(reasons[:top])]
        rows.append(row)
    return rows


# ============================================================================ mlp (occlusion)


def _mlp_references(spec: Mapping[str, Any]) -> dict[str, Any]:
    refs: dict[str, Any] = {}
    pre = spec.get("preprocess", {})
    for p in pre.get("numeric", []):
        refs[p["feature"]] = float(p["mean"])
    for p in pre.get("categorical", []):
        refs[p["feature"]] = ""
    return refs


def _log_odds(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-12, 1 - 1e-12)
    return np.log(p) - np.log1p(-p)


def _explain_mlp(ctx: _Context, num: np.ndarray, cat: np.ndarray, out: Mapping[str, np.ndarray],
                 top: int) -> list[dict[str, Any]]:
    labels = out["label"]
    probs = out["probabilities"]
    n = len(labels)
    base = _log_odds(probs[np.arange(n), labels])
    impacts: dict[str, np.ndarray] = {}
    refs = _mlp_references(ctx.spec)
    for f, ref in refs.items():
        num2, cat2 = num.copy(), cat.copy()
        if f in ctx.num_cols:
            num2[:, ctx.num_cols.index(f)] = ref
        else:
            cat2[:, ctx.cat_cols.index(f)] = ref
        p2 = evaluate(ctx.spec, numeric=num2, categorical=cat2)["probabilities"]
        impacts[f] = base - _log_odds(p2[np.arange(n), labels])
    rows = []
    for i in range(n):
        k = int(labels[i])
        row = ctx.base_row(k, probs[i, k], ctx.classes[k], True, "occlusion (approximate)")
        row["row"] = i
        reasons = []
        for f, imp in impacts.items():
            impact = float(imp[i])
            if impact <= _EPS:
                continue
            value = ctx.raw_value(num[i], cat[i], f)
            ref = refs[f]
            ref_text = "missing/other" if ref == "" else f"the training mean {fmt_num(ref)}"
            reasons.append({
                "term": f,
                "features": [f],
                "value": value,
                "reference": ref_text,
                "impact": impact,
                "points": None,
                "text": (f"{ctx.label(f)} is {value_text(ctx.spec, f, value)} (pushes toward '{ctx.classes[k]}' by "
                         f"{impact:.2f} log-odds compared with {ref_text}; approximate, by occlusion)"),
            })
        reasons.sort(key=lambda r: -r["impact"])
        row["reasons"] = [{"rank": j + 1, **r} for j, r in enumerate(reasons[:top])]
        rows.append(row)
    return rows


# ============================================================================ counterfactuals


def _one_row_frame(row: Any) -> "pd.DataFrame":
    import pandas as pd

    if isinstance(row, pd.DataFrame):
        if len(row) != 1:
            raise ConfigError(f"counterfactual takes one row, got {len(row)}.", hint="Pass X.iloc[[i]].")
        return row
    if isinstance(row, pd.Series):
        return row.to_frame().T.infer_objects()
    if isinstance(row, Mapping):
        return pd.DataFrame({k: [v] for k, v in row.items()})
    raise ConfigError(f"counterfactual takes a one-row DataFrame, Series or dict, got {type(row).__name__}.")


def _f32_below(b: float) -> float:
    x = np.float32(b)
    if float(x) >= b:
        x = np.nextafter(x, np.float32(-np.inf))
    return float(x)


def _f32_at_or_above(b: float) -> float:
    x = np.float32(b)
    if float(x) < b:
        x = np.nextafter(x, np.float32(np.inf))
    return float(x)


def _f32_above(b: float) -> float:
    x = np.float32(_f32_at_or_above(b))
    if float(x) <= b:
        x = np.nextafter(x, np.float32(np.inf))
    return float(x)


class _Searcher:
    """One-feature counterfactual search over the places where a spec can change its mind."""

    def __init__(self, ctx: _Context, immutable: Sequence[str] = (), n_alternatives: int = 3) -> None:
        self.ctx = ctx
        self.spec = ctx.spec
        self.immutable = set(immutable)
        self.n_alternatives = int(n_alternatives)
        unknown = self.immutable - set(ctx.num_cols) - set(ctx.cat_cols)
        if unknown:
            raise ConfigError(f"immutable names unknown feature(s): {', '.join(sorted(unknown))}.")
        self.breaks: dict[str, set[float]] = {f: set() for f in ctx.num_cols}
        self.display: dict[str, list[float]] = {f: [] for f in ctx.num_cols}
        self.scale: dict[str, float] = {}
        self.cats: dict[str, list[str]] = {f: [] for f in ctx.cat_cols}
        self.used: set[str] = set()  # numeric features the model reads
        self._collect()
        self.monotone = {str(f): int(np.sign(d)) for f, d in (self.spec.get("monotone") or {}).items()}

    # -------------------------------------------------------------- candidate collection
    def _add_break(self, f: str, v: Any) -> None:
        self.used.add(f)
        v = float(v)
        if math.isfinite(v):
            self.breaks[f].add(v)

    def _add_cats(self, f: str, values: Iterable[Any]) -> None:
        for v in values:
            s = str(v)
            if s != "" and s not in self.cats[f]:
                self.cats[f].append(s)

    def _collect(self) -> None:
        spec = self.spec
        if spec["kind"] == "additive":
            for term in spec["terms"]:
                if term["type"] == "linear":
                    lo, hi = clip_bounds(term)
                    self._add_break(term["feature"], lo)
                    self._add_break(term["feature"], hi)
                    if term.get("display") is not None:
                        self.display[term["feature"]] += representative_values(term)
                    continue
                for ax in term["axes"]:
                    if ax["kind"] == "numeric":
                        for e in ax["edges"]:
                            self._add_break(ax["feature"], e)
                    else:
                        self._add_cats(ax["feature"], ax["categories"])
        elif spec["kind"] == "rule_list":
            for rule in spec["rules"]:
                for c in rule["conditions"]:
                    if c["op"] in ("<=", ">"):
                        self._add_break(c["feature"], c["value"])
                    elif c["op"] in ("in", "not_in"):
                        self._add_cats(c["feature"], c["values"])
        else:
            pre = spec.get("preprocess", {})
            for p in pre.get("numeric", []):
                f, m, s = p["feature"], float(p["mean"]), abs(float(p["scale"])) or 1.0
                self.scale[f] = 4.0 * s
                lo, hi = p.get("clip", [None, None])
                lo = -math.inf if lo is None else float(lo)
                hi = math.inf if hi is None else float(hi)
                for z in np.arange(-3.0, 3.01, 0.25):
                    v = m + z * s
                    if lo <= v <= hi:
                        self._add_break(f, v)
                self._add_break(f, lo)
                self._add_break(f, hi)
            for p in pre.get("categorical", []):
                self._add_cats(p["feature"], p["categories"])

    def spread(self, f: str, x0: float) -> float:
        if f in self.scale:
            return self.scale[f]
        vals = self.display[f] or sorted(self.breaks[f])
        if len(vals) >= 2 and max(vals) > min(vals):
            return float(max(vals) - min(vals))
        return max(1.0, abs(x0))

    # -------------------------------------------------------------- evaluation
    def _eval(self, num_rows: np.ndarray, cat_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        out = evaluate(self.spec, numeric=num_rows, categorical=cat_rows)
        return out["label"], out["probabilities"]

    def _flips(self, labels: np.ndarray, probs: np.ndarray) -> np.ndarray:
        """Rows whose decision left the adverse class by more than a knife-edge tie."""
        n = np.arange(len(labels))
        return (labels != self.ctx.adverse) & (probs[n, labels] - probs[:, self.ctx.adverse] > _MARGIN)

    def _numeric_batch(self, num_row: np.ndarray, cat_row: np.ndarray, j: int, values: Sequence[float]):
        m = len(values)
        N = np.repeat(num_row[None, :], m, axis=0).astype(np.float32)
        N[:, j] = np.asarray(values, dtype=np.float32)
        C = np.repeat(cat_row[None, :], m, axis=0)
        return self._eval(N, C)

    def _allowed_sides(self, f: str) -> tuple[int, ...]:
        d = self.monotone.get(f, 0)
        if d == 0 or len(self.ctx.classes) != 2 or self.ctx.adverse is None:
            return (-1, 1)
        favourable = 1 - self.ctx.adverse
        return ((d if favourable == 1 else -d),)

    # -------------------------------------------------------------- numeric
    def _search_numeric(self, num_row: np.ndarray, cat_row: np.ndarray, f: str) -> dict[str, Any] | None:
        j = self.ctx.num_cols.index(f)
        x0 = float(num_row[j])
        if math.isnan(x0) or f not in self.used:
            return None
        spread = self.spread(f, x0)
        probes: set[float] = set()
        for b in self.breaks[f]:
            probes.update((_f32_below(b), _f32_at_or_above(b), _f32_above(b)))
        # beyond the outermost breaks only linear pieces can still change the score
        lo_b, hi_b = min(self.breaks[f], default=x0), max(self.breaks[f], default=x0)
        for far in (lo_b - spread, hi_b + spread, *(x0 + m * spread for m in (-4, -2, -1, -0.5, 0.5, 1, 2, 4))):
            probes.add(float(np.float32(far)))
        best = None
        for side in self._allowed_sides(f):
            pts = sorted((p for p in probes if (p - x0) * side > 0 and math.isfinite(p)
                          and not is_special_value(self.spec, f, p)), key=lambda p: abs(p - x0))
            if not pts:
                continue
            labels, probs = self._numeric_batch(num_row, cat_row, j, pts)
            flips = self._flips(labels, probs)
            if not flips.any():
                continue
            first = int(np.argmax(flips))
            inner = x0 if first == 0 else pts[first - 1]
            to = self._bisect(num_row, cat_row, j, inner, pts[first])
            to = self._nicen(num_row, cat_row, j, to, side, spread, integral=float(x0).is_integer())
            if is_special_value(self.spec, f, to):  # never propose a code (a level, not a number)
                continue
            lab, pr = self._numeric_batch(num_row, cat_row, j, [to])
            cand = self._result(f, f32_value(x0), f32_value(to), abs(to - x0) / spread, int(lab[0]), pr[0])
            if best is None or cand["distance"] < best["distance"]:
                best = cand
        return best

    def _bisect(self, num_row: np.ndarray, cat_row: np.ndarray, j: int, inner: float, outer: float) -> float:
        """Closest flipping float32 value between a non-flipping ``inner`` and a flipping ``outer``."""
        for _ in range(80):
            mid = float(np.float32((inner + outer) / 2.0))
            if mid == inner or mid == outer:
                break
            labels, probs = self._numeric_batch(num_row, cat_row, j, [mid])
            if self._flips(labels, probs)[0]:
                outer = mid
            else:
                inner = mid
        return outer

    def _nicen(self, num_row: np.ndarray, cat_row: np.ndarray, j: int, v: float, side: int, spread: float,
               integral: bool = False) -> float:
        """A round number a little beyond ``v`` (away from the applicant) that still flips.

        Accepts a round number within 2 % of the feature's spread; an applicant with a whole
        number (months, years, counts) also gets the next whole number.
        """
        tol = 0.02 * spread
        top = int(math.floor(math.log10(spread))) if spread > 0 else 0
        cands = []
        for k in range(top, -7, -1):
            step = 10.0 ** k
            c = (math.ceil(v / step) if side > 0 else math.floor(v / step)) * step
            c = round(c, max(0, -k))
            if (abs(c - v) <= tol or (integral and k >= 0 and abs(c - v) <= 1.0)) and c not in cands:
                cands.append(c)
        if not cands:
            return v
        labels, probs = self._numeric_batch(num_row, cat_row, j, cands)
        ok = [c for c, fl in zip(cands, self._flips(labels, probs)) if fl and (c - v) * side >= 0]
        return float(ok[0]) if ok else v

    # -------------------------------------------------------------- categorical
    def _search_categorical(self, num_row: np.ndarray, cat_row: np.ndarray, f: str) -> dict[str, Any] | None:
        j = self.ctx.cat_cols.index(f)
        current = cat_row[j]
        cands = [c for c in self.cats[f] if c != current]
        if not cands:
            return None
        N = np.repeat(num_row[None, :], len(cands), axis=0).astype(np.float32)
        C = np.repeat(cat_row[None, :], len(cands), axis=0)
        C[:, j] = cands
        labels, probs = self._eval(N, C)
        flips = np.flatnonzero(self._flips(labels, probs))
        if not len(flips):
            return None
        conf = [probs[i, labels[i]] for i in flips]
        i = int(flips[int(np.argmax(conf))])
        return self._result(f, None if current == "" else str(current), cands[i], 1.0, int(labels[i]), probs[i])

    # -------------------------------------------------------------- assembling
    def _result(self, f: str, old: Any, new: Any, distance: float, label: int, probs: np.ndarray) -> dict[str, Any]:
        cls = self.ctx.classes[label]
        p = float(probs[label])
        text = (f"If {self.ctx.label(f)} were {fmt_value(new)} instead of {value_text(self.spec, f, old)}, "
                f"the decision would be '{cls}' (p = {p:.2f}).")
        return {"feature": f, "from": old, "to": new, "distance": float(distance), "new_decision": jsonable(cls),
                "new_probability": p, "text": text}

    def search(self, num_row: np.ndarray, cat_row: np.ndarray) -> dict[str, Any] | None:
        found = []
        for f in self.ctx.num_cols:
            if f not in self.immutable:
                r = self._search_numeric(num_row, cat_row, f)
                if r is not None:
                    found.append(r)
        for f in self.ctx.cat_cols:
            if f not in self.immutable:
                r = self._search_categorical(num_row, cat_row, f)
                if r is not None:
                    found.append(r)
        if not found:
            return None
        found.sort(key=lambda r: (r["distance"], -r["new_probability"], r["feature"]))
        best = dict(found[0])
        best["alternatives"] = found[1:1 + self.n_alternatives]
        return best

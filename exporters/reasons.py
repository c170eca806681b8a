"""Reason codes and counterfactuals for individual decisions (adverse-action ready).

Every number here is computed from :func:`distill2rules.spec.evaluate`, the same semantics the
ONNX graph implements, so a reason code can never disagree with the deployed model:

* additive students: each term's contribution (the ONNX ``contributions`` output) is compared
  with the term's *reference*. The default reference (``reference="best"``) is the most
  favourable value among the bins that hold at least ``min_share`` of the training rows (never
  missing, unseen or a special value); ``"mean"`` / ``"median"`` compare with the average /
  median applicant. Only terms that push toward the decision are reasons.
* rule lists: the conditions of the rule that fired (its index equals the ONNX ``rule``
  output); a decline by the default rule cites the nearest rules that would have approved and
  which of their conditions failed.
* MLP students: occlusion (each feature replaced by its training mean); approximate.

Reasons read in the applicant's language from a reason catalogue (:mod:`._catalogue`);
numbers (log-odds, points, references) stay in the JSON fields. Protected features
(:mod:`._protected`) are never cited and never changed by a counterfactual. Counterfactuals
are checked against the teacher when one is given. See ``docs/explanations.md``.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from distill2rules.errors import ConfigError
from distill2rules.exporters._catalogue import catalogue_of, render_template
from distill2rules.exporters._protected import resolve_protected
from distill2rules.exporters._render import (
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
    points_scale,
    representative_values,
    rule_decision,
    rule_text,
    special_labels,
    special_points,
    value_text,
)
from distill2rules.exporters._support import data_support, term_counts
from distill2rules.spec import (
    AdditiveSpec,
    KindTable,
    MLPSpec,
    RuleListSpec,
    evaluate,
    is_special_value,
    prepare_inputs,
)

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "DEFAULT_MIN_SHARE",
    "REFERENCES",
    "counterfactual",
    "explain_rows",
    "reasons_table",
    "reasons_to_jsonl",
]

REFERENCES = ("best", "mean", "median", "zero")
#: Default minimum share of training rows a bin must hold to serve as a reason's reference.
DEFAULT_MIN_SHARE = 0.05
_EPS = 1e-12
_MARGIN = 1e-6  # a counterfactual must beat the adverse class by more than this probability

#: ``teacher(frame) -> class indices`` in the spec's class order (see ``explain_rows``).
TeacherFn = Callable[["pd.DataFrame"], np.ndarray]


# ============================================================================ front door


def explain_rows(
    spec: Mapping[str, Any],
    X: pd.DataFrame,
    *,
    top: int = 4,
    adverse_class: Any = None,
    reference: str = "best",
    counterfactuals: bool = True,
    immutable: Sequence[str] = (),
    min_share: float = DEFAULT_MIN_SHARE,
    protected: Any = None,
    labels: Mapping[str, Any] | None = None,
    teacher: TeacherFn | None = None,
) -> list[dict[str, Any]]:
    """Reason codes for every row of ``X``.

    Long because it documents each of its options; the work is in the per-kind explainers,
    ``_teacher_entry`` and ``_CounterfactualSearch``.

    Parameters
    ----------
    spec : mapping
        A student spec (see ``docs/spec.md``).
    X : DataFrame
        Raw rows with the columns the student reads (and, with ``teacher``, the teacher's).
    top : int, default 4
        Maximum number of reasons per row.
    adverse_class : class label, optional
        The adverse (declined) class. Default: ``spec["meta"]["adverse_class"]``; for two
        classes the event class (``1`` of 0/1, ``True``, a negative-looking label such as
        ``bad``); two arbitrary labels raise :class:`ConfigError`. Multiclass: none.
    reference : {"best", "mean", "median", "zero"}, default "best"
        Reference of additive terms. ``"best"``: per term, the value least supportive of the
        decision among bins holding at least ``min_share`` of the training rows (for a declined
        row, the most favourable well-supported value). ``"mean"`` / ``"median"``: the average
        / median applicant's contribution. ``"zero"``: the raw contribution.
    counterfactuals : bool, default True
        Search a change of one or two actionable features that flips each adverse decision.
    immutable : sequence of str
        Features the counterfactual search must not change (protected ones never change).
    min_share : float, default 0.05
        Minimum share of training rows of a reference bin (``spec`` must carry bin counts,
        which ``fit`` stores; without them every bin qualifies).
    protected : None, "none" or list of str
        Protected features (never cited, never changed). Default: ``spec["meta"]["protected"]``
        when recorded, else the default name list of :mod:`distill2rules.exporters._protected`.
    labels : mapping, optional
        A reason catalogue (:func:`~distill2rules.exporters._catalogue.load_catalogue`);
        default: the one stored in the spec.
    teacher : callable, optional
        ``teacher(frame) -> class indices`` (spec class order) on raw rows: each row reports
        the teacher's decision, and counterfactuals are searched so the teacher's flips too.

    Returns
    -------
    list of dict
        One dict per row: ``row``, ``index``, ``decision``, ``probability`` (of the decision),
        ``adverse``, ``method``, ``approximate``, ``reasons`` (ranked; each with ``rank``,
        ``term``, ``features``, ``value``, ``reference``, ``reference_share``, ``impact``,
        ``points``, ``code``, ``text`` in plain language, ``detail`` with the numbers),
        ``contributions`` (additive), ``rule`` (rule lists), ``teacher`` and ``counterfactual``.

    Examples
    --------
    >>> results = explain_rows(spec, X.head(3))  # doctest: +SKIP
    >>> print(reasons_table(results))  # doctest: +SKIP
    """
    _check_options(reference, top, min_share)
    X = _as_frame(X)
    num, cat = prepare_inputs(spec, X)
    out = evaluate(spec, numeric=num, categorical=cat)
    ctx = _Context(
        spec,
        adverse_index(spec, adverse_class),
        min_share=float(min_share),
        reference=reference,
        protected=_protected_for(spec, protected),
        catalogue=labels,
    )
    rows = _EXPLAINERS.of(spec)(ctx, num, cat, out, int(top), reference)
    index = list(X.index)
    t_labels = None
    if teacher is not None:
        t_labels = np.asarray(teacher(X), dtype=np.int64)
    searcher = (
        _CounterfactualSearch(ctx, immutable, teacher=teacher, columns=list(X.columns))
        if counterfactuals
        else None
    )
    for i, row in enumerate(rows):
        row["index"] = jsonable(index[i])
        row["teacher"] = None if t_labels is None else _teacher_entry(ctx, row, int(t_labels[i]))
        row["counterfactual"] = None
        if searcher is not None and row["adverse"]:
            row["counterfactual"] = searcher.search(num[i], cat[i], X.iloc[[i]])
    return rows


def _check_options(reference: str, top: int, min_share: float) -> None:
    if reference not in REFERENCES:
        raise ConfigError(f"reference must be one of {', '.join(REFERENCES)}, got {reference!r}.")
    if int(top) < 1:
        raise ConfigError(f"top must be a positive number of reasons, got {top!r}.")
    if not 0.0 <= float(min_share) < 0.5:
        raise ConfigError(f"min_share must be in [0, 0.5), got {min_share!r}.")


def _as_frame(X: Any) -> pd.DataFrame:
    """Rows as a DataFrame (a Series is one row, a mapping is columns)."""
    import pandas as pd  # lazy: keeps `import distill2rules.exporters` light

    if isinstance(X, pd.Series):
        return X.to_frame().T
    if isinstance(X, Mapping):
        return pd.DataFrame(X)
    return X


def _teacher_entry(ctx: _Context, row: Mapping[str, Any], tk: int) -> dict[str, Any]:
    """A row's ``teacher`` block: the teacher's decision (class ``tk``) and whether it agrees."""
    return {
        "decision": jsonable(ctx.classes[tk]),
        "decision_index": tk,
        "agrees": tk == row["decision_index"],
        "adverse": ctx.adverse is not None and tk == ctx.adverse,
    }


def counterfactual(
    spec: Mapping[str, Any],
    row: Any,
    *,
    adverse_class: Any = None,
    immutable: Sequence[str] = (),
    n_alternatives: int = 3,
    protected: Any = None,
    teacher: TeacherFn | None = None,
) -> dict[str, Any] | None:
    """Smallest change to one (else two) actionable features that turns an adverse decision.

    Candidate values are the places where the student can change its mind (table bin edges,
    rule thresholds, clip bounds, categories; refined by bisection and rounded) and the
    training quantiles, kept within the values training rows hold (1st to 99th percentile,
    categories with at least 1 % of the rows), never a special value, and, for a feature with a
    monotone constraint, only in the improving direction. Every candidate is checked with
    :func:`distill2rules.spec.evaluate` and, when ``teacher`` is given, with the teacher: a
    change that flips the student but not the teacher is returned only when nothing flips
    both, marked ``student_only``. Distance is ``|to - from| / spread`` for numbers (spread =
    the 5th to 95th percentile range) and 1 per changed category; the smallest wins.

    Returns
    -------
    dict or None
        ``{"feature", "from", "to", "changes", "distance", "new_decision", "new_probability",
        "teacher_decision", "teacher_flips", "student_only", "text", "alternatives"}``, or None
        when the row is not adverse or no change of one or two features flips it.
    """
    frame = _one_row_frame(row)
    num, cat = prepare_inputs(spec, frame)
    ctx = _Context(
        spec, adverse_index(spec, adverse_class), protected=_protected_for(spec, protected)
    )
    if ctx.adverse is None:
        return None
    out = evaluate(spec, numeric=num, categorical=cat)
    if int(out["label"][0]) != ctx.adverse:
        return None
    search = _CounterfactualSearch(
        ctx, immutable, teacher=teacher, n_alternatives=n_alternatives, columns=list(frame.columns)
    )
    return search.search(num[0], cat[0], frame)


def reasons_to_jsonl(results: Iterable[Mapping[str, Any]]) -> str:
    """One JSON object per line (UTF-8 text, NaN as null)."""
    return "".join(
        json.dumps(jsonable(r), ensure_ascii=False, allow_nan=False) + "\n" for r in results
    )


def reasons_table(results: Sequence[Mapping[str, Any]]) -> str:
    """Plain-text table: one line per reason, counterfactuals underneath (no rich markup)."""
    header = ("row", "decision", "p", "#", "reason")
    lines: list[tuple[str, ...]] = []
    extra: dict[int, list[str]] = {}
    for r in results:
        reasons = r.get("reasons") or []
        decision = str(r.get("decision"))
        t = r.get("teacher")
        if t is not None and not t.get("agrees"):
            decision += f" (teacher: {t['decision']})"
        first = (
            str(r.get("index", r.get("row"))),
            decision,
            f"{r.get('probability', float('nan')):.2f}",
        )
        if r.get("rule") is not None:
            lines.append(first + ("rule", r["rule"]["text"]))
            first = ("", "", "")
        if not reasons:
            lines.append(first + ("-", "no reason above the reference"))
        for j, reason in enumerate(reasons):
            code = f"[{reason['code']}] " if reason.get("code") else ""
            lines.append(
                (first if j == 0 else ("", "", "")) + (str(reason["rank"]), code + reason["text"])
            )
        cf = r.get("counterfactual")
        if cf:
            extra[len(lines) - 1] = [f"counterfactual: {cf['text']}"]
    widths = [
        max(len(h), *(len(l[c]) for l in lines)) if lines else len(h)
        for c, h in enumerate(header[:-1])
    ]

    def fmt(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells[:-1], widths)) + "  " + cells[-1]

    out = [fmt(header), fmt(tuple("-" * w for w in widths) + ("-" * 6,))]
    for n, line in enumerate(lines):
        out.append(fmt(line))
        for e in extra.get(n, []):
            out.append(" " * (sum(widths) + 2 * len(widths)) + e)
    return "\n".join(out) + "\n"


# ============================================================================ context


def _protected_for(spec: Mapping[str, Any], protected: Any) -> list[str]:
    """Protected columns of a spec: the argument, else ``meta["protected"]``, else the default list."""
    cols = list(spec["inputs"].get("numeric", [])) + list(spec["inputs"].get("categorical", []))
    if protected is None:
        recorded = (spec.get("meta") or {}).get("protected")
        if isinstance(recorded, list):
            return [str(c) for c in recorded]
        return resolve_protected(cols)
    if isinstance(protected, str):
        if protected.strip().lower() in ("", "none"):
            return []
        protected = protected.split(",")
    lower = {c.lower(): c for c in cols}
    return [lower.get(str(p).strip().lower(), str(p).strip()) for p in protected if str(p).strip()]


@dataclass
class _Context:
    """A spec plus the derived facts every explanation needs."""

    spec: Mapping[str, Any]
    adverse: int | None
    min_share: float = DEFAULT_MIN_SHARE
    reference: str = "best"
    protected: Sequence[str] = ()
    catalogue: Mapping[str, Any] | None = None
    num_cols: list[str] = field(init=False)
    cat_cols: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.num_cols = list(self.spec["inputs"].get("numeric", []))
        self.cat_cols = list(self.spec["inputs"].get("categorical", []))
        self.protected = [str(p) for p in self.protected]
        if self.catalogue is None:
            self.catalogue = catalogue_of(self.spec)
        self.support = data_support(self.spec)

    @property
    def classes(self) -> list[Any]:
        return list(self.spec["classes"])

    @property
    def logistic(self) -> bool:
        return self.spec.get("link") == "logistic"

    def entry(self, feature: str) -> Mapping[str, Any]:
        return ((self.catalogue or {}).get("features") or {}).get(feature) or {}

    def label(self, feature: str) -> str:
        return str(self.entry(feature).get("label") or feature_label(self.spec, feature))

    def decision_word(self, k: int) -> str:
        words = (self.catalogue or {}).get("decisions") or {}
        cls = self.classes[k]
        return str(words.get(str(cls), f"'{cls}'"))

    def is_protected(self, features: Iterable[str]) -> bool:
        return any(f in self.protected for f in features)

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

    def quantile(self, feature: str, q: float) -> float | None:
        qs = (self.support.get("quantiles") or {}).get(feature)
        if not qs:
            return None
        return float(
            np.interp(q * 100.0, np.linspace(0.0, 100.0, len(qs)), np.asarray(qs, dtype=np.float64))
        )

    def base_row(
        self, k: int, p: float, label: Any, approximate: bool, method: str
    ) -> dict[str, Any]:
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


# ============================================================================ applicant language


def _special_label(spec: Mapping[str, Any], feature: str, value: Any) -> str | None:
    """Label of a declared special value (``spec["special_values"]``), else None."""
    codes = (spec.get("special_values") or {}).get(feature)
    if not codes or value is None or isinstance(value, str):
        return None
    f = float(np.float32(float(value)))
    if not math.isfinite(f):
        return None
    key = str(int(f)) if f.is_integer() else repr(f)
    return codes.get(key)


def _statement(
    ctx: _Context, feature: str, value: Any, direction: str | None, reference: str = ""
) -> str:
    """One feature's part of a reason, in the applicant's language (no log-odds).

    ``direction``: ``"high"`` / ``"low"`` (a number above / below the reference), ``"category"``
    or None (a favourable statement: just the value).
    """
    entry = ctx.entry(feature)
    label = ctx.label(feature)
    special = _special_label(ctx.spec, feature, value)
    if special is not None:
        key = fmt_num(value)
        text = (entry.get("special") or {}).get(key)
        return (
            render_template(text, value=special, label=label, reference=reference)
            if text
            else f"{label}: {special}"
        )
    if value is None:
        text = entry.get("missing")
        return (
            render_template(text, value="", label=label, reference=reference)
            if text
            else f"{label}: not provided"
        )
    shown = (
        fmt_num(value)
        if isinstance(value, (int, float)) and not isinstance(value, bool)
        else str(value)
    )
    if direction in ("high", "low"):
        text = entry.get(direction)
        if text:
            return render_template(text, value=shown, label=label, reference=reference)
        return f"{label} too {direction} ({shown})"
    text = entry.get("category") if direction == "category" else None
    if text:
        return render_template(text, value=shown, label=label, reference=reference)
    return f"{label}: {shown}"


def _direction(value: Any, lo: float | None, hi: float | None) -> str:
    """``high`` when a number lies above the reference interval ``[lo, hi)``, else ``low``."""
    if value is None or isinstance(value, str):
        return "category"
    if hi is not None and float(value) >= hi:
        return "high"
    if lo is not None and float(value) < lo:
        return "low"
    mid = None if lo is None or hi is None else (lo + hi) / 2.0
    return "high" if mid is None or float(value) >= mid else "low"


# ============================================================================ additive


@dataclass
class _Reference:
    value: float  # score toward the class at the reference value
    text: str  # the reference value, readable
    share: float | None = (
        None  # share of training rows in the reference bin (None: unknown / not a bin)
    )
    intervals: dict[str, tuple[float | None, float | None]] = field(
        default_factory=dict
    )  # numeric features


def _term_features(term: Mapping[str, Any]) -> list[str]:
    if term["type"] == "linear":
        return [term["feature"]]
    return [ax["feature"] for ax in term["axes"]]


def _linear_reference(
    ctx: _Context, term: Mapping[str, Any], k: int, reference: str = "best"
) -> _Reference:
    lo, hi = clip_bounds(term)
    coef = np.asarray(term["coef"], dtype=np.float64)
    f = term["feature"]

    def at(v: float) -> float:
        return float(ctx.toward(coef * np.clip(v, lo, hi), k))

    if reference in ("mean", "median"):
        v = ctx.quantile(f, 0.5)
        if reference == "mean":
            qs = (ctx.support.get("quantiles") or {}).get(f)
            v = float(np.mean(qs)) if qs else None
        if v is None:
            v = float(term.get("impute", 0.0))
        word = "average" if reference == "mean" else "median"
        return _Reference(
            at(v), f"the {word} applicant ({fmt_num(round(v, 4))})", None, {f: (v, v)}
        )
    q_lo, q_hi = ctx.quantile(f, ctx.min_share), ctx.quantile(f, 1.0 - ctx.min_share)
    if q_lo is not None and q_hi is not None:
        cands = [q_lo, q_hi]
    else:
        cands = [b for b in (lo, hi) if math.isfinite(b)]
        if len(cands) < 2:
            disp = representative_values(term)
            cands += [v for v in (min(disp), max(disp)) if lo <= v <= hi]
        cands = sorted(set(cands)) or [float(term.get("impute", 0.0))]
    vals = [at(c) for c in cands]
    j = int(np.argmin(vals))
    share = ctx.min_share if q_lo is not None else None
    return _Reference(vals[j], fmt_num(round(cands[j], 4)), share, {f: (cands[j], cands[j])})


def _cell_intervals(
    axes: Sequence[Mapping[str, Any]], cell: Sequence[int]
) -> dict[str, tuple[float | None, float | None]]:
    out: dict[str, tuple[float | None, float | None]] = {}
    for ax, i in zip(axes, cell):
        if ax["kind"] != "numeric" or int(i) == 0:
            continue
        edges = [float(e) for e in ax["edges"]]
        i = int(i)
        lo = edges[i - 2] if i >= 2 else None
        hi = edges[i - 1] if i - 1 < len(edges) else None
        out[ax["feature"]] = (lo, hi)
    return out


def _table_reference(
    ctx: _Context, term: Mapping[str, Any], k: int, reference: str = "best"
) -> _Reference:
    axes = term["axes"]
    tw = ctx.toward(np.asarray(term["scores"], dtype=np.float64), k)
    counts = term_counts(term)
    mask = np.ones(tw.shape, dtype=bool)
    for a, ax in enumerate(axes):
        valid = np.ones(tw.shape[a], dtype=bool)
        valid[0] = False  # missing is not a value an applicant can have as a reference
        if ax["kind"] == "categorical":
            valid[-1] = False  # nor is an unseen category
        shape = [1] * tw.ndim
        shape[a] = -1
        mask &= valid.reshape(shape)
    names = [ctx.label(ax["feature"]) for ax in axes]
    if reference in ("mean", "median"):
        w = counts if counts is not None and counts.sum() > 0 else mask.astype(np.float64)
        flat_w, flat_v = w.ravel(), tw.ravel()
        if reference == "mean":
            value = float(np.sum(flat_w * flat_v) / max(np.sum(flat_w), _EPS))
        else:
            order = np.argsort(flat_v, kind="stable")
            cum = np.cumsum(flat_w[order])
            value = float(flat_v[order][int(np.searchsorted(cum, cum[-1] / 2.0))])
        word = "average" if reference == "mean" else "median"
        return _Reference(value, f"the {word} applicant", None, {})
    share = None
    if counts is not None and counts.sum() > 0:
        shares = counts / counts.sum()
        supported = mask & (shares >= ctx.min_share - 1e-12)
        if len(axes) == 1 and axes[0]["kind"] == "numeric":
            run = _best_run(ctx, axes[0], tw, counts, names[0])
            if run is not None and (
                not supported.any() or run.value < float(np.min(tw[supported])) - _EPS
            ):
                return run
        if not supported.any():  # no bin is that common: the most common real bin
            best = np.unravel_index(int(np.argmax(np.where(mask, counts, -1))), counts.shape)
            supported = np.zeros_like(mask)
            supported[best] = True
        mask = supported
    if not mask.any():
        mask[:] = True
    cell = np.unravel_index(int(np.argmin(np.where(mask, tw, np.inf))), tw.shape)
    if counts is not None and counts.sum() > 0:
        share = float(counts[cell] / counts.sum())
    cell_i = [int(c) for c in cell]
    return _Reference(
        float(tw[cell]), cell_label(axes, cell_i, names), share, _cell_intervals(axes, cell_i)
    )


def _best_run(
    ctx: _Context, axis: Mapping[str, Any], tw: np.ndarray, counts: np.ndarray, name: str
) -> _Reference | None:
    """The most favourable run of neighbouring numeric bins holding >= ``min_share`` of the rows.

    Fine-grained bins (an EBM's hundreds) each hold few rows; a reference must still be a value
    many applicants hold. Candidates are the shortest runs of adjacent bins (never the missing
    bin) that together reach the minimum share; the reference is the run's row-weighted mean
    score and its interval the union of the bins.
    """
    w = np.asarray(counts, dtype=np.float64)[1:]
    v = np.asarray(tw, dtype=np.float64)[1:]
    total = float(np.sum(counts))
    need = ctx.min_share * total - 1e-9
    if len(w) == 0 or float(w.sum()) < need or need <= 0:
        return None
    cw = np.concatenate([[0.0], np.cumsum(w)])
    cwv = np.concatenate([[0.0], np.cumsum(w * v)])
    best: tuple[float, int, int] | None = None
    b = 0
    for a in range(len(w)):
        if w[a] <= 0:
            continue
        b = max(b, a)
        while b < len(w) and cw[b + 1] - cw[a] < need:
            b += 1
        if b >= len(w):
            break
        mean = float((cwv[b + 1] - cwv[a]) / (cw[b + 1] - cw[a]))
        if best is None or mean < best[0] - _EPS:
            best = (mean, a, b)
    if best is None:
        return None
    mean, a, b = best
    edges = [float(e) for e in axis["edges"]]
    lo = edges[a - 1] if a >= 1 else None  # bin a + 1 of the table starts at edges[a - 1]
    hi = edges[b] if b < len(edges) else None
    if lo is None and hi is None:
        text = "any value"
    elif lo is None:
        text = f"{name} < {fmt_num(hi)}"
    elif hi is None:
        text = f"{name} ≥ {fmt_num(lo)}"
    else:
        text = f"{fmt_num(lo)} ≤ {name} < {fmt_num(hi)}"
    share = float((cw[b + 1] - cw[a]) / total)
    return _Reference(mean, text, share, {str(axis["feature"]): (lo, hi)})


def _term_reference(
    ctx: _Context, term: Mapping[str, Any], k: int, reference: str | None = None
) -> _Reference:
    reference = reference or ctx.reference
    if reference == "zero":
        return _Reference(0.0, "zero (the term's baseline)")
    if term["type"] == "linear":
        return _linear_reference(ctx, term, k, reference)
    return _table_reference(ctx, term, k, reference)


def _term_values(
    ctx: _Context, term: Mapping[str, Any], num_row: np.ndarray, cat_row: np.ndarray
) -> dict[str, Any]:
    return {f: ctx.raw_value(num_row, cat_row, f) for f in _term_features(term)}


def _term_value_text(
    ctx: _Context, term: Mapping[str, Any], num_row: np.ndarray, cat_row: np.ndarray
) -> tuple[Any, str]:
    """The applicant's value(s) for a term, raw and as (reviewer) text."""
    feats = _term_features(term)
    parts = []
    raw = {}
    for f in feats:
        v = ctx.raw_value(num_row, cat_row, f)
        raw[f] = v
        name = ctx.label(f)
        if v is not None and is_special_value(ctx.spec, f, v):
            parts.append(
                f"{name} is {value_text(ctx.spec, f, v)}"
            )  # a level of its own, not a number
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


def _additive_detail(
    ctx: _Context, k: int, value_text: str, ref: _Reference, impact: float, reference: str
) -> str:
    """Reviewer text with the numbers (log-odds, points); not for the applicant."""
    units = "log-odds" if ctx.logistic else "score units"
    amount = f"{impact:.2f} {units}"
    if ctx.logistic:
        amount += f", {impact * points_scale(ctx.spec)[0]:.0f} points"
    if reference == "zero":
        return f"{value_text} (pushes toward '{ctx.classes[k]}' by {amount})"
    share = "" if ref.share is None else f", held by {ref.share:.0%} of training rows"
    if reference in ("mean", "median"):
        return (
            f"{value_text} (pushes toward '{ctx.classes[k]}' by {amount} compared with {ref.text})"
        )
    if ctx.adverse is not None and k == ctx.adverse:
        return f"{value_text} (worse than reference {ref.text}{share} by {amount})"
    return f"{value_text} (favours '{ctx.classes[k]}' by {amount} over {ref.text}{share})"


def _additive_statement(
    ctx: _Context,
    term: Mapping[str, Any],
    values: Mapping[str, Any],
    ref: _Reference,
    adverse: bool,
) -> tuple[str, list[str]]:
    parts, dirs = [], []
    for f, v in values.items():
        if not adverse:
            d = None
        elif f in ref.intervals:
            d = _direction(v, *ref.intervals[f])
        elif isinstance(v, str) or v is None:
            d = "category"
        else:
            med = ctx.quantile(f, 0.5)
            d = _direction(v, med, med) if med is not None else "high"
        dirs.append(d or "")
        parts.append(_statement(ctx, f, v, d, ref.text))
    return " and ".join(parts), dirs


def _explain_additive(
    ctx: _Context,
    num: np.ndarray,
    cat: np.ndarray,
    out: Mapping[str, np.ndarray],
    top: int,
    reference: str,
) -> list[dict[str, Any]]:
    spec = ctx.spec
    terms = spec["terms"]
    contrib = out["contributions"]  # [n, T, K']
    labels = out["label"]
    probs = out["probabilities"]
    refs: dict[tuple[int, int], _Reference] = {}
    method = f"additive, reference={reference}" + (
        f" (min share {ctx.min_share:g})" if reference == "best" else ""
    )
    per_logodds, base_points = points_scale(spec)  # the card's own scale (a scorecard's pdo)
    rows = []
    for i in range(len(labels)):
        k = int(labels[i])
        row = ctx.base_row(k, probs[i, k], ctx.classes[k], False, method)
        row["row"] = i
        row["contributions"] = [
            float(v) for v in (contrib[i, :, 0] if ctx.logistic else contrib[i, :, k])
        ]
        toward = ctx.toward(contrib[i], k)  # [T]
        score = float(ctx.toward(out["scores"][i], k))
        row["score"] = score
        if ctx.logistic and ctx.adverse is not None:
            fav = 1 - ctx.adverse
            row["points"] = base_points + per_logodds * float(ctx.toward(out["scores"][i], fav))
        reasons = []
        for t, term in enumerate(terms):
            key = (t, k)
            if key not in refs:
                refs[key] = _term_reference(ctx, term, k, reference)
            ref = refs[key]
            impact = float(toward[t]) - ref.value
            if impact <= _EPS:
                continue  # does not push toward the decision
            feats = _term_features(term)
            if ctx.is_protected(feats):
                continue  # protected characteristics are never cited
            value, value_text = _term_value_text(ctx, term, num[i], cat[i])
            values = _term_values(ctx, term, num[i], cat[i])
            text, dirs = _additive_statement(ctx, term, values, ref, bool(row["adverse"]))
            codes = [str(ctx.entry(f)["code"]) for f in feats if ctx.entry(f).get("code")]
            reasons.append(
                {
                    "term": term.get("name", f"term {t}"),
                    "term_index": t,
                    "features": feats,
                    "value": value,
                    "reference": ref.text,
                    "reference_share": ref.share,
                    "contribution": float(toward[t]),
                    "impact": impact,
                    "points": impact * per_logodds if ctx.logistic else None,
                    "direction": dirs[0] if len(dirs) == 1 else dirs,
                    "code": "/".join(codes) or None,
                    "text": text,
                    "detail": _additive_detail(ctx, k, value_text, ref, impact, reference),
                }
            )
        reasons.sort(key=lambda r: (-r["impact"], r["term_index"]))
        row["reasons"] = [{"rank": j + 1, **r} for j, r in enumerate(reasons[:top])]
        rows.append(row)
    return rows


# ============================================================================ rule lists


def _condition_direction(cond: Mapping[str, Any], holds: bool) -> str:
    """The direction of the applicant's value that makes ``cond`` hold (or fail)."""
    op = cond["op"]
    if op in ("<=", ">"):
        high = (op == ">") == holds
        return "high" if high else "low"
    return "category"


def _rule_name(rule: Mapping[str, Any], r: int) -> str:
    return str(rule.get("name") or f"R{r + 1}")


def _explain_rule_list(
    ctx: _Context, num: np.ndarray, cat: np.ndarray, out: Mapping[str, np.ndarray], top: int
) -> list[dict[str, Any]]:
    spec = ctx.spec
    rules = list(spec["rules"])
    ordered = bool((spec.get("meta") or {}).get("ordered", True))
    decisions = [rule_decision(spec, r)[0] for r in rules]
    rows = []
    for i, fired in enumerate(out["rule"]):
        fired = int(fired)
        k = int(out["label"][i])
        row = ctx.base_row(k, out["probabilities"][i, k], ctx.classes[k], False, "rule list")
        row["row"] = i
        is_default = fired == len(rules)
        rule = spec["default"] if is_default else rules[fired]
        name = "default" if is_default else _rule_name(rule, fired)

        def value_of(c: Mapping[str, Any], i: int = i) -> Any:
            return ctx.raw_value(num[i], cat[i], c["feature"])

        skipped = _skipped_rules(ctx, rules[:fired], value_of) if ordered or is_default else []
        # nearest rules that would have given another decision (for a decline: approve)
        nearest: list[dict[str, Any]] = []
        if row["adverse"] or is_default:
            nearest = _nearest_rules(ctx, rules, decisions, fired, k, value_of)
        row["rule"] = _rule_entry(ctx, rule, fired, name, is_default, skipped, nearest)
        adverse = bool(row["adverse"])
        reasons = _condition_reasons(ctx, rule, name, adverse, value_of)
        if is_default:
            reasons += _default_reasons(ctx, nearest, adverse, value_of)
        row["reasons"] = [{"rank": j + 1, **r} for j, r in enumerate(reasons[:top])]
        rows.append(row)
    return rows


_ValueOf = Callable[[Mapping[str, Any]], Any]  # a condition -> the row's value of its feature


def _holds(ctx: _Context, c: Mapping[str, Any], value_of: _ValueOf) -> bool:
    return condition_holds_for(c, value_of(c), special_points(ctx.spec, c["feature"]))


def _cond_text(ctx: _Context, c: Mapping[str, Any]) -> str:
    f = c["feature"]
    return condition_text(c, ctx.label(f), special_labels(ctx.spec, f))


def _cond_with_value(ctx: _Context, c: Mapping[str, Any], value: Any) -> str:
    f = c["feature"]
    return condition_with_value(c, value, ctx.label(f), special_labels(ctx.spec, f))


def _skipped_rules(
    ctx: _Context, earlier: Sequence[Mapping[str, Any]], value_of: _ValueOf
) -> list[dict[str, Any]]:
    """The rules before the one that fired, each with its first condition the row fails."""
    skipped = []
    for r, rule in enumerate(earlier):
        failed = next((c for c in rule["conditions"] if not _holds(ctx, c, value_of)), None)
        if failed is not None:
            skipped.append(
                {
                    "rule": _rule_name(rule, r),
                    "index": r,
                    "failed": _cond_with_value(ctx, failed, value_of(failed)),
                }
            )
    return skipped


def _nearest_rules(
    ctx: _Context,
    rules: Sequence[Mapping[str, Any]],
    decisions: Sequence[int],
    fired: int,
    k: int,
    value_of: _ValueOf,
) -> list[dict[str, Any]]:
    """Rules deciding other than class ``k`` that the row fails, fewest failed conditions first
    (then larger support); ``_failed`` / ``_support`` are internal keys."""
    nearest = []
    for r, other in enumerate(rules):
        if r == fired or decisions[r] == k:
            continue  # a rule pointing the same way is no reason
        failed = [c for c in other["conditions"] if not _holds(ctx, c, value_of)]
        if not failed:
            continue
        nearest.append(
            {
                "rule": _rule_name(other, r),
                "index": r,
                "text": rule_text(ctx.spec, other),
                "decision": jsonable(ctx.classes[decisions[r]]),
                "failed": [_cond_with_value(ctx, c, value_of(c)) for c in failed],
                "_failed": failed,
                "_support": float(other.get("support") or 0),
            }
        )
    nearest.sort(key=lambda d: (len(d["_failed"]), -d["_support"], d["index"]))
    return nearest


def _rule_entry(
    ctx: _Context,
    rule: Mapping[str, Any],
    fired: int,
    name: str,
    is_default: bool,
    skipped: list[dict[str, Any]],
    nearest: list[dict[str, Any]],
) -> dict[str, Any]:
    """A row's ``rule`` block: the rule that fired, the rules skipped and the 3 nearest others."""
    spec = ctx.spec
    return {
        "index": fired,
        "name": name,
        "is_default": is_default,
        "text": rule_text(spec, rule, default=is_default),
        "conditions": [_cond_text(ctx, c) for c in rule.get("conditions", [])],
        "probability": rule_decision(spec, rule)[1],
        "probabilities": {str(c): float(p) for c, p in zip(ctx.classes, rule["probabilities"])},
        "support": rule.get("support"),
        "skipped": skipped,
        "nearest": [{k_: v for k_, v in d.items() if not k_.startswith("_")} for d in nearest[:3]],
    }


def _condition_reasons(
    ctx: _Context, rule: Mapping[str, Any], name: str, adverse: bool, value_of: _ValueOf
) -> list[dict[str, Any]]:
    """One reason per condition of the rule that fired (protected features left out)."""
    reasons: list[dict[str, Any]] = []
    for cond in rule.get("conditions", []):
        f = cond["feature"]
        if ctx.is_protected([f]):
            continue
        value = value_of(cond)
        direction = _condition_direction(cond, True) if adverse else None
        reasons.append(
            _cond_reason(ctx, name, cond, value, direction, _cond_with_value(ctx, cond, value))
        )
    return reasons


def _cond_reason(
    ctx: _Context,
    term: str,
    cond: Mapping[str, Any],
    value: Any,
    direction: str | None,
    detail: str,
) -> dict[str, Any]:
    """The reason a rule-list condition gives (the fired rule's, or a nearest rule's failed one)."""
    f = cond["feature"]
    return {
        "term": term,
        "features": [f],
        "value": value,
        "condition": _cond_text(ctx, cond),
        "impact": None,
        "points": None,
        "direction": direction,
        "code": ctx.entry(f).get("code"),
        "text": _statement(ctx, f, value, direction, _cond_text(ctx, cond)),
        "detail": detail,
    }


def _default_reasons(
    ctx: _Context, nearest: list[dict[str, Any]], adverse: bool, value_of: _ValueOf
) -> list[dict[str, Any]]:
    """Nothing matched: the reasons are the failed conditions of the nearest rules that would
    have decided otherwise (never rules pointing the same way), one per feature."""
    reasons: list[dict[str, Any]] = []
    seen: set[str] = set()
    for d in nearest:
        for cond in d["_failed"]:
            f = cond["feature"]
            if f in seen or ctx.is_protected([f]):
                continue
            seen.add(f)
            value = value_of(cond)
            direction = _condition_direction(cond, False) if adverse else None
            detail = f"{d['rule']} ({d['decision']}) does not apply: " + _cond_with_value(
                ctx, cond, value
            )
            reasons.append(_cond_reason(ctx, d["rule"], cond, value, direction, detail))
    return reasons


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


def _explain_mlp(
    ctx: _Context, num: np.ndarray, cat: np.ndarray, out: Mapping[str, np.ndarray], top: int
) -> list[dict[str, Any]]:
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
            if impact <= _EPS or ctx.is_protected([f]):
                continue
            value = ctx.raw_value(num[i], cat[i], f)
            ref = refs[f]
            ref_text = "missing/other" if ref == "" else f"the training mean {fmt_num(ref)}"
            direction = None
            if row["adverse"]:
                direction = (
                    "category"
                    if ref == "" or isinstance(value, str)
                    else _direction(value, ref, ref)
                )
            reasons.append(
                {
                    "term": f,
                    "features": [f],
                    "value": value,
                    "reference": ref_text,
                    "impact": impact,
                    "points": None,
                    "direction": direction,
                    "code": ctx.entry(f).get("code"),
                    "text": _statement(ctx, f, value, direction, ref_text),
                    "detail": (
                        f"{ctx.label(f)} is {value_text(ctx.spec, f, value)} (pushes toward '{ctx.classes[k]}' by "
                        f"{impact:.2f} log-odds compared with {ref_text}; approximate, by occlusion)"
                    ),
                }
            )
        reasons.sort(key=lambda r: -r["impact"])
        row["reasons"] = [{"rank": j + 1, **r} for j, r in enumerate(reasons[:top])]
        rows.append(row)
    return rows


# ============================================================================ counterfactuals


def _one_row_frame(row: Any) -> pd.DataFrame:
    import pandas as pd

    if isinstance(row, pd.DataFrame):
        if len(row) != 1:
            raise ConfigError(
                f"counterfactual takes one row, got {len(row)}.", hint="Pass X.iloc[[i]]."
            )
        return row
    if isinstance(row, pd.Series):
        return row.to_frame().T.infer_objects()
    if isinstance(row, Mapping):
        return pd.DataFrame({k: [v] for k, v in row.items()})
    raise ConfigError(
        f"counterfactual takes a one-row DataFrame, Series or dict, got {type(row).__name__}."
    )


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

    def __init__(
        self, ctx: _Context, immutable: Sequence[str] = (), n_alternatives: int = 3
    ) -> None:
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
        self.monotone = {
            str(f): int(np.sign(d)) for f, d in (self.spec.get("monotone") or {}).items()
        }

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
        _COLLECTORS.of(self.spec)(self)

    def _collect_additive(self) -> None:
        for term in self.spec["terms"]:
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

    def _collect_rule_list(self) -> None:
        for rule in self.spec["rules"]:
            for c in rule["conditions"]:
                if c["op"] in ("<=", ">"):
                    self._add_break(c["feature"], c["value"])
                elif c["op"] in ("in", "not_in"):
                    self._add_cats(c["feature"], c["values"])

    def _collect_mlp(self) -> None:
        pre = self.spec.get("preprocess", {})
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
        return (labels != self.ctx.adverse) & (
            probs[n, labels] - probs[:, self.ctx.adverse] > _MARGIN
        )

    def _numeric_batch(
        self, num_row: np.ndarray, cat_row: np.ndarray, j: int, values: Sequence[float]
    ):
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
    def _search_numeric(
        self, num_row: np.ndarray, cat_row: np.ndarray, f: str
    ) -> dict[str, Any] | None:
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
        for far in (
            lo_b - spread,
            hi_b + spread,
            *(x0 + m * spread for m in (-4, -2, -1, -0.5, 0.5, 1, 2, 4)),
        ):
            probes.add(float(np.float32(far)))
        best = None
        for side in self._allowed_sides(f):
            pts = sorted(
                (
                    p
                    for p in probes
                    if (p - x0) * side > 0
                    and math.isfinite(p)
                    and not is_special_value(self.spec, f, p)
                ),
                key=lambda p: abs(p - x0),
            )
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
            cand = self._result(
                f, f32_value(x0), f32_value(to), abs(to - x0) / spread, int(lab[0]), pr[0]
            )
            if best is None or cand["distance"] < best["distance"]:
                best = cand
        return best

    def _bisect(
        self, num_row: np.ndarray, cat_row: np.ndarray, j: int, inner: float, outer: float
    ) -> float:
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

    def _nicen(
        self,
        num_row: np.ndarray,
        cat_row: np.ndarray,
        j: int,
        v: float,
        side: int,
        spread: float,
        integral: bool = False,
    ) -> float:
        """A round number a little beyond ``v`` (away from the applicant) that still flips.

        Accepts a round number within 2 % of the feature's spread; an applicant with a whole
        number (months, years, counts) also gets the next whole number.
        """
        tol = 0.02 * spread
        top = math.floor(math.log10(spread)) if spread > 0 else 0
        cands = []
        for k in range(top, -7, -1):
            step = 10.0**k
            c = (math.ceil(v / step) if side > 0 else math.floor(v / step)) * step
            c = round(c, max(0, -k))
            if (
                abs(c - v) <= tol or (integral and k >= 0 and abs(c - v) <= 1.0)
            ) and c not in cands:
                cands.append(c)
        if not cands:
            return v
        labels, probs = self._numeric_batch(num_row, cat_row, j, cands)
        ok = [c for c, fl in zip(cands, self._flips(labels, probs)) if fl and (c - v) * side >= 0]
        return float(ok[0]) if ok else v

    # -------------------------------------------------------------- categorical
    def _search_categorical(
        self, num_row: np.ndarray, cat_row: np.ndarray, f: str
    ) -> dict[str, Any] | None:
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
        return self._result(
            f, None if current == "" else str(current), cands[i], 1.0, int(labels[i]), probs[i]
        )

    # -------------------------------------------------------------- assembling
    def _result(
        self, f: str, old: Any, new: Any, distance: float, label: int, probs: np.ndarray
    ) -> dict[str, Any]:
        cls = self.ctx.classes[label]
        p = float(probs[label])
        text = (
            f"If {self.ctx.label(f)} were {fmt_value(new)} instead of {value_text(self.spec, f, old)}, "
            f"the decision would be '{cls}' (p = {p:.2f})."
        )
        return {
            "feature": f,
            "from": old,
            "to": new,
            "distance": float(distance),
            "new_decision": jsonable(cls),
            "new_probability": p,
            "text": text,
        }

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
        best["alternatives"] = found[1 : 1 + self.n_alternatives]
        return best


# ---------------------------------------------------------------- teacher-aware search (1-2 features)

_GRID = (1, 5, 10, 15, 20, 25, 30, 40, 50, 60, 70, 75, 80, 85, 90, 95, 99)  # percentiles proposed
#: second pass when the teacher accepts nothing from the first: every other percentile, more pair values
_DENSE_GRID = tuple(range(1, 100, 2))
_DENSE_PAIR_VALUES = 12
_MIN_CATEGORY_SHARE = 0.01  # a proposed category is held by at least this share of training rows
_PAIR_VALUES = 6  # candidate values per feature combined in two-feature changes
_MAX_PAIR_ROWS = 20_000


@dataclass
class _Change:
    """One changed input of a counterfactual: column ``j`` of the numeric or categorical block."""

    feature: str
    j: int
    old: Any
    new: Any
    distance: float
    numeric: bool


class _CounterfactualSearch:
    """Counterfactuals over actionable features, within supported values, checked with the teacher."""

    def __init__(
        self,
        ctx: _Context,
        immutable: Sequence[str] = (),
        *,
        teacher: TeacherFn | None = None,
        n_alternatives: int = 3,
        columns: Sequence[str] = (),
    ) -> None:
        known = set(ctx.num_cols) | set(ctx.cat_cols) | {str(c) for c in columns}
        unknown = set(immutable) - known
        if unknown:
            raise ConfigError(f"immutable names unknown feature(s): {', '.join(sorted(unknown))}.")
        frozen = (set(immutable) | set(ctx.protected)) & (set(ctx.num_cols) | set(ctx.cat_cols))
        self.ctx = ctx
        self.student = _Searcher(ctx, sorted(frozen), n_alternatives=n_alternatives)
        self.immutable = frozen
        self.teacher = teacher
        self.n_alternatives = int(n_alternatives)
        self.support = ctx.support
        self.n_rows = int(self.support.get("n_rows") or 0)

    # -------------------------------------------------------------- candidates
    def _spread(self, f: str, x0: float) -> float:
        q5, q95 = self.ctx.quantile(f, 0.05), self.ctx.quantile(f, 0.95)
        if q5 is not None and q95 is not None and q95 > q5:
            return float(q95 - q5)
        return self.student.spread(f, x0)

    def _numeric_candidates(
        self, num_row: np.ndarray, cat_row: np.ndarray, f: str, grid: Sequence[int] = _GRID
    ) -> list[_Change]:
        j = self.ctx.num_cols.index(f)
        x0 = float(num_row[j])
        if (
            math.isnan(x0)
            or f not in self.student.used
            or _special_label(self.ctx.spec, f, x0) is not None
        ):
            return []
        sides = self.student._allowed_sides(f)
        qs = (self.support.get("quantiles") or {}).get(f)
        values: set[float] = set()
        boundary = self.student._search_numeric(num_row, cat_row, f)
        if boundary is not None:
            values.add(float(boundary["to"]))
        if qs:
            lo, hi = self.ctx.quantile(f, 0.01), self.ctx.quantile(f, 0.99)
            assert lo is not None and hi is not None  # the support holds this feature's quantiles
            values.update(float(qs[p]) for p in grid)
            values = {v for v in values if lo - 1e-9 <= v <= hi + 1e-9}
        spread = self._spread(f, x0)
        out = []
        for v in sorted(values):
            v32 = f32_value(v)
            if v32 is None or v32 == f32_value(x0) or not any((v32 - x0) * s > 0 for s in sides):
                continue
            if _special_label(self.ctx.spec, f, v32) is not None:
                continue  # never propose a special value
            out.append(_Change(f, j, f32_value(x0), v32, abs(v32 - x0) / spread, numeric=True))
        return out

    def _categorical_candidates(self, cat_row: np.ndarray, f: str) -> list[_Change]:
        j = self.ctx.cat_cols.index(f)
        current = cat_row[j]
        counts = (self.support.get("categories") or {}).get(f)
        cands = list(self.student.cats[f])
        if counts:
            total = max(1, sum(counts.values()))
            cands = [c for c in cands if counts.get(c, 0) / total >= _MIN_CATEGORY_SHARE]
        return [
            _Change(f, j, None if current == "" else str(current), c, 1.0, numeric=False)
            for c in cands
            if c != current
        ]

    def _candidates(
        self, num_row: np.ndarray, cat_row: np.ndarray, grid: Sequence[int] = _GRID
    ) -> dict[str, list[_Change]]:
        out: dict[str, list[_Change]] = {}
        for f in self.ctx.num_cols:
            if f not in self.immutable:
                c = self._numeric_candidates(num_row, cat_row, f, grid)
                if c:
                    out[f] = c
        for f in self.ctx.cat_cols:
            if f not in self.immutable:
                c = self._categorical_candidates(cat_row, f)
                if c:
                    out[f] = c
        return out

    # -------------------------------------------------------------- scoring
    def _apply(self, num_row: np.ndarray, cat_row: np.ndarray, combos: Sequence[Sequence[_Change]]):
        m = len(combos)
        N = np.repeat(num_row[None, :], m, axis=0).astype(np.float32)
        C = np.repeat(cat_row[None, :], m, axis=0)
        for i, combo in enumerate(combos):
            for ch in combo:
                (N if ch.numeric else C)[i, ch.j] = ch.new
        return N, C

    def _teacher_labels(
        self, frame: pd.DataFrame, combos: Sequence[Sequence[_Change]]
    ) -> np.ndarray:
        import pandas as pd

        m = len(combos)
        F = frame.iloc[np.zeros(m, dtype=np.int64)].reset_index(drop=True)
        changed: dict[str, list[tuple[int, Any]]] = {}
        for i, combo in enumerate(combos):
            for ch in combo:
                changed.setdefault(ch.feature, []).append((i, ch.new))
        for f, items in changed.items():
            if f not in F.columns:
                continue
            col = F[f].astype(object).to_numpy(copy=True)
            for i, v in items:
                col[i] = v
            if any(isinstance(v, str) for _, v in items):
                F[f] = pd.Series(col, dtype=object)
            else:
                F[f] = pd.to_numeric(pd.Series(col), errors="coerce")
        return np.asarray(self.teacher(F), dtype=np.int64)  # type: ignore[misc]

    def _score(
        self,
        num_row: np.ndarray,
        cat_row: np.ndarray,
        frame: pd.DataFrame,
        combos: list[list[_Change]],
    ) -> list[dict[str, Any]]:
        """Combos that flip the student, with the teacher's verdict."""
        if not combos:
            return []
        labels, probs = self.student._eval(*self._apply(num_row, cat_row, combos))
        flips = np.flatnonzero(self.student._flips(labels, probs))
        hits = [{"combo": combos[i], "label": int(labels[i]), "probs": probs[i]} for i in flips]
        if self.teacher is not None and hits:
            t = self._teacher_labels(frame, [h["combo"] for h in hits])
            for h, tk in zip(hits, t):
                h["teacher"] = int(tk)
                h["teacher_flips"] = int(tk) != self.ctx.adverse
        return hits

    # -------------------------------------------------------------- the search
    def _pass(
        self,
        num_row: np.ndarray,
        cat_row: np.ndarray,
        frame: pd.DataFrame,
        grid: Sequence[int],
        pair_values: int,
    ) -> list[dict[str, Any]]:
        """One- then (when nothing flips both) two-feature changes over one candidate grid."""
        cands = self._candidates(num_row, cat_row, grid)
        singles = [[c] for cs in cands.values() for c in cs]
        hits = self._score(num_row, cat_row, frame, singles)
        need_pairs = not any(h.get("teacher_flips", True) for h in hits)
        if need_pairs and len(cands) >= 2:
            # values per feature so every pair of features gets its share of the row budget
            n_pairs = len(cands) * (len(cands) - 1) // 2
            per = max(2, min(pair_values, int(math.sqrt(_MAX_PAIR_ROWS / max(n_pairs, 1)))))
            near = {f: self._spread_pick(cs, per) for f, cs in cands.items()}
            pairs: list[list[_Change]] = []
            for f, g in itertools.combinations(near, 2):
                pairs.extend([a, b] for a in near[f] for b in near[g])
            hits += self._score(num_row, cat_row, frame, pairs[:_MAX_PAIR_ROWS])
        return hits

    @staticmethod
    def _spread_pick(cands: Sequence[_Change], n: int) -> list[_Change]:
        """``n`` candidates of one feature: the nearest half, then evenly over the farther ones."""
        ordered = sorted(cands, key=lambda c: c.distance)
        if len(ordered) <= n:
            return ordered
        k = (n + 1) // 2
        rest = ordered[k:]
        idx = np.unique(np.linspace(0, len(rest) - 1, n - k).round().astype(int))
        return ordered[:k] + [rest[i] for i in idx]

    def search(
        self, num_row: np.ndarray, cat_row: np.ndarray, frame: pd.DataFrame
    ) -> dict[str, Any] | None:
        hits = self._pass(num_row, cat_row, frame, _GRID, _PAIR_VALUES)
        if self.teacher is not None and not any(h.get("teacher_flips") for h in hits):
            # nothing the teacher accepts: more supported values, more values per pair
            hits += self._pass(num_row, cat_row, frame, _DENSE_GRID, _DENSE_PAIR_VALUES)
        if not hits:
            return None

        def key(h: dict[str, Any]) -> tuple:
            d = sum(c.distance for c in h["combo"])
            return (
                not h.get("teacher_flips", True),
                len(h["combo"]),
                d,
                -float(h["probs"][h["label"]]),
                tuple(c.feature for c in h["combo"]),
            )

        hits.sort(key=key)
        best = self._result(hits[0])
        if best["student_only"]:
            best["text"] = "No counterfactual found that the teacher accepts. " + best["text"]
        alts, seen = [], {tuple(c.feature for c in hits[0]["combo"])}
        for h in hits[1:]:
            feats = tuple(c.feature for c in h["combo"])
            if (
                feats in seen
                or h.get("teacher_flips", True) is False
                and hits[0].get("teacher_flips", True)
            ):
                continue
            seen.add(feats)
            alts.append(self._result(h))
            if len(alts) >= self.n_alternatives:
                break
        best["alternatives"] = alts
        return best

    def _result(self, h: Mapping[str, Any]) -> dict[str, Any]:
        ctx = self.ctx
        combo: list[_Change] = h["combo"]
        label = int(h["label"])
        cls = ctx.classes[label]
        parts = [
            f"{ctx.label(c.feature)} were {fmt_value(c.new)} instead of {fmt_value(c.old)}"
            for c in combo
        ]
        text = f"If {' and '.join(parts)}, the decision would be {ctx.decision_word(label)}"
        teacher_flips = h.get("teacher_flips")
        if teacher_flips is False:
            text += " (student only: the teacher's decision would not change)"
        text += "."
        first = combo[0]
        return {
            "feature": first.feature,
            "from": first.old,
            "to": first.new,
            "changes": [
                {"feature": c.feature, "from": c.old, "to": c.new, "distance": float(c.distance)}
                for c in combo
            ],
            "distance": float(sum(c.distance for c in combo)),
            "new_decision": jsonable(cls),
            "new_probability": float(h["probs"][label]),
            "teacher_decision": None
            if "teacher" not in h
            else jsonable(ctx.classes[int(h["teacher"])]),
            "teacher_flips": teacher_flips,
            "student_only": teacher_flips is False,
            "text": text,
        }


# what the counterfactual search collects from each spec kind (candidate values to try)
_COLLECTORS: KindTable[Callable[[_Searcher], None]] = KindTable("counterfactual candidates")
_COLLECTORS.add(AdditiveSpec, _Searcher._collect_additive)
_COLLECTORS.add(RuleListSpec, _Searcher._collect_rule_list)
_COLLECTORS.add(MLPSpec, _Searcher._collect_mlp)

# the reasons of each spec kind: (ctx, num, cat, out, top, reference) -> rows
_EXPLAINERS: KindTable[Callable[..., list[dict[str, Any]]]] = KindTable("reason explainer")
_EXPLAINERS.add(AdditiveSpec, _explain_additive)
_EXPLAINERS.add(
    RuleListSpec, lambda ctx, num, cat, out, top, _ref: _explain_rule_list(ctx, num, cat, out, top)
)
_EXPLAINERS.add(
    MLPSpec, lambda ctx, num, cat, out, top, _ref: _explain_mlp(ctx, num, cat, out, top)
)

"""The rule card: one page that tells a reviewer what a student model is and how it decides.

:func:`rulecard` turns a spec (plus optional metrics and provenance) into JSON-able content;
:func:`render_markdown` and :func:`render_html` lay that content out; :func:`write_rulecard`
writes ``rulecard.md``, ``rulecard.html`` and ``rulecard.json``. The card is a rendering of the
spec only, so it always describes exactly the model that the ONNX graph runs. No timestamps:
the same spec gives byte-identical files.
"""

from __future__ import annotations

import dataclasses
import html
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np

from distill2rules.exporters._protected import protected_usage
from distill2rules.exporters._render import (
    BASE_SCORE,
    PDO,
    POINTS_PER_LOGODDS,
    adverse_index,
    bin_label,
    cell_label,
    clip_bounds,
    condition_text,
    feature_label,
    fmt_num,
    jsonable,
    representative_values,
    rule_decision,
    rule_text,
    special_labels,
)
from distill2rules.exporters._scorecard_card import is_points_table, points_blocks, points_section
from distill2rules.results import Evaluation, FitMetrics
from distill2rules.spec import AdditiveSpec, KindTable, MLPSpec, RuleListSpec, typed

__all__ = [
    "CARD_FORMAT",
    "card_blocks",
    "card_json",
    "render_html",
    "render_markdown",
    "rulecard",
    "rulecard_files",
    "write_rulecard",
]

CARD_FORMAT = "distill2rules.rulecard/1"
MAX_TABLE_ROWS = 16  # longer bin tables are condensed when rendered (the JSON keeps every bin)
TOP_INTERACTIONS = 5


# ============================================================================ content


def rulecard(
    spec: Mapping[str, Any],
    *,
    metrics: Mapping[str, Any] | None = None,
    provenance: Mapping[str, Any] | None = None,
    adverse_class: Any = None,
    evaluation: Mapping[str, Any] | None = None,
    strict: bool = True,
) -> dict[str, Any]:
    """Content of the rule card as plain JSON-able data.

    Parameters
    ----------
    spec : mapping
        A student spec (``docs/spec.md``).
    metrics : mapping, optional
        Evaluation results, e.g. ``{"test": {"student": {"accuracy": .74}, "teacher": {...},
        "fidelity": .93, "retention": .98}}``. Missing keys are simply not shown.
    provenance : mapping, optional
        Teacher (kind, path, fingerprint), dataset, number of rows, target, seed, temperature,
        alpha... Falls back to ``spec["meta"]`` for keys not given.
    adverse_class : class label, optional
        The adverse class (decides the favourable direction of scorecard points); default as in
        :func:`distill2rules.exporters.reasons.explain_rows`; two arbitrary class labels with
        none recorded raise :class:`ConfigError` (``strict=False``: the card says it is not set).
    evaluation : mapping, optional
        The result of ``distill2rules evaluate`` (``evaluation.json``); its headline figures are
        shown as their own block naming the data and split they came from.

    Returns
    -------
    dict
        ``format``, ``title``, ``summary``, ``provenance``, ``metrics``, ``model`` (layout
        ``points_table``, ``scorecard``, ``score_tables``, ``rules`` or ``network``), ``monotone``, ``limits``.
    """
    spec = dict(spec)
    adverse = adverse_index(spec, adverse_class, strict=strict)
    prov = _provenance(spec, provenance)
    card: dict[str, Any] = {
        "format": CARD_FORMAT,
        "title": f"Rule card: {spec.get('model', spec['kind'])} student",
        "summary": _summary(spec, adverse),
        "provenance": prov,
        "metrics": _metrics(metrics),
        "model": _model_section(spec, adverse),
        "monotone": _monotone(spec),
        "limits": _limits(spec, prov, metrics),
        "evaluation": _evaluation(evaluation),
        "fair_lending": _fair_lending(spec, metrics),
    }
    if metrics:
        card["metrics_all"] = jsonable(
            _flatten(metrics.to_dict() if isinstance(metrics, FitMetrics) else metrics)
        )
    return jsonable(card)


def _evaluation(ev: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Headline figures of an ``evaluate`` run, with the data they came from."""
    if not ev:
        return None
    e = Evaluation.from_dict(ev)
    if e is None:
        return None
    keys = [
        ("Accuracy (student)", e.student.predictive.get("accuracy"), True),
        ("Accuracy (teacher)", e.teacher.predictive.get("accuracy"), True),
        ("AUC (student)", e.student.predictive.get("roc_auc"), False),
        ("AUC (teacher)", e.teacher.predictive.get("roc_auc"), False),
        ("Fidelity (agreement with the teacher)", e.fidelity.get("agreement"), True),
        ("Balanced fidelity", e.fidelity.get("balanced_agreement"), True),
        ("Ranking fidelity (AUC vs the teacher's decision)", e.fidelity.get("rank_auc"), False),
        ("SHAP alignment (mean cosine)", e.alignment.get("cosine_mean"), False),
    ]
    rows = []
    for label, value, pct in keys:
        v = _first({"v": value}, ("v",))
        if v is not None:
            rows.append(
                {"label": label, "value": v, "text": f"{100 * v:.1f} %" if pct else f"{v:.3f}"}
            )
    d = e.data or {}
    split = {"all": "all rows", "test": "the fit's test split"}.get(
        str(d.get("split")), str(d.get("split"))
    )
    source = f"{d.get('name')} ({split}, {fmt_num(d.get('n_rows') or 0)} rows)"
    return {"source": source, "metrics": rows}


def _fair_lending(spec: Mapping[str, Any], metrics: Mapping[str, Any] | None) -> dict[str, Any]:
    """Protected features the student uses (with their effect) and the cost of excluding any."""
    protected = [str(p) for p in (spec.get("meta") or {}).get("protected") or []]
    out: dict[str, Any] = {
        "protected": protected,
        "used": protected_usage(spec, protected) if protected else [],
    }
    cost = FitMetrics.from_dict(metrics).excluded_features
    if cost:
        out["excluded"] = cost
    return out


def _size(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The kind's own size (:meth:`distill2rules.spec.Spec.complexity`) as ``n_*`` card fields:
    ``n_terms``/``n_pairs``, ``n_rules``/``n_conditions`` or ``n_layers``, and ``n_params``."""
    out: dict[str, Any] = {}
    for key, value in typed(spec).complexity().items():
        if key == "parameters":
            out["n_params"] = int(value)
        else:
            out[f"n_{key}"] = len(value) if isinstance(value, list) else value
    return out


def _summary(spec: Mapping[str, Any], adverse: int | None) -> dict[str, Any]:
    classes = list(spec["classes"])
    out: dict[str, Any] = {
        "kind": spec["kind"],
        "model": spec.get("model", spec["kind"]),
        "classes": classes,
        "link": spec.get("link"),
        **_size(spec),
        "inputs": {
            "numeric": list(spec["inputs"]["numeric"]),
            "categorical": list(spec["inputs"]["categorical"]),
        },
        "adverse_class": None if adverse is None else classes[adverse],
        "favourable_class": classes[1 - adverse]
        if adverse is not None and len(classes) == 2
        else None,
        "calibration": spec.get("calibration"),
        "decision_threshold": spec.get("decision_threshold"),
        "cutoff": (spec.get("meta") or {}).get("cutoff"),
        "spec_format": spec.get("format"),
    }
    return out


# ----------------------------------------------------------------------------- provenance / metrics


def _flatten(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


_PROVENANCE_KEYS: list[tuple[str, tuple[str, ...]]] = [
    ("Teacher", ("teacher.kind", "teacher_kind", "teacher.type", "teacher")),
    ("Teacher file", ("teacher.path", "teacher_path", "teacher.file")),
    (
        "Teacher fingerprint",
        ("teacher.fingerprint", "teacher_fingerprint", "teacher.sha256", "teacher_sha256"),
    ),
    ("Dataset", ("dataset", "data.name", "data.dataset", "data", "dataset.name")),
    ("Rows", ("n_rows", "data.n_rows", "rows", "dataset.n_rows", "n_train")),
    ("Target", ("target", "data.target", "dataset.target")),
    ("Classes", ("classes",)),
    ("Seed", ("seed", "random_state")),
    ("Temperature τ", ("temperature", "tau", "kd.temperature")),
    ("α (weight of the hard labels)", ("alpha", "kd.alpha")),
    ("Split", ("split", "splits")),
]
_SKIP_META = {"limits", "feature_labels", "adverse_class", "ordered"}


def _fmt_any(v: Any, max_items: int = 12) -> str:
    if isinstance(v, (list, tuple)):
        shown = ", ".join(_fmt_any(x) for x in v[:max_items])
        return shown + (f", … ({len(v)} in all)" if len(v) > max_items else "")
    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, (int, float, np.integer, np.floating)):
        return fmt_num(v)
    return str(v)


def _provenance(
    spec: Mapping[str, Any], provenance: Mapping[str, Any] | None
) -> list[dict[str, str]]:
    meta = {k: v for k, v in (spec.get("meta") or {}).items() if k not in _SKIP_META}
    flat = _flatten(meta)
    flat.update(_flatten(dict(provenance or {})))
    rows = []
    for label, keys in _PROVENANCE_KEYS:
        for key in keys:
            if key in flat and flat[key] is not None and not isinstance(flat[key], Mapping):
                rows.append({"name": label, "key": key, "value": _fmt_any(flat[key])})
                break
        for key in keys:
            flat.pop(key, None)
    for key in sorted(flat):
        if flat[key] is not None:
            rows.append({"name": key, "key": key, "value": _fmt_any(flat[key])})
    return rows


def _first(flat: Mapping[str, Any], keys: Sequence[str]) -> float | None:
    for k in keys:
        v = flat.get(k)
        if (
            isinstance(v, (int, float, np.integer, np.floating))
            and not isinstance(v, bool)
            and math.isfinite(float(v))
        ):
            return float(v)
    return None


# (name, label, how to read it off FitMetrics' test split): fields, never alternative key names
_METRIC_FIELDS: list[tuple[str, str, Callable[[Any], Any]]] = [
    ("accuracy", "Test accuracy (student)", lambda t: t.student and t.student.accuracy),
    ("teacher_accuracy", "Test accuracy (teacher)", lambda t: t.teacher and t.teacher.accuracy),
    (
        "fidelity",
        "Fidelity (agreement with the teacher, test)",
        lambda t: t.student and t.student.fidelity,
    ),
    (
        "retention",
        "Retention (student / teacher accuracy)",
        lambda t: t.student and t.student.retention,
    ),
    ("auc", "Test AUC (student)", lambda t: t.student and t.student.roc_auc),
    ("teacher_auc", "Test AUC (teacher)", lambda t: t.teacher and t.teacher.roc_auc),
    ("ece", "Calibration error ECE (student)", lambda t: t.student and t.student.ece),
    (
        "balanced_fidelity",
        "Balanced fidelity (mean agreement per teacher class, test)",
        lambda t: t.student and (t.student.fidelity_detail or {}).get("balanced_agreement"),
    ),
    (
        "rank_auc",
        "Ranking fidelity (AUC of the student's score vs the teacher's decision, test)",
        lambda t: t.student and (t.student.fidelity_detail or {}).get("rank_auc"),
    ),
    ("n_test", "Test rows", lambda t: t.n_rows),
]
_PERCENT = {"accuracy", "teacher_accuracy", "fidelity", "retention", "balanced_fidelity"}


def _metrics(metrics: Mapping[str, Any] | FitMetrics | None) -> list[dict[str, Any]]:
    """The headline figures of ``fit``'s metrics (:class:`~distill2rules.results.FitMetrics`), test split."""
    if not metrics:
        return []
    m = FitMetrics.from_dict(metrics)
    test = m.split("test")
    out = []
    found: dict[str, float] = {}
    for key, label, read in _METRIC_FIELDS:
        v = _first({key: read(test)}, (key,))
        if (
            v is None
            and key == "retention"
            and found.get("accuracy")
            and found.get("teacher_accuracy")
        ):
            v = found["accuracy"] / found["teacher_accuracy"]
            label = "Retention (student / teacher accuracy, computed)"
        if v is None:
            continue
        found[key] = v
        if key in ("fidelity", "balanced_fidelity") and isinstance(m.cutoff, Mapping):
            label = label.replace(", test)", ", both deciding at the cutoff, test)")
        if key in _PERCENT and v <= 1.5:
            text = f"{100 * v:.1f} %"
        elif key == "n_test":
            text = fmt_num(v)
        else:
            text = f"{v:.3f}"
        out.append({"name": key, "label": label, "value": v, "text": text})
    cut = m.cutoff
    rates = (
        ((cut or {}).get("approval_rate_by_split") or {}).get("test")
        if isinstance(cut, Mapping)
        else None
    )
    if (
        out
        and isinstance(cut, Mapping)
        and isinstance(rates, Mapping)
        and rates.get("teacher") is not None
        and rates.get("student") is not None
    ):
        out.append(
            {
                "name": "approval_rate",
                "label": f"Approval rate at the cutoff ({cut.get('rule')}), test",
                "value": rates["student"],
                "text": f"teacher {100 * rates['teacher']:.1f} %, student {100 * rates['student']:.1f} %",
            }
        )
    src = m.data_sources.get("test")
    if out and isinstance(src, Mapping):
        held = (
            "held out"
            if src.get("held_out")
            else "not held out: may include the teacher's training rows"
        )
        out.append(
            {
                "name": "test_data",
                "label": "Test data (source of every test metric above)",
                "value": src.get("rows"),
                "text": f"{src.get('data')} — {src.get('split')}, "
                f"{fmt_num(src.get('rows') or 0)} rows ({held})",
            }
        )
    return out


# ----------------------------------------------------------------------------- model sections


def _model_section(spec: Mapping[str, Any], adverse: int | None) -> dict[str, Any]:
    return _CARD.of(spec).section(spec, adverse)


def _additive_section(spec: Mapping[str, Any], adverse: int | None) -> dict[str, Any]:
    if is_points_table(spec):
        return points_section(spec, adverse)
    one_axis = all(t["type"] == "linear" or len(t["axes"]) == 1 for t in spec["terms"])
    if spec.get("link") == "logistic" and one_axis and spec.get("model") != "ebm":
        return _scorecard_section(spec, adverse)
    return _tables_section(spec)


def _toward(spec: Mapping[str, Any], values: Any, k: int) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    if spec.get("link") == "logistic":
        return v[..., 0] if k == 1 else -v[..., 0]
    return v[..., k]


def _axis_rows(axis: Mapping[str, Any], name: str) -> list[dict[str, Any]]:
    """One row per bin of an axis: label plus numeric bounds (for condensing)."""
    rows = []
    if axis["kind"] == "numeric":
        edges = [float(e) for e in axis["edges"]]
        bounds = [-math.inf] + edges + [math.inf]
        rows.append({"bin": 0, "value": "missing", "lo": None, "hi": None})
        for b in range(1, len(edges) + 2):
            rows.append(
                {"bin": b, "value": bin_label(axis, b, name), "lo": bounds[b - 1], "hi": bounds[b]}
            )
    else:
        n = len(axis["categories"])
        for b in range(n + 2):
            rows.append({"bin": b, "value": bin_label(axis, b, name)})
    return rows


def _special_rows(spec: Mapping[str, Any], term: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per special value of a term, shown by its label (never the code), with its
    training row count; ``score`` is the term's score for it (the caller converts it)."""
    out = []
    for entry in (term.get("special") or {}).values():
        note = "special value" + (
            f", {fmt_num(entry['count'])} training rows" if entry.get("count") is not None else ""
        )
        out.append(
            {
                "value": f"'{entry['label']}'",
                "special": True,
                "note": note,
                "score": [float(v) for v in entry["score"]],
            }
        )
    return out


def _scorecard_section(spec: Mapping[str, Any], adverse: int | None) -> dict[str, Any]:
    fav = 1 if adverse is None else 1 - adverse
    fav_label = spec["classes"][fav]
    base = BASE_SCORE + POINTS_PER_LOGODDS * float(_toward(spec, spec["intercept"], fav))
    features = []
    for t, term in enumerate(spec["terms"]):
        entry: dict[str, Any] = {"term": term.get("name", f"term {t}")}
        if term["type"] == "linear":
            f = term["feature"]
            lo, hi = clip_bounds(term)
            coef = np.asarray(term["coef"], dtype=np.float64)
            per_unit = POINTS_PER_LOGODDS * float(_toward(spec, coef, fav))
            rows = []
            for v in representative_values(term):
                pts = POINTS_PER_LOGODDS * float(_toward(spec, coef * min(max(v, lo), hi), fav))
                rows.append({"value": f"{feature_label(spec, f)} = {fmt_num(v)}", "points": pts})
            imp = float(term.get("impute", 0.0))
            rows.append(
                {
                    "value": "missing",
                    "points": POINTS_PER_LOGODDS * float(_toward(spec, coef * imp, fav)),
                    "note": f"counted as {fmt_num(imp)}",
                }
            )
            rows += [
                {**r, "points": POINTS_PER_LOGODDS * float(_toward(spec, r.pop("score"), fav))}
                for r in _special_rows(spec, term)
            ]
            entry.update(
                type="linear",
                features=[f],
                per_unit=per_unit,
                clip=[lo, hi],
                rows=rows,
                description=(
                    f"{fmt_num(round(per_unit, 4))} points per unit of {feature_label(spec, f)}, "
                    f"values clipped to [{fmt_num(lo)}, {fmt_num(hi)}]"
                ),
            )
        else:
            ax = term["axes"][0]
            f = ax["feature"]
            scores = _toward(spec, term["scores"], fav)
            rows = _axis_rows(ax, feature_label(spec, f))
            for r in rows:
                r["points"] = POINTS_PER_LOGODDS * float(scores[r["bin"]])
            rows += [
                {**r, "points": POINTS_PER_LOGODDS * float(_toward(spec, r.pop("score"), fav))}
                for r in _special_rows(spec, term)
            ]
            entry.update(
                type="bins" if ax["kind"] == "numeric" else "categories", features=[f], rows=rows
            )
        entry["labels"] = [feature_label(spec, x) for x in entry["features"]]
        pts = [
            r["points"] for r in entry["rows"] if r["value"] not in ("missing", "other (unseen)")
        ]
        entry["range"] = (max(pts) - min(pts)) if pts else 0.0
        features.append(entry)
    features.sort(key=lambda e: -e["range"])
    return {
        "layout": "scorecard",
        "favourable_class": fav_label,
        "base_points": base,
        "scaling": {
            "base_score": BASE_SCORE,
            "pdo": PDO,
            "base_odds": 1.0,
            "points_per_logodds": POINTS_PER_LOGODDS,
            "text": (
                f"Total = base points + the points of each row that applies. A total of "
                f"{fmt_num(BASE_SCORE)} means even odds (1:1) of '{fav_label}'; every {fmt_num(PDO)} more "
                f"points double those odds (points = {POINTS_PER_LOGODDS:.2f} × log-odds of '{fav_label}'). "
                f"Above {fmt_num(BASE_SCORE)}, '{fav_label}' is the more likely class. "
                f"Features are listed by their points range (most influential first)."
            ),
        },
        "features": features,
    }


def _tables_section(spec: Mapping[str, Any]) -> dict[str, Any]:
    classes = list(spec["classes"])
    logistic = spec.get("link") == "logistic"
    columns = [f"log-odds of '{classes[1]}'"] if logistic else [f"score of '{c}'" for c in classes]
    mains, pairs = [], []
    for t, term in enumerate(spec["terms"]):
        name = term.get("name", f"term {t}")
        if term["type"] == "linear":
            f = term["feature"]
            coef = np.asarray(term["coef"], dtype=np.float64)
            lo, hi = clip_bounds(term)
            rows = [
                {
                    "value": f"{feature_label(spec, f)} = {fmt_num(v)}",
                    "scores": [float(s) for s in coef * min(max(v, lo), hi)],
                }
                for v in representative_values(term)
            ]
            rows += [{**r, "scores": r.pop("score")} for r in _special_rows(spec, term)]
            rng = (
                float(np.ptp(np.asarray([r["scores"] for r in rows]), axis=0).max())
                if rows
                else 0.0
            )
            mains.append(
                {
                    "term": name,
                    "type": "linear",
                    "features": [f],
                    "labels": [feature_label(spec, f)],
                    "rows": rows,
                    "range": rng,
                    "description": (
                        f"linear: {', '.join(fmt_num(round(c, 4)) for c in coef)} per unit, "
                        f"values clipped to [{fmt_num(lo)}, {fmt_num(hi)}]"
                    ),
                }
            )
            continue
        scores = np.asarray(term["scores"], dtype=np.float64)
        feats = [a["feature"] for a in term["axes"]]
        inner = scores[
            tuple(slice(1, None) if a["kind"] == "numeric" else slice(1, -1) for a in term["axes"])
        ]
        cells = tuple(range(inner.ndim - 1))  # range over cells, per class; the largest class range
        rng = float((inner.max(axis=cells) - inner.min(axis=cells)).max()) if inner.size else 0.0
        if len(term["axes"]) == 1:
            ax = term["axes"][0]
            rows = _axis_rows(ax, feature_label(spec, ax["feature"]))
            for r in rows:
                r["scores"] = [float(s) for s in scores[cast(int, r["bin"])]]
            rows += [{**r, "scores": r.pop("score")} for r in _special_rows(spec, term)]
            mains.append(
                {
                    "term": name,
                    "type": "table",
                    "features": feats,
                    "labels": [feature_label(spec, x) for x in feats],
                    "rows": rows,
                    "range": rng,
                }
            )
        else:
            pairs.append(_pair_entry(spec, term, name, scores, rng))
    mains.sort(key=lambda e: -e["range"])
    pairs.sort(key=lambda e: -e["range"])
    return {
        "layout": "score_tables",
        "columns": columns,
        "intercept": [float(v) for v in spec["intercept"]],
        "text": (
            f"score = intercept + the row of each table that applies; probability of '{classes[1]}' = "
            "sigmoid(score)."
            if logistic
            else "score of each class = intercept + the rows that apply; probabilities = softmax(scores)."
        ),
        "mains": mains,
        "interactions": pairs[:TOP_INTERACTIONS],
        "n_interactions": len(pairs),
    }


def _pair_entry(
    spec: Mapping[str, Any], term: Mapping[str, Any], name: str, scores: np.ndarray, rng: float
) -> dict:
    axes = term["axes"]
    names = [feature_label(spec, a["feature"]) for a in axes]
    entry: dict[str, Any] = {
        "term": name,
        "type": "pair",
        "features": [a["feature"] for a in axes],
        "range": rng,
    }
    inner_idx = [
        list(range(1, scores.shape[a] - (0 if ax["kind"] == "numeric" else 1)))
        for a, ax in enumerate(axes)
    ]
    if spec.get("link") == "logistic" and all(len(ix) <= 10 for ix in inner_idx):
        entry["grid"] = {
            "rows": [bin_label(axes[0], i, names[0]) for i in inner_idx[0]],
            "cols": [bin_label(axes[1], j, names[1]) for j in inner_idx[1]],
            "scores": [[float(scores[i, j, 0]) for j in inner_idx[1]] for i in inner_idx[0]],
        }
    mag = np.abs(scores).max(axis=-1)
    order = np.argsort(-mag, axis=None, kind="stable")[:5]
    entry["top_cells"] = []
    for flat in order:
        cell = np.unravel_index(int(flat), mag.shape)
        entry["top_cells"].append(
            {
                "cell": cell_label(axes, [int(c) for c in cell], names),
                "scores": [float(s) for s in scores[cell]],
            }
        )
    return entry


def _rules_section(spec: Mapping[str, Any]) -> dict[str, Any]:
    classes = list(spec["classes"])
    ordered = bool((spec.get("meta") or {}).get("ordered", True))
    rules = []
    for r, rule in enumerate(spec["rules"]):
        k, p = rule_decision(spec, rule)
        rules.append(
            {
                "number": r + 1,
                "index": r,
                "name": rule.get("name") or f"R{r + 1}",
                "text": rule_text(spec, rule),
                "conditions": [
                    condition_text(
                        c, feature_label(spec, c["feature"]), special_labels(spec, c["feature"])
                    )
                    for c in rule["conditions"]
                ],
                "decision": classes[k],
                "probability": p,
                "probabilities": {str(c): float(v) for c, v in zip(classes, rule["probabilities"])},
                "support": rule.get("support"),
                "class_counts": rule.get("class_counts"),
            }
        )
    d = spec["default"]
    k, p = rule_decision(spec, d)
    default = {
        "index": len(spec["rules"]),
        "name": "default",
        "text": rule_text(spec, d, default=True),
        "decision": classes[k],
        "probability": p,
        "probabilities": {str(c): float(v) for c, v in zip(classes, d["probabilities"])},
        "support": d.get("support"),
        "class_counts": d.get("class_counts"),
    }
    text = (
        "Rules are tried in order; the first rule whose conditions all hold decides. If none holds, "
        "the default rule decides."
        if ordered
        else "Rules are mutually exclusive (paths of a tree): exactly one applies, so their order does not matter."
    )
    return {"layout": "rules", "ordered": ordered, "text": text, "rules": rules, "default": default}


def _network_section(spec: Mapping[str, Any]) -> dict[str, Any]:
    pre = spec.get("preprocess", {})
    n_in = len(pre.get("numeric", [])) + sum(
        len(p["categories"]) for p in pre.get("categorical", [])
    )
    n_in += len(pre.get("special") or [])
    sizes = [n_in] + [len(l["bias"]) for l in spec["layers"]]
    acts = [l.get("activation", "identity") for l in spec["layers"]]
    return {
        "layout": "network",
        "layer_sizes": sizes,
        "activations": acts,
        "standardised": [p["feature"] for p in pre.get("numeric", [])],
        "one_hot": {p["feature"]: len(p["categories"]) for p in pre.get("categorical", [])},
        "special_inputs": [
            f"{feature_label(spec, p['feature'])} is '{p['label']}'"
            for p in pre.get("special") or []
        ],
        "text": (
            f"A neural network with layer sizes {' → '.join(map(str, sizes))} "
            f"(activations: {', '.join(acts)}). It is not directly readable: its decisions cannot be "
            "written as a table or a list of rules. Reason codes for it use occlusion attributions "
            "(each feature replaced by its training mean / by 'missing') and are approximate."
            + (
                " Special values are inputs of their own (0/1), outside the standardised numbers: "
                + "; ".join(
                    f"{feature_label(spec, p['feature'])} is '{p['label']}'" for p in pre["special"]
                )
                + "."
                if pre.get("special")
                else ""
            )
        ),
    }


# ----------------------------------------------------------------------------- constraints, limits


def _monotone_holds(spec: Mapping[str, Any], feature: str, direction: int) -> bool | None:
    check = _CARD.of(spec).monotone_holds
    return None if check is None else check(spec, feature, direction)


def _additive_monotone_holds(spec: Mapping[str, Any], feature: str, direction: int) -> bool | None:
    if spec.get("link") != "logistic":
        return None
    ok = True
    for term in spec["terms"]:
        if term["type"] == "linear":
            if term["feature"] == feature:
                ok &= float(term["coef"][0]) * direction >= 0
            continue
        for a, ax in enumerate(term["axes"]):
            if ax["feature"] != feature or ax["kind"] != "numeric":
                continue
            s = np.moveaxis(np.asarray(term["scores"], dtype=np.float64)[..., 0], a, 0)[1:]
            ok &= bool((np.diff(s, axis=0) * direction >= -1e-9).all())
    return bool(ok)


def _monotone(spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    classes = list(spec["classes"])
    out = []
    for f, d in sorted((spec.get("monotone") or {}).items()):
        d = int(np.sign(d))
        word = "increasing" if d > 0 else "decreasing"
        if len(classes) == 2:
            text = (
                f"the probability of '{classes[1]}' never {'decreases' if d > 0 else 'increases'} "
                f"as {feature_label(spec, f)} increases"
            )
        else:
            text = f"monotone {word} in {feature_label(spec, f)}"
        holds = _monotone_holds(spec, f, d)
        labels = list(special_labels(spec, f).values())
        if labels:  # codes are levels of their own: outside the trend
            text += f" (special values {', '.join(repr(x) for x in labels)} are levels of their own, outside the trend)"
        out.append({"feature": f, "direction": d, "text": text, "holds": holds})
    return out


def _prov_value(prov: Sequence[Mapping[str, str]], name: str) -> str | None:
    return next((p["value"] for p in prov if p["name"] == name), None)


def _limits(
    spec: Mapping[str, Any], prov: Sequence[Mapping[str, str]], metrics: Mapping[str, Any] | None
) -> list[str]:
    limits = [str(x) for x in ((spec.get("meta") or {}).get("limits") or [])]
    dataset, rows = _prov_value(prov, "Dataset"), _prov_value(prov, "Rows")
    where = (
        f"data from {dataset}" + (f" ({rows} rows)" if rows else "")
        if dataset
        else "one specific data set"
    )
    limits.append(
        f"Trained on {where}; applicants unlike its rows (other populations, products or periods) "
        "are outside what was checked."
    )
    m = FitMetrics.from_dict(metrics)
    n_test = m.split("test").n_rows
    split = f" of {fmt_num(n_test)} rows" if n_test else ""
    src = m.data_sources.get("test") or {}
    if src.get("held_out"):
        where_test = f"held-out data ({src.get('data')}){split}"
    else:
        where_test = f"a test split{split} of the given data"
    limits.append(
        f"Accuracy and fidelity (agreement with the teacher) were measured on {where_test}; they are "
        "estimates with sampling error, and the student can differ from the teacher where fidelity "
        "is below 100 %."
    )
    if src.get("notice"):
        limits.append(str(src["notice"]))
    limits += _CARD.of(spec).limits(spec)
    limits.append(
        "Missing values and categories not seen in training are handled by fixed rules of the model "
        "(a 'missing' / 'other' row, an impute value, or the rule's missing flag), not by judgement."
    )
    return limits


def _rule_list_limits(spec: Mapping[str, Any]) -> list[str]:
    return [
        (
            "Rule probabilities are class frequencies among the training rows that reached the rule; "
            "rules with small support are uncertain."
        )
    ]


def _mlp_limits(spec: Mapping[str, Any]) -> list[str]:
    out = ["The network is not directly readable; its reason codes are approximate (occlusion)."]
    clipped = [
        f"{p['feature']} to [{fmt_num(p['clip'][0])}, {fmt_num(p['clip'][1])}]"
        for p in spec.get("preprocess", {}).get("numeric", [])
        if p.get("clip")
    ]
    if clipped:
        out.append("Out-of-range values are clipped: " + "; ".join(clipped) + ".")
    return out


def _additive_limits(spec: Mapping[str, Any]) -> list[str]:
    out = []
    clipped = []
    span: dict[str, list[float]] = {}
    for term in spec["terms"]:
        if term["type"] == "linear":
            lo, hi = clip_bounds(term)
            if math.isfinite(lo) or math.isfinite(hi):
                clipped.append(
                    f"{feature_label(spec, term['feature'])} to [{fmt_num(lo)}, {fmt_num(hi)}]"
                )
            continue
        for ax in term["axes"]:
            if ax["kind"] == "numeric" and ax["edges"]:
                s = span.setdefault(ax["feature"], [math.inf, -math.inf])
                s[0] = min(s[0], float(ax["edges"][0]))
                s[1] = max(s[1], float(ax["edges"][-1]))
    if clipped:
        out.append(
            "Out-of-range values are clipped at the training range: "
            + "; ".join(sorted(set(clipped)))
            + "."
        )
    flat = [
        f"{feature_label(spec, f)} below {fmt_num(lo)} or from {fmt_num(hi)} up"
        for f, (lo, hi) in span.items()
        if hi > lo
    ]
    if flat:
        out.append(
            "Tables are flat beyond their outermost bin edges (values far outside the training range get the "
            "outermost bin's score): " + "; ".join(flat) + "."
        )
    if spec.get("link") == "softmax":
        out.append(
            "Class scores are relative: adding the same number to every class's score changes nothing, so "
            "only differences between classes carry meaning."
        )
    return out


# ============================================================================ layout (blocks)


def _signed(v: float, digits: int) -> str:
    r = round(float(v), digits) + 0.0  # no "-0.0"
    return f"{r:.{digits}f}" if r == 0 else f"{r:+.{digits}f}"


def _pts(v: float) -> str:
    return _signed(v, 1)


def _condense(
    rows: list[dict[str, Any]], key: str, name: str, max_rows: int = MAX_TABLE_ROWS
) -> list[dict[str, Any]]:
    """Merge runs of numeric bins so a long table fits on a page (the JSON keeps every bin)."""
    body = [r for r in rows if r.get("lo") is not None or r.get("hi") is not None]
    body_ids = {id(r) for r in body}
    rest = [r for r in rows if id(r) not in body_ids]
    if len(body) <= max_rows:
        return rows

    def val(r: Mapping[str, Any]) -> float:
        v = r[key]
        return float(v[0] if isinstance(v, list) else v)

    runs: list[list[dict[str, Any]]] = []
    for r in body:
        if runs and round(val(runs[-1][-1]), 2) == round(val(r), 2):
            runs[-1].append(r)
        else:
            runs.append([r])
    if len(runs) > max_rows:
        groups = np.array_split(np.arange(len(body)), max_rows)
        runs = [[body[i] for i in g] for g in groups if len(g)]
    out = []
    for run in runs:
        lo, hi = float(run[0]["lo"]), float(run[-1]["hi"])
        label = run[0]["value"] if len(run) == 1 else _range_label(lo, hi, name)
        vals = [val(r) for r in run]
        merged = {
            "value": label,
            key: run[0][key] if len(run) == 1 else None,
            "span": (min(vals), max(vals)),
            "n_bins": len(run),
        }
        out.append(merged)
    return (
        [r for r in rest if r["value"] == "missing"]
        + out
        + [r for r in rest if r["value"] != "missing"]
    )


def _range_label(lo: float, hi: float, name: str) -> str:
    if math.isinf(lo) and math.isinf(hi):
        return "any value"
    if math.isinf(lo):
        return f"{name} < {fmt_num(hi)}"
    if math.isinf(hi):
        return f"{name} ≥ {fmt_num(lo)}"
    return f"{fmt_num(lo)} ≤ {name} < {fmt_num(hi)}"


def _cell_value(r: Mapping[str, Any], key: str, fmt) -> list[str]:
    if r.get(key) is None and "span" in r:
        lo, hi = r["span"]
        return [f"{fmt(lo)} to {fmt(hi)} ({r['n_bins']} bins)"]
    v = r[key]
    return [fmt(x) for x in v] if isinstance(v, list) else [fmt(v)]


def _blocks(card: Mapping[str, Any]) -> list[tuple]:
    """The card as a list of layout blocks shared by the Markdown and HTML renderers."""
    s = card["summary"]
    b: list[tuple] = [("h1", card["title"]), *_adverse_blocks(s), ("kv", _summary_entries(s))]
    b += _recorded_blocks(card)
    b.append(("h2", "How the model decides"))
    b += _model_blocks(card["model"])
    b += _monotone_blocks(card["monotone"])
    b += _fair_lending_blocks(card.get("fair_lending") or {})
    b.append(("h2", "Known limits"))
    b.append(("ul", list(card["limits"])))
    b.append(
        (
            "footer",
            f"Generated by distill2rules from the student spec ({s.get('spec_format')}); "
            f"card format {card['format']}.",
        )
    )
    return b


def _adverse_blocks(s: Mapping[str, Any]) -> list[tuple]:
    """The paragraph naming the adverse class (or saying a binary card lacks one)."""
    b: list[tuple] = []
    if s.get("adverse_class") is None and len(s["classes"]) == 2:
        b.append(
            (
                "p",
                (
                    "Adverse (declined) class: NOT SET. The labels do not say which class is adverse; "
                    "refit or explain with --adverse-class."
                ),
            )
        )
    if s.get("adverse_class") is not None:
        b.append(
            (
                "p",
                (
                    f"Adverse (declined) class: {s['adverse_class']}. Reason codes and counterfactuals explain "
                    f"decisions of this class; the favourable class is {s.get('favourable_class')}."
                ),
            )
        )
    return b


def _summary_entries(s: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The summary table: model, size, classes, inputs, decision rule and calibration."""
    size = [_CARD.of(s["kind"]).size_text(s), f"{s['n_params']} parameters"]
    kv = [
        (
            "Model",
            f"{s['model']} ({s['kind']}{', ' + s['link'] + ' link' if s.get('link') else ''})",
        ),
        ("Size", ", ".join(size)),
        ("Classes", ", ".join(str(c) for c in s["classes"])),
    ]
    if s.get("adverse_class") is not None:
        kv.append(("Adverse class", str(s["adverse_class"])))
    kv.append(
        (
            "Inputs",
            f"{len(s['inputs']['numeric'])} numeric, {len(s['inputs']['categorical'])} categorical: "
            + ", ".join(s["inputs"]["numeric"] + s["inputs"]["categorical"]),
        )
    )
    decision = _decision_text(s)
    if decision is not None:
        kv.append(("Decision", decision))
    if s.get("calibration"):
        kv.append(
            (
                "Calibration",
                _fmt_any(s["calibration"])
                if not isinstance(s["calibration"], Mapping)
                else ", ".join(f"{k}={_fmt_any(v)}" for k, v in s["calibration"].items()),
            )
        )
    return kv


def _decision_text(s: Mapping[str, Any]) -> str | None:
    """How a binary student decides: its cutoff rule, or its decision threshold (None: neither)."""
    if s.get("cutoff"):
        cut = s["cutoff"]
        return (
            f"{cut['rule']} (set by {cut['source']}"
            + (f", chosen on {cut['chosen_on']}" if cut.get("chosen_on") else "")
            + f"; the student learned the teacher's decisions at this cutoff and decides at it: "
            f"'{s['classes'][1]}' when P('{s['classes'][1]}') > {s['decision_threshold']:.6g})"
        )
    if s.get("decision_threshold") is not None:
        c1 = s["classes"][1]
        return (
            f"'{c1}' when P('{c1}') > {s['decision_threshold']:.4g} (the threshold that keeps the "
            "uncalibrated student's decisions; probabilities are calibrated)"
        )
    return None


def _recorded_blocks(card: Mapping[str, Any]) -> list[tuple]:
    """Provenance, performance and (when evaluated) evaluation sections."""
    b: list[tuple] = [("h2", "Provenance")]
    if card["provenance"]:
        b.append(("kv", [(p["name"], p["value"]) for p in card["provenance"]]))
    else:
        b.append(("p", "No provenance recorded."))
    b.append(("h2", "Performance"))
    if card["metrics"]:
        b.append(("kv", [(m["label"], m["text"]) for m in card["metrics"]]))
    else:
        b.append(("p", "No metrics recorded."))
    ev = card.get("evaluation")
    if ev:
        b.append(("h2", f"Evaluation on {ev['source']}"))
        b.append(("kv", [(m["label"], m["text"]) for m in ev["metrics"]]))
    return b


_HOLDS = {True: "holds in the model", False: "VIOLATED in the model", None: "not checked"}


def _monotone_blocks(monotone: Sequence[Mapping[str, Any]]) -> list[tuple]:
    """The monotone constraints section: each constraint and whether the model keeps it."""
    if not monotone:
        return [("h2", "Monotone constraints"), ("p", "None.")]
    items = [
        f"{m['feature']} ({'+' if m['direction'] > 0 else '-'}1): {m['text']} ({_HOLDS[m['holds']]})."
        for m in monotone
    ]
    return [("h2", "Monotone constraints"), ("ul", items)]


def _fair_lending_blocks(fair: Mapping[str, Any]) -> list[tuple]:
    """The protected-features section (none when no feature is protected or excluded)."""
    if not (fair.get("protected") or fair.get("excluded")):
        return []
    items = [f"USED: {u['text']}." for u in fair.get("used", [])]
    unused = [
        p
        for p in fair.get("protected", [])
        if p not in {u["feature"] for u in fair.get("used", [])}
    ]
    if unused:
        items.append(f"Not used by the student: {', '.join(unused)}.")
    ex = fair.get("excluded")
    if ex and "test" in ex:
        t = ex["test"]
        items.append(
            f"Excluded from the student: {', '.join(ex['features'])}; test fidelity to the teacher "
            f"{t['fidelity_without']:.4f} without them vs {t['fidelity_with_all']:.4f} with every column "
            f"(cost {t['cost']:+.4f})."
        )
    items.append("Reason codes never cite protected features; counterfactuals never change them.")
    return [("h2", "Fair lending: protected features"), ("ul", items)]


def _scorecard_blocks(m: Mapping[str, Any]) -> list[tuple]:
    """Base points, then one points table per feature."""
    b: list[tuple] = [
        ("p", m["scaling"]["text"]),
        ("table", ["", "points"], [["Base points", f"{m['base_points']:.1f}"]], None),
    ]
    for e in m["features"]:
        title = f"{e['term']} (range {e['range']:.1f} points)"
        rows = [
            [r["value"], *_cell_value(r, "points", _pts)] + ([r["note"]] if r.get("note") else [""])
            for r in _condense(e["rows"], "points", e["labels"][0])
        ]
        cap = e.get("description")
        b.append(("h3", title))
        if cap:
            b.append(("p", cap))
        b.append(("table", ["value", "points", "note"], rows, None))
    return b


def _score_tables_blocks(m: Mapping[str, Any]) -> list[tuple]:
    """Intercept, one score table per main effect, then the top interactions."""
    b: list[tuple] = [
        ("p", m["text"]),
        (
            "table",
            ["intercept"] + m["columns"],
            [[""] + [_signed(v, 3) for v in m["intercept"]]],
            None,
        ),
    ]
    for e in m["mains"]:
        b.append(("h3", f"{e['term']} (range {e['range']:.2f})"))
        if e.get("description"):
            b.append(("p", e["description"]))
        rows = [
            [r["value"], *_cell_value(r, "scores", lambda v: _signed(v, 3))]
            for r in _condense(e["rows"], "scores", e["labels"][0])
        ]
        b.append(("table", ["value"] + m["columns"], rows, None))
    if m["interactions"]:
        b.append(
            (
                "h3",
                f"Top interactions ({len(m['interactions'])} of {m['n_interactions']}, by score range)",
            )
        )
        for e in m["interactions"]:
            b += _interaction_blocks(e)
    return b


def _interaction_blocks(e: Mapping[str, Any]) -> list[tuple]:
    """One interaction: its grid of scores, or its top cells when there is no grid."""
    b: list[tuple] = [("h4", f"{e['term']}: {' × '.join(e['features'])} (range {e['range']:.2f})")]
    if "grid" in e:
        g = e["grid"]
        rows = [[r] + [_signed(v, 2) for v in vals] for r, vals in zip(g["rows"], g["scores"])]
        b.append(("table", [""] + g["cols"], rows, None))
    else:
        b.append(
            (
                "ul",
                [
                    f"{c['cell']}: " + ", ".join(_signed(v, 3) for v in c["scores"])
                    for c in e["top_cells"]
                ],
            )
        )
    return b


def _rules_blocks(m: Mapping[str, Any]) -> list[tuple]:
    """The ordered rules, the default last."""
    return [("p", m["text"]), ("ol", [r["text"] for r in m["rules"]] + [m["default"]["text"]])]


def _network_blocks(m: Mapping[str, Any]) -> list[tuple]:
    """The MLP's layers (units and activation of each)."""
    layers = [["input", str(m["layer_sizes"][0]), ""]] + [
        [str(i + 1), str(n), a]
        for i, (n, a) in enumerate(zip(m["layer_sizes"][1:], m["activations"]))
    ]
    return [("p", m["text"]), ("table", ["layer", "units", "activation"], layers, None)]


#: The model section's blocks by the card's ``layout`` (any other layout: the network table).
_MODEL_LAYOUTS: dict[str, Callable[[Mapping[str, Any]], list[tuple]]] = {
    "points_table": points_blocks,
    "scorecard": _scorecard_blocks,
    "score_tables": _score_tables_blocks,
    "rules": _rules_blocks,
}


def _model_blocks(m: Mapping[str, Any]) -> list[tuple]:
    return list(_MODEL_LAYOUTS.get(m["layout"], _network_blocks)(m))


# ============================================================================ renderers


_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
_CONTROL = dict.fromkeys(
    [*range(0x20), 0x7F, *range(0x80, 0xA0)], " "
)  # ANSI/CSI escapes, NUL, CR...


def _md_cell(text: Any) -> str:
    """Data as inert Markdown text: control characters (ANSI escapes) dropped, HTML and Markdown syntax escaped."""
    t = str(text).translate(_CONTROL)
    t = _TAG_START.sub(
        "&lt;", t
    )  # '<' that could open a tag, comment or autolink; "x < 36" stays readable
    for ch in ("\\", "|", "*", "`"):
        t = t.replace(ch, "\\" + ch)
    return t.replace("](", "]\\(")  # no [text](url) links from data


def card_blocks(card: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """The rule card as a list of typed blocks (``("h2", text)``, ``("table", ...)``...), the one
    layout the Markdown and HTML renderings (and the report's card section) walk."""
    return list(_blocks(card))


def _md_heading(block: tuple) -> str:
    return "#" * int(block[0][1]) + " " + _md_cell(block[1])


def _md_kv(block: tuple) -> str:
    return "| | |\n|---|---|\n" + "\n".join(
        f"| **{_md_cell(k)}** | {_md_cell(v)} |" for k, v in block[1]
    )


def _md_table(block: tuple) -> str:
    head, rows = block[1], block[2]
    lines = ["| " + " | ".join(_md_cell(h) for h in head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(_md_cell(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


#: Markdown of each block kind (``card_blocks``); a block of another kind is left out.
_MD_BLOCKS: dict[str, Callable[[tuple], str]] = {
    **dict.fromkeys(("h1", "h2", "h3", "h4"), _md_heading),
    "p": lambda b: _md_cell(b[1]),
    "footer": lambda b: "---\n\n_" + _md_cell(b[1]) + "_",
    "kv": _md_kv,
    "table": _md_table,
    "ul": lambda b: "\n".join(f"- {_md_cell(x)}" for x in b[1]),
    "ol": lambda b: "\n".join(f"{i + 1}. {_md_cell(x)}" for i, x in enumerate(b[1])),
}


def _rendered(
    blocks: Iterable[tuple], renderers: Mapping[str, Callable[[tuple], str]]
) -> list[str]:
    """Each block through the renderer of its kind (blocks of unknown kinds are skipped)."""
    return [renderers[b[0]](b) for b in blocks if b[0] in renderers]


def render_markdown(card: Mapping[str, Any]) -> str:
    """The rule card as GitHub-flavoured Markdown."""
    return "\n\n".join(_rendered(_blocks(card), _MD_BLOCKS)) + "\n"


_CSS = """
body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;max-width:60rem;margin:2rem auto;
padding:0 1rem;color:#1b1f23;line-height:1.45}
h1{font-size:1.6rem;border-bottom:2px solid #444;padding-bottom:.3rem}
h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid #ccc}
h3{font-size:1.05rem;margin-bottom:.3rem}h4{font-size:.95rem;margin-bottom:.3rem}
table{border-collapse:collapse;margin:.4rem 0 1rem 0;font-size:.9rem}
th,td{border:1px solid #d0d7de;padding:.25rem .6rem;text-align:left;vertical-align:top}
th{background:#f3f4f6}td.num{text-align:right;font-variant-numeric:tabular-nums}
table.kv th{width:16rem}ol li,ul li{margin:.2rem 0}ol.rules li{font-family:ui-monospace,Menlo,Consolas,monospace;
font-size:.88rem}footer{margin-top:2rem;color:#666;font-size:.8rem;border-top:1px solid #ccc;padding-top:.5rem}
@media print{body{margin:0}h2{page-break-after:avoid}}
"""


def _is_num(text: str) -> bool:
    t = text.replace("+", "").replace("-", "").replace(".", "", 1).replace(" %", "").strip()
    return t.isdigit()


def _html_td(c: Any) -> str:
    text = html.escape(str(c))
    return f'<td class="num">{text}</td>' if _is_num(str(c)) else f"<td>{text}</td>"


def _html_kv(block: tuple) -> str:
    e = html.escape
    rows = "".join(f"<tr><th>{e(str(k))}</th><td>{e(str(v))}</td></tr>" for k, v in block[1])
    return f'<table class="kv">{rows}</table>'


def _html_table(block: tuple) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in block[1])
    rows = "".join("<tr>" + "".join(_html_td(c) for c in r) + "</tr>" for r in block[2])
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


#: HTML of each block kind (``card_blocks``); a block of another kind is left out.
_HTML_BLOCKS: dict[str, Callable[[tuple], str]] = {
    **dict.fromkeys(("h1", "h2", "h3", "h4"), lambda b: f"<{b[0]}>{html.escape(b[1])}</{b[0]}>"),
    "p": lambda b: f"<p>{html.escape(b[1])}</p>",
    "footer": lambda b: f"<footer>{html.escape(b[1])}</footer>",
    "kv": _html_kv,
    "table": _html_table,
    "ul": lambda b: "<ul>" + "".join(f"<li>{html.escape(str(x))}</li>" for x in b[1]) + "</ul>",
    "ol": lambda b: (
        '<ol class="rules">' + "".join(f"<li>{html.escape(str(x))}</li>" for x in b[1]) + "</ol>"
    ),
}


def render_html(card: Mapping[str, Any]) -> str:
    """The rule card as one self-contained HTML page (inline CSS, no scripts, no external assets)."""
    body = _rendered(_blocks(card), _HTML_BLOCKS)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src 'none'; style-src 'unsafe-inline'\">\n"
        f"<title>{html.escape(card['title'])}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def card_json(card: Mapping[str, Any]) -> str:
    """The rule card as the artifact's ``rulecard.json`` text (sorted keys, one-space indent)."""
    return json.dumps(jsonable(card), indent=1, sort_keys=True, allow_nan=False) + "\n"


def rulecard_files(
    spec: Mapping[str, Any],
    *,
    metrics: Mapping[str, Any] | None = None,
    evaluation: Mapping[str, Any] | None = None,
    provenance: Mapping[str, Any] | None = None,
    strict: bool = True,
    **_: Any,
) -> dict[str, str]:
    """The ``rulecard`` exporter's artifact files: ``rulecard.md``, ``rulecard.html``,
    ``rulecard.json`` (arguments as in :func:`rulecard`)."""
    card = rulecard(
        spec, metrics=metrics, evaluation=evaluation, provenance=provenance, strict=strict
    )
    return {
        "rulecard.md": render_markdown(card),
        "rulecard.html": render_html(card),
        "rulecard.json": card_json(card),
    }


def write_rulecard(
    spec: Mapping[str, Any],
    out_dir: str | Path,
    metrics: Mapping[str, Any] | None = None,
    provenance: Mapping[str, Any] | None = None,
) -> list[Path]:
    """Write ``rulecard.md``, ``rulecard.html`` and ``rulecard.json`` into ``out_dir``.

    Returns the three paths, in that order. The directory is created if needed.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    card = rulecard(spec, metrics=metrics, provenance=provenance)
    paths = [out / "rulecard.md", out / "rulecard.html", out / "rulecard.json"]
    paths[0].write_text(render_markdown(card), encoding="utf-8")
    paths[1].write_text(render_html(card), encoding="utf-8")
    paths[2].write_text(
        json.dumps(card, indent=1, ensure_ascii=False, allow_nan=False) + "\n", encoding="utf-8"
    )
    return paths


# ----------------------------------------------------------------------------- per-kind table


@dataclasses.dataclass(frozen=True)
class _CardKind:
    """What the rule card does differently per spec kind."""

    section: Callable[[Mapping[str, Any], int | None], dict[str, Any]]  # the model section
    limits: Callable[[Mapping[str, Any]], list[str]]  # the kind's own limits
    size_text: Callable[[Mapping[str, Any]], str]  # "Size" line from the summary's n_* fields
    monotone_holds: Callable[[Mapping[str, Any], str, int], bool | None] | None = None


_CARD: KindTable[_CardKind] = KindTable("rule card")
_CARD.add(
    AdditiveSpec,
    _CardKind(
        _additive_section,
        _additive_limits,
        lambda s: f"{s['n_terms']} terms ({s['n_pairs']} pairwise)",
        _additive_monotone_holds,
    ),
)
_CARD.add(
    RuleListSpec,
    _CardKind(
        lambda spec, adverse: _rules_section(spec),
        _rule_list_limits,
        lambda s: f"{s['n_rules']} rules + default, {s['n_conditions']} conditions",
    ),
)
_CARD.add(
    MLPSpec,
    _CardKind(
        lambda spec, adverse: _network_section(spec),
        _mlp_limits,
        lambda s: f"{s['n_layers']} layers",
    ),
)

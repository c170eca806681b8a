"""Matplotlib figures of the report, each returned as PNG bytes.

Every function takes plain JSON-able results (``metrics.json``, ``evaluation.json``,
``sweep.json``, ``paper_results.json``) or a spec and draws them; none computes a metric.
matplotlib is imported lazily with the Agg backend, so importing this module is cheap and
works without a display.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from distill2rules._optional import require

__all__ = [
    "cosine_figure",
    "importance_figure",
    "pareto_figure",
    "reliability_figure",
    "shape_figure",
    "shape_terms",
    "stability_figure",
    "temperature_figure",
    "term_swing",
]

#: one colour per role, the same in every figure
COLORS = {"teacher": "#4c72b0", "student": "#dd8452", "baseline": "#8c8c8c", "front": "#c44e52"}
DPI = 100


def _plt() -> Any:
    matplotlib = require("matplotlib")

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "font.size": 10,
            "axes.titlesize": 11,
            "axes.labelsize": 10,
            "figure.dpi": DPI,
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    )
    return plt


def _png(fig: Any) -> bytes:
    plt = _plt()
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=DPI)
    plt.close(fig)
    return buf.getvalue()


def _num(v: Any) -> float:
    """A JSON value as float (``None`` and non-numbers → NaN)."""
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


def _short(name: str, n: int = 28) -> str:
    name = str(name)
    return name if len(name) <= n else name[: n - 1] + "…"


# ----------------------------------------------------------------------------- calibration


def reliability_figure(
    curves: Mapping[str, Sequence[Mapping[str, Any]]], *, title: str = ""
) -> bytes:
    """Reliability diagram: mean confidence vs accuracy per bin, one line per model.

    Parameters
    ----------
    curves : mapping name → list of bins
        Each bin holds ``lo``, ``hi``, ``count``, ``confidence``, ``accuracy`` (``null`` when
        empty), as in ``predictive_metrics(...).reliability``. Names containing "teacher",
        "no KD" or "student" get the house colours.
    title : str
        Figure title.
    """
    plt = _plt()
    fig, (ax, axh) = plt.subplots(
        2, 1, figsize=(6.4, 6.0), gridspec_kw={"height_ratios": [3, 1]}, sharex=True
    )
    ax.plot([0, 1], [0, 1], ls="--", color="#999999", lw=1, label="perfect calibration")
    width = None
    names = list(curves)
    for i, (name, bins) in enumerate(curves.items()):
        conf = np.array([_num(b.get("confidence")) for b in bins])
        acc = np.array([_num(b.get("accuracy")) for b in bins])
        cnt = np.array([_num(b.get("count")) for b in bins])
        lo = np.array([_num(b.get("lo")) for b in bins])
        hi = np.array([_num(b.get("hi")) for b in bins])
        ok = np.isfinite(conf) & np.isfinite(acc) & (np.nan_to_num(cnt) > 0)
        color = _role_color(name, i)
        ax.plot(conf[ok], acc[ok], marker="o", color=color, label=name)
        width = np.nanmin(hi - lo) / (len(names) + 1) if len(lo) else 0.1
        axh.bar(
            lo + width * (i + 0.5),
            np.nan_to_num(cnt),
            width=width,
            color=color,
            label=name,
            align="edge",
        )
    ax.set_ylabel("observed accuracy in bin")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_title(title or "Reliability diagram (test split)")
    ax.legend(loc="upper left", fontsize=9)
    axh.set_xlabel("predicted confidence (top-class probability)")
    axh.set_ylabel("rows")
    return _png(fig)


def _role_color(name: str, i: int) -> str:
    low = name.lower()
    if "teacher" in low:
        return COLORS["teacher"]
    if "no kd" in low or "baseline" in low:
        return COLORS["baseline"]
    if "student" in low:
        return COLORS["student"]
    return f"C{i % 10}"


# ----------------------------------------------------------------------------- attributions


def importance_figure(
    feature_names: Sequence[str],
    teacher: Sequence[float],
    student: Sequence[float],
    *,
    baseline: Sequence[float] | None = None,
    top: int = 15,
    output: str = "",
) -> bytes:
    """Teacher and student global SHAP importances side by side (the paper's Figure 3, left).

    Importances (mean |SHAP| per feature) are shown as shares of each model's total, so the two
    models are comparable even when their outputs have different scales; the ``top`` features
    by teacher importance are drawn. ``baseline`` adds the no-KD student as a third bar.
    """
    plt = _plt()
    t = np.nan_to_num(np.asarray(teacher, dtype=float))
    s = np.nan_to_num(np.asarray(student, dtype=float))
    t_share = t / t.sum() if t.sum() > 0 else t
    s_share = s / s.sum() if s.sum() > 0 else s
    order = np.argsort(-(t_share + 1e-9 * s_share), kind="stable")[:top][::-1]
    y = np.arange(len(order))
    bars = [
        ("teacher", t_share, COLORS["teacher"]),
        ("student (KD)" if baseline is not None else "student", s_share, COLORS["student"]),
    ]
    if baseline is not None:
        b = np.nan_to_num(np.asarray(baseline, dtype=float))
        bars.append(("student (no KD)", b / b.sum() if b.sum() > 0 else b, COLORS["baseline"]))
    fig, ax = plt.subplots(figsize=(7.2, 0.12 * len(bars) * len(order) + 1.6))
    h = 0.8 / len(bars)
    for j, (name, share, color) in enumerate(bars):
        ax.barh(y + 0.4 - h * (j + 0.5), 100 * share[order], height=h, color=color, label=name)
    ax.set_yticks(y, [_short(feature_names[j]) for j in order])
    ax.set_xlabel("share of total mean |SHAP| (%)" + (f" — output: {output}" if output else ""))
    ax.set_title(f"Global feature importance, teacher vs student (top {len(order)} by teacher)")
    ax.legend(loc="lower right")
    return _png(fig)


def cosine_figure(alignment: Mapping[str, Any], per_row: Sequence[float] | None = None) -> bytes:
    """Per-row cosine of teacher and student SHAP vectors (the paper's Figure 3, right).

    With ``per_row`` values (or a stored histogram ``{"edges", "counts"}`` in
    ``alignment["cosine_histogram"]``) a histogram is drawn; otherwise the stored mean ± sd.
    """
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    hist = alignment.get("cosine_histogram")
    mean, sd = _num(alignment.get("cosine_mean")), _num(alignment.get("cosine_sd"))
    if per_row is not None and len(per_row):
        ax.hist(
            np.asarray(per_row, dtype=float),
            bins=np.linspace(-1, 1, 41),
            color=COLORS["student"],
            edgecolor="white",
        )
        ax.set_ylabel("rows")
    elif isinstance(hist, Mapping) and hist.get("edges") and hist.get("counts"):
        edges = np.asarray(hist["edges"], dtype=float)
        ax.stairs(
            np.asarray(hist["counts"], dtype=float), edges, fill=True, color=COLORS["student"]
        )
        ax.set_ylabel("rows")
    else:
        ax.errorbar(
            [mean],
            [0.5],
            xerr=[[0 if not math.isfinite(sd) else sd]],
            fmt="o",
            color=COLORS["student"],
            capsize=6,
            ms=9,
            label="mean ± sd over rows",
        )
        ax.set_yticks([])
        ax.legend(loc="upper left")
    if math.isfinite(mean):
        ax.axvline(mean, color="#333333", ls="--", lw=1)
        ax.text(
            mean,
            ax.get_ylim()[1] * 0.95,
            f" mean {mean:.3f}",
            va="top",
            ha="right" if mean > 0 else "left",
            fontsize=9,
        )
    ax.set_xlim(-1.02, 1.02)
    n = alignment.get("n_rows_used")
    ax.set_xlabel("cosine(φ_teacher(x), φ_student(x)) per explained row (1 = same direction)")
    ax.set_title("Per-row attribution alignment" + (f" ({n} rows)" if n else ""))
    return _png(fig)


def stability_figure(teacher: Mapping[str, Any] | None, student: Mapping[str, Any] | None) -> bytes:
    """Explanation stability (mean ± sd over rows) against the noise level σ, teacher vs student."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.0, 3.4))
    for name, st in (("teacher", teacher), ("student", student)):
        if not st:
            continue
        per = st.get("per_sigma") or {}
        sig = sorted(per, key=_num)
        x = np.array([_num(s) for s in sig])
        m = np.array([_num(per[s].get("mean")) for s in sig])
        e = np.array([_num(per[s].get("sd")) for s in sig])
        ax.errorbar(
            x, m, yerr=np.nan_to_num(e), marker="o", capsize=4, color=COLORS[name], label=name
        )
    ax.set_xscale("log")
    ax.set_xlabel("noise level σ (fraction of each numeric feature's standard deviation)")
    ax.set_ylabel("stability 1 − ‖Δφ‖/‖φ‖")
    ax.set_title("Explanation stability under input noise (1 = unchanged)")
    ax.legend()
    return _png(fig)


# ----------------------------------------------------------------------------- sweeps


def _ring_front(
    ax: Any, points: Sequence[Mapping[str, Any]], xs: np.ndarray, ys: np.ndarray, f: np.ndarray
) -> None:
    """Ring the Pareto-optimal points (mask ``f``) and annotate them with their labels."""
    if f.any():
        ax.scatter(
            xs[f],
            ys[f],
            s=150,
            facecolor="none",
            edgecolor=COLORS["front"],
            lw=1.8,
            zorder=4,
            label="Pareto-optimal (accuracy ↑, parameters ↓, alignment ↑)",
        )
    for i in np.flatnonzero(f):
        lab = points[int(i)].get("label")
        if lab:
            ax.annotate(
                _short(str(lab), 26),
                (xs[i], ys[i]),
                textcoords="offset points",
                xytext=(6, -3),
                fontsize=7,
                color="#333333",
            )


def _spans_decades(x: np.ndarray) -> bool:
    """Positive values over more than a factor of 20 (drawn on a log axis)."""
    return bool(
        np.nanmin(x, initial=np.inf) > 0
        and np.nanmax(x, initial=0) / max(np.nanmin(x, initial=1), 1e-12) > 20
    )


def pareto_figure(
    points: Sequence[Mapping[str, Any]],
    *,
    x: str = "params",
    y: str = "accuracy",
    color: str = "cosine",
    x_label: str = "student parameters",
    y_label: str = "test accuracy",
    color_label: str = "SHAP alignment (cosine of importances)",
) -> bytes:
    """Accuracy / cost / interpretability trade-off (the paper's Figure 4).

    Each point is one configuration (``x`` cost, ``y`` performance, ``color`` alignment);
    points with ``on_front`` true are ringed and joined in cost order; a point with
    ``"kind": "teacher"`` is drawn as a star.
    """
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.2, 4.6))
    xs = np.array([_num(p.get(x)) for p in points])
    ys = np.array([_num(p.get(y)) for p in points])
    cs = np.array([_num(p.get(color)) for p in points])
    teacher = np.array([p.get("kind") == "teacher" for p in points])
    front = np.array([bool(p.get("on_front")) for p in points])
    ok = np.isfinite(xs) & np.isfinite(ys)
    st = ok & ~teacher
    has_c = np.isfinite(cs[st]).any()
    sc = ax.scatter(
        xs[st],
        ys[st],
        c=cs[st] if has_c else COLORS["student"],
        cmap="viridis",
        s=46,
        edgecolor="k",
        lw=0.4,
        zorder=3,
        vmin=np.nanmin(cs[st]) if has_c else None,
        vmax=np.nanmax(cs[st]) if has_c else None,
    )
    if has_c:
        fig.colorbar(sc, ax=ax, label=color_label)
    f = ok & front & ~teacher
    _ring_front(ax, points, xs, ys, f)
    if (ok & teacher).any():
        ax.scatter(
            xs[ok & teacher],
            ys[ok & teacher],
            marker="*",
            s=220,
            color=COLORS["teacher"],
            edgecolor="k",
            zorder=5,
            label="teacher",
        )
    if _spans_decades(xs[ok]):
        ax.set_xscale("log")
        x_label += " (log scale)"
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    ax.set_title("Accuracy vs cost, coloured by interpretability alignment")
    if f.any() or (ok & teacher).any():
        ax.legend(loc="lower right", fontsize=8)
    ax.margins(x=0.15, y=0.08)
    return _png(fig)


def temperature_figure(
    curve: Sequence[Mapping[str, Any]],
    *,
    measures: Sequence[str] = ("accuracy", "fidelity", "cosine"),
    labels: Mapping[str, str] | None = None,
    max_series: int = 8,
) -> bytes:
    """Measures against the distillation temperature τ, one panel per measure.

    Each row holds ``temperature`` and the measures, optionally ``<measure>_sd`` (error bars)
    and a ``series`` name (one line per series, at most ``max_series``).
    """
    plt = _plt()
    labels = dict(labels or {})
    series: dict[str, list[Mapping[str, Any]]] = {}
    for r in curve:
        series.setdefault(str(r.get("series", "")), []).append(r)
    series = dict(list(series.items())[:max_series])
    present = [m for m in measures if any(math.isfinite(_num(r.get(m))) for r in curve)]
    fig, axes = plt.subplots(
        1, max(len(present), 1), figsize=(4.2 * max(len(present), 1), 3.6), squeeze=False
    )
    temps = np.array([_num(r.get("temperature")) for r in curve])
    temps = temps[np.isfinite(temps)]
    for ax, m in zip(axes.ravel(), present):
        for j, (s_name, rows) in enumerate(series.items()):
            rows = sorted(rows, key=lambda r: _num(r.get("temperature")))
            t = np.array([_num(r.get("temperature")) for r in rows])
            v = np.array([_num(r.get(m)) for r in rows])
            e = np.array([_num(r.get(f"{m}_sd")) for r in rows])
            ok = np.isfinite(t) & np.isfinite(v)
            if not ok.any():
                continue
            ax.errorbar(
                t[ok],
                v[ok],
                yerr=np.nan_to_num(e[ok]) if np.isfinite(e[ok]).any() else None,
                marker="o",
                capsize=3,
                color=f"C{j}",
                label=s_name or None,
            )
        if temps.size and temps.max() / max(temps.min(), 1e-9) >= 8:
            ax.set_xscale("log", base=2)
        ax.set_xlabel("distillation temperature τ")
        ax.set_ylabel(labels.get(m, m))
        ax.set_title(labels.get(m, m) + " vs τ")
    _handles, names = axes.ravel()[0].get_legend_handles_labels()
    if names:
        axes.ravel()[0].legend(fontsize=8)
    return _png(fig)


# ----------------------------------------------------------------------------- model (from the spec)


def _range_from(
    ranges: Mapping[str, Sequence[float]] | None, feature: str, edges: np.ndarray
) -> tuple[float, float]:
    if ranges and feature in ranges and len(ranges[feature]) == 2:
        lo, hi = float(ranges[feature][0]), float(ranges[feature][1])
    elif edges.size:
        lo, hi = float(edges.min()), float(edges.max())
    else:
        lo, hi = 0.0, 1.0
    span = hi - lo if hi > lo else max(abs(hi), 1.0)
    lo = min(lo, float(edges.min()) if edges.size else lo) - 0.03 * span
    hi = max(hi, float(edges.max()) if edges.size else hi) + 0.03 * span
    return lo, hi


def _score_label(spec: Mapping[str, Any]) -> str:
    classes = list(spec.get("classes", []))
    if spec.get("link") == "logistic" and len(classes) == 2:
        return f"log-odds of '{classes[1]}'"
    return "class score (logit)"


def term_swing(
    term: Mapping[str, Any], ranges: Mapping[str, Sequence[float]] | None = None
) -> float:
    """How far a one-feature term moves the score across its values (max − min), for ordering plots."""
    if term.get("type") == "linear":
        coef = np.abs(np.asarray(term.get("coef", [0.0]), dtype=float)).max()
        lo, hi = _range_from(ranges, term.get("feature", ""), np.array([]))
        clip = term.get("clip") or ["-inf", "inf"]
        lo, hi = max(lo, _num(clip[0])), min(hi, _num(clip[1]))
        return float(coef * max(hi - lo, 0.0))
    scores = np.asarray(term.get("scores", [0.0]), dtype=float)
    return float(np.ptp(scores)) if scores.size else 0.0


def shape_terms(spec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The spec's one-feature terms (linear terms and one-axis tables), in spec order."""
    out = []
    for t in spec.get("terms", []):
        if t.get("type") == "linear" or (t.get("type") == "table" and len(t.get("axes", [])) == 1):
            out.append(t)
    return out


def shape_figure(
    spec: Mapping[str, Any],
    terms: Sequence[Mapping[str, Any]],
    *,
    ranges: Mapping[str, Sequence[float]] | None = None,
    ncols: int = 3,
) -> bytes:
    """Shape functions of an additive student: each term's contribution against its feature.

    Numeric table axes are drawn as step functions over the bin edges (the missing-value bin
    is printed in the panel), categorical axes as bars (missing and unseen included), linear
    terms as lines over the training range (``ranges``: feature → [min, max]).
    """
    plt = _plt()
    n = max(len(terms), 1)
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.0 * ncols, 2.9 * nrows), squeeze=False)
    ylab = _score_label(spec)
    classes = [str(c) for c in spec.get("classes", [])]
    for ax, term in zip(axes.ravel(), terms):
        _draw_term(ax, term, ranges, classes, spec.get("link") == "softmax")
        ax.set_ylabel(ylab, fontsize=8)
        ax.axhline(0, color="#bbbbbb", lw=0.8)
    for ax in axes.ravel()[len(terms) :]:
        ax.axis("off")
    return _png(fig)


def _draw_term(
    ax: Any,
    term: Mapping[str, Any],
    ranges: Mapping[str, Sequence[float]] | None,
    classes: list[str],
    softmax: bool,
) -> None:
    name = str(term.get("name", ""))
    if term.get("type") == "linear":
        f = term["feature"]
        lo, hi = _range_from(ranges, f, np.array([]))
        xs = np.linspace(lo, hi, 50)
        clip = term.get("clip") or ["-inf", "inf"]
        xc = np.clip(xs, _num(clip[0]), _num(clip[1]))
        for k, c in enumerate(np.atleast_1d(np.asarray(term["coef"], dtype=float))):
            ax.plot(
                xs,
                c * xc,
                color=f"C{k}",
                label=classes[k] if softmax and k < len(classes) else None,
            )
        ax.set_xlabel(f"{_short(f, 34)} (raw units)")
        ax.set_title(_short(name, 40), fontsize=10)
        return
    axis = term["axes"][0]
    scores = np.asarray(term["scores"], dtype=float)
    scores = scores.reshape(scores.shape[0], -1)
    f = axis.get("feature", name)
    if axis.get("kind") == "numeric":
        edges = np.asarray(axis.get("edges", []), dtype=float)
        lo, hi = _range_from(ranges, f, edges)
        bounds = np.concatenate([[lo], edges, [hi]])
        for k in range(scores.shape[1]):
            ax.stairs(
                scores[1:, k],
                bounds,
                color=f"C{k}",
                lw=1.6,
                baseline=None,
                label=classes[k] if softmax and k < len(classes) else None,
            )
        miss = ", ".join(f"{v:+.2f}" for v in scores[0])
        ax.text(
            0.02,
            0.96,
            f"missing: {miss}",
            transform=ax.transAxes,
            fontsize=7,
            va="top",
            color="#555555",
        )
        ax.set_xlabel(f"{_short(f, 34)} (raw units)")
    else:
        cats = ["(missing)"] + [str(c) for c in axis.get("categories", [])] + ["(unseen)"]
        x = np.arange(len(cats))
        w = 0.8 / scores.shape[1]
        for k in range(scores.shape[1]):
            ax.bar(x + k * w - 0.4 + w / 2, scores[:, k], width=w, color=f"C{k}")
        ax.set_xticks(x, [_short(c, 14) for c in cats], rotation=45, ha="right", fontsize=7)
        ax.set_xlabel(_short(f, 34))
    ax.set_title(_short(name, 40), fontsize=10)

"""The rule card of a binned scorecard: the classic points table.

Per feature, one row per bin (numeric range, categorical group, missing, unseen) with its
training row count and share, the event rate (share of those rows the teacher decided the
adverse class), the observed rate (share whose label was the adverse class) and the points;
features ranked by their points range; base points and the points-to-odds scaling stated.

Everything comes from the spec: bin edges and scores from the table terms, counts and rates
from the terms' ``bin_counts`` / ``event_rates`` / ``label_rates`` / ``bin_groups`` (written by
the ``scorecard`` student), the scaling from ``meta.scorecard.points``. Points are the scores
toward the favourable class times ``pdo / ln 2``, shifted so each feature's lowest populated bin
scores 0 (the shift moves into the base points), so the total is exactly the spec's log-odds on
the points scale.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from distill2rules.exporters._render import bin_label, feature_label, fmt_num

__all__ = ["is_points_table", "points_blocks", "points_section"]

DEFAULT_POINTS = {"pdo": 20.0, "base_score": 600.0, "base_odds": 50.0}


def is_points_table(spec: Mapping[str, Any]) -> bool:
    """A binary additive spec of one-axis tables that carry bin counts (the ``scorecard`` student)."""
    if spec.get("kind") != "additive" or spec.get("link") != "logistic" or not spec.get("terms"):
        return False
    if "scorecard" not in (spec.get("meta") or {}):
        return False
    return all(
        t["type"] == "table" and len(t["axes"]) == 1 and "bin_counts" in t for t in spec["terms"]
    )


def _scaling(spec: Mapping[str, Any]) -> dict[str, float]:
    pts = dict(DEFAULT_POINTS)
    pts.update(
        {
            k: float(v)
            for k, v in (
                ((spec.get("meta") or {}).get("scorecard") or {}).get("points") or {}
            ).items()
            if k in DEFAULT_POINTS
        }
    )
    factor = pts["pdo"] / math.log(2.0)
    return {
        **pts,
        "factor": factor,
        "offset": pts["base_score"] - factor * math.log(pts["base_odds"]),
    }


def _rate(rates: Any, b: int, adverse: int) -> float | None:
    if not rates or rates[b] is None:
        return None
    r = float(rates[b])
    return r if adverse == 1 else 1.0 - r


def _code_rate(r: Any, adverse: int) -> float | None:
    return None if r is None else (float(r) if adverse == 1 else 1.0 - float(r))


def _pooled(values: list[float | None], counts: list[int]) -> float | None:
    num = sum(v * c for v, c in zip(values, counts) if v is not None and c)
    den = sum(c for v, c in zip(values, counts) if v is not None and c)
    return num / den if den else None


def _row(
    label: str,
    bins: list[int],
    note: str = "",
    *,
    term: Mapping[str, Any],
    s: np.ndarray,
    counts: list[int],
    total: int,
    low: float,
    adverse: int,
    factor: float,
) -> dict[str, Any]:
    """One line of a feature's points table (one bin, or the bins of one categorical group)."""
    cnt = [counts[b] for b in bins]
    n = sum(cnt)
    return {
        "value": label,
        "bins": bins,
        "count": n,
        "share": n / total if total else None,
        "event_rate": _pooled([_rate(term.get("event_rates"), b, adverse) for b in bins], cnt),
        "observed_rate": _pooled([_rate(term.get("label_rates"), b, adverse) for b in bins], cnt),
        "points": factor * (float(s[bins[0]]) - low),
        "note": note,
    }


def points_section(spec: Mapping[str, Any], adverse: int | None) -> dict[str, Any]:
    """Card content (``layout = "points_table"``) of a scorecard spec."""
    adverse = 0 if adverse is None else int(adverse)
    fav = 1 - adverse
    classes = list(spec["classes"])
    sc = _scaling(spec)
    sign = 1.0 if fav == 1 else -1.0
    meta = (spec.get("meta") or {}).get("scorecard") or {}
    n_rows = int(meta.get("n_rows") or 0)
    base_logodds = sign * float(spec["intercept"][0])
    features = []
    for t, term in enumerate(spec["terms"]):
        entry, low = _feature_table(spec, t, term, sign, n_rows, adverse, sc["factor"])
        base_logodds += low
        features.append(entry)
    features.sort(key=lambda e: -e["range"])
    base_points = sc["offset"] + sc["factor"] * base_logodds
    fav_label, adv_label = classes[fav], classes[adverse]
    cut_points, cut_text = _cutoff(spec, sc, sign, fav_label)
    basis = meta.get("event_rate_basis", "teacher decision")
    return {
        "layout": "points_table",
        "favourable_class": fav_label,
        "adverse_class": adv_label,
        "base_points": base_points,
        "cutoff_points": cut_points,
        "scaling": {
            "pdo": sc["pdo"],
            "base_score": sc["base_score"],
            "base_odds": sc["base_odds"],
            "points_per_logodds": sc["factor"],
            "offset": sc["offset"],
        },
        "event_rate_basis": basis,
        "n_rows": n_rows,
        "text": (
            f"Score = base points + the points of the row that applies in each table below. "
            f"{fmt_num(sc['base_score'])} points mean odds of {fmt_num(sc['base_odds'])}:1 for '{fav_label}' "
            f"and every {fmt_num(sc['pdo'])} more points double those odds (points = "
            f"{sc['factor']:.2f} × log-odds of '{fav_label}' + {sc['offset']:.1f}). The student decides "
            f"{cut_text}. Features are ranked by their points "
            f"range; each feature's lowest row scores 0. Rows and shares are training rows; the event rate is "
            f"the share of those rows the teacher decided '{adv_label}' ({basis}, what the scorecard was "
            f"fitted to); the observed rate is the share whose label was '{adv_label}'."
        ),
        "features": features,
    }


def _feature_table(
    spec: Mapping[str, Any],
    t: int,
    term: Mapping[str, Any],
    sign: float,
    n_rows: int,
    adverse: int,
    factor: float,
) -> tuple[dict[str, Any], float]:
    """One feature's points table and its lowest populated score (that row scores 0 points)."""
    ax = term["axes"][0]
    f = ax["feature"]
    name = feature_label(spec, f)
    s = sign * np.asarray(term["scores"], dtype=np.float64)[:, 0]
    counts = [int(c) for c in term["bin_counts"]]
    total = n_rows or sum(counts)
    populated = [b for b, c in enumerate(counts) if c > 0] or list(range(len(s)))
    codes = dict(
        term.get("special") or {}
    )  # special values: {key: {"label", "score", "count", ...}}
    code_s = {key: sign * float(e["score"][0]) for key, e in codes.items()}
    low = float(
        min([s[b] for b in populated] + [code_s[key] for key, e in codes.items() if e.get("count")])
    )
    row = functools.partial(
        _row, term=term, s=s, counts=counts, total=total, low=low, adverse=adverse, factor=factor
    )
    if ax["kind"] == "numeric":
        rows = [row(bin_label(ax, b, name), [b]) for b in range(1, len(ax["edges"]) + 2)]
    else:
        rows = _category_rows(term, ax, s, name, row)
    for key, e in codes.items():
        n = int(e.get("count") or 0)
        rows.append(
            {
                "value": f"{e.get('label') or key} (code {key})",
                "bins": [],
                "special": key,
                "count": n,
                "share": n / total if total else None,
                "event_rate": _code_rate(e.get("event_rate"), adverse),
                "observed_rate": _code_rate(e.get("label_rate"), adverse),
                "points": factor * (code_s[key] - low),
                "note": "special value: its own row"
                if n
                else "special value without training rows: scored as the average applicant",
            }
        )
    miss_note = "" if counts[0] else "no training rows: scored as the average applicant"
    rows.append(row("missing", [0], miss_note))
    pts = [r["points"] for r in rows if r["count"] > 0]
    entry = {
        "term": term.get("name", f"term {t}"),
        "feature": f,
        "label": name,
        "rows": rows,
        "range": (max(pts) - min(pts)) if pts else 0.0,
    }
    return entry, low


def _category_rows(
    term: Mapping[str, Any],
    ax: Mapping[str, Any],
    s: np.ndarray,
    name: str,
    row: Callable[..., dict[str, Any]],
) -> list[dict[str, Any]]:
    """A categorical feature's rows: one per level, or one per group of pooled levels (lowest
    score first) when the term has ``bin_groups``."""
    groups = term.get("bin_groups")
    cats = list(ax["categories"])
    unseen = len(cats) + 1
    if not groups:
        return [row(bin_label(ax, b, name), [b]) for b in range(1, unseen + 1)]
    by_group: dict[int, list[int]] = {}
    for b in range(1, unseen + 1):
        g = groups[b]
        if g is not None:
            by_group.setdefault(int(g), []).append(b)
    rows = []
    for g in sorted(by_group, key=lambda g: float(s[by_group[g][0]])):
        bins = by_group[g]
        levels = [cats[b - 1] for b in bins if b != unseen]
        other = unseen in bins
        label = ", ".join(f"'{c}'" for c in levels) if levels else ""
        if other:
            label = label + " and any other level" if label else "any other level"
        note = "rare levels pooled; also scores levels unseen in training" if other else ""
        rows.append(row(label, bins, note))
    if groups[unseen] is None:
        rows.append(row("other (unseen)", [unseen], "not seen in training: scored as the average"))
    return rows


def _cutoff(
    spec: Mapping[str, Any], sc: Mapping[str, float], sign: float, fav_label: Any
) -> tuple[float, str]:
    """The points from which the student decides favourably, and that sentence's text."""
    thr = spec.get(
        "decision_threshold"
    )  # class 1 iff P1 > thr: a cutoff or a calibration's kept decisions
    cut_logodds = 0.0 if thr is None else sign * float(math.log(thr) - math.log1p(-thr))
    cut_points = sc["offset"] + sc["factor"] * cut_logodds
    cut = (spec.get("meta") or {}).get("cutoff")
    cut_text = (
        f"'{fav_label}' from {cut_points:.1f} points up (odds {math.exp(cut_logodds):.3g}:1"
        + (f"; {cut['rule']}, set by {cut['source']}" if cut else "")
        + ")"
    )
    return cut_points, cut_text


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:.1f} %"


def points_blocks(m: Mapping[str, Any]) -> list[tuple]:
    """Layout blocks (see ``rulecard._blocks``) of a points table."""
    b: list[tuple] = [
        ("p", m["text"]),
        (
            "table",
            ["", "points"],
            [
                ["Base points", f"{m['base_points']:.1f}"],
                ["Decision cut", f"{m['cutoff_points']:.1f}"],
            ],
            None,
        ),
    ]
    adv = m["adverse_class"]
    head = [
        "value",
        "rows",
        "share",
        f"event rate ('{adv}', teacher)",
        f"observed rate ('{adv}')",
        "points",
        "note",
    ]
    for e in m["features"]:
        b.append(("h3", f"{e['label']} (range {e['range']:.1f} points)"))
        rows = [
            [
                r["value"],
                fmt_num(r["count"]),
                _pct(r["share"]),
                _pct(r["event_rate"]),
                _pct(r["observed_rate"]),
                f"{r['points']:.1f}",
                r.get("note", ""),
            ]
            for r in e["rows"]
        ]
        b.append(("table", head, rows, None))
    return b

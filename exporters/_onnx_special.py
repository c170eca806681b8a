"""Special values in the ONNX graphs (see :mod:`distill2rules.spec._special` for the meaning).

* :func:`wire_specials` compares the declared numeric columns with their codes once
  (``Equal`` on float32, exact like the reference evaluator), keeps the ``[N, S]`` indicator
  matrix and replaces ``g.numeric`` by a copy holding NaN where a code sits, so every numeric
  block of a builder treats special values as missing without knowing about them.
* :func:`override_terms` puts each term's special score in place of its contribution
  (additive specs): ``Where(indicators @ member > 0, indicators @ scores, contributions)``.
* :func:`special_inputs` gives the MLP's 0/1 special inputs (double ``[N, S']``).
* :func:`condition_search` turns a rule condition on a column with codes into one search
  over the raw value: the codes are points ``[c, nextafter(c))`` between the thresholds, and
  the truth of every region comes from the reference evaluator itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from distill2rules.exporters._onnx_graph import DOUBLE, FLOAT, Graph, round_down_f32
from distill2rules.spec import condition_holds, special_codes, special_key

__all__ = ["SpecialWiring", "condition_search", "override_terms", "special_inputs", "wire_specials"]


@dataclass
class SpecialWiring:
    """The indicator tensor ``[N, S]`` (bool) and which (column, key) each column is."""

    indicators: str
    codes: list[tuple[int, str, str, float]]  # (numeric column, feature, key, float32 value)
    raw_numeric: str


def _declared(spec: Mapping[str, Any]) -> list[tuple[int, str, str, float]]:
    out = []
    for j, name in enumerate(spec["inputs"].get("numeric", [])):
        for value, key, _ in special_codes(spec, name):
            out.append((j, name, key, value))
    return out


def wire_specials(g: Graph, spec: Mapping[str, Any]) -> SpecialWiring | None:
    """Indicators of every declared code, and ``g.numeric`` with the codes as NaN."""
    codes = _declared(spec)
    if not codes or g.numeric is None:
        return None
    raw = g.numeric
    cols = [j for j, _, _, _ in codes]
    picked = g.columns(raw, cols)
    values = np.asarray([v for _, _, _, v in codes], dtype=np.float32)
    ind = g.op("Equal", [picked, g.const(values, "special_codes")])
    d_num = len(spec["inputs"].get("numeric", []))
    member = np.zeros((len(codes), d_num), dtype=np.float32)
    for s, (j, _, _, _) in enumerate(codes):
        member[s, j] = 1.0
    hit = g.op("MatMul", [g.cast(ind, FLOAT), g.const(member, "special_columns")])
    is_code = g.op("Greater", [hit, g.const(np.asarray(0.5, dtype=np.float32), "half")])
    g.numeric = g.op("Where", [is_code, g.const(np.asarray(np.nan, dtype=np.float32), "nan"), raw])
    return SpecialWiring(ind, codes, raw)


def override_terms(
    g: Graph, spec: Mapping[str, Any], wiring: SpecialWiring, contrib: str, kp: int
) -> str:
    """Contributions with each term's special score where its row holds that code."""
    terms = list(spec.get("terms", []))
    member = np.zeros((len(wiring.codes), len(terms)), dtype=np.float64)
    scores = np.zeros((len(wiring.codes), len(terms), kp), dtype=np.float64)
    for t, term in enumerate(terms):
        special = term.get("special") or {}
        feature = term.get("feature") if term["type"] == "linear" else term["axes"][0]["feature"]
        for s, (_, name, key, _) in enumerate(wiring.codes):
            if name == feature and key in special:
                member[s, t] = 1.0
                scores[s, t] = np.asarray(special[key]["score"], dtype=np.float64)
    if not member.any():
        return contrib
    ind = g.cast(wiring.indicators, DOUBLE)
    hit = g.op(
        "Greater",
        [
            g.op("MatMul", [ind, g.const(member, "special_member")]),
            g.const(np.asarray(0.5), "half"),
        ],
    )
    value = g.op("MatMul", [ind, g.const(scores.reshape(len(wiring.codes), -1), "special_scores")])
    if kp > 1:
        value = g.op(
            "Reshape", [value, g.const(np.asarray([-1, len(terms), kp], np.int64), "shape")]
        )
        hit = g.unsqueeze(hit, 2)
    return g.op("Where", [hit, value, contrib])


def special_inputs(
    g: Graph,
    spec: Mapping[str, Any],
    entries: Sequence[Mapping[str, Any]],
    wiring: SpecialWiring | None,
) -> str:
    """Double ``[N, S']``: 1 where the row holds ``entries[i]``'s code (MLP special inputs)."""
    assert wiring is not None
    pos = {(name, key): s for s, (_, name, key, _) in enumerate(wiring.codes)}
    idx = [pos[(p["feature"], special_key(p["value"]))] for p in entries]
    ind = (
        wiring.indicators
        if idx == list(range(len(wiring.codes)))
        else g.columns(wiring.indicators, idx)
    )
    return g.cast(ind, DOUBLE)


def condition_search(
    cond: Mapping[str, Any],
    specials: Sequence[float],
) -> tuple[np.ndarray, list[bool], bool]:
    """(thresholds, holds per region, holds for NaN) of a numeric condition on a column with
    special values, for a search tree over the raw float32 value (``x < t`` goes left)."""
    cuts: list[float] = []
    points = [float(v) for v in [*specials, *cond.get("values", []), *cond.get("special", [])]]
    for v in points:
        c = np.float32(v)
        cuts += [float(c), float(np.nextafter(c, np.float32(np.inf)))]
    if cond["op"] in ("<=", ">"):
        t = round_down_f32(float(cond["value"]))  # x <= v iff x < nextafter(t) for float32 x
        cuts.append(float(np.nextafter(np.float32(t), np.float32(np.inf))))
    thresholds = np.unique(np.asarray(cuts, dtype=np.float32))
    thresholds = thresholds[np.isfinite(thresholds)]
    reps = np.concatenate([[-np.inf], thresholds]).astype(np.float32)  # one point per region
    x = np.concatenate([reps, [np.nan]]).astype(np.float32)[:, None]
    lookup = {cond["feature"]: ("numeric", 0)}
    truth = condition_holds(
        cond, x, np.empty((len(x), 0), dtype=object), lookup, [float(v) for v in specials]
    )
    return thresholds, [bool(v) for v in truth[:-1]], bool(truth[-1])

"""Size of a spec (number of learned parameters), used for PRR and for --sizes pilots."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np


def spec_size(spec: Mapping[str, Any]) -> int:
    """Non-zero learned numbers: additive scores/coefs + intercept; rule conditions + outcomes; MLP weights."""
    kind = spec["kind"]
    if kind == "additive":
        n = len(spec["intercept"])
        for t in spec["terms"]:
            arr = np.asarray(t["coef"] if t["type"] == "linear" else t["scores"], dtype=float)
            n += int(np.count_nonzero(arr))
            n += sum(int(np.count_nonzero(e["score"])) for e in (t.get("special") or {}).values())
        return n
    if kind == "rule_list":
        k = len(spec["classes"])
        return sum(len(r["conditions"]) + k for r in spec["rules"]) + k
    if kind == "mlp":
        return sum(np.asarray(l["weight"]).size + np.asarray(l["bias"]).size for l in spec["layers"])
    return 0


def spec_complexity(spec: Mapping[str, Any]) -> dict:
    """Human-facing size: terms / rules / conditions / hidden units."""
    kind = spec["kind"]
    if kind == "additive":
        pairs = sum(1 for t in spec["terms"] if t["type"] == "table" and len(t["axes"]) == 2)
        return {"terms": len(spec["terms"]), "pairs": pairs, "parameters": spec_size(spec)}
    if kind == "rule_list":
        return {"rules": len(spec["rules"]), "conditions": sum(len(r["conditions"]) for r in spec["rules"]),
                "parameters": spec_size(spec)}
    return {"layers": [len(l["bias"]) for l in spec["layers"]], "parameters": spec_size(spec)}

"""Edge deployment: score rows with ``student.onnx`` using onnxruntime and numpy only.

No distill2rules import: the ONNX file alone carries the input column order, the classes,
the term names and the full student spec (``metadata_props``, see ``docs/onnx.md``), so an
edge device can print the decision and its reason codes straight from the graph's outputs:

* additive students (logistic regression, EBM): ``contributions [N, n_terms]`` are each
  term's push on the log-odds of ``classes[1]``; a reason is how much a term pushes toward
  the adverse class compared with that term's most favourable value (the way adverse-action
  reason codes are derived);
* rule lists: ``rule [N]`` is the index of the rule that fired; its conditions are the reason.

Run::

    python examples/edge_inference.py runs/loan_decisions/ebm/student.onnx runs/loan_decisions/declined_applicants.csv
    python examples/edge_inference.py --small MODEL.onnx ROWS.csv    # also prints the imported modules check

Dependencies: onnxruntime, numpy (``pip install onnxruntime numpy``).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys

import numpy as np
import onnxruntime as ort


def category(v: str) -> str:
    """The student's canonical category string: stripped, integral numbers without '.0'."""
    v = (v or "").strip()
    try:
        f = float(v)
        if math.isfinite(f) and f.is_integer():
            return str(int(f))
    except ValueError:
        pass
    return v


def number(v: str) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")  # empty or non-numeric cell = missing


def load_rows(path: str) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def feeds(rows: list[dict[str, str]], num_cols: list[str], cat_cols: list[str]) -> dict[str, np.ndarray]:
    out = {}
    if num_cols or not cat_cols:
        out["numeric"] = np.array([[number(r.get(c, "")) for c in num_cols] for r in rows],
                                  dtype=np.float32).reshape(len(rows), len(num_cols))
    if cat_cols:
        out["categorical"] = np.array([[category(r.get(c, "")) for c in cat_cols] for r in rows], dtype=object)
    return out


def favourable_reference(term: dict, toward_adverse: float) -> float:
    """A term's contribution at its most favourable value (smallest push toward the adverse class)."""
    if term["type"] == "table":
        scores = np.asarray(term["scores"], dtype=float)[..., 0] * toward_adverse
        return float(scores.min() / toward_adverse)
    coef = float(np.ravel(term["coef"])[0]) * toward_adverse
    lo, hi = (float(b) for b in term.get("clip", ["-inf", "inf"]))
    ends = [coef * b for b in (lo, hi) if math.isfinite(b)]
    return (min(ends) if ends else 0.0) / toward_adverse


def condition_text(c: dict) -> str:
    op = c["op"]
    if op in ("<=", ">"):
        return f"{c['feature']} {op} {c['value']:g}"
    if op in ("in", "not_in"):
        return f"{c['feature']} {'in' if op == 'in' else 'not in'} {{{', '.join(map(str, c['values']))}}}"
    return f"{c['feature']} {op.replace('_', ' ')}"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Decisions and reason codes from student.onnx (onnxruntime only).")
    ap.add_argument("model", help="student.onnx written by `distill2rules fit` or `export`")
    ap.add_argument("rows", help="CSV with the raw feature columns (header row)")
    ap.add_argument("--top", type=int, default=3, help="reason codes per row")
    ap.add_argument("--small", action="store_true", default=bool(os.environ.get("DISTILL2RULES_EXAMPLE_SMALL")),
                    help="test mode: also report whether distill2rules was imported")
    args = ap.parse_args(argv)

    so = ort.SessionOptions()
    so.log_severity_level = 3
    sess = ort.InferenceSession(args.model, so, providers=["CPUExecutionProvider"])
    meta = sess.get_modelmeta().custom_metadata_map
    num_cols = json.loads(meta.get("numeric_columns", "[]"))
    cat_cols = json.loads(meta.get("categorical_columns", "[]"))
    classes = json.loads(meta["classes"])
    spec = json.loads(meta["spec"])
    adverse = spec.get("meta", {}).get("adverse_class", classes[0])
    adverse_k = [str(c) for c in classes].index(str(adverse))

    rows = load_rows(args.rows)
    out = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, feeds(rows, num_cols, cat_cols))))
    print(f"model: {meta.get('model')} ({meta.get('kind')}), classes {classes}, adverse class {adverse!r}, {len(rows)} rows")
    for i in range(len(rows)):
        label = classes[int(out["label"][i])]
        p = float(out["probabilities"][i, int(out["label"][i])])
        print(f"\nrow {i}: decision {label!r} (p = {p:.2f})")
        if "contributions" in out and spec.get("link") == "logistic":
            names = json.loads(meta["term_names"])
            sign = 1.0 if adverse_k == 1 else -1.0  # contributions are log-odds of classes[1]
            terms = {t["name"]: t for t in spec["terms"]}
            impact = [(sign * (float(c) - favourable_reference(terms[n], sign)), n)
                      for n, c in zip(names, out["contributions"][i])]
            for rank, (d, n) in enumerate(sorted(impact, reverse=True)[: args.top], 1):
                if d > 1e-9:
                    print(f"  reason {rank}: {n} pushes toward {adverse!r} by {d:.2f} log-odds vs its most favourable value")
        elif "contributions" in out:
            names = json.loads(meta["term_names"])
            top = np.argsort(-out["contributions"][i])[: args.top]
            for rank, j in enumerate(top, 1):
                print(f"  reason {rank}: {names[j]} adds {out['contributions'][i, j]:+.2f} to the score of {label!r}")
        elif "rule" in out:
            r = int(out["rule"][i])
            rules = spec["rules"]
            if r < len(rules):
                print(f"  rule {r + 1} fired: IF " + " AND ".join(condition_text(c) for c in rules[r]["conditions"]))
            else:
                print("  no rule fired: the default rule decided")
    if args.small:
        print(f"\ndistill2rules imported: {'distill2rules' in sys.modules}")


if __name__ == "__main__":
    main()

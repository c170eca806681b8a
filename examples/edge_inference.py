"""Edge deployment: score rows with ``student.onnx`` using onnxruntime and numpy only.

No distill2rules import: the ONNX file alone carries everything (its ``"scorer"`` metadata: input
order and dtypes, category code tables, classes, adverse class and each term's reason reference,
see ``docs/onnx.md``), so an edge device prints the decision and its reason codes straight from
the graph's outputs. This is ``distill2rules.Scorer`` (``docs/edge.md``) in a few lines:

* additive students (logistic regression, EBM): ``contributions [N, n_terms]`` are each
  term's push on the log-odds of ``classes[1]``; a reason is how much a term pushes toward
  the decision compared with that term's reference (for a declined applicant, the term's
  most favourable well-defined value: the way adverse-action reason codes are derived);
* rule lists: ``rule [N]`` is the index of the rule that fired; its conditions are the reason.

Works with ``student.onnx`` and ``student.codes.onnx`` (``distill2rules export DIR --inputs
codes``: categories go in as int64 codes, converted here with a dict).

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
import re
import sys
from typing import NoReturn

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


def fail(message: str) -> NoReturn:
    """Bad input: one line on stderr, exit code 2 (as the distill2rules CLI)."""
    print(message, file=sys.stderr)
    sys.exit(2)


#: cells that mean "missing" in a numeric column (as distill2rules reads them)
MISSING = {"", "?", "NA", "N/A", "NaN", "nan", "null", "NULL", "None", "-", "."}
NUMBER = re.compile(r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|(?i:inf(?:inity)?))")


def number(v: str | None, column: str = "?", row: int = 0) -> float:
    """A numeric cell in the forms ``distill2rules predict`` reads (not "1_000" or "NAN", which
    float() alone takes); a missing marker is NaN, other text is an error naming the cell."""
    text = (v or "").strip()
    if text in MISSING:
        return float("nan")
    if not NUMBER.fullmatch(text):
        fail(f"row {row}: column '{column}' should be a number, got {v!r}.")
    return float(text)


def load_rows(path: str, columns: list[str] | None = None) -> list[dict[str, str]]:
    """The CSV's rows (a UTF-8 BOM, as Excel writes, is dropped); every column the model
    reads must be in the header: a missing column would silently score as "missing"."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        absent = [c for c in columns or [] if c not in (reader.fieldnames or [])]
        if absent:
            fail(f"{path} lacks the column(s) {', '.join(absent)} that the model reads.")
        return list(reader)


def feeds(rows: list[dict[str, str]], sc: dict) -> dict[str, np.ndarray]:
    """The graph's inputs, as ``distill2rules.Scorer`` builds them (any of the three input modes)."""
    num_cols, cat_cols = sc["numeric"], sc["categorical"]
    num = np.array(
        [[number(r.get(c), c, i) for c in num_cols] for i, r in enumerate(rows)], dtype=np.float32
    ).reshape(len(rows), len(num_cols))
    cats = [[category(r.get(c, "")) for c in cat_cols] for r in rows]
    if any(
        f["dtype"] == "int64" for f in sc["feeds"]
    ):  # inputs="codes": 0 missing, i = i-th category, n+1 unseen
        tables = [{s: i + 1 for i, s in enumerate(sc["categories"][c])} for c in cat_cols]
        cat = np.array(
            [[0 if v == "" else t.get(v, len(t) + 1) for v, t in zip(row, tables)] for row in cats],
            dtype=np.int64,
        ).reshape(len(rows), len(cat_cols))
    else:
        cat = np.array(cats, dtype=object).reshape(len(rows), len(cat_cols))
    out = {}
    for f in sc["feeds"]:
        if sc["inputs"] != "columns" or not f["columns"]:
            out[f["name"]] = num if f["name"] == "numeric" else cat
        else:  # inputs="columns": one [N, 1] input per column
            c = f["columns"][0]
            out[f["name"]] = (
                num[:, [num_cols.index(c)]] if c in num_cols else cat[:, [cat_cols.index(c)]]
            )
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        description="Decisions and reason codes from student.onnx (onnxruntime only)."
    )
    ap.add_argument("model", help="student.onnx written by `distill2rules fit` or `export`")
    ap.add_argument("rows", help="CSV with the raw feature columns (header row)")
    ap.add_argument("--top", type=int, default=3, help="reason codes per row")
    ap.add_argument(
        "--small",
        action="store_true",
        default=bool(os.environ.get("DISTILL2RULES_EXAMPLE_SMALL")),
        help="test mode: also report whether distill2rules was imported",
    )
    args = ap.parse_args(argv)

    so = ort.SessionOptions()
    so.log_severity_level = 3
    sess = ort.InferenceSession(args.model, so, providers=["CPUExecutionProvider"])
    meta = sess.get_modelmeta().custom_metadata_map
    if "scorer" not in meta:
        fail(
            "this graph has no 'scorer' metadata: re-export it with `distill2rules export DIR --format onnx`."
        )
    sc = json.loads(
        meta["scorer"]
    )  # inputs, code tables, classes, adverse class, reason references
    classes = sc["classes"]

    rows = load_rows(args.rows, sc["numeric"] + sc["categorical"])
    out = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, feeds(rows, sc))))
    print(
        f"model: {meta.get('model')} ({sc['kind']}, inputs={sc['inputs']}), classes {classes}, "
        f"adverse class {sc.get('adverse_class')!r}, {len(rows)} rows"
    )
    for i in range(len(rows)):
        k = int(out["label"][i])
        print(f"\nrow {i}: decision {classes[k]!r} (p = {float(out['probabilities'][i, k]):.2f})")
        if "contributions" in out:
            # each term's push toward the decision, against the term's reference (as `distill2rules explain`)
            sign = (
                -1.0 if sc["link"] == "logistic" and k == 0 else 1.0
            )  # logistic: log-odds of classes[1]
            impact = [
                (sign * float(c) - t["reference"][k], t)
                for c, t in zip(out["contributions"][i], sc["terms"])
            ]
            protected = set(
                sc.get("protected") or []
            )  # never cited (fair-lending guard, as `explain`)
            ranked = sorted(
                (x for x in impact if x[0] > 1e-6 and not protected & set(x[1]["features"])),
                key=lambda x: -x[0],
            )[: args.top]
            for rank, (d, t) in enumerate(ranked, 1):
                print(
                    f"  reason {rank}: {t['name']} pushes toward {classes[k]!r} by {d:.2f} "
                    f"vs its reference {t['reference_text'][k]}"
                )
        elif "rule" in out:
            r = int(out["rule"][i])
            rules = sc["rules"]
            print(
                f"  rule {r + 1} fired: {rules[r]['text']}"
                if r < len(rules)
                else f"  no rule fired: {sc['default']['text']}"
            )
    if args.small:
        print(f"\ndistill2rules imported: {'distill2rules' in sys.modules}")


if __name__ == "__main__":
    main()

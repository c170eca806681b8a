"""Scorecard vs EBM vs logreg vs a 10-quantile-bin logistic regression (and optbinning), on rows
the teacher never saw.

Per dataset (Adult, German credit, Bank Marketing): the rows are split three ways (seed 0,
stratified): 40 % train the LightGBM teacher (200 trees, the reference ``teacher train``), 40 %
are the students' training rows (labelled by the teacher) and 20 % are the test rows that neither
saw. Fidelity = agreement with the teacher's decision on the test rows; AUC = against the true
labels. Every student learns from the same teacher probabilities:

* ``scorecard``, ``ebm``, ``logreg``: the registered students with their defaults;
* ``qbin-LR``: a plain 10-quantile-bin one-hot logistic regression (scikit-learn) on the teacher's
  decisions;
* ``optbinning``: optbinning's ``Scorecard`` (``BinningProcess`` + logistic regression) on the
  teacher's decisions, when optbinning is installed (``pip install '.[bench]'``).

    python benchmarks/run_all.py --only scorecard --out /tmp/scorecard.md
    python benchmarks/scorecard.py --markdown /tmp/scorecard.md  # the same section, stand-alone
    python benchmarks/scorecard.py --datasets german_credit   # stand-alone, prints the rows
"""

from __future__ import annotations

import copy
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from _common import Context, Section, Target

OPTBINNING_MISSING = (
    "not installed: optbinning 1.0.0 needs ortools >= 9.15, which needs protobuf < 6.34, and this "
    "machine's pip constraints pin protobuf 7.36.2 (`pip install optbinning` fails to resolve)"
)
TARGETS_CAPTION = (
    "Scorecard targets: what `targets=auto` chose, and fidelity/AUC when forced to the teacher's "
    "decisions or its soft probabilities"
)
SMOOTH_CAPTION = (
    "EBM smoothing (one EBM fit per dataset, its main numeric shapes merged post-fit by "
    "`distill2rules.students._smooth.smooth_tables`; the default row is the `ebm` student above)"
)
DATASETS = ("adult", "german_credit", "bank_marketing")
#: leaks the outcome (the call's length is known only after the call): dropped, as UCI advises
DROP = {"bank_marketing": ["duration"]}


def three_way(
    frame: pd.DataFrame, target: str, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    from sklearn.model_selection import train_test_split

    rest, test = train_test_split(frame, test_size=0.2, random_state=seed, stratify=frame[target])
    teacher, student = train_test_split(
        rest, test_size=0.5, random_state=seed, stratify=rest[target]
    )
    return (
        teacher.reset_index(drop=True),
        student.reset_index(drop=True),
        test.reset_index(drop=True),
    )


def _qbin_lr(Xtr: pd.DataFrame, ytr: np.ndarray, Xte: pd.DataFrame) -> tuple[np.ndarray, float]:
    """10-quantile bins (numeric; missing its own column) + one-hot categoricals -> LogisticRegression."""
    from sklearn.linear_model import LogisticRegression

    num = [c for c in Xtr.columns if pd.api.types.is_numeric_dtype(Xtr[c])]
    edges = {
        c: np.unique(np.nanquantile(Xtr[c].to_numpy(float), np.linspace(0.1, 0.9, 9))) for c in num
    }

    def design(X: pd.DataFrame) -> pd.DataFrame:
        parts = {}
        for c in X.columns:
            if c in edges:
                x = X[c].to_numpy(float)
                b = np.searchsorted(edges[c], x, side="right").astype(object)
                b[np.isnan(x)] = "missing"
                parts[c] = pd.Series(b, index=X.index).astype(str)
            else:
                parts[c] = X[c].astype(str)
        return pd.get_dummies(pd.DataFrame(parts), dtype=float)

    Dtr = design(Xtr)
    Dte = design(Xte).reindex(columns=Dtr.columns, fill_value=0.0)
    t0 = time.perf_counter()
    lr = LogisticRegression(C=1.0, max_iter=2000).fit(Dtr.to_numpy(), ytr)
    return lr.predict_proba(Dte.to_numpy())[:, 1], time.perf_counter() - t0


def _optbinning(
    Xtr: pd.DataFrame, ytr: np.ndarray, Xte: pd.DataFrame
) -> tuple[np.ndarray, float, int]:
    from optbinning import BinningProcess, Scorecard
    from sklearn.linear_model import LogisticRegression

    cat = [c for c in Xtr.columns if not pd.api.types.is_numeric_dtype(Xtr[c])]
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bp = BinningProcess(variable_names=list(Xtr.columns), categorical_variables=cat)
        sc = Scorecard(
            binning_process=bp,
            estimator=LogisticRegression(max_iter=2000),
            scaling_method="min_max",
            scaling_method_params={"min": 300, "max": 850},
        )
        sc.fit(Xtr, ytr)
        p = sc.predict_proba(Xte)[:, 1]
    n_bins = int(
        sum(
            len(bp.get_binned_variable(v).binning_table.build()) - 3
            for v in bp.get_support(names=True)
        )
    )
    return p, time.perf_counter() - t0, n_bins


def _teacher(work: Path, name: str, X: pd.DataFrame, y: pd.Series) -> Any:
    from distill2rules.teachers import load_teacher, train_teacher

    path = work / name / "model.txt"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        train_teacher("gbt", X, y, out=path, seed=0, progress=False)
    return load_teacher(path)


def evaluate_dataset(
    name: str, work: Path, *, quick: bool = False, students: dict[str, dict] | None = None
) -> dict:
    """Fidelity/AUC of every contestant on one dataset's test rows (a dict of rows by contestant)."""
    from sklearn.metrics import roc_auc_score

    from distill2rules.data import load_dataset
    from distill2rules.kd import softmax
    from distill2rules.students import make_student

    ds = load_dataset(name)
    frame = ds.frame.drop(columns=DROP.get(name, []))
    if quick:
        frame = frame.sample(n=min(len(frame), 3000), random_state=0).reset_index(drop=True)
    tr_t, tr_s, te = three_way(frame, ds.target)
    feats = [c for c in frame.columns if c != ds.target]
    classes = np.unique(frame[ds.target].astype(str))
    teacher = _teacher(work, name + ("_quick" if quick else ""), tr_t[feats], tr_t[ds.target])
    z_s = np.asarray(teacher.logits(tr_s[feats]), dtype=np.float64)
    z_t = np.asarray(teacher.logits(te[feats]), dtype=np.float64)
    p_s, p_t = softmax(z_s), softmax(z_t)
    dec_s, dec_t = p_s.argmax(1), p_t.argmax(1)
    y_te = (te[ds.target].astype(str).to_numpy() == classes[1]).astype(int)
    y_s = tr_s[ds.target].astype(str).to_numpy()
    rows: dict[str, dict[str, Any]] = {
        "teacher": {"fidelity": 1.0, "auc": roc_auc_score(y_te, p_t[:, 1])}
    }

    def record(key: str, p1: np.ndarray, seconds: float, size: Any = None) -> None:
        rows[key] = {
            "fidelity": float(((p1 >= 0.5).astype(int) == dec_t).mean()),
            "auc": float(roc_auc_score(y_te, p1)),
            "fit_s": seconds,
            "size": size,
        }

    from distill2rules import spec as spec_mod
    from distill2rules.students import spec_complexity
    from distill2rules.students._base import raw_inputs
    from distill2rules.students._smooth import smooth_tables

    quick_p = {"ebm": {"interactions": 0, "outer_bags": 1, "max_rounds": 300}} if quick else {}
    smoothing: dict[str, Any] = {}
    for key, params in (
        students
        or {
            "scorecard": {},
            "scorecard@5%": {"min_bin_share": 0.05},
            "scorecard@decision": {"targets": "decision"},
            "scorecard@soft": {"targets": "soft"},
            "ebm": {},
            "logreg": {},
        }
    ).items():
        student = key.split("@")[0]
        smooth_ebm = (
            student == "ebm" and "min_bin_share" not in params and "merge_tol" not in params
        )
        if smooth_ebm:  # fit once unsmoothed; the student is this fit + smooth_tables(its defaults)
            params = {**params, "min_bin_share": 0.0, "merge_tol": 0.0}
        t0 = time.perf_counter()
        est = make_student(student, **{**quick_p.get(student, {}), **params}).fit(
            tr_s[feats], y_s, soft_targets=p_s
        )
        secs = time.perf_counter() - t0
        spec = est.spec_
        if smooth_ebm:
            inp = raw_inputs(tr_s[feats], spec["inputs"]["numeric"], spec["inputs"]["categorical"])
            p_te = {}
            for label, share in (
                ("raw (no merging)", 0.0),
                ("default: 1 % share, tol 0.01", 0.01),
                ("5 % share, tol 0.01", 0.05),
            ):
                sm = smooth_tables(
                    copy.deepcopy(spec),
                    inp.numeric,
                    inp.categorical,
                    inp.numeric_columns,
                    inp.categorical_columns,
                    min_share=share,
                    tol=0.01 if share else 0.0,
                )
                p_te[label] = spec_mod.evaluate(sm, te[feats])["probabilities"][:, 1]
                smoothing.setdefault(key, {})[label] = {
                    **shape_stats(sm, len(tr_s)),
                    "fidelity": float(((p_te[label] >= 0.5) == dec_t).mean()),
                    "auc": float(roc_auc_score(y_te, p_te[label])),
                }
                if share == 0.01:
                    spec = sm
            record(key, p_te["default: 1 % share, tol 0.01"], secs, spec_complexity(spec))
            continue
        record(key, est.predict_proba(te[feats])[:, 1], secs, spec_complexity(spec))
        if student == "scorecard":
            rows[key]["targets_used"] = est.targets_used_
    p, secs = _qbin_lr(tr_s[feats], dec_s, te[feats])
    record("qbin-LR", p, secs)
    try:
        p, secs, nb = _optbinning(tr_s[feats], dec_s, te[feats])
        record("optbinning", p, secs, {"bins": nb})
    except ImportError:
        rows["optbinning"] = {"error": OPTBINNING_MISSING}
    except Exception as exc:  # noqa: BLE001 - a peer failing must not sink the section
        rows["optbinning"] = {"error": f"{type(exc).__name__}: {str(exc)[:200]}"}
    return {
        "rows": rows,
        "n": {"teacher": len(tr_t), "student": len(tr_s), "test": len(te)},
        "ebm_smoothing": smoothing,
    }


def shape_stats(spec: dict, n_rows: int) -> dict[str, Any]:
    """Main numeric EBM shapes: bins, bins under 30 rows / under 1 % of rows, slope reversals."""
    bins, small30, small1, rev, worst = 0, 0, 0, 0, 0
    for t in spec["terms"]:
        if len(t["axes"]) != 1 or t["axes"][0]["kind"] != "numeric":
            continue
        c = np.asarray(t["bin_counts"])[1:]
        s = np.asarray(t["scores"], dtype=float)[1:, 0][c > 0]
        c = c[c > 0]
        bins += len(c)
        worst = max(worst, len(c))
        small30 += int((c < 30).sum())
        small1 += int((c < 0.01 * n_rows).sum())
        d = np.sign(np.diff(s))
        d = d[d != 0]
        rev += int((d[1:] != d[:-1]).sum())
    return {
        "numeric_bins": bins,
        "max_bins_one_feature": worst,
        "bins_under_30_rows": small30,
        "bins_under_1pct": small1,
        "slope_reversals": rev,
    }


def _fmt(v: Any, pct: bool = False) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "n/a"
    return f"{100 * v:.1f} %" if pct else f"{v:.3f}"


def _size(size: Any) -> str:
    if not isinstance(size, dict):
        return "n/a"
    if "bins" in size:
        return f"{size['bins']} bins"
    return f"{size.get('terms')} terms ({size.get('pairs')} pairs), {size.get('parameters')} parameters"


def run(ctx: Context) -> Section:
    work = ctx.workdir / "scorecard"
    results = {name: evaluate_dataset(name, work, quick=ctx.quick) for name in DATASETS}
    order = ["scorecard", "scorecard@5%", "ebm", "logreg", "qbin-LR", "optbinning", "teacher"]
    header = (
        ["dataset (teacher / student / test rows)"]
        + [f"{k} fidelity" for k in order[:-1]]
        + [f"{k} AUC" for k in order]
    )
    table = []
    targets = []
    for name, res in results.items():
        r = res["rows"]
        n = res["n"]
        table.append(
            [f"{name} ({n['teacher']:,} / {n['student']:,} / {n['test']:,})"]
            + [_fmt(r.get(k, {}).get("fidelity"), True) for k in order[:-1]]
            + [_fmt(r.get(k, {}).get("auc")) for k in order]
        )
        sc, ebm, qb = (r[k]["fidelity"] for k in ("scorecard", "ebm", "qbin-LR"))
        targets.append(
            Target(
                f"{name}: scorecard fidelity − EBM fidelity", 100 * (sc - ebm), -1.0, ">=", " pt"
            )
        )
        targets.append(
            Target(
                f"{name}: scorecard fidelity − 10-quantile-bin LR",
                100 * (sc - qb),
                0.0,
                ">=",
                " pt",
            )
        )
    sizes = [
        [
            name,
            *(
                _size(res["rows"].get(k, {}).get("size"))
                for k in ("scorecard", "ebm", "logreg", "optbinning")
            ),
            *(
                f"{res['rows'].get(k, {}).get('fit_s', float('nan')):.1f} s"
                for k in ("scorecard", "ebm", "logreg")
            ),
        ]
        for name, res in results.items()
    ]
    smooth_rows = [
        [
            name,
            label,
            f"{100 * v['fidelity']:.1f} %",
            f"{v['auc']:.3f}",
            v["numeric_bins"],
            v["max_bins_one_feature"],
            v["bins_under_30_rows"],
            v["bins_under_1pct"],
            v["slope_reversals"],
        ]
        for name, res in results.items()
        if name in ("adult", "german_credit")
        for label, v in res["ebm_smoothing"].get("ebm", {}).items()
    ]
    target_rows = [
        [
            name,
            res["rows"]["scorecard"].get("targets_used", "n/a"),
            *(
                _fmt(res["rows"].get(f"scorecard@{m}", {}).get("fidelity"), True)
                for m in ("decision", "soft")
            ),
            *(_fmt(res["rows"].get(f"scorecard@{m}", {}).get("auc")) for m in ("decision", "soft")),
        ]
        for name, res in results.items()
    ]
    errors = sorted(
        {
            res["rows"]["optbinning"]["error"]
            for res in results.values()
            if "error" in res["rows"].get("optbinning", {})
        }
    )
    notes = [f"optbinning: {e}" for e in errors]
    notes.append(
        "`scorecard` is the registered student with its defaults (bins of at least 2 % of the rows, "
        "categorical levels grouped by teacher rate, l1 5e-5); `scorecard@5%` the same with "
        "`-p min_bin_share=0.05` (the classic 5 % bins)."
    )
    return Section(
        title="Scorecard (held-out rows)",
        intro=(
            "Teacher (LightGBM, 200 trees) trained on 40 % of the rows, students fitted on another 40 % "
            "labelled by the teacher, everything scored on the remaining 20 % that neither saw (seed 0, "
            "stratified). Fidelity = agreement with the teacher's decision; AUC against the true labels. "
            "`qbin-LR`: 10-quantile-bin one-hot logistic regression on the teacher's decisions; `optbinning`: "
            "optbinning's `Scorecard` (default `BinningProcess`, logistic regression) on the teacher's "
            "decisions. Bank Marketing without `duration` (it leaks the outcome)."
        ),
        tables=[
            ("Fidelity and AUC on the test rows", header, table),
            (
                "Size (spec complexity / optbinning bins) and fit time",
                [
                    "dataset",
                    "scorecard",
                    "ebm",
                    "logreg",
                    "optbinning",
                    "scorecard fit",
                    "ebm fit",
                    "logreg fit",
                ],
                sizes,
            ),
            (
                TARGETS_CAPTION,
                [
                    "dataset",
                    "auto chose",
                    "decision fidelity",
                    "soft fidelity",
                    "decision AUC",
                    "soft AUC",
                ],
                target_rows,
            ),
            (
                SMOOTH_CAPTION,
                [
                    "dataset",
                    "EBM shapes",
                    "fidelity",
                    "AUC",
                    "numeric bins",
                    "most bins in one feature",
                    "bins < 30 rows",
                    "bins < 1 % of rows",
                    "slope reversals",
                ],
                smooth_rows,
            ),
        ],
        targets=targets,
        notes=notes,
        data=results,
    )


if __name__ == "__main__":
    import argparse
    import json
    import os
    import sys

    from _common import DEFAULT_WORKDIR, data_env, json_dump

    os.environ.update(data_env())
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", default=",".join(DATASETS))
    ap.add_argument("--quick", action="store_true")
    ap.add_argument(
        "--markdown",
        type=Path,
        default=None,
        help="write this section's Markdown (as run_all.py renders it) here, without run_all's "
        "Adult teachers; ignores --datasets/--student",
    )
    ap.add_argument(
        "--student",
        action="append",
        default=[],
        help="KEY=STUDENT[:JSON params], e.g. 'sc8=scorecard:{\"max_bins\": 8}' (repeatable)",
    )
    args = ap.parse_args()
    if args.markdown is not None:
        ctx = Context(
            quick=args.quick,
            workdir=DEFAULT_WORKDIR / ("quick" if args.quick else ""),
            rounds=0,
            n_calls=0,
            batch_rows=0,
            students=[],
        )
        sec = run(ctx)
        args.markdown.write_text(sec.markdown(), encoding="utf-8")
        (ctx.workdir / "scorecard" / "results.json").write_text(json_dump(sec.data))
        for t in sec.targets:
            print(
                f"  {t.status:4}  {t.name}: {t.row()[1]} (goal {t.op} {t.threshold:g}{t.unit})",
                file=sys.stderr,
            )
        raise SystemExit(0)
    studs: dict[str, dict] | None = None
    if args.student:
        studs = {}
        for s in args.student:
            key, _, rest = s.partition("=")
            stud, _, js = rest.partition(":")
            studs[f"{stud}@{key}"] = json.loads(js) if js else {}
    for name in args.datasets.split(","):
        res = evaluate_dataset(
            name, DEFAULT_WORKDIR / "scorecard", quick=args.quick, students=studs
        )
        for k, v in res["rows"].items():
            print(name, k, json_dump(v).replace("\n", ""), file=sys.stdout, flush=True)
        for k, v in res["ebm_smoothing"].items():
            print(name, k, "smoothing", json_dump(v).replace("\n", ""), file=sys.stdout, flush=True)

"""Fidelity on rows the teacher never saw: our recipes against plain recipes of the same size (issue 18).

For every data set (Adult, German credit, Bank Marketing, Wine Quality binarised to quality >= 7),
seed and teacher kind (LightGBM GBT, PyTorch MLP):

1. a sample of at most ``max_rows`` rows is split 40 / 60 by seed: the teacher is trained on the
   40 % (its own rows) and never sees the 60 %;
2. ``distill()`` gets the 60 % and splits it 70 / 15 / 15 (train / validation / test) as ``fit``
   does; **fidelity** (agreement with the teacher's class) is measured on that test split;
3. every student kind is fitted with today's default before issue 18 (``τ = 1`` soft targets,
   no augmentation; EBM with 2 outer bags), the new default (``temperature=None``: the
   student's default from :mod:`distill2rules.kd.recipes`), ``τ = 0`` where that is not the
   default, and the new default with ``--augment auto`` (cheap students);
4. plain recipes of the same size are fitted on the same training rows and the teacher's
   labels: scikit-learn logistic regression on the teacher's argmax and on its probabilities
   (weighted rows), a 10-quantile-bin one-hot logistic regression on the argmax, FIGS with 10
   splits (imodels; classifier on the argmax and regressor on the teacher's logit), the interpret
   EBM classifier on the argmax (same pairs and bags as ours) and a depth-4 scikit-learn tree on
   the argmax.

Run: ``python benchmarks/run_all.py --only fidelity --out /tmp/fidelity.md`` (``--quick``: one
small data set, one seed, GBT teacher, two students — plumbing only).
"""

from __future__ import annotations

import dataclasses
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Context, Section, Target, json_dump

DATASETS = ("adult", "german_credit", "bank_marketing", "wine_quality")
TEACHERS = ("gbt", "mlp")
STUDENTS = ("logreg", "scorecard", "ebm", "tree", "rules")
AUGMENT_STUDENTS = (
    "logreg",
    "scorecard",
    "tree",
    "rules",
)  # --augment auto: 20x rows is too slow for EBM here


@dataclasses.dataclass
class Settings:
    datasets: tuple[str, ...] = DATASETS
    teachers: tuple[str, ...] = TEACHERS
    students: tuple[str, ...] = STUDENTS
    seeds: tuple[int, ...] = (0, 1, 2)
    max_rows: int = 10_000
    augment: bool = True
    plain: bool = True
    lean_ebm: bool = False  # EBM: only the new default (no 'before' with 2 outer bags, no τ = 0): saves ~2/3 of the run

    @classmethod
    def quick(cls) -> Settings:
        return cls(
            datasets=("german_credit",),
            teachers=("gbt",),
            students=("logreg", "tree"),
            seeds=(0,),
            max_rows=1000,
            augment=False,
        )


# ----------------------------------------------------------------------------- data and teachers


def load(name: str, max_rows: int, seed: int) -> tuple[pd.DataFrame, str]:
    """The data set (Wine Quality binarised: ``good`` = quality >= 7), at most ``max_rows`` rows."""
    from distill2rules.data import load_dataset

    ds = load_dataset(name)
    frame = ds.frame
    if name == "wine_quality":
        frame = frame.assign(**{ds.target: np.where(frame[ds.target] >= 7, "good", "other")})
    if len(frame) > max_rows:
        frame = frame.sample(n=max_rows, random_state=seed)
    return frame.reset_index(drop=True), ds.target


def teacher_split(frame: pd.DataFrame, target: str, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """40 % for the teacher, 60 % for distillation (stratified by the target)."""
    from sklearn.model_selection import train_test_split

    own, rest = train_test_split(frame, train_size=0.4, random_state=seed, stratify=frame[target])
    return own.reset_index(drop=True), rest.reset_index(drop=True)


def train(kind: str, own: pd.DataFrame, target: str, seed: int, path: Path, quick: bool) -> Any:
    from distill2rules.teachers import load_teacher, train_teacher

    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        X, y = own.drop(columns=[target]), own[target]
        kw: dict[str, Any] = (
            {"n_estimators": 30 if quick else 200}
            if kind == "gbt"
            else {"hidden": (64, 32), "max_epochs": 5 if quick else 30}
        )
        train_teacher(kind, X, y, out=path, seed=seed, progress=False, **kw)
    return load_teacher(path)


# ----------------------------------------------------------------------------- plain recipes


def _preprocessor(X: pd.DataFrame, cats: list[str], *, scale: bool, bins: int = 0) -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import KBinsDiscretizer, OneHotEncoder, StandardScaler

    nums = [c for c in X.columns if c not in cats]
    steps: list[Any] = [SimpleImputer(strategy="median")]
    if bins:
        steps.append(
            KBinsDiscretizer(
                n_bins=bins,
                encode="onehot",
                strategy="quantile",
                quantile_method="averaged_inverted_cdf",
            )
        )
    elif scale:
        steps.append(StandardScaler())
    parts = [("num", make_pipeline(*steps), nums)] if nums else []
    if cats:
        parts.append(
            (
                "cat",
                make_pipeline(
                    SimpleImputer(strategy="constant", fill_value="(missing)"),
                    OneHotEncoder(handle_unknown="ignore", min_frequency=5),
                ),
                cats,
            )
        )
    return ColumnTransformer(parts, sparse_threshold=0.0)


def _as_object(X: pd.DataFrame, cats: list[str]) -> pd.DataFrame:
    X = X.copy()
    for c in cats:
        X[c] = X[c].astype(object).where(X[c].notna(), None)
    return X


def plain_recipes(student: str) -> list[tuple[str, Callable[..., Any]]]:
    """``(name, fit(X, cats, z) -> (predict(X) -> class index, size))`` of the plain recipes for ``student``."""

    def lr(soft: bool, bins: int = 0) -> Callable[..., Any]:
        def fit(
            X: pd.DataFrame, cats: list[str], z: np.ndarray
        ) -> tuple[Callable[[pd.DataFrame], np.ndarray], int]:
            from sklearn.linear_model import LogisticRegression

            from distill2rules.kd import softmax

            pre = _preprocessor(X, cats, scale=True, bins=bins)
            Z = pre.fit_transform(_as_object(X, cats))
            k = z.shape[1]
            if soft:
                p = softmax(z)
                rows = np.repeat(np.arange(len(Z)), k)
                lab = np.tile(np.arange(k), len(Z))
                m = LogisticRegression(max_iter=3000).fit(
                    Z[rows], lab, sample_weight=p.ravel() + 1e-12
                )
            else:
                m = LogisticRegression(max_iter=3000).fit(Z, z.argmax(1))
            return (lambda Xn: m.predict(pre.transform(_as_object(Xn, cats)))), int(
                m.coef_.size + m.intercept_.size
            )

        return fit

    def figs(regress: bool) -> Callable[..., Any]:
        def fit(
            X: pd.DataFrame, cats: list[str], z: np.ndarray
        ) -> tuple[Callable[[pd.DataFrame], np.ndarray], int]:
            from imodels import FIGSClassifier, FIGSRegressor

            pre = _preprocessor(X, cats, scale=False)
            Z = pre.fit_transform(_as_object(X, cats))
            if regress and z.shape[1] == 2:
                m = FIGSRegressor(max_rules=10, random_state=0).fit(Z, z[:, 1] - z[:, 0])
                pred = lambda Xn: (m.predict(pre.transform(_as_object(Xn, cats))) > 0).astype(int)
            else:
                m = FIGSClassifier(max_rules=10, random_state=0).fit(Z, z.argmax(1))
                pred = lambda Xn: m.predict(pre.transform(_as_object(Xn, cats))).astype(int)
            return pred, int(getattr(m, "complexity_", 10))

        return fit

    def tree(
        X: pd.DataFrame, cats: list[str], z: np.ndarray
    ) -> tuple[Callable[[pd.DataFrame], np.ndarray], int]:
        from sklearn.tree import DecisionTreeClassifier

        pre = _preprocessor(X, cats, scale=False)
        m = DecisionTreeClassifier(max_depth=4, min_samples_leaf=5, random_state=0).fit(
            pre.fit_transform(_as_object(X, cats)), z.argmax(1)
        )
        return (lambda Xn: m.predict(pre.transform(_as_object(Xn, cats)))), int(m.get_n_leaves())

    def ebm(
        X: pd.DataFrame, cats: list[str], z: np.ndarray
    ) -> tuple[Callable[[pd.DataFrame], np.ndarray], int]:
        from interpret.glassbox import ExplainableBoostingClassifier

        m = ExplainableBoostingClassifier(
            interactions=10 if z.shape[1] == 2 else 0, outer_bags=1, random_state=0, n_jobs=1
        )
        m.fit(_as_object(X, cats), z.argmax(1))
        return (lambda Xn: m.predict(_as_object(Xn, cats)).astype(int)), len(m.term_features_)

    table: dict[str, list[tuple[str, Callable[..., Any]]]] = {
        "logreg": [("sklearn LR, argmax", lr(False)), ("sklearn LR, probabilities", lr(True))],
        "scorecard": [("10-quantile-bin LR, argmax", lr(False, bins=10))],
        "ebm": [("interpret EBM, argmax", ebm)],
        "tree": [("sklearn tree depth 4, argmax", tree)],
        "rules": [
            ("FIGS-10, argmax", figs(False)),
            ("FIGSRegressor-10, teacher logit", figs(True)),
        ],
    }
    return table.get(student, [])


# ----------------------------------------------------------------------------- our recipes


def our_recipes(student: str, s: Settings) -> list[tuple[str, dict[str, Any]]]:
    from distill2rules.kd.recipes import default_temperature

    old: dict[str, Any] = {
        "temperature": 1.0,
        "student_params": {"outer_bags": 2} if student == "ebm" else {},
    }
    if student == "rules":  # before issue 18: the beam-search list only
        old["student_params"] = {"learner": "beam"}
    new = ("new default", {"temperature": None, "baseline": True})
    if student == "ebm" and s.lean_ebm:
        return [new]
    out = [("before (τ = 1, no augmentation)", old), new]
    if default_temperature(student) != 0:
        out.append(("τ = 0", {"temperature": 0.0}))
    if student == "rules":
        out.append(
            (
                "FIGS learner (-p learner=figs)",
                {"temperature": None, "student_params": {"learner": "figs"}},
            )
        )
    if student in ("logreg", "tree", "scorecard"):  # rules: 4 fits of ~15 s each per cell
        out.append(("--temperature auto", {"temperature": "auto"}))
    if s.augment and student in AUGMENT_STUDENTS:
        out.append(("new default + --augment auto", {"temperature": None, "augment": "auto"}))
    return out


def _fit_seconds(timings: dict[str, float]) -> float:
    keys = ("student (KD", "autotune", "choose --augment", "augment (")
    return float(sum(v for k, v in timings.items() if any(t in k for t in keys)))


def run_cell(
    name: str,
    kind: str,
    seed: int,
    s: Settings,
    workdir: Path,
    quick: bool,
    log: Callable[[str], None],
) -> list[dict]:
    """Every recipe for one (data set, teacher kind, seed)."""
    from distill2rules.data import split_frame
    from distill2rules.pipeline import align_teacher_classes, distill, load_inputs
    from distill2rules.students import STUDENTS as REGISTERED
    from distill2rules.students import spec_complexity

    frame, target = load(name, s.max_rows, seed)
    own, rest = teacher_split(frame, target, seed)
    teacher = train(
        kind,
        own,
        target,
        seed,
        workdir
        / "teachers"
        / f"{name}-{kind}-{seed}"
        / ("model.txt" if kind == "gbt" else "model.pt"),
        quick,
    )
    ds = load_inputs(rest, target)
    parts = split_frame(ds.frame, ds.target, seed=seed)
    feats = [c for c in ds.frame.columns if c != target]
    classes = (
        np.unique(ds.frame[target].astype(str))
        if ds.frame[target].dtype == object
        else np.unique(ds.frame[target])
    )
    perm = align_teacher_classes(teacher, classes)

    def logits(X: pd.DataFrame) -> np.ndarray:
        return np.asarray(
            teacher.logits(X[list(teacher.feature_names or feats)]), dtype=np.float64
        )[:, perm]

    z_tr, z_te = logits(parts.train[feats]), logits(parts.test[feats])
    t_te = z_te.argmax(1)
    cats = [c for c in ds.schema.categorical_columns if c in feats]
    rows: list[dict] = []
    base = {
        "dataset": name,
        "teacher": kind,
        "seed": seed,
        "n_train": len(parts.train),
        "n_test": len(parts.test),
    }
    for student in s.students:
        if student not in REGISTERED:
            continue
        for label, kw in our_recipes(student, s):
            kw = dict(kw)
            params = dict(kw.pop("student_params", {}))
            if quick and student == "ebm":
                params.update(interactions=0, max_rounds=300)
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = distill(
                    teacher,
                    ds.frame,
                    target=target,
                    schema=ds.schema,
                    student=student,
                    seed=seed,
                    progress=False,
                    export_onnx=False,
                    student_params=params,
                    **{"baseline": False, **kw},
                )
            wall = time.perf_counter() - t0
            m = res.metrics
            row = {
                **base,
                "student": student,
                "recipe": label,
                "ours": True,
                "fidelity": m["test"]["student"]["fidelity"],
                "ece": m["test"]["student"].get("ece"),
                "ece_no_kd": (m["test"].get("baseline") or {}).get("ece"),
                "fidelity_no_kd": (m["test"].get("baseline") or {}).get("fidelity"),
                "size": spec_complexity(res.spec),
                "fit_s": _fit_seconds(m["timings"]),
                "wall_s": wall,
                "temperature": m["temperature"],
                "decisions_moved": (m.get("calibration") or {}).get("val_decisions_moved", 0),
                "augment_rows": (m.get("augment") or {}).get("auto", {}).get("chosen_rows"),
            }
            rows.append(row)
            log(
                f"{name}/{kind}/{seed} {student:9} {label:34} fid {row['fidelity']:.4f}  {wall:5.1f} s"
            )
        if not s.plain:
            continue
        for label, fit in plain_recipes(student):
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                predict, size = fit(parts.train[feats], cats, z_tr)
            fit_s = time.perf_counter() - t0
            fid = float(np.mean(np.asarray(predict(parts.test[feats])) == t_te))
            rows.append(
                {
                    **base,
                    "student": student,
                    "recipe": label,
                    "ours": False,
                    "fidelity": fid,
                    "size": {"parameters": size},
                    "fit_s": fit_s,
                    "wall_s": fit_s,
                }
            )
            log(f"{name}/{kind}/{seed} {student:9} {label:34} fid {fid:.4f}  {fit_s:5.1f} s")
    teacher_acc = float(
        np.mean(
            t_te == np.asarray([list(map(str, classes)).index(str(v)) for v in parts.test[target]])
        )
    )
    for r in rows:
        r["teacher_test_accuracy"] = teacher_acc
    return rows


# ----------------------------------------------------------------------------- report


def _mean_sd(vals: list[float]) -> tuple[float, float]:
    a = np.asarray([v for v in vals if v is not None], dtype=float)
    if a.size == 0:
        return float("nan"), float("nan")
    return float(a.mean()), float(a.std(ddof=1)) if a.size > 1 else 0.0


def _size_text(sizes: list[dict[str, Any]]) -> str:
    """Range over the runs of the headline size: rules, terms (pairs) or parameters/leaves."""

    def span(key: str) -> str:
        v = sorted(int(z[key]) for z in sizes if key in z)
        return f"{v[0]}" if v[0] == v[-1] else f"{v[0]}–{v[-1]}"

    if all("rules" in z for z in sizes):
        return f"{span('rules')} rules"
    if all("terms" in z for z in sizes):
        pairs = span("pairs") if all("pairs" in z for z in sizes) else "0"
        return f"{span('terms')} terms" + (f" ({pairs} pairs)" if pairs != "0" else "")
    if all("parameters" in z for z in sizes):
        return f"{span('parameters')} params/leaves"
    return str(sizes[0])


def summarise(rows: list[dict], s: Settings) -> Section:
    cells = [(d, t) for d in s.datasets for t in s.teachers]
    names = {
        "adult": "Adult",
        "german_credit": "German",
        "bank_marketing": "Bank",
        "wine_quality": "Wine≥7",
    }
    header = (
        ["student", "recipe"]
        + [f"{names.get(d, d)} {t.upper()}" for d, t in cells]
        + ["size (range)", "fit s (mean)"]
    )
    table: list[list[str]] = []
    stats: dict[tuple[str, str], dict[tuple[str, str], tuple[float, float]]] = {}
    for student in s.students:
        recipes = list(dict.fromkeys(r["recipe"] for r in rows if r["student"] == student))
        for recipe in recipes:
            sel = [r for r in rows if r["student"] == student and r["recipe"] == recipe]
            line = [student, recipe + ("" if sel[0]["ours"] else " (plain)")]
            for d, t in cells:
                ms = _mean_sd(
                    [r["fidelity"] for r in sel if r["dataset"] == d and r["teacher"] == t]
                )
                stats.setdefault((student, recipe), {})[(d, t)] = ms
                line.append("n/a" if not np.isfinite(ms[0]) else f"{ms[0]:.3f} ± {ms[1]:.3f}")
            line.append(_size_text([r["size"] for r in sel]))
            line.append(f"{np.mean([r['fit_s'] for r in sel]):.2f}")
            table.append(line)
    sec = Section(
        title="Fidelity (issue 18)",
        intro=(
            f"Fidelity = agreement with the teacher's class on held-out rows the teacher never saw (the teacher is trained on "
            f"40 % of a ≤ {s.max_rows:,}-row sample, students on the other 60 %, split 70/15/15 as `fit` does; fidelity on "
            f"its test split). Mean ± sd over {len(s.seeds)} seed(s) ({', '.join(map(str, s.seeds))}); each seed redraws the "
            "sample, the teacher and the split. Teachers: LightGBM 200 trees, PyTorch MLP 64-32. Plain recipes are fitted "
            "on the same training rows and the teacher's labels (see `benchmarks/fidelity.py`). 'before' is `fit`'s default "
            "before issue 18 (τ = 1, EBM with 2 outer bags); 'new default' is `fit` without `--temperature`."
        ),
    )
    sec.tables.append(("Test fidelity by data set and teacher", header, table))

    # ECE after calibration: new default vs the same student on true labels (no KD)
    ece_rows, ece_gap = [], {}
    for student in s.students:
        sel = [
            r
            for r in rows
            if r["student"] == student
            and r["recipe"] == "new default"
            and r.get("ece_no_kd") is not None
        ]
        if not sel:
            continue
        line = [student]
        diffs = []
        for d in s.datasets:
            kd_ = [r["ece"] for r in sel if r["dataset"] == d]
            nk = [r["ece_no_kd"] for r in sel if r["dataset"] == d]
            line.append(f"{np.mean(kd_):.3f} / {np.mean(nk):.3f}" if kd_ else "n/a")
            diffs += [a - b for a, b in zip(kd_, nk)]
        ece_gap[student] = float(np.mean(diffs)) if diffs else float("nan")
        line.append(f"{ece_gap[student] * 100:+.2f}")
        ece_rows.append(line)
    if ece_rows:
        sec.tables.append(
            (
                "Test ECE after calibration: new default (KD) / same student on true labels (no KD)",
                ["student"] + [names.get(d, d) for d in s.datasets] + ["mean KD − no KD (points)"],
                ece_rows,
            )
        )

    # targets
    for student in s.students:
        new = stats.get((student, "new default"))
        plains = [
            k
            for k in stats
            if k[0] == student
            and not any(r["ours"] for r in rows if r["student"] == student and r["recipe"] == k[1])
        ]
        if not new or not plains:
            continue
        short = 0
        worst = 0.0
        for cell in cells:
            best = max(
                (stats[p][cell] for p in plains if np.isfinite(stats[p][cell][0])),
                key=lambda ms: ms[0],
                default=None,
            )
            if best is None or not np.isfinite(new[cell][0]):
                continue
            n_test = np.mean([r["n_test"] for r in rows if (r["dataset"], r["teacher"]) == cell])
            se = float(np.sqrt(best[0] * (1 - best[0]) / max(n_test, 1)))  # noise of one test split
            sd = max(new[cell][1], best[1]) if len(s.seeds) > 1 else se
            gap = new[cell][0] - best[0]
            worst = min(worst, gap)
            short += int(gap < -sd)
        yardstick = (
            "one seed sd" if len(s.seeds) > 1 else "one binomial SE of the test split (one seed)"
        )
        sec.targets.append(
            Target(
                f"{student}: new default below the best plain recipe by more than {yardstick}",
                float(short),
                0,
                op="<=",
                unit=" cells",
                note=f"largest shortfall {worst * 100:+.1f} pts over {len(cells)} data set × teacher cells",
            )
        )
    for student in ("logreg", "scorecard"):
        new, old = (
            stats.get((student, "new default")),
            stats.get((student, "before (τ = 1, no augmentation)")),
        )
        if not new or not old:
            continue
        gains = []
        for d in s.datasets:
            g = [new[(d, t)][0] - old[(d, t)][0] for t in s.teachers if np.isfinite(new[(d, t)][0])]
            gains.append(float(np.mean(g)) if g else float("nan"))
        sec.targets.append(
            Target(
                f"{student}: data sets where the new default gains ≥ 1 pt over before",
                float(sum(g >= 0.01 for g in gains)),
                2,
                unit="",
                note="gains (pts, mean over teachers): "
                + ", ".join(f"{names.get(d, d)} {g * 100:+.1f}" for d, g in zip(s.datasets, gains)),
            )
        )
    for student, gap in ece_gap.items():
        sec.targets.append(
            Target(
                f"{student}: ECE after calibration, KD − no KD", gap * 100, 0, op="<=", unit=" pts"
            )
        )
    moved = sum(int(r.get("decisions_moved") or 0) for r in rows if r["ours"])
    sec.targets.append(
        Target(
            "validation decisions moved by calibration (all our fits)",
            float(moved),
            0,
            op="<=",
            unit="",
        )
    )
    ebm_old = [
        r["fit_s"] for r in rows if r["student"] == "ebm" and r["recipe"].startswith("before")
    ]
    ebm_new = [r["fit_s"] for r in rows if r["student"] == "ebm" and r["recipe"] == "new default"]
    if ebm_old and ebm_new:
        sec.notes.append(
            f"EBM fit time, 2 outer bags (before) vs 1 (new default): {np.mean(ebm_old):.1f} s vs {np.mean(ebm_new):.1f} s "
            f"per fit ({np.mean(ebm_old) / max(np.mean(ebm_new), 1e-9):.1f}× faster), fidelity in the table above."
        )
    aug = [r for r in rows if r["recipe"].endswith("--augment auto")]
    if aug:
        picks = (
            pd.Series([f"{round((r['augment_rows'] or 0) / r['n_train'])}x" for r in aug])
            .value_counts()
            .to_dict()
        )
        sec.notes.append(
            "`--augment auto` chose (multiplier: fits): "
            + ", ".join(f"{k}: {v}" for k, v in picks.items())
            + "."
        )
    acc = {(r["dataset"], r["teacher"]): r["teacher_test_accuracy"] for r in rows}
    sec.notes.append(
        "Teacher test accuracy (mean over seeds): "
        + ", ".join(
            f"{names.get(d, d)} {t.upper()} {np.mean([r['teacher_test_accuracy'] for r in rows if (r['dataset'], r['teacher']) == (d, t)]):.3f}"
            for d, t in cells
            if (d, t) in acc
        )
        + "."
    )
    sec.data = {"settings": dataclasses.asdict(s), "rows": rows}
    return sec


def run(ctx: Context, settings: Settings | None = None) -> Section:
    s = settings or (Settings.quick() if ctx.quick else Settings())
    workdir = ctx.workdir / "fidelity"
    rows: list[dict] = []

    def log(msg: str) -> None:
        print(f"  [fidelity] {msg}", file=sys.stderr, flush=True)

    for name in s.datasets:
        for kind in s.teachers:
            for seed in s.seeds:
                rows += run_cell(name, kind, seed, s, workdir, ctx.quick, log)
                (workdir / "rows.json").write_text(json_dump(rows))
    return summarise(rows, s)


def main(argv: list[str] | None = None) -> int:
    """Standalone run with fewer seeds or data sets: prints (or writes) the section's Markdown."""
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2])
    ap.add_argument("--datasets", nargs="*", default=list(DATASETS))
    ap.add_argument("--teachers", nargs="*", default=list(TEACHERS))
    ap.add_argument("--students", nargs="*", default=list(STUDENTS))
    ap.add_argument("--max-rows", type=int, default=10_000)
    ap.add_argument("--no-augment", action="store_true")
    ap.add_argument(
        "--lean-ebm", action="store_true", help="EBM: the new default only (no 'before', no τ = 0)"
    )
    ap.add_argument(
        "--from-rows",
        type=Path,
        nargs="*",
        default=None,
        help="summarise rows.json files of earlier runs (e.g. one per teacher) instead of running",
    )
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    s = Settings(
        datasets=tuple(args.datasets),
        teachers=tuple(args.teachers),
        students=tuple(args.students),
        seeds=tuple(args.seeds),
        max_rows=args.max_rows,
        augment=not args.no_augment,
        lean_ebm=args.lean_ebm,
    )
    if args.from_rows:
        import json

        rows = [r for f in args.from_rows for r in json.loads(f.read_text(encoding="utf-8"))]
        md = summarise(rows, s).markdown()
    else:
        wd = args.workdir or Path(__file__).resolve().parents[1] / "runs" / "bench"
        ctx = Context(
            quick=False, workdir=wd, rounds=1, n_calls=1, batch_rows=1, students=list(s.students)
        )
        md = run(ctx, s).markdown()
    if args.out:
        args.out.write_text(md + "\n", encoding="utf-8")
    else:
        print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The paper's benchmark (Table 1 set-up), measured with our implementation.

Three cases, 70/15/15 splits, per seed a fresh teacher trained on that seed's train split,
then the student with knowledge distillation (τ = 4, α = 0.5 by default) and without it
(hard labels, i.e. α = 1), both temperature-calibrated on the validation split:

=============  ===================================  =========================
dataset        teacher                              student
=============  ===================================  =========================
adult          MLP 512-256-128-64-32                MLP 64-32
breast_cancer  LightGBM, 200 trees                  logistic regression
wine_quality   MLP 256-128-64-32 (4 layers)         MLP 32 (1 hidden layer)
=============  ===================================  =========================

Reported (test split, mean ± sd over seeds): Table 2 — accuracy, SHAP cosine (per row) and
stability (σ = 0.05) of teacher / student without KD / student with KD; Table 3 — per
dataset cosine, MAD and stability of both students with paired t-test p-values and Cohen's d
(KD vs no-KD across seeds); plus a temperature curve (accuracy and fidelity of the KD student
for τ ∈ {1, 2, 3, 5, 8}, seed 0). Everything is seeded: the same arguments give the same
numbers (timings aside).
"""

from __future__ import annotations

import csv
import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from distill2rules.data import load_dataset, split_frame
from distill2rules.errors import ConfigError
from distill2rules.experiments.runs import class_indices, compare_students, sample_rows
from distill2rules.pipeline import distill
from distill2rules.results import jsonable
from distill2rules.students import STUDENTS
from distill2rules.teachers import train_teacher
from distill2rules.validation import paired_ttest, wilcoxon

__all__ = [
    "PAPER_CASES",
    "PaperCase",
    "PaperSettings",
    "format_table2",
    "format_table3",
    "run_paper_benchmark",
]


@dataclass(frozen=True)
class PaperCase:
    """One row of the paper's Table 1."""

    dataset: str
    teacher_kind: str
    teacher_hidden: tuple[int, ...] | None
    student: str
    student_params: dict[str, Any] = field(default_factory=dict)

    @property
    def teacher_label(self) -> str:
        return _TEACHERS[self.teacher_kind].label(self)

    @property
    def student_label(self) -> str:
        if self.student == "mlp":
            return "MLP " + "-".join(map(str, self.student_params.get("hidden", ())))
        return {"logreg": "logistic regression"}.get(self.student, self.student)


PAPER_CASES: dict[str, PaperCase] = {
    "adult": PaperCase("adult", "mlp", (512, 256, 128, 64, 32), "mlp", {"hidden": [64, 32]}),
    "breast_cancer": PaperCase("breast_cancer", "gbt", None, "logreg", {}),
    "wine_quality": PaperCase("wine_quality", "mlp", (256, 128, 64, 32), "mlp", {"hidden": [32]}),
}


@dataclass
class PaperSettings:
    """Knobs of one benchmark run (``quick`` and ``full`` presets via :meth:`preset`)."""

    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    datasets: tuple[str, ...] = ("adult", "breast_cancer", "wine_quality")
    temperature: float = 4.0
    alpha: float = 0.5
    curve_temperatures: tuple[float, ...] = (1.0, 2.0, 3.0, 5.0, 8.0)
    curve_seed: int = 0
    max_rows: dict[str, int] = field(default_factory=dict)
    teacher_epochs: int = 40
    teacher_patience: int = 5
    student_epochs: int = 200
    shap_rows: int = 500
    stability_rows: int = 200
    sigmas: tuple[float, ...] = (0.01, 0.05, 0.1)
    headline_sigma: float = 0.05
    n_permutations: int = 5
    max_background: int = 100
    background_rows: int = 200
    mode: str = "full"

    @classmethod
    def preset(
        cls, *, quick: bool = False, seeds: int | None = None, smoke: bool = False
    ) -> PaperSettings:
        """``full`` (5 seeds, every row, 500 SHAP rows) or ``quick`` (2 seeds, Adult subsampled to
        8,000 rows, teachers ≤ 10 epochs, students ≤ 60 epochs, 200 SHAP rows, 50 stability rows,
        3 permutations and 50 background rows for permutation explainers).
        ``smoke`` (tests): breast_cancer only, 1 seed, τ curve {1, 4}, 60 SHAP rows."""
        if smoke:
            s = cls(
                seeds=(0,),
                datasets=("breast_cancer",),
                curve_temperatures=(1.0, 4.0),
                shap_rows=60,
                stability_rows=30,
                mode="smoke",
            )
        elif quick:
            s = cls(
                seeds=(0, 1),
                max_rows={"adult": 8000},
                teacher_epochs=10,
                teacher_patience=3,
                student_epochs=60,
                shap_rows=200,
                stability_rows=50,
                n_permutations=3,
                max_background=50,
                mode="quick",
            )
        else:
            s = cls()
        if seeds is not None:
            if seeds < 1:
                raise ConfigError(f"--seeds must be >= 1, got {seeds}.")
            s.seeds = tuple(range(int(seeds)))
        return s


@dataclass(frozen=True)
class _TeacherRecipe:
    """How the benchmark names and trains one kind of teacher (``PaperCase.teacher_kind``)."""

    label: Callable[[PaperCase], str]
    kwargs: Callable[[PaperCase, PaperSettings], dict[str, Any]]


def _mlp_teacher_kwargs(case: PaperCase, settings: PaperSettings) -> dict[str, Any]:
    return {
        "hidden": case.teacher_hidden,
        "max_epochs": settings.teacher_epochs,
        "patience": settings.teacher_patience,
        "n_jobs": 2,
    }


_TEACHERS: dict[str, _TeacherRecipe] = {
    # LightGBM on one thread: with two, an iteration can stall ~1 s on a busy 2-core machine
    "gbt": _TeacherRecipe(lambda case: "LightGBM 200 trees", lambda case, settings: {"n_jobs": 1}),
    "mlp": _TeacherRecipe(
        lambda case: "MLP " + "-".join(map(str, case.teacher_hidden or ())), _mlp_teacher_kwargs
    ),
}


# ----------------------------------------------------------------------------- one dataset, one seed


def _frame(case: PaperCase, settings: PaperSettings) -> Any:
    """The dataset (stratified, fixed-seed subsample when ``max_rows`` caps it: same rows for every seed)."""

    ds = load_dataset(case.dataset)
    cap = settings.max_rows.get(case.dataset)
    frame = ds.frame
    if cap and len(frame) > cap:
        frac = cap / len(frame)
        frame = frame.groupby(ds.target, group_keys=False, observed=True).sample(
            frac=frac, random_state=0
        )
        frame = frame.sort_index()
    return ds, frame


def _train_teacher(
    case: PaperCase,
    splits: Any,
    feats: list[str],
    target: str,
    seed: int,
    path: Path,
    settings: PaperSettings,
) -> Any:
    return train_teacher(
        case.teacher_kind,
        splits.train[feats],
        splits.train[target],
        out=path,
        seed=seed,
        X_val=splits.val[feats],
        y_val=splits.val[target],
        progress=False,
        **_TEACHERS[case.teacher_kind].kwargs(case, settings),
    )


def _student_params(case: PaperCase, settings: PaperSettings) -> dict[str, Any]:
    params = dict(case.student_params)
    if case.student == "mlp":
        params.setdefault("epochs", settings.student_epochs)
    return params


def _one_thread(fn: Any) -> Any:
    """Run ``fn`` with torch on one thread (torch explainers slow down 10-40x when oversubscribed)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return fn()
    finally:
        torch.set_num_threads(before)


def run_case_seed(
    case: PaperCase, seed: int, settings: PaperSettings, work: Path
) -> tuple[dict[str, Any], Any]:
    """Teacher, KD student and no-KD student for one dataset and seed; returns (record, teacher)."""

    t0 = time.perf_counter()
    ds, frame = _frame(case, settings)
    splits = split_frame(frame, ds.target, seed=seed)
    feats = [c for c in frame.columns if c != ds.target]
    teacher = _train_teacher(
        case, splits, feats, ds.target, seed, work / case.dataset / f"seed{seed}", settings
    )
    t_teacher = time.perf_counter() - t0
    res = distill(
        teacher,
        frame,
        target=ds.target,
        schema=ds.schema,
        student=case.student,
        temperature=settings.temperature,
        alpha=settings.alpha,
        seed=seed,
        student_params=_student_params(case, settings),
        baseline=True,
        progress=False,
        out=None,
    )
    t_students = time.perf_counter() - t0 - t_teacher
    cmp_ = _compare(teacher, res, splits, feats, ds.target, settings, seed)
    key = repr(float(settings.headline_sigma))
    record = {
        "dataset": case.dataset,
        "seed": seed,
        "n_rows": len(frame),
        "split_sizes": [len(splits.train), len(splits.val), len(splits.test)],
        "teacher": {
            **_summary(cmp_["teacher"], key, False),
            "explainer": cmp_["teacher"]["attributions"]["method"],
        },
        "no_kd": _summary(cmp_["students"]["no_kd"], key, True),
        "kd": _summary(cmp_["students"]["kd"], key, True),
        "seconds": {
            "teacher": round(t_teacher, 2),
            "students": round(t_students, 2),
            "validation": round(time.perf_counter() - t0 - t_teacher - t_students, 2),
        },
    }
    return record, (teacher, ds, frame)


def _compare(
    teacher: Any,
    res: Any,
    splits: Any,
    feats: list[str],
    target: str,
    settings: PaperSettings,
    seed: int,
) -> dict[str, Any]:
    """Teacher, KD and no-KD students side by side on the test split (``compare_students``)."""
    order = list(teacher.feature_names or feats)
    X_test = splits.test[order].reset_index(drop=True)
    bg = (
        splits.train[order]
        .iloc[sample_rows(len(splits.train), settings.background_rows, seed)]
        .reset_index(drop=True)
    )
    y_idx = class_indices(splits.test[target], res.spec["classes"])
    assert res.baseline_spec is not None  # distill(baseline=True) in run_case_seed
    specs = {"kd": res.spec, "no_kd": res.baseline_spec}
    return _one_thread(
        lambda: compare_students(
            teacher,
            specs,
            X_test,
            y_idx,
            X_background=bg,
            shap_rows=settings.shap_rows,
            sigmas=settings.sigmas,
            stability_rows=settings.stability_rows,
            n_permutations=settings.n_permutations,
            max_background=settings.max_background,
            seed=seed,
        )
    )


def _summary(block: Mapping[str, Any], key: str, with_alignment: bool) -> dict[str, Any]:
    """One model's row of a run record; ``key`` is the headline σ's stability key."""
    st = (block.get("stability") or {}).get("per_sigma") or {}
    out = {
        "accuracy": block["predictive"]["accuracy"],
        "balanced_accuracy": block["predictive"]["balanced_accuracy"],
        "roc_auc": block["predictive"].get("roc_auc"),
        "ece": block["predictive"]["ece"],
        "stability": (st.get(key) or {}).get("mean"),
        "stability_all": {k: v.get("mean") for k, v in st.items()},
        "n_parameters": block["n_parameters"],
    }
    if with_alignment:
        al = block["alignment"]
        out.update(
            fidelity=block["fidelity"]["agreement"],
            cosine=al["cosine_mean"],
            cosine_sd=al["cosine_sd"],
            global_cosine=al["global_cosine"],
            mad=al["mad"],
            spearman=al["spearman"],
            topk_overlap=al["topk_overlap"],
            prr=block["prr"],
            explainer=block["attributions"]["method"],
        )
    return out


def temperature_curve(
    case: PaperCase, teacher: Any, ds: Any, frame: Any, settings: PaperSettings
) -> list[dict[str, Any]]:
    """Test accuracy and fidelity of the KD student (α as configured) for each τ, one seed."""

    rows = []
    for tau in settings.curve_temperatures:
        res = distill(
            teacher,
            frame,
            target=ds.target,
            schema=ds.schema,
            student=case.student,
            temperature=float(tau),
            alpha=settings.alpha,
            seed=settings.curve_seed,
            student_params=_student_params(case, settings),
            baseline=False,
            progress=False,
            out=None,
        )
        m = res.metrics["test"]["student"]
        rows.append(
            {
                "dataset": case.dataset,
                "seed": settings.curve_seed,
                "temperature": float(tau),
                "alpha": settings.alpha,
                "accuracy": m["accuracy"],
                "fidelity": m["fidelity"],
                "ece": m.get("ece"),
            }
        )
    return rows


# ----------------------------------------------------------------------------- aggregation


def _ms(values: Sequence[Any]) -> dict[str, Any]:
    v = np.array([np.nan if x is None else float(x) for x in values], dtype=float)
    v = v[np.isfinite(v)]
    return {
        "mean": float(v.mean()) if v.size else None,
        "sd": float(v.std(ddof=1)) if v.size > 1 else None,
        "n": int(v.size),
    }


def _test(kd: Sequence[Any], no_kd: Sequence[Any]) -> dict[str, Any]:
    pairs = [(a, b) for a, b in zip(kd, no_kd) if a is not None and b is not None]
    if not pairs:
        return {"p_value": None, "cohens_d": None, "note": "no values"}
    a, b = zip(*pairs)
    t = paired_ttest(a, b).to_dict()
    w = wilcoxon(a, b).to_dict() if len(pairs) >= 2 else {"p_value": None}
    return {
        "t": t["statistic"],
        "p_value": t["p_value"],
        "cohens_d": t["effect_size"],
        "note": t.get("note"),
        "wilcoxon_p": w.get("p_value"),
        "n": len(pairs),
    }


def aggregate(records: Sequence[Mapping[str, Any]], datasets: Sequence[str]) -> dict[str, Any]:
    """Table 2 (teacher / no-KD / KD: accuracy, cosine, stability) and Table 3 (cosine, MAD,
    stability of both students with paired t p-values and Cohen's d, KD vs no-KD)."""
    t2, t3 = [], []
    for name in datasets:
        recs = [r for r in records if r["dataset"] == name]
        if not recs:
            continue
        for who, label in (
            ("teacher", "teacher"),
            ("no_kd", "student (no KD)"),
            ("kd", "student (KD)"),
        ):
            t2.append(
                {
                    "dataset": name,
                    "model": label,
                    "n_seeds": len(recs),
                    **{
                        m: _ms([r[who].get(m) for r in recs])
                        for m in ("accuracy", "cosine", "stability", "fidelity")
                    },
                }
            )
        row: dict[str, Any] = {"dataset": name, "n_seeds": len(recs)}
        for m in ("accuracy", "fidelity", "cosine", "global_cosine", "mad", "stability"):
            kd = [r["kd"].get(m) for r in recs]
            no = [r["no_kd"].get(m) for r in recs]
            row[m] = {"no_kd": _ms(no), "kd": _ms(kd), "test": _test(kd, no)}
        t3.append(row)
    return {"table2": t2, "table3": t3}


def _pm(d: Mapping[str, Any] | None, digits: int = 3) -> str:
    if not d or d.get("mean") is None:
        return "—"
    return f"{d['mean']:.{digits}f}" + ("" if d.get("sd") is None else f" ± {d['sd']:.{digits}f}")


def _p(v: Any) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "—"
    return f"{v:.3g}" if v >= 1e-3 else f"{v:.1e}"


def format_table2(tables: Mapping[str, Any], sigma: float = 0.05) -> str:
    """Markdown: Table 2 (mean ± sd over seeds)."""
    lines = [
        f"| dataset | model | seeds | accuracy | fidelity | SHAP cosine | stability (σ={sigma:g}) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in tables["table2"]:
        lines.append(
            f"| {r['dataset']} | {r['model']} | {r['n_seeds']} | {_pm(r['accuracy'])} | {_pm(r['fidelity'])} | "
            f"{_pm(r['cosine'])} | {_pm(r['stability'])} |"
        )
    return "\n".join(lines) + "\n"


def format_table3(tables: Mapping[str, Any], sigma: float = 0.05) -> str:
    """Markdown: Table 3 (per dataset, no-KD vs KD, paired t p-value and Cohen's d)."""
    lines = [
        "| dataset | measure | student (no KD) | student (KD) | p (paired t) | Cohen's d | p (Wilcoxon) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in tables["table3"]:
        for m, label in (
            ("accuracy", "accuracy"),
            ("cosine", "SHAP cosine"),
            ("mad", "SHAP MAD"),
            ("stability", f"stability σ={sigma:g}"),
        ):
            c = r[m]
            d = c["test"].get("cohens_d")
            lines.append(
                f"| {r['dataset']} | {label} | {_pm(c['no_kd'])} | {_pm(c['kd'])} | {_p(c['test'].get('p_value'))} | "
                f"{'—' if d is None else f'{d:+.2f}'} | {_p(c['test'].get('wilcoxon_p'))} |"
            )
    return "\n".join(lines) + "\n"


def format_curve(curve: Sequence[Mapping[str, Any]]) -> str:
    lines = ["| dataset | τ | accuracy | fidelity |", "|---|---|---|---|"]
    for r in curve:
        lines.append(
            f"| {r['dataset']} | {r['temperature']:g} | {r['accuracy']:.4f} | {r['fidelity']:.4f} |"
        )
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- the run


def run_paper_benchmark(
    settings: PaperSettings | None = None, *, out: str | Path | None = None, progress: bool = True
) -> dict[str, Any]:
    """Run every (dataset, seed), aggregate Tables 2 and 3, the temperature curve; write files to ``out``.

    Parameters
    ----------
    settings : PaperSettings
        Default: the full preset (5 seeds). ``PaperSettings.preset(quick=True)`` for the quick run.
    out : path, optional
        Directory for ``paper_results.json``, ``table2.md``, ``table3.md``, ``runs.csv``,
        ``temperature_curve.csv/.json`` and the trained teachers (``teachers/``). Without it
        teachers go to a temporary directory.
    progress : bool
        One status line per step on stderr.

    Returns
    -------
    dict
        ``settings``, ``cases``, ``runs`` (one record per dataset and seed), ``table2``,
        ``table3``, ``temperature_curve``, ``errors`` (runs that raised: dataset, seed,
        message; they are left out of the tables), ``seconds``.
    """
    import tempfile

    s = settings or PaperSettings.preset()
    _check_datasets(s)
    log = _logger(progress)
    start = time.perf_counter()
    tmp = None
    if out is None:
        tmp = tempfile.TemporaryDirectory(prefix="d2r-paper-")
        work = Path(tmp.name)
    else:
        work = Path(out) / "teachers"
    try:
        records: list[dict[str, Any]] = []
        curve: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for name in s.datasets:
            _run_case(PAPER_CASES[name], s, work, log, records, curve, errors)
    finally:
        if tmp is not None:
            tmp.cleanup()
    tables = aggregate(records, s.datasets)
    result = jsonable(
        {
            "settings": asdict(s),
            "cases": {d: asdict(PAPER_CASES[d]) for d in s.datasets},
            "runs": records,
            **tables,
            "temperature_curve": curve,
            "errors": errors,
            "seconds": round(time.perf_counter() - start, 1),
        }
    )
    if not records:
        raise ConfigError(f"every benchmark run failed; first error: {errors[0]['error']}")
    if out is not None:
        write_paper_results(result, out)
    return result


def _check_datasets(s: PaperSettings) -> None:
    """Every dataset is a paper case and every case's student is registered."""
    unknown = [d for d in s.datasets if d not in PAPER_CASES]
    if unknown:
        raise ConfigError(
            f"unknown benchmark dataset(s): {', '.join(unknown)}.",
            hint=f"Choose from {', '.join(PAPER_CASES)}.",
        )
    missing = sorted({PAPER_CASES[d].student for d in s.datasets} - set(STUDENTS))
    if missing:
        raise ConfigError(
            f"the benchmark needs the student(s) {', '.join(missing)}, which are not registered."
        )


def _run_case(
    case: PaperCase,
    s: PaperSettings,
    work: Path,
    log: Any,
    records: list[dict[str, Any]],
    curve: list[dict[str, Any]],
    errors: list[dict[str, Any]],
) -> None:
    """Every seed of one dataset (appending to ``records`` / ``errors``), then its τ curve."""
    name = case.dataset
    for seed in s.seeds:
        label = f"{name} seed {seed}: {case.teacher_label} → {case.student_label}"
        try:
            rec, ctx = _timed(log, label, lambda: run_case_seed(case, seed, s, work))
        except Exception as exc:  # noqa: BLE001 - one failing run is reported, the rest still count
            errors.append({"dataset": name, "seed": seed, "error": f"{type(exc).__name__}: {exc}"})
            if log is not None:
                log.print(f"[red]✗[/red] {label}: {type(exc).__name__}: {exc}")
            continue
        records.append(rec)
        if seed == s.curve_seed and s.curve_temperatures:
            c_teacher, c_ds, c_frame = ctx
            curve += _timed(
                log,
                f"{name} temperature curve τ ∈ {list(s.curve_temperatures)}",
                lambda: temperature_curve(case, c_teacher, c_ds, c_frame, s),
            )
    if s.curve_seed not in s.seeds and s.curve_temperatures:
        ds, frame = _frame(case, s)
        sp = split_frame(frame, ds.target, seed=s.curve_seed)
        feats = [c for c in frame.columns if c != ds.target]
        teacher = _train_teacher(
            case, sp, feats, ds.target, s.curve_seed, work / name / f"seed{s.curve_seed}", s
        )
        curve += temperature_curve(case, teacher, ds, frame, s)


def _logger(enabled: bool) -> Any:
    if not enabled:
        return None
    from rich.console import Console

    return Console(stderr=True)


def _timed(log: Any, label: str, fn: Any) -> Any:
    t0 = time.perf_counter()
    if log is None:
        return fn()
    with log.status(label + "…", spinner="dots"):
        out = fn()
    log.print(f"[green]✓[/green] {label} [dim]({time.perf_counter() - t0:.1f} s)[/dim]")
    return out


def write_paper_results(result: Mapping[str, Any], out: str | Path) -> Path:
    """``paper_results.json``, ``table2.md``, ``table3.md``, ``temperature_curve.{csv,json}``, ``runs.csv``."""
    d = Path(out)
    d.mkdir(parents=True, exist_ok=True)
    sigma = result["settings"]["headline_sigma"]
    (d / "paper_results.json").write_text(
        json.dumps(result, indent=1, allow_nan=False) + "\n", encoding="utf-8"
    )
    (d / "table2.md").write_text(format_table2(result, sigma), encoding="utf-8")
    (d / "table3.md").write_text(format_table3(result, sigma), encoding="utf-8")
    (d / "temperature_curve.json").write_text(
        json.dumps(result["temperature_curve"], indent=1) + "\n", encoding="utf-8"
    )
    with open(d / "temperature_curve.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(
            f, fieldnames=["dataset", "seed", "temperature", "alpha", "accuracy", "fidelity", "ece"]
        )
        w.writeheader()
        w.writerows(result["temperature_curve"])
    cols = [
        "dataset",
        "seed",
        "model",
        "accuracy",
        "fidelity",
        "cosine",
        "global_cosine",
        "mad",
        "stability",
        "n_parameters",
    ]
    with open(d / "runs.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        for r in result["runs"]:
            for who in ("teacher", "no_kd", "kd"):
                w.writerow({"dataset": r["dataset"], "seed": r["seed"], "model": who, **r[who]})
    return d

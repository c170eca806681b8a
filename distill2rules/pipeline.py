"""The front door: ``distill`` orders the stages of one fit (``distill2rules fit``); each wing owns its stage.

============================================  =============================================
stage                                         owner
============================================  =============================================
config: validated and frozen                  :class:`~distill2rules.config.DistillConfig`
data: read, special values, split, classes    ``distill2rules.data`` (:func:`load_fit_data`)
decision: adverse class, catalogue, columns   :func:`decision_setup` (exporters' catalogue/protected)
teacher: load, align classes, score splits    ``distill2rules.teachers`` (:class:`AlignedTeacher`)
KD sources, augmentation, assistant, autotune ``distill2rules.kd`` (:mod:`distill2rules.kd.sources`)
students: KD and no-KD fits, calibration      ``distill2rules.students`` (``calibrate`` parameter)
measures                                      ``distill2rules.validation`` → :class:`FitMetrics`
artifact layout, written once                 ``distill2rules.artifact`` (:func:`fit_artifact`)
============================================  =============================================

``distill`` returns a :class:`DistillRun` (a :class:`DistillResult` that also holds the splits,
the teacher, its logits and the estimators), which ``fit --report`` evaluates and reports on in
memory before the artifact is written once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from distill2rules import spec as spec_mod
from distill2rules._api import StudentMethods, save_spec_artifact
from distill2rules.artifact import (
    ArtifactBuilder,
    check_out_dir,
    data_profile,
    fit_artifact,
    read_sign_key,
    sign_artifact,
)
from distill2rules.config import DistillConfig
from distill2rules.data import (
    SPLITS,
    FitData,
    data_fingerprint,
    load_fit_data,
    load_inputs,
)
from distill2rules.errors import ConfigError
from distill2rules.exporters import (
    attach_support,
    infer_adverse_class,
    load_catalogue,
    normalise_catalogue,
    protected_usage,
    resolve_protected,
)
from distill2rules.kd import soft_targets, softmax
from distill2rules.kd.recipes import targets_text
from distill2rules.kd.sources import KDFit, KDSources, fit_kd_student
from distill2rules.limits import AUGMENT_ROWS
from distill2rules.report import report_after_fit
from distill2rules.results import FitMetrics, ModelScores, SplitMetrics
from distill2rules.students import make_student, spec_complexity, student_class
from distill2rules.students.cutoff import approval_rates, resolve_cutoff, shift_logits
from distill2rules.teachers.align import (
    AlignedTeacher,
    align_teacher_classes,
    load_for_fit,
)
from distill2rules.validation.metrics import fidelity, predictive_metrics

__all__ = [
    "DistillConfig",
    "DistillResult",
    "DistillRun",
    "align_teacher_classes",
    "distill",
    "fit_student",
    "fit_to_directory",
    "load_inputs",
]


@dataclass(repr=False)
class DistillResult(StudentMethods):
    """What ``distill`` produced: the spec, metrics, timings, and where the artifact went.

    Also what :func:`distill2rules.load` returns for an artifact directory. Methods (see
    ``docs/python-api.md``): ``predict_proba``, ``predict``, ``to_onnx``, ``explain``,
    ``rule_card``, ``save``; in a notebook it displays as a rule card summary.
    """

    spec: dict[str, Any]
    metrics: dict[str, Any]
    baseline_spec: dict[str, Any] | None = None
    out_dir: Path | None = None
    timings: dict[str, float] = field(default_factory=dict)
    student: Any = None
    provenance: dict[str, Any] | None = None
    _writer: Callable[[Path], Path] | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "metrics": self.metrics,
            "timings": self.timings,
            "out_dir": str(self.out_dir) if self.out_dir else None,
        }

    def _api_spec(self) -> dict[str, Any]:
        return self.spec

    def _api_metrics(self) -> dict[str, Any] | None:
        return self.metrics or None

    def _api_provenance(self) -> dict[str, Any] | None:
        return self.provenance

    @property
    def classes_(self) -> np.ndarray:
        return np.asarray(self.spec["classes"])

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``(n, K)`` of the student for raw rows ``X`` (columns follow ``classes_``)."""
        return _scored(self.spec, X)[0]

    def predict(self, X: Any) -> np.ndarray:
        """The student's class for each raw row of ``X`` (the spec's decision: argmax or its
        ``decision_threshold``)."""
        return self.classes_[_scored(self.spec, X)[1]]

    def save(self, path: str | Path) -> Path:
        """Write the artifact directory (what ``fit --out`` writes) and return its path."""
        if self._writer is not None:
            out = self._writer(Path(path))
            return Path(out)

        return save_spec_artifact(
            path,
            self.spec,
            metrics=self.metrics or None,
            provenance=self.provenance,
            baseline_spec=self.baseline_spec,
        )

    def __repr__(self) -> str:
        fid = (
            (self.metrics.get("test", {}).get("student") or {}).get("fidelity")
            if self.metrics
            else None
        )
        return (
            f"DistillResult(student={self.spec.get('model')!r}, classes={self.spec.get('classes')!r}"
            + (f", test fidelity={fid:.3f}" if isinstance(fid, float) else "")
            + (f", out_dir={str(self.out_dir)!r}" if self.out_dir else "")
            + ")"
        )


class _Steps:
    """Tiny timer + optional rich status line for each pipeline stage."""

    def __init__(self, progress: bool) -> None:
        self.progress = progress
        self.timings: dict[str, float] = {}
        self._console = None
        if progress:
            from rich.console import Console

            self._console = Console(stderr=True)

    def run(self, name: str, fn: Callable[[], Any]) -> Any:
        t0 = time.perf_counter()
        if self._console is not None:
            with self._console.status(f"[bold]{name}[/bold]…", spinner="dots"):
                out = fn()
            self._console.print(
                f"[green]✓[/green] {name} [dim]({time.perf_counter() - t0:.1f} s)[/dim]"
            )
        else:
            out = fn()
        self.timings[name] = round(time.perf_counter() - t0, 3)
        return out


@dataclass(repr=False, eq=False)
class DistillRun(DistillResult):
    """What :func:`distill` returns: the :class:`DistillResult` plus the run itself, in memory.

    ``config`` (the :class:`DistillConfig`), ``data`` (:class:`~distill2rules.data._fit.FitData`:
    dataset, splits, classes, labels), ``teacher`` (:class:`AlignedTeacher`), ``logits`` (the
    teacher's, per split), ``baseline`` (the no-KD estimator), ``fit_metrics`` (typed) and
    ``fit_config`` (the manifest's ``config``). ``evaluate`` and ``report`` use these instead of
    reloading data and teacher from disk.
    """

    config: DistillConfig | None = None
    data: FitData | None = None
    teacher: AlignedTeacher | None = None
    logits: dict[str, np.ndarray] = field(default_factory=dict)
    baseline: Any = None
    fit_metrics: FitMetrics | None = None
    fit_config: dict[str, Any] = field(default_factory=dict)

    @property
    def estimator(self) -> Any:
        return self.student

    @property
    def splits(self) -> Any:
        return self.data.splits if self.data is not None else None

    @property
    def specs(self) -> dict[str, dict[str, Any]]:
        """``{"student": spec, "baseline": spec}`` (the baseline when fitted)."""
        return {
            "student": self.spec,
            **({"baseline": self.baseline_spec} if self.baseline_spec is not None else {}),
        }

    def manifest_data(self) -> dict[str, Any]:
        """The manifest's ``data``: name, source, target, rows, profile, fingerprint and split record."""
        fd = self.data
        assert fd is not None
        ds = fd.ds
        return {
            "name": ds.name,
            "source": str(getattr(ds, "source", "")),
            "target": ds.target,
            "n_rows": len(ds.frame),
            **data_profile(ds.frame, ds.schema, ds.target),
            "fingerprint": data_fingerprint(ds.frame),
            "split": fd.split_record(),
        }

    def artifact(self, *, export_onnx: bool = True, evaluation: Any = None) -> ArtifactBuilder:
        """The artifact's files, collected (``write(out)`` writes them once)."""
        assert self.data is not None and self.teacher is not None
        return fit_artifact(
            self.spec,
            metrics=self.metrics,
            schema=self.data.ds.schema.to_dict(),
            data=self.manifest_data(),
            teacher=self.teacher.info(),
            config=self.fit_config,
            n_rows=self.data.sizes(),
            baseline_spec=self.baseline_spec,
            export_onnx=export_onnx,
            evaluation=evaluation,
        )

    def write(self, out: str | Path, *, export_onnx: bool = True) -> Path:
        return self.artifact(export_onnx=export_onnx).write(out)


def distill(
    teacher: Any = None, data: Any = None, *, config: DistillConfig | None = None, **options: Any
) -> DistillRun:
    """Distill ``teacher`` into a student on ``data`` and (with ``out=``) write the artifact.

    The keywords are the fields of :class:`~distill2rules.config.DistillConfig` (``target``,
    ``student``, ``temperature``, ``alpha``, ``seed``, ``out``, ``student_params``,
    ``augment``, ``assistant``, ``test_data``, ``adverse_class``, ... documented there); or pass
    a ready ``config=``. Same inputs and seed → same artifact. Returns a :class:`DistillRun`.
    """
    cfg = config if config is not None else DistillConfig.from_kwargs(teacher, data, **options)
    steps = _Steps(cfg.progress)
    params = dict(cfg.student_params)
    fd = _load_data(cfg, params, steps)  # data wing
    guard = decision_setup(fd, cfg)
    t = _load_teacher(cfg, fd, steps)  # teachers wing
    z_raw = steps.run("score teacher", lambda: {k: t.logits(fd.X(k)) for k in SPLITS})
    z = _decide_at_cutoff(cfg, fd, t, guard, z_raw)  # a user cutoff: the teacher's decisions at it
    kd = KDSources(fd.X("train"), fd.y("train"), z["train"], fd.y_idx["train"], z["val"])
    extras = _kd_options(cfg, kd, fd, t, z, steps.run)  # KD wing: augmentation, assistant
    feats = [c for c in fd.features if c not in guard["excluded"]]
    res = _fit_kd(
        cfg, params, kd, fd, z, feats, extras, steps, _threshold(guard)
    )  # KD wing: autotune
    spec = res.estimator.spec_
    if res.plain is not None:
        extras["augment"]["effect"] = _augment_effect(spec, res.plain.spec_, fd, z)
    cut = _threshold(guard)
    base = _fit_baseline(cfg, params, fd, feats, steps, cut) if cfg.baseline else None
    base_spec = base.spec_ if base is not None else None
    measured = steps.run("measure", lambda: _measure(fd, z_raw, spec, base_spec, guard["cut"]))
    if guard["excluded"]:
        extras["excluded_features"] = _exclusion(cfg, params, kd, fd, z, res, guard, steps)
    _attach_support(spec, base_spec, kd, fd)
    _stamp_meta(cfg, fd, t, guard, res, spec, base_spec)
    fm = _fit_metrics(cfg, fd, t, res, spec, measured, extras, guard, base_spec, z_raw)
    run = _make_run(cfg, fd, t, z_raw, res, base, fm, params, steps)
    out = cfg.out
    if out is not None:  # artifact wing: collected, then written once
        steps.run("write artifact", lambda: run.write(out, export_onnx=cfg.export_onnx))
        run.out_dir = Path(out)
    return run


# ============================================================================ stages (helpers of distill)


def fit_to_directory(
    teacher: Any,
    data: Any,
    *,
    out: str | Path,
    report: bool = False,
    sign_key: str | Path | None = None,
    **options: Any,
) -> DistillRun:
    """``fit``'s whole job: :func:`distill` into the artifact directory ``out``, written once —
    with ``report.html`` and ``evaluation.json`` when ``report`` — and signed with the HMAC key
    file ``sign_key`` if given. The key is read and ``out`` checked before anything is fitted.
    ``options`` are :func:`distill`'s keywords."""

    key = read_sign_key(sign_key) if sign_key is not None else None  # a bad key fails fast
    out = Path(out)
    if report:
        check_out_dir(out)  # the report's artifact is written after the evaluation
    run = distill(teacher, data, out=None if report else out, **options)
    if report:
        report_after_fit(
            run,
            out,
            seed=int(options.get("seed", 0)),
            export_onnx=bool(options.get("export_onnx", True)),
            progress=bool(options.get("progress", True)),
        )
    if key is not None:
        sign_artifact(out, key)
    return run


def _load_data(cfg: DistillConfig, params: dict[str, Any], steps: _Steps) -> FitData:
    """The data wing's stage; resolved special values also go to the student's parameters."""
    given = (
        params.get("special_values"),
        cfg.special_values,
    )  # -p special_values=..., then the argument
    fd = load_fit_data(
        cfg.data,
        cfg.target,
        cfg.schema,
        seed=cfg.seed,
        sep=cfg.sep,
        encoding=cfg.encoding,
        test_data=cfg.test_data,
        special_values=given,
        run=steps.run,
    )
    if fd.special_values:
        params["special_values"] = fd.special_values
    return fd


def _load_teacher(cfg: DistillConfig, fd: FitData, steps: _Steps) -> AlignedTeacher:
    """The teachers wing's stage: the teacher, checked against the columns, in the data's class order."""
    teacher = load_for_fit(
        cfg.teacher,
        format=cfg.teacher_format,
        trust_pickle=cfg.trust_pickle,
        trust_code=cfg.trust_code,
        feature_names=cfg.teacher_features,
        run=steps.run,
    )
    return AlignedTeacher(teacher, fd.features, fd.classes)


def _decide_at_cutoff(
    cfg: DistillConfig,
    fd: FitData,
    t: AlignedTeacher,
    guard: dict[str, Any],
    z_raw: dict[str, np.ndarray],
) -> dict[str, np.ndarray]:
    """``fit --cutoff/--approval-rate``: resolve the cutoff (``guard["cut"]``) and return the
    teacher's logits shifted so that their argmax is its decision at it (unchanged without one)."""

    cut = resolve_cutoff(
        cfg.cutoff,
        cfg.approval_rate,
        list(fd.classes),
        guard["adverse_class"],
        softmax(z_raw["train"]),
    )
    guard["cut"] = cut
    if cut is None:
        return z_raw
    t.shift = lambda v: shift_logits(
        v, cut.threshold
    )  # synthetic rows are labelled at the cutoff too
    return {k: shift_logits(v, cut.threshold) for k, v in z_raw.items()}


def _threshold(guard: Mapping[str, Any]) -> float | None:
    cut = guard.get("cut")
    return None if cut is None else float(cut.threshold)


def _fit_kd(
    cfg: DistillConfig,
    params: dict[str, Any],
    kd: KDSources,
    fd: FitData,
    z: Mapping[str, np.ndarray],
    feats: list[str],
    extras: dict[str, Any],
    steps: _Steps,
    threshold: float | None = None,
) -> KDFit:
    """The KD student, through the KD wing's :func:`fit_kd_student` (autotune, ``--augment auto``)."""
    return fit_kd_student(
        _kd_fitter(cfg, params, kd, fd, feats, threshold),
        _val_scorer(fd, z),
        label=cfg.student,
        temperature=cfg.start_temperature,
        alpha=cfg.start_alpha,
        auto_t=cfg.auto_temperature,
        auto_a=cfg.auto_alpha,
        aug=cfg.augment_request,
        n_train=len(fd.splits.train),
        run=steps.run,
        extras=extras,
    )


def _fit_baseline(
    cfg: DistillConfig,
    params: dict[str, Any],
    fd: FitData,
    feats: list[str],
    steps: _Steps,
    threshold: float | None = None,
) -> Any:
    """The same student on the hard labels (no KD)."""
    return steps.run(
        f"fit {cfg.student} student (no KD)",
        lambda: fit_student(
            cfg.student,
            fd.X("train", feats),
            fd.y("train"),
            None,
            params=params,
            X_val=fd.X("val", feats),
            y_val=fd.y("val"),
            calibrate=cfg.calibrate,
            threshold=threshold,
        ),
    )


def _measure(
    fd: FitData,
    z: Mapping[str, np.ndarray],
    spec: Mapping[str, Any],
    base_spec: Mapping[str, Any] | None,
    cut: Any = None,
) -> dict[str, SplitMetrics]:
    """Teacher, KD student and baseline on the validation and test splits (the teacher's own
    logits ``z``; with a user ``cut`` the teacher decides at it)."""
    return {
        k: _metrics_block(
            fd.y_idx[k],
            softmax(z[k]),
            _scored(spec, fd.X(k)),
            _scored(base_spec, fd.X(k)) if base_spec else None,
            cut,
        )
        for k in ("val", "test")
    }


def _exclusion(
    cfg: DistillConfig,
    params: dict[str, Any],
    kd: KDSources,
    fd: FitData,
    z: Mapping[str, np.ndarray],
    res: KDFit,
    guard: Mapping[str, Any],
    steps: _Steps,
) -> dict[str, Any]:
    """What ``exclude_features`` costs: the KD student refitted with every column, compared."""
    full = steps.run(
        f"fit {cfg.student} student (KD, all features: the cost of excluding)",
        lambda: _kd_fitter(cfg, params, kd, fd, fd.features, _threshold(guard))(
            res.temperature, res.alpha
        ),
    )
    return _exclusion_cost(guard["excluded"], res.estimator.spec_, full.spec_, z, fd)


def _make_run(
    cfg: DistillConfig,
    fd: FitData,
    t: AlignedTeacher,
    z: dict[str, np.ndarray],
    res: KDFit,
    base: Any,
    fm: FitMetrics,
    params: Mapping[str, Any],
    steps: _Steps,
) -> DistillRun:
    run = DistillRun(
        spec=res.estimator.spec_,
        metrics=fm.to_dict(),
        baseline_spec=base.spec_ if base is not None else None,
        timings=steps.timings,
        student=res.estimator,
        config=cfg,
        data=fd,
        teacher=t,
        logits=z,
        baseline=base,
        fit_metrics=fm,
    )
    run.metrics["timings"] = (
        steps.timings
    )  # the same dict: stages after this point appear in the result only
    _record_config(run, cfg, params, res)
    return run


def decision_setup(fd: FitData, cfg: DistillConfig) -> dict[str, Any]:
    """Adverse class, reason catalogue, protected and excluded columns of a credit decision."""

    classes, ds, feats, adverse_class = fd.classes, fd.ds, fd.features, cfg.adverse_class
    if adverse_class is not None and str(adverse_class) not in {str(c) for c in classes}:
        raise ConfigError(
            f"--adverse-class {adverse_class!r} is not a class of '{ds.target}' ({', '.join(map(str, classes))})."
        )
    if adverse_class is None and len(classes) == 2:
        adverse_class = infer_adverse_class(list(classes))
        positive = getattr(ds, "positive_class", None)
        if (
            adverse_class is None
            and positive is not None
            and str(positive) in {str(c) for c in classes}
        ):
            adverse_class = positive
        if adverse_class is None and cfg.require_adverse_class:
            raise ConfigError(
                f"cannot tell which class of '{ds.target}' is adverse: {classes[0]!r} or {classes[1]!r}.",
                hint=f"Pass --adverse-class (e.g. --adverse-class {classes[0]}).",
            )
        if adverse_class is None:
            import warnings

            warnings.warn(
                f"no adverse class for '{ds.target}' ({classes[0]!r} / {classes[1]!r}): the rule card says "
                "so and explain will ask for one; pass adverse_class=.",
                UserWarning,
                stacklevel=3,
            )
    catalogue = None
    if cfg.labels is not None:
        catalogue = (
            normalise_catalogue(cfg.labels)
            if isinstance(cfg.labels, Mapping)
            else load_catalogue(cfg.labels)
        )
        unknown = sorted(set(catalogue["features"]) - set(feats))
        if unknown:
            raise ConfigError(
                f"the reason catalogue names unknown column(s): {', '.join(unknown[:5])}.",
                hint="Use the data's column names in the 'feature' field.",
            )
    exclude = (
        cfg.exclude_features.split(",")
        if isinstance(cfg.exclude_features, str)
        else cfg.exclude_features
    )
    excluded = [str(c).strip() for c in (exclude or []) if str(c).strip()]
    unknown = [c for c in excluded if c not in feats]
    if unknown:
        raise ConfigError(
            f"--exclude-features names unknown column(s): {', '.join(unknown)}.",
            hint=f"Columns: {', '.join(feats[:12])}{' ...' if len(feats) > 12 else ''}.",
        )
    if len(excluded) >= len(feats):
        raise ConfigError("--exclude-features leaves the student no column to read.")
    return {
        "adverse_class": adverse_class,
        "catalogue": catalogue,
        "excluded": excluded,
        "protected": resolve_protected(feats, cfg.protected),
    }


def _kd_options(
    cfg: DistillConfig,
    kd: KDSources,
    fd: FitData,
    t: AlignedTeacher,
    z: Mapping[str, np.ndarray],
    run: Callable[[str, Callable[[], Any]], Any],
) -> dict[str, Any]:
    """Augmentation and the assistant (KD wing) applied to the KD sources; their records for metrics.json."""

    extras: dict[str, Any] = {}
    aug, assistant = cfg.augment_request, cfg.assistant_request
    if aug:
        n_syn = aug.n_rows(len(fd.splits.train))
        if n_syn > AUGMENT_ROWS.value():
            raise AUGMENT_ROWS.exceeded(
                ConfigError, f"--augment {aug.text()} ({n_syn} rows)", n_syn
            )
        extras["augment"] = run(
            f"augment (+{n_syn} teacher-labelled rows)",
            lambda: kd.augment(n_syn, fd.ds.schema, cfg.seed, t.logits, fd.classes),
        )
        extras["augment"]["requested"] = aug.text()
    if assistant is not None:
        extras["assistant"] = run(
            f"fit assistant ({assistant.text})",
            lambda: kd.through_assistant(
                assistant,
                fd.X("val"),
                fd.y("val"),
                z,
                fd.X("test"),
                cfg.seed,
                special=fd.special_values or None,
            ),
        )
    return extras


def _kd_fitter(
    cfg: DistillConfig,
    params: Mapping[str, Any],
    kd: KDSources,
    fd: FitData,
    feats: list[str],
    threshold: float | None = None,
) -> Callable[..., Any]:
    """``fit(τ, α, rows="all")``: the KD student on the KD sources' rows, reading ``feats``
    (deciding at ``threshold``, a user cutoff, when given)."""

    def fit(tau: float, a: float, rows: str | int = "all") -> Any:
        X_, y_, z_, yi_ = kd.rows(rows)
        X_ = X_[[c for c in X_.columns if c in feats]]
        return fit_student(
            cfg.student,
            X_,
            y_,
            soft_targets(z_, yi_, temperature=tau, alpha=a),
            params=params,
            X_val=fd.X("val", feats),
            y_val=fd.y("val"),
            calibrate=cfg.calibrate,
            kd=(tau, a),
            teacher_logits=(z_, kd.z_val),
            targets_val=soft_targets(kd.z_val, fd.y_idx["val"], temperature=tau, alpha=a),
            threshold=threshold,
            shifted=True,
        )

    return fit


def _val_scorer(fd: FitData, z: Mapping[str, np.ndarray]) -> Callable[[Any], tuple[float, float]]:
    """(validation fidelity, KL) of a fitted student: what autotuning and ``--augment auto`` maximise."""

    def score(e: Any) -> tuple[float, float]:
        p, lab = _scored(e.spec_, fd.X("val"))
        f = fidelity(p, softmax(z["val"]), student_label=lab)
        return f.agreement, f.kl

    return score


def fit_student(
    student: str,
    X: pd.DataFrame,
    y: pd.Series,
    targets: np.ndarray | None,
    *,
    params: Mapping[str, Any],
    X_val: pd.DataFrame | None = None,
    y_val: pd.Series | None = None,
    calibrate: bool = True,
    targets_val: np.ndarray | None = None,
    teacher_logits: tuple[np.ndarray, np.ndarray | None] | None = None,
    kd: tuple[float, float] | None = None,
    threshold: float | None = None,
    shifted: bool = False,
) -> Any:
    """Fit one registered student; with ``calibrate`` it temperature-calibrates itself on the validation split.

    ``threshold`` (binary, on ``P(classes[1])``: a user cutoff, :mod:`distill2rules.students.cutoff`)
    makes the spec decide class 1 iff ``P1 > threshold``; ``shifted``: the targets were the
    teacher's logits shifted to that cutoff, so the spec's log-odds move back first. Calibration
    then scales the log-odds about the cutoff (threshold and decisions kept). Both happen inside
    the student (``decision_cutoff``, ``calibrate``).

    ``targets_val`` (soft targets of the validation rows) lets students prune or stop early on
    fidelity. Students that take logits (``accepts_teacher_logits``, the MLP) also get
    ``teacher_logits = (train, val)`` and ``kd = (τ, α)`` and train on the exact KD loss.
    """

    params = dict(params)
    # a student without a special_values parameter still gets the codes: the base class masks them
    sv = (
        None
        if "special_values" in student_class(student)().get_params()
        else params.pop("special_values", None)
    )
    params.setdefault("calibrate", calibrate)
    est = make_student(student, **params)
    if sv:
        est.special_values = sv
    if threshold is not None:
        est.decision_cutoff = (float(threshold), shifted)
    kw: dict[str, Any] = {}
    if teacher_logits is not None and getattr(est, "accepts_teacher_logits", False):
        if kd is not None:
            est.set_params(temperature=kd[0], alpha=kd[1])
        kw = {"teacher_logits": teacher_logits[0], "teacher_logits_val": teacher_logits[1]}
    est.fit(
        X,
        y,
        soft_targets=targets,
        X_val=X_val,
        y_val=y_val,
        soft_targets_val=targets_val if y_val is not None else None,
        **kw,
    )
    return est


def _scored(student_spec: Mapping[str, Any], X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """``(probabilities, label)``: the label is the spec's decision (argmax or decision threshold)."""

    out = spec_mod.evaluate(student_spec, X)
    return out["probabilities"], out["label"]


def _metrics_block(
    y_idx: np.ndarray,
    p_teacher: np.ndarray,
    p_student: tuple[np.ndarray, np.ndarray],
    p_base: tuple[np.ndarray, np.ndarray] | None,
    cut: Any = None,
) -> SplitMetrics:
    """Teacher, KD student and no-KD baseline on one split (validation wing measures, typed).

    ``cut``: a user :class:`~distill2rules.students.cutoff.Cutoff`; the teacher then decides at it.
    """

    t_label = None if cut is None else (p_teacher[:, 1] > cut.threshold).astype(np.int64)
    threshold = None if cut is None else cut.threshold
    teacher = ModelScores.of(
        predictive_metrics(y_idx, p_teacher, label=t_label, teacher_label=t_label).to_dict()
    )
    block = SplitMetrics(n_rows=len(y_idx), teacher=teacher)
    for name, p in (("student", p_student), ("baseline", p_base)):
        if p is None:
            continue
        m = ModelScores.of(
            predictive_metrics(
                y_idx, p[0], teacher_proba=p_teacher, label=p[1], teacher_label=t_label
            ).to_dict(),
            fidelity(
                p[0], p_teacher, student_label=p[1], teacher_label=t_label, cutoff=threshold
            ).to_dict(),
        )
        m.retention = (
            (m.accuracy / teacher.accuracy) if teacher.accuracy and m.accuracy is not None else None
        )
        setattr(block, name, m)
    return block


def _fid_acc(
    scored: tuple[np.ndarray, np.ndarray], z: np.ndarray, y_idx: np.ndarray
) -> dict[str, float]:
    label = scored[1]
    return {
        "fidelity": float(np.mean(label == np.argmax(z, axis=1))),
        "accuracy": float(np.mean(label == y_idx)),
    }


def _augment_effect(
    spec: Mapping[str, Any], plain: Mapping[str, Any], fd: FitData, z: Mapping[str, np.ndarray]
) -> dict[str, Any]:
    """Fidelity and accuracy per split of the KD student with and without the synthetic rows."""
    return {
        k: {
            "with": _fid_acc(_scored(spec, fd.X(k)), z[k], fd.y_idx[k]),
            "without": _fid_acc(_scored(plain, fd.X(k)), z[k], fd.y_idx[k]),
        }
        for k in ("val", "test")
    }


def _exclusion_cost(
    excluded: list[str],
    spec: Mapping[str, Any],
    full_spec: Mapping[str, Any],
    z: Mapping[str, np.ndarray],
    fd: FitData,
) -> dict[str, Any]:
    """Fidelity to the teacher of the student without ``excluded`` vs with every column."""
    out: dict[str, Any] = {"features": list(excluded)}
    for split in ("val", "test"):
        X, t = fd.X(split), np.argmax(z[split], axis=1)
        without = float(np.mean(_scored(spec, X)[1] == t))
        with_all = float(np.mean(_scored(full_spec, X)[1] == t))
        out[split] = {
            "fidelity_without": without,
            "fidelity_with_all": with_all,
            "cost": with_all - without,
        }
    return out


def _attach_support(
    spec: dict[str, Any], base_spec: dict[str, Any] | None, kd: KDSources, fd: FitData
) -> None:
    """Record in each spec how many training rows support its bins and rules (reason codes cite them)."""

    attach_support(spec, kd.rows("original")[0])
    if base_spec is not None:
        attach_support(base_spec, fd.X("train"))


def _fit_metrics(
    cfg: DistillConfig,
    fd: FitData,
    t: AlignedTeacher,
    res: Any,
    spec: Mapping[str, Any],
    measured: Mapping[str, SplitMetrics],
    extras: Mapping[str, Any],
    guard: Mapping[str, Any],
    base_spec: Mapping[str, Any] | None = None,
    z_raw: Mapping[str, np.ndarray] | None = None,
) -> FitMetrics:
    """``metrics.json`` of the run, typed."""

    fm = FitMetrics(
        student=cfg.student,
        temperature=res.temperature,
        alpha=res.alpha,
        temperature_source=cfg.temperature_source,
        targets=targets_text(res.temperature, res.alpha),
        seed=cfg.seed,
        classes=[str(c) for c in fd.classes],
        split_sizes=fd.sizes(),
        data_sources=fd.sources(),
        val=measured["val"],
        test=measured["test"],
        size={
            "student": spec_complexity(spec),
            "teacher_parameters": int(t.teacher.n_parameters()),
        },
        calibration=spec.get("calibration"),
        warnings=fd.warnings or None,
    )
    for k, v in extras.items():
        if k in FitMetrics.__dataclass_fields__ and k != "extra":
            setattr(fm, k, v)
        else:
            fm.extra[k] = v
    if guard["adverse_class"] is not None:
        fm.adverse_class = str(guard["adverse_class"])
    cut = guard.get("cut")
    if cut is not None and z_raw is not None:
        frames = {k: fd.X(k) for k in SPLITS}
        rates = approval_rates(cut, z_raw, frames, spec, base_spec, _scored)
        fm.cutoff = {**cut.to_dict(), "approval_rate_by_split": rates}
    if guard["protected"]:
        fm.protected = {
            "features": list(guard["protected"]),
            "used": protected_usage(spec, guard["protected"]),
        }
    return fm


def _stamp_meta(
    cfg: DistillConfig,
    fd: FitData,
    t: AlignedTeacher,
    guard: Mapping[str, Any],
    res: Any,
    spec: dict[str, Any],
    base_spec: dict[str, Any] | None,
) -> None:
    """The spec's ``meta``: recipe, data, teacher, adverse class, protected columns, reason catalogue."""
    adverse = guard["adverse_class"]
    for s_ in (spec, base_spec):
        if s_ is None:
            continue
        s_.setdefault("meta", {}).update(
            {
                "temperature": res.temperature,
                "alpha": res.alpha,
                "seed": cfg.seed,
                "dataset": fd.ds.name,
                "targets": targets_text(res.temperature, res.alpha)
                if s_ is spec
                else "the true labels (no KD)",
                "target": fd.ds.target,
                "teacher": t.info(),
            }
        )
        if adverse is not None:
            s_["meta"]["adverse_class"] = next(c for c in s_["classes"] if str(c) == str(adverse))
        s_["meta"]["protected"] = list(guard["protected"])
        if guard["catalogue"] is not None:
            s_["meta"]["reason_catalogue"] = guard["catalogue"]
            s_["meta"]["feature_labels"] = {
                f: e["label"] for f, e in guard["catalogue"]["features"].items() if e.get("label")
            }
        if guard.get("cut") is not None:
            s_["meta"]["cutoff"] = guard["cut"].to_dict()


def _record_config(
    run: DistillRun, cfg: DistillConfig, params: Mapping[str, Any], res: Any
) -> None:
    """The manifest's ``config`` and the result's provenance (how to read the artifact's origin)."""
    fd, t = run.data, run.teacher
    assert fd is not None and t is not None
    aug, assistant = cfg.augment_request, cfg.assistant_request
    test_ds = fd.test_ds
    run.fit_config = {
        "student": cfg.student,
        "temperature": res.temperature,
        "alpha": res.alpha,
        "seed": cfg.seed,
        "student_params": dict(params),
        "calibrate": cfg.calibrate,
        **({"augment": aug.text()} if aug else {}),
        **({"cutoff": cfg.cutoff} if cfg.cutoff is not None else {}),
        **({"approval_rate": cfg.approval_rate} if cfg.approval_rate is not None else {}),
        **(
            {"test_data": str(getattr(test_ds, "source", "") or test_ds.name)}
            if test_ds is not None
            else {}
        ),
        **({"assistant": assistant.text} if assistant else {}),
        **dict(cfg.provenance or {}),
    }
    run.provenance = {
        "teacher": t.info(),
        "dataset": fd.ds.name,
        "target": fd.ds.target,
        **{k: v for k, v in run.fit_config.items() if k != "student_params"},
    }
    run._writer = lambda path: run.write(path, export_onnx=True)

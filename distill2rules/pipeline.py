"""The front door: distill a teacher into a student and write the artifact (``distill2rules fit``).

``distill`` is one library call doing what the CLI's ``fit`` does: load data and teacher,
split 70/15/15 by seed, score the teacher, build soft targets, fit the distilled student
(and, side by side, the same student on hard labels: the no-KD baseline), re-calibrate on
the validation split, measure on the test split, and write the artifact atomically.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd

from distill2rules._api import StudentMethods
from distill2rules.errors import ConfigError, DataError, SchemaError, TeacherError
from distill2rules.kd import check_alpha, check_temperature, soft_targets

__all__ = ["DistillResult", "align_teacher_classes", "distill", "fit_student", "load_inputs"]


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
        return {"metrics": self.metrics, "timings": self.timings, "out_dir": str(self.out_dir) if self.out_dir else None}

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
        from distill2rules._api import save_spec_artifact

        return save_spec_artifact(path, self.spec, metrics=self.metrics or None, provenance=self.provenance,
                                  baseline_spec=self.baseline_spec)

    def __repr__(self) -> str:
        fid = (self.metrics.get("test", {}).get("student") or {}).get("fidelity") if self.metrics else None
        return (f"DistillResult(student={self.spec.get('model')!r}, classes={self.spec.get('classes')!r}"
                + (f", test fidelity={fid:.3f}" if isinstance(fid, float) else "")
                + (f", out_dir={str(self.out_dir)!r}" if self.out_dir else "") + ")")


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
            self._console.print(f"[green]✓[/green] {name} [dim]({time.perf_counter() - t0:.1f} s)[/dim]")
        else:
            out = fn()
        self.timings[name] = round(time.perf_counter() - t0, 3)
        return out


def load_inputs(data: Any, target: str | None, schema: Any = None, *, sep: str | None = None, encoding: str | None = None):
    """Dataset from a registry name, a path or a DataFrame → ``Dataset`` (data wing)."""
    from distill2rules.data import load_dataset, validate_target

    ds = load_dataset(data, target=target, schema=schema, sep=sep, encoding=encoding)
    validate_target(ds.frame[ds.target], ds.target)
    return ds


def align_teacher_classes(teacher: Any, classes: np.ndarray) -> np.ndarray:
    """Column permutation mapping the teacher's logits to the data's sorted classes.

    Teachers that record their classes (sidecar, sklearn) are matched by label (compared as
    text); others are assumed to use the sorted order of the target's values, like LightGBM's
    and scikit-learn's estimators do.
    """
    k = len(classes)
    if teacher.n_classes != k:
        raise SchemaError(
            f"the teacher predicts {teacher.n_classes} classes but the target has {k} ({', '.join(map(str, classes[:6]))}).",
            hint="Check --target, or that this teacher was trained for this task.",
        )
    t_classes = getattr(teacher, "classes_", None)
    if t_classes is None:
        return np.arange(k)
    t_text = [str(c) for c in t_classes]
    d_text = [str(c) for c in classes]
    if sorted(t_text) != sorted(d_text):
        # the sidecar may record integer codes for string labels; fall back to sorted order
        if all(c.isdigit() for c in t_text) and sorted(int(c) for c in t_text) == list(range(k)):
            return np.arange(k)
        raise SchemaError(f"the teacher's classes ({', '.join(t_text)}) differ from the target's ({', '.join(d_text)}).")
    return np.asarray([t_text.index(c) for c in d_text])


def _class_index(y: pd.Series, classes: np.ndarray) -> np.ndarray:
    lookup = {str(c): i for i, c in enumerate(classes)}
    return np.asarray([lookup[str(v)] for v in y], dtype=np.int64)


def fit_student(student: str, X: pd.DataFrame, y: pd.Series, targets: np.ndarray | None, *, params: Mapping[str, Any],
                X_val: pd.DataFrame | None = None, y_val: pd.Series | None = None, calibrate: bool = True,
                targets_val: np.ndarray | None = None, teacher_logits: tuple[np.ndarray, np.ndarray | None] | None = None,
                kd: tuple[float, float] | None = None, threshold: float | None = None, shifted: bool = False) -> Any:
    """Fit one registered student; optionally temperature-calibrate it on the validation split.

    ``threshold`` (binary, on ``P(classes[1])``: a user cutoff, :mod:`distill2rules.students.cutoff`)
    makes the spec decide class 1 iff ``P1 > threshold``; ``shifted``: the targets were the
    teacher's logits shifted to that cutoff, so the spec's log-odds move back first. Calibration
    then scales the log-odds about the cutoff (threshold and decisions kept).

    ``targets_val`` (soft targets of the validation rows) lets students prune or stop early on
    fidelity. Students that take logits (``accepts_teacher_logits``, the MLP) also get
    ``teacher_logits = (train, val)`` and ``kd = (τ, α)`` and train on the exact KD loss.
    """
    from distill2rules.students import calibrate_spec, make_student
    from distill2rules.students._base import raw_inputs

    from distill2rules.students import student_class

    params = dict(params)
    # a student without a special_values parameter still gets the codes: the base class masks them
    sv = None if "special_values" in student_class(student)().get_params() else params.pop("special_values", None)
    est = make_student(student, **params)
    if sv:
        est.special_values = sv
    kw: dict[str, Any] = {}
    if teacher_logits is not None and getattr(est, "accepts_teacher_logits", False):
        if kd is not None:
            est.set_params(temperature=kd[0], alpha=kd[1])
        kw = {"teacher_logits": teacher_logits[0], "teacher_logits_val": teacher_logits[1]}
    est.fit(X, y, soft_targets=targets, X_val=X_val, y_val=y_val,
            soft_targets_val=targets_val if y_val is not None else None, **kw)
    if threshold is not None:
        from distill2rules.students.cutoff import apply_threshold, calibrate_about_threshold

        est.spec_ = apply_threshold(est.spec_, threshold, shifted=shifted)
    if calibrate and X_val is not None and y_val is not None:
        inp = raw_inputs(X_val, est.spec_["inputs"]["numeric"], est.spec_["inputs"]["categorical"])
        calib = calibrate_about_threshold if threshold is not None else calibrate_spec
        est.spec_ = calib(est.spec_, inp.numeric, inp.categorical, _class_index(y_val, est.classes_))
    return est


def _scored(student_spec: Mapping[str, Any], X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """``(probabilities, label)``: the label is the spec's decision (argmax or decision threshold)."""
    from distill2rules import spec as spec_mod

    out = spec_mod.evaluate(student_spec, X)
    return out["probabilities"], out["label"]


def _metrics_block(y_idx: np.ndarray, p_teacher: np.ndarray, p_student: tuple[np.ndarray, np.ndarray],
                   p_base: tuple[np.ndarray, np.ndarray] | None, cut: Any = None) -> dict[str, Any]:
    """``cut``: a user :class:`~distill2rules.students.cutoff.Cutoff`; the teacher then decides at it."""
    from distill2rules.validation.metrics import fidelity, predictive_metrics

    t_label = None if cut is None else (p_teacher[:, 1] > cut.threshold).astype(np.int64)

    def pm(p: Any, with_teacher: bool) -> dict[str, Any]:
        p, lab = p if isinstance(p, tuple) else (p, t_label)
        d = predictive_metrics(y_idx, p, teacher_proba=p_teacher if with_teacher else None, label=lab,
                               teacher_label=t_label)
        return d.to_dict() if hasattr(d, "to_dict") else dict(d)

    def fid(p: tuple[np.ndarray, np.ndarray]) -> dict[str, Any]:
        d = fidelity(p[0], p_teacher, student_label=p[1], teacher_label=t_label,
                     cutoff=None if cut is None else cut.threshold)
        return d.to_dict() if hasattr(d, "to_dict") else dict(d)

    teacher = pm(p_teacher, False)
    block: dict[str, Any] = {"n_rows": int(len(y_idx)), "teacher": teacher}
    for name, p in (("student", p_student), ("baseline", p_base)):
        if p is None:
            continue
        m = pm(p, True)
        f = fid(p)
        m["fidelity"] = f.get("agreement", f.get("fidelity"))
        m["fidelity_detail"] = f
        m["retention"] = (m["accuracy"] / teacher["accuracy"]) if teacher["accuracy"] else None
        block[name] = m
    return block


def distill(teacher: Any, data: Any, *, target: str | None = None, student: str = "ebm", temperature: float | str | None = None,
            alpha: float | str = 0.0, seed: int = 0, out: str | Path | None = None, student_params: Mapping[str, Any] | None = None,
            teacher_format: str | None = None, trust_pickle: bool = False, calibrate: bool = True, baseline: bool = True,
            schema: Any = None, export_onnx: bool = True, progress: bool = True, provenance: Mapping[str, Any] | None = None,
            adverse_class: str | None = None, sep: str | None = None, encoding: str | None = None, augment: int | str = 0,
            assistant: str | None = None, test_data: Any = None, trust_code: bool | None = None,
            special_values: Any = None, teacher_features: list[str] | None = None, labels: Any = None,
            protected: Any = None, exclude_features: Any = None, require_adverse_class: bool = False,
            cutoff: float | None = None, approval_rate: float | None = None) -> DistillResult:
    """Distill ``teacher`` into ``student`` on ``data`` and (optionally) write an artifact to ``out``.

    Parameters
    ----------
    teacher : path, model object or Teacher
        A teacher file (LightGBM ``model.txt``, TorchScript/state_dict ``.pt``, ONNX, ...), a loaded
        teacher, or a model in memory: a LightGBM ``LGBMClassifier``/``Booster``, a
        ``torch.nn.Module`` (with ``teacher_features``), a fitted classifier with
        ``predict_proba``, an ``onnx.ModelProto`` or ``onnxruntime.InferenceSession``.
    data : str, path or DataFrame
        A registry name (``adult``, ``breast_cancer``...), a CSV/Parquet path or a DataFrame.
    target : str
        Target column (registry datasets know theirs).
    student : str
        ``logreg``, ``ebm`` (and any other registered student).
    temperature, alpha : float or "auto"
        τ >= 0 and α in [0, 1] of the soft targets ``α·onehot(y) + (1 − α)·softmax(z_T / τ)``;
        ``τ = 0`` is the teacher's decisions (one-hot of its argmax). ``temperature=None``: the
        student's default (:mod:`distill2rules.kd.recipes`: 0 for logreg and scorecard, 1
        otherwise). ``"auto"`` picks τ from {0, 1, 2, 4} (α from {0, 0.25, 0.5}) by validation
        fidelity to the teacher (see :mod:`distill2rules.experiments.autotune`); recorded under
        ``autotune``.
    seed : int
        Fixes the 70/15/15 split and every random choice: same inputs and seed → same artifact.
    baseline : bool
        Also fit the same student on hard labels (no KD) and report it side by side.
    sep, encoding : str, optional
        Delimiter and text encoding of a data file (default: sniffed delimiter, UTF-8).
    augment : int or str
        Extra synthetic rows near the training rows, labelled by the teacher
        (:mod:`distill2rules.kd.augment`), appended to the KD student's training rows: a number
        of rows, ``"5x"`` (× the training rows) or ``"auto"`` (0, 5× or 20×, whichever gives the
        best validation fidelity). Never used for calibration or reported metrics; the effect on
        fidelity per split is recorded under ``augment``.
    assistant : str, optional
        Multi-stage distillation, e.g. ``"mlp:128-64"``: teacher → assistant → student
        (:mod:`distill2rules.kd.multistage`); recorded under ``assistant``.
    test_data : str, path or DataFrame, optional
        Held-out rows (ideally ones the teacher never saw): the whole table is the test set and
        ``data`` is split only into train/validation (85/15). Without it the test split is cut
        from ``data``, which may hold the teacher's own training rows; ``metrics["data_sources"]``
        says which it was.
    trust_code : bool, optional
        Skip the code checks on TorchScript/ONNX teacher files (docs/security.md); default False
        or as set by :func:`distill2rules.teachers.trusting_code`.
    special_values : str or dict, optional
        Codes in numeric columns that are levels, not numbers (``"-9=no record,-8=no usable
        trades"`` for every numeric column, ``"col:-9=no record;other:-1=n/a"``, or
        ``{"col": {"-9": "no record"}}``), added to the schema's ``special_values``. Each gets
        its own level in the student. Without any, numeric columns that look like they carry
        codes raise a :class:`~distill2rules.data._special.SpecialValuesWarning`.
    teacher_features : list of str, optional
        The input columns of an in-memory teacher, in its input order (required for a
        ``torch.nn.Module``, which does not record them).
    adverse_class : str, optional
        The adverse (declined) class of a binary target. Default: the event class (``1`` of 0/1
        labels, ``True``, a negative-looking label such as ``bad``), else the registry dataset's
        positive class; two arbitrary labels raise :class:`ConfigError`. Recorded in the spec.
    labels : path or mapping, optional
        A reason catalogue (``labels.csv`` / ``labels.json``, see
        :mod:`distill2rules.exporters._catalogue`), stored in the spec.
    protected : None, str or list of str
        Protected columns (default: the name list of :mod:`distill2rules.exporters._protected`;
        ``"none"`` switches the guard off); recorded in the spec and flagged on the rule card.
    exclude_features : str or list of str, optional
        Columns the student must not read (the teacher still does). The student is also fitted
        with every column, and the fidelity cost is recorded under ``excluded_features``.
    require_adverse_class : bool, default False
        Raise (instead of warning) when a binary target's adverse class cannot be inferred
        (the CLI's ``fit`` does).
    cutoff : float in (0, 1), optional
        Binary: decline (adverse class) when ``P(adverse) > cutoff`` instead of at 0.5. The
        student learns the teacher's decisions at that cutoff and its spec records the
        ``decision_threshold`` (used by metrics, ONNX ``label``, the Scorer, reasons and the rule
        card) and ``meta.cutoff`` (:mod:`distill2rules.students.cutoff`).
    approval_rate : float in (0, 1), optional
        Binary: choose the cutoff so that the teacher approves this share of the training split's
        rows (its ``P(adverse)`` quantile); not with ``cutoff``.
    """
    from distill2rules.experiments.autotune import is_auto
    from distill2rules.kd.augment import parse_augment
    from distill2rules.kd.recipes import default_temperature, targets_text
    from distill2rules.limits import AUGMENT_ROWS

    t_source = "given"
    if temperature is None:
        temperature, t_source = default_temperature(student), f"default for {student}"
    auto_t, auto_a = is_auto(temperature), is_auto(alpha)
    t_source = "auto (validation fidelity)" if auto_t else t_source
    temperature = 1.0 if auto_t else check_temperature(temperature)
    alpha = 0.0 if auto_a else check_alpha(alpha)
    from distill2rules.students.cutoff import check_cutoff_args, resolve_cutoff, shift_logits

    check_cutoff_args(cutoff, approval_rate)
    cut: Any = None
    aug = parse_augment(augment)
    if aug.rows > AUGMENT_ROWS.value():
        raise AUGMENT_ROWS.exceeded(ConfigError, f"--augment {aug.rows}", aug.rows)
    assistant_spec = None
    if assistant:
        from distill2rules.kd.multistage import parse_assistant

        assistant_spec = parse_assistant(assistant)
    if out is not None:
        from distill2rules.artifact import check_out_dir

        check_out_dir(out)  # fail before fitting, not after
    from distill2rules.students import STUDENTS

    if student not in STUDENTS:
        raise ConfigError(f"unknown student '{student}'.", hint=f"Choose one of: {', '.join(STUDENTS)}.")
    steps = _Steps(progress)
    params = dict(student_params or {})
    params.setdefault("random_state", seed)

    ds = steps.run("load data", lambda: load_inputs(data, target, schema, sep=sep, encoding=encoding))
    data_warnings = _declare_special_values(ds, special_values, params)
    from distill2rules.data import split_frame
    from distill2rules.kd import softmax

    test_ds = None
    if test_data is not None:
        test_ds = steps.run("load test data", lambda: load_held_out(test_data, ds, sep=sep, encoding=encoding))
    splits = split_frame(ds.frame, ds.target, seed=seed, sizes=(0.85, 0.15, 0.0) if test_ds else (0.7, 0.15, 0.15))
    if test_ds is not None:
        splits.test = test_ds.frame[list(ds.frame.columns)]
    feats = [c for c in ds.frame.columns if c != ds.target]
    y_all = ds.frame[ds.target]
    classes = np.unique(y_all.astype(str)) if y_all.dtype == object else np.unique(y_all)
    if adverse_class is not None and str(adverse_class) not in {str(c) for c in classes}:
        raise ConfigError(f"--adverse-class {adverse_class!r} is not a class of '{ds.target}' ({', '.join(map(str, classes))}).")
    guard = _decision_setup(classes, ds, feats, adverse_class, labels, protected, exclude_features,
                            require_adverse_class)
    adverse_class = guard["adverse_class"]
    student_feats = [c for c in feats if c not in guard["excluded"]]

    if isinstance(teacher, (str, Path)):
        from distill2rules.teachers import load_teacher

        teacher_obj = steps.run("load teacher", lambda: load_teacher(teacher, format=teacher_format, trust_pickle=trust_pickle,
                                                                          trust_code=trust_code))
    else:
        from distill2rules.teachers._memory import as_teacher

        teacher_obj = as_teacher(teacher, feature_names=teacher_features)
    from distill2rules.teachers import check_features

    check_features(teacher_obj, feats)
    perm = align_teacher_classes(teacher_obj, classes)

    def teacher_logits(frame: pd.DataFrame) -> np.ndarray:
        z = np.asarray(teacher_obj.logits(frame[list(teacher_obj.feature_names or feats)]), dtype=np.float64)
        return z[:, perm] if cut is None else shift_logits(z[:, perm], cut.threshold)  # decisions at the cutoff

    z = steps.run("score teacher", lambda: {k: teacher_logits(getattr(splits, k)[feats]) for k in ("train", "val", "test")})
    z_raw = z  # the teacher's own logits (metrics); z: logits whose argmax is its decision (at a user cutoff)
    cut = resolve_cutoff(cutoff, approval_rate, classes, adverse_class, softmax(z["train"]))
    if cut is not None:
        z = {k: shift_logits(v, cut.threshold) for k, v in z.items()}
    y_idx = {k: _class_index(getattr(splits, k)[ds.target], classes) for k in ("train", "val", "test")}
    Xtr, Xva, Xte = splits.train[feats], splits.val[feats], splits.test[feats]
    ytr, yva = splits.train[ds.target], splits.val[ds.target]
    kd = _KDSources(Xtr, ytr, z["train"], y_idx["train"], z["val"])
    extras: dict[str, Any] = {}
    if aug:
        n_syn = aug.n_rows(len(Xtr))
        if n_syn > AUGMENT_ROWS.value():
            raise AUGMENT_ROWS.exceeded(ConfigError, f"--augment {aug.text()} ({n_syn} rows)", n_syn)
        extras["augment"] = steps.run(f"augment (+{n_syn} teacher-labelled rows)",
                                      lambda: kd.augment(n_syn, ds.schema, seed, teacher_logits, classes))
        extras["augment"]["requested"] = aug.text()
    if assistant_spec is not None:
        extras["assistant"] = steps.run(f"fit assistant ({assistant_spec.text})",
                                        lambda: kd.through_assistant(assistant_spec, Xva, yva, z, splits, feats, seed))

    use_feats = student_feats

    def fit_kd(tau: float, a: float, rows: str | int = "all") -> Any:
        X_, y_, z_, yi_ = kd.rows(rows)
        X_ = X_[[c for c in X_.columns if c in use_feats]]
        return fit_student(student, X_, y_, soft_targets(z_, yi_, temperature=tau, alpha=a), params=params, X_val=Xva[use_feats],
                           y_val=yva, calibrate=calibrate, kd=(tau, a), teacher_logits=(z_, kd.z_val),
                           targets_val=soft_targets(kd.z_val, y_idx["val"], temperature=tau, alpha=a),
                           threshold=None if cut is None else cut.threshold, shifted=True)

    def val_score(e: Any) -> tuple[float, float]:
        from distill2rules.validation.metrics import fidelity as _fidelity

        p, lab = _scored(e.spec_, Xva)
        f = _fidelity(p, softmax(z["val"]), student_label=lab)
        return f.agreement, f.kl

    if auto_t or auto_a:
        from distill2rules.experiments.autotune import ALPHA_GRID, TEMPERATURE_GRID, autotune_kd

        est, tuned = steps.run(f"autotune {student} student (KD)", lambda: autotune_kd(
            (lambda t, a: fit_kd(t, a, "original")) if aug.auto else fit_kd, val_score, temperatures=TEMPERATURE_GRID if auto_t else (temperature,),
            alphas=ALPHA_GRID if auto_a else (alpha,),
            searched=tuple(n for n, on in (("temperature", auto_t), ("alpha", auto_a)) if on)))
        temperature, alpha = tuned.temperature, tuned.alpha
        extras["autotune"] = tuned.to_dict()
    elif not aug.auto:
        est = steps.run(f"fit {student} student (KD)", lambda: fit_kd(temperature, alpha))
    if aug.auto:
        from distill2rules.kd.augment import choose_rows

        tried: dict[int, Any] = {0: est} if (auto_t or auto_a) else {}  # τ was tuned without synthetic rows
        est, _, extras["augment"]["auto"] = steps.run(f"choose --augment for {student} (validation fidelity)", lambda: choose_rows(
            lambda r: tried[r] if r in tried else tried.setdefault(r, fit_kd(temperature, alpha, r)),
            lambda e: val_score(e)[0], aug.candidates(len(Xtr)), len(Xtr)))
    spec = est.spec_
    if aug:
        plain = (tried[0] if aug.auto else
                 steps.run(f"fit {student} student (KD, no augmentation)", lambda: fit_kd(temperature, alpha, rows="original")))
        extras["augment"]["effect"] = {split: {"with": _fid_acc(_scored(spec, X), z[split], y_idx[split]),
                                               "without": _fid_acc(_scored(plain.spec_, X), z[split], y_idx[split])}
                                       for split, X in (("val", Xva), ("test", Xte))}
    base_spec = None
    if baseline:
        base = steps.run(f"fit {student} student (no KD)", lambda: fit_student(
            student, Xtr[student_feats], ytr, None, params=params, X_val=Xva[student_feats], y_val=yva, calibrate=calibrate,
            threshold=None if cut is None else cut.threshold))
        base_spec = base.spec_

    def measure() -> dict[str, Any]:
        out: dict[str, Any] = {}
        for split, X in (("val", Xva), ("test", Xte)):
            out[split] = _metrics_block(y_idx[split], softmax(z_raw[split]), _scored(spec, X),
                                        _scored(base_spec, X) if base_spec else None, cut)
        return out

    measured = steps.run("measure", measure)
    if guard["excluded"]:
        use_feats = feats
        full = steps.run(f"fit {student} student (KD, all features: the cost of excluding)", lambda: fit_kd(temperature, alpha))
        extras["excluded_features"] = _exclusion_cost(guard["excluded"], spec, full.spec_, z, {"val": Xva, "test": Xte})
    from distill2rules.exporters._support import attach_support

    attach_support(spec, kd.rows("original")[0])
    if base_spec is not None:
        attach_support(base_spec, Xtr)
    from distill2rules.students import spec_complexity

    metrics: dict[str, Any] = {
        "student": student,
        "temperature": temperature,
        "alpha": alpha,
        "temperature_source": t_source,
        "targets": targets_text(temperature, alpha),
        "seed": seed,
        "classes": [str(c) for c in classes],
        "split_sizes": {k: int(len(getattr(splits, k))) for k in ("train", "val", "test")},
        "data_sources": data_sources(ds, test_ds, splits),
        **measured,
        "size": {"student": spec_complexity(spec), "teacher_parameters": int(teacher_obj.n_parameters())},
        "calibration": spec.get("calibration"),
        **extras,
        **({"warnings": data_warnings} if data_warnings else {}),
    }
    for s_ in (spec, base_spec):
        if s_ is None:
            continue
        s_.setdefault("meta", {}).update({"temperature": temperature, "alpha": alpha, "seed": seed, "dataset": ds.name,
                                          "targets": targets_text(temperature, alpha) if s_ is spec else "the true labels (no KD)",
                                          "target": ds.target, "teacher": _teacher_info(teacher_obj)})
        if adverse_class is not None:
            s_["meta"]["adverse_class"] = next(c for c in s_["classes"] if str(c) == str(adverse_class))
        s_["meta"]["protected"] = list(guard["protected"])
        if guard["catalogue"] is not None:
            s_["meta"]["reason_catalogue"] = guard["catalogue"]
            s_["meta"]["feature_labels"] = {f: e["label"] for f, e in guard["catalogue"]["features"].items() if e.get("label")}
    if adverse_class is not None:
        metrics["adverse_class"] = str(adverse_class)
    if cut is not None:
        from distill2rules.students.cutoff import approval_rates

        for s_ in (spec, base_spec):
            if s_ is not None:
                s_["meta"]["cutoff"] = cut.to_dict()
        metrics["cutoff"] = {**cut.to_dict(), "approval_rate_by_split": approval_rates(
            cut, z_raw, {"train": Xtr, "val": Xva, "test": Xte}, spec, base_spec, _scored)}
    if guard["protected"]:
        from distill2rules.exporters._protected import protected_usage

        metrics["protected"] = {"features": list(guard["protected"]), "used": protected_usage(spec, guard["protected"])}
    metrics["timings"] = steps.timings  # the same dict: stages after this point appear in the result only
    result = DistillResult(spec=spec, metrics=metrics, baseline_spec=base_spec, timings=steps.timings, student=est)
    fit_config = {"student": student, "temperature": temperature, "alpha": alpha,
                  "seed": seed, "student_params": params, "calibrate": calibrate,
                  **({"augment": aug.text()} if aug else {}),
                  **({"cutoff": cutoff} if cutoff is not None else {}),
                  **({"approval_rate": approval_rate} if approval_rate is not None else {}),
                  **({"test_data": str(getattr(test_ds, "source", "") or test_ds.name)} if test_ds is not None else {}),
                  **({"assistant": assistant_spec.text} if assistant_spec else {}),
                  **dict(provenance or {})}
    result.provenance = {"teacher": _teacher_info(teacher_obj), "dataset": ds.name, "target": ds.target,
                         **{k: v for k, v in fit_config.items() if k != "student_params"}}
    result._writer = lambda path: write_fit_artifact(path, result, ds, teacher_obj, splits, export_onnx=True, config=fit_config)
    if out is not None:
        steps.run("write artifact", lambda: write_fit_artifact(out, result, ds, teacher_obj, splits, export_onnx=export_onnx,
                                                                config=fit_config))
        result.out_dir = Path(out)
    return result


def load_held_out(test_data: Any, ds: Any, *, sep: str | None = None, encoding: str | None = None) -> Any:
    """Held-out rows read with the training data's schema and target (same columns required)."""
    test_ds = load_inputs(test_data, ds.target, ds.schema, sep=sep, encoding=encoding)
    missing = [c for c in ds.frame.columns if c not in test_ds.frame.columns]
    if missing:
        raise DataError(f"--test-data lacks {len(missing)} column(s) of the training data: {', '.join(map(str, missing[:6]))}.",
                        hint="Give held-out rows with the same columns as --data.")
    if len(test_ds.frame) == 0:
        raise DataError("--test-data has no rows.")
    return test_ds


def data_sources(ds: Any, test_ds: Any, splits: Any) -> dict[str, Any]:
    """Where each split's rows came from, so every reported metric can name its data."""
    n = {k: int(len(getattr(splits, k))) for k in ("train", "val", "test")}
    src = {k: {"data": ds.name, "rows": n[k], "split": f"{k} split of the given data"} for k in ("train", "val")}
    if test_ds is not None:
        src["test"] = {"data": test_ds.name, "rows": n["test"], "split": "all rows of --test-data", "held_out": True}
    else:
        src["test"] = {"data": ds.name, "rows": n["test"], "split": "test split of the given data", "held_out": False,
                       "notice": ("Test figures come from an internal split of the given data, which may hold the teacher's "
                                  "own training rows: teacher metrics may be optimistic and student fidelity may differ on "
                                  "new rows. Pass --test-data with rows the teacher never saw.")}
    return src


def _declare_special_values(ds: Any, special_values: Any, params: dict[str, Any]) -> list[str]:
    """Merge ``special_values`` into the dataset's schema, hand them to the student (as the
    ``special_values`` parameter) and warn about numeric columns that look like they carry
    undeclared codes. Returns the warnings."""
    import warnings

    from distill2rules.data._special import (
        SpecialValuesWarning,
        codes_warning,
        merge_special_values,
        normalise_special_values,
        parse_special_values,
        undeclared_codes,
    )

    for given in (params.get("special_values"), special_values):  # -p special_values=..., then the argument
        if given:
            extra = (parse_special_values(given) if isinstance(given, str)
                     else normalise_special_values(given, "special_values"))
            ds.schema.special_values = merge_special_values(ds.schema.special_values, extra)
    resolved = ds.schema.special_values_by_column()
    if resolved:
        params["special_values"] = resolved
    numeric = [f.name for f in ds.schema.features if f.type == "numeric"]
    flagged = undeclared_codes(ds.frame, numeric, resolved)
    if not flagged:
        return []
    message = codes_warning(flagged)
    warnings.warn(message, SpecialValuesWarning, stacklevel=3)
    return [message]


def _decision_setup(classes: np.ndarray, ds: Any, feats: list[str], adverse_class: Any, labels: Any, protected: Any,
                    exclude_features: Any, require_adverse_class: bool = False) -> dict[str, Any]:
    """Adverse class, reason catalogue, protected and excluded columns of a credit decision."""
    from distill2rules.exporters._catalogue import load_catalogue, normalise_catalogue
    from distill2rules.exporters._protected import resolve_protected
    from distill2rules.exporters._render import infer_adverse_class

    if adverse_class is None and len(classes) == 2:
        adverse_class = infer_adverse_class(list(classes))
        positive = getattr(ds, "positive_class", None)
        if adverse_class is None and positive is not None and str(positive) in {str(c) for c in classes}:
            adverse_class = positive
        if adverse_class is None and require_adverse_class:
            raise ConfigError(f"cannot tell which class of '{ds.target}' is adverse: {classes[0]!r} or {classes[1]!r}.",
                              hint=f"Pass --adverse-class (e.g. --adverse-class {classes[0]}).")
        if adverse_class is None:
            import warnings

            warnings.warn(f"no adverse class for '{ds.target}' ({classes[0]!r} / {classes[1]!r}): the rule card says "
                          "so and explain will ask for one; pass adverse_class=.", UserWarning, stacklevel=3)
    catalogue = None
    if labels is not None:
        catalogue = normalise_catalogue(labels) if isinstance(labels, Mapping) else load_catalogue(labels)
        unknown = sorted(set(catalogue["features"]) - set(feats))
        if unknown:
            raise ConfigError(f"the reason catalogue names unknown column(s): {', '.join(unknown[:5])}.",
                              hint="Use the data's column names in the 'feature' field.")
    if isinstance(exclude_features, str):
        exclude_features = [c for c in exclude_features.split(",")]
    excluded = [str(c).strip() for c in (exclude_features or []) if str(c).strip()]
    unknown = [c for c in excluded if c not in feats]
    if unknown:
        raise ConfigError(f"--exclude-features names unknown column(s): {', '.join(unknown)}.",
                          hint=f"Columns: {', '.join(feats[:12])}{' ...' if len(feats) > 12 else ''}.")
    if len(excluded) >= len(feats):
        raise ConfigError("--exclude-features leaves the student no column to read.")
    return {"adverse_class": adverse_class, "catalogue": catalogue, "excluded": excluded,
            "protected": resolve_protected(feats, protected)}


def _exclusion_cost(excluded: list[str], spec: Mapping[str, Any], full_spec: Mapping[str, Any],
                    z: Mapping[str, np.ndarray], frames: Mapping[str, pd.DataFrame]) -> dict[str, Any]:
    """Fidelity to the teacher of the student without ``excluded`` vs with every column."""
    out: dict[str, Any] = {"features": list(excluded)}
    for split, X in frames.items():
        t = np.argmax(z[split], axis=1)
        without = float(np.mean(_scored(spec, X)[1] == t))
        with_all = float(np.mean(_scored(full_spec, X)[1] == t))
        out[split] = {"fidelity_without": without, "fidelity_with_all": with_all, "cost": with_all - without}
    return out


def _fid_acc(scored: tuple[np.ndarray, np.ndarray], z: np.ndarray, y_idx: np.ndarray) -> dict[str, float]:
    label = scored[1]
    return {"fidelity": float(np.mean(label == np.argmax(z, axis=1))), "accuracy": float(np.mean(label == y_idx))}


class _KDSources:
    """What the KD student learns from: the training rows (+ synthetic ones) and the logits of
    the teacher (or of the assistant, in multi-stage distillation)."""

    def __init__(self, X: pd.DataFrame, y: pd.Series, z: np.ndarray, y_idx: np.ndarray, z_val: np.ndarray) -> None:
        self.X, self.y, self.z, self.y_idx, self.z_val = X, y, z, y_idx, z_val
        self.n_original = len(X)

    def rows(self, which: str | int = "all") -> tuple[pd.DataFrame, pd.Series, np.ndarray, np.ndarray]:
        """All rows, the ``"original"`` ones, or the original ones + the first ``which`` synthetic rows."""
        if which == "all":
            return self.X, self.y, self.z, self.y_idx
        n = self.n_original + (0 if which == "original" else int(which))
        return self.X.iloc[:n], self.y.iloc[:n], self.z[:n], self.y_idx[:n]

    def augment(self, n: int, schema: Any, seed: int, teacher_logits: Callable[[pd.DataFrame], np.ndarray],
                classes: np.ndarray) -> dict[str, Any]:
        """Append ``n`` synthetic rows scored by the teacher; their label is the teacher's class."""
        from distill2rules.kd.augment import synthesize

        from distill2rules.data._special import join_codes, split_codes

        cats = [c for c in getattr(schema, "categorical_columns", []) if c in self.X.columns]
        special = schema.special_values_by_column() if hasattr(schema, "special_values_by_column") else {}
        X, companions = split_codes(self.X, special)  # special values are drawn as levels, never jittered
        syn = synthesize(X, n, categorical=cats + companions, random_state=seed)
        syn.frame = join_codes(syn.frame, special, companions)
        z_syn = teacher_logits(syn.frame)
        lab = np.argmax(z_syn, axis=1)
        y_syn = pd.Series(classes[lab], name=self.y.name)
        self.X = pd.concat([self.X.reset_index(drop=True), syn.frame], ignore_index=True)
        self.y = pd.concat([self.y.reset_index(drop=True), y_syn], ignore_index=True)
        self.z = np.vstack([self.z, z_syn])
        self.y_idx = np.concatenate([self.y_idx, lab])
        return {"rows": int(n), "methods": syn.counts(), "labels": "teacher (its predicted class stands in for y when alpha > 0)",
                "baseline_uses_synthetic_rows": False, "used_for": "fitting the KD student only (not calibration, not metrics)"}

    def through_assistant(self, a: Any, X_val: pd.DataFrame, y_val: pd.Series, z: Mapping[str, np.ndarray], splits: Any,
                          feats: list[str], seed: int) -> dict[str, Any]:
        """Distill the teacher into the assistant; the student then learns the assistant's logits."""
        from distill2rules.kd.multistage import fit_assistant, spec_logits
        from distill2rules.students import spec_complexity

        est = fit_assistant(a, self.X, self.y, self.z, X_val=X_val, y_val=y_val, teacher_logits_val=z["val"], seed=seed)
        self.z = spec_logits(est.spec_, self.X)
        self.z_val = spec_logits(est.spec_, X_val)
        z_test = spec_logits(est.spec_, splits.test[feats])
        agree = {split: float(np.mean(np.argmax(zz, axis=1) == np.argmax(z[split], axis=1)))
                 for split, zz in (("val", self.z_val), ("test", z_test))}
        return {"spec": a.text, "kind": a.kind, "params": {k: list(v) if isinstance(v, tuple) else v for k, v in a.params.items()},
                "size": spec_complexity(est.spec_), "fidelity_to_teacher": agree}


def _teacher_info(teacher: Any) -> dict[str, Any]:
    try:
        d = dict(teacher.describe())
    except Exception:  # noqa: BLE001 - description is best effort
        d = {"kind": getattr(teacher, "kind", type(teacher).__name__)}
    d.pop("feature_names", None)
    return d


def data_profile(frame: pd.DataFrame, schema: Any, target: str) -> dict[str, Any]:
    """Numeric ranges and category lists of the training data (for parity rows and rule cards)."""
    from distill2rules.spec import to_category_strings

    ranges, cats = {}, {}
    for c in frame.columns:
        if c == target:
            continue
        if c in set(schema.categorical_columns):
            vals = [v for v in pd.unique(to_category_strings(frame[c].to_numpy(dtype=object))) if v != ""]
            cats[c] = sorted(map(str, vals))[:200]
        else:
            x = pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=float)
            x = x[np.isfinite(x)]
            if x.size:
                ranges[c] = [float(x.min()), float(x.max())]
    return {"numeric_ranges": ranges, "categories": cats}


def write_fit_artifact(out: str | Path, result: DistillResult, ds: Any, teacher: Any, splits: Any, *, export_onnx: bool,
                       config: Mapping[str, Any]) -> Path:
    """Write student.json, baseline.json, metrics.json, schema.json, student.onnx, rule cards, manifest."""
    from distill2rules import spec as spec_mod
    from distill2rules.artifact import _dump, write_artifact

    files: dict[str, Any] = {"student.json": spec_mod.to_json(result.spec), "metrics.json": _dump(result.metrics),
                             "schema.json": _dump(ds.schema.to_dict())}
    if result.baseline_spec is not None:
        files["baseline.json"] = spec_mod.to_json(result.baseline_spec)
    if export_onnx:
        from distill2rules.exporters import to_onnx

        model = to_onnx(result.spec)
        files["student.onnx"] = model.SerializeToString(deterministic=True)
    provenance = {"teacher": _teacher_info(teacher), "dataset": ds.name, "target": ds.target,
                  "n_rows": {k: int(len(getattr(splits, k))) for k in ("train", "val", "test")}, **{k: v for k, v in config.items() if k != "student_params"}}
    try:
        from distill2rules.exporters.rulecard import render_html, render_markdown, rulecard

        card = rulecard(result.spec, metrics=result.metrics, provenance=provenance, strict=False)
        files["rulecard.md"] = render_markdown(card)
        files["rulecard.html"] = render_html(card)
        files["rulecard.json"] = _dump(card)
    except ImportError:  # rule cards are optional until the exporter lands
        pass
    manifest = {"config": dict(config), "data": {"name": ds.name, "source": str(getattr(ds, "source", "")), "target": ds.target,
                                                 "n_rows": int(len(ds.frame)), **data_profile(ds.frame, ds.schema, ds.target)},
                "teacher": _teacher_info(teacher)}
    return write_artifact(out, files, manifest)

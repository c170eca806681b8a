"""``DistillConfig``: everything one ``fit`` needs, frozen and validated before any work starts.

:func:`distill2rules.pipeline.distill` builds one from its keywords (``distill(teacher, data,
student="logreg", ...)``) or takes one ready-made (``distill(config=cfg)``). Validation happens
in ``__post_init__``, so a bad τ, α, ``augment``, ``assistant``, student name or ``out``
directory fails in one line before data or teacher are read. Derived, read-only facts (whether
τ/α are searched, the parsed augment and assistant requests, where τ came from) are properties.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from distill2rules.artifact import check_out_dir
from distill2rules.errors import ConfigError
from distill2rules.kd import check_alpha, check_temperature
from distill2rules.kd.augment import AugmentRequest, parse_augment
from distill2rules.kd.autotune import is_auto
from distill2rules.kd.multistage import parse_assistant
from distill2rules.kd.recipes import default_temperature
from distill2rules.limits import AUGMENT_ROWS
from distill2rules.students import STUDENTS
from distill2rules.students.cutoff import check_cutoff_args

__all__ = ["DistillConfig"]


@dataclass(frozen=True)
class DistillConfig:
    """The inputs of one distillation (the keywords of :func:`~distill2rules.pipeline.distill`).

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
        student's default (:mod:`distill2rules.kd.recipes`: 0 for logreg, scorecard, tree and
        rules, 1 for ebm and mlp). ``"auto"`` picks τ from {0, 1, 2, 4} (α from {0, 0.25, 0.5}) by validation
        fidelity to the teacher (see :mod:`distill2rules.kd.autotune`); recorded under
        ``autotune``.
    seed : int
        Fixes the 70/15/15 split and every random choice: same inputs and seed → same artifact.
    out : path, optional
        Artifact directory to write (atomically); None: nothing is written.
    student_params : mapping
        Parameters of the student (``random_state`` defaults to ``seed``).
    teacher_format, trust_pickle, trust_code
        How the teacher file is read (format detection override; pickles and TorchScript/ONNX
        code checks, see docs/security.md; ``trust_code=None``: as set by
        :func:`distill2rules.teachers.trusting_code`).
    calibrate : bool
        Temperature-scale the students on the validation split (an estimator parameter).
    baseline : bool
        Also fit the same student on hard labels (no KD) and report it side by side.
    schema : Schema, optional
        Column types instead of inference.
    export_onnx : bool
        Write ``student.onnx`` into the artifact.
    progress : bool
        One status line per stage on stderr.
    provenance : mapping, optional
        Extra facts recorded in the manifest's ``config``.
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

    teacher: Any
    data: Any
    target: str | None = None
    student: str = "ebm"
    temperature: float | str | None = None
    alpha: float | str = 0.0
    seed: int = 0
    out: str | Path | None = None
    student_params: Mapping[str, Any] = field(default_factory=dict)
    teacher_format: str | None = None
    trust_pickle: bool = False
    calibrate: bool = True
    baseline: bool = True
    schema: Any = None
    export_onnx: bool = True
    progress: bool = True
    provenance: Mapping[str, Any] | None = None
    adverse_class: str | None = None
    sep: str | None = None
    encoding: str | None = None
    augment: int | str = 0
    assistant: str | None = None
    test_data: Any = None
    trust_code: bool | None = None
    special_values: Any = None
    teacher_features: list[str] | None = None
    labels: Any = None
    protected: Any = None
    exclude_features: Any = None
    require_adverse_class: bool = False
    cutoff: float | None = None
    approval_rate: float | None = None

    def __post_init__(self) -> None:
        if not is_auto(self.temperature) and self.temperature is not None:
            object.__setattr__(self, "temperature", check_temperature(self.temperature))
        if not is_auto(self.alpha):
            object.__setattr__(self, "alpha", check_alpha(self.alpha))

        check_cutoff_args(self.cutoff, self.approval_rate)
        aug = parse_augment(self.augment)
        if aug.rows > AUGMENT_ROWS.value():
            raise AUGMENT_ROWS.exceeded(ConfigError, f"--augment {aug.rows}", aug.rows)
        if self.assistant:
            parse_assistant(self.assistant)
        if self.out is not None:
            check_out_dir(self.out)  # fail before fitting, not after
        if self.student not in STUDENTS:
            raise ConfigError(
                f"unknown student '{self.student}'.", hint=f"Choose one of: {', '.join(STUDENTS)}."
            )
        params = dict(self.student_params or {})
        params.setdefault("random_state", self.seed)
        object.__setattr__(self, "student_params", MappingProxyType(params))

    @classmethod
    def from_kwargs(cls, teacher: Any, data: Any, **kwargs: Any) -> DistillConfig:
        """The config of ``distill(teacher, data, **kwargs)``; unknown keywords raise TypeError naming them."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(kwargs) - names)
        if unknown:
            raise TypeError(f"distill() got unexpected keyword argument(s): {', '.join(unknown)}")
        return cls(teacher=teacher, data=data, **kwargs)

    # ---------------------------------------------------------------- derived facts
    @property
    def auto_temperature(self) -> bool:
        return is_auto(self.temperature)

    @property
    def auto_alpha(self) -> bool:
        return is_auto(self.alpha)

    @property
    def start_temperature(self) -> float:
        """τ to fit with (the student's default when not given; 1 while τ is searched)."""
        if self.auto_temperature:
            return 1.0
        return (
            default_temperature(self.student)
            if self.temperature is None
            else float(self.temperature)
        )

    @property
    def start_alpha(self) -> float:
        return 0.0 if self.auto_alpha else float(self.alpha)

    @property
    def temperature_source(self) -> str:
        if self.auto_temperature:
            return "auto (validation fidelity)"
        return f"default for {self.student}" if self.temperature is None else "given"

    @property
    def augment_request(self) -> AugmentRequest:
        return parse_augment(self.augment)

    @property
    def assistant_request(self) -> Any:
        if not self.assistant:
            return None

        return parse_assistant(self.assistant)

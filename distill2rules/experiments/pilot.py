"""``fit --sizes``: pilot several student sizes in one call.

One size knob per student kind (its plug-in's ``size_param`` in
:data:`distill2rules.students.STUDENTS`): rules ``max_rules``, logreg ``max_terms`` (``all`` = no limit), mlp ``hidden`` widths (``16,32-16,64-32``), ebm ``interactions``, tree
``max_depth``. Data and teacher are loaded once; each size is one :func:`distill` call (same
split, τ, α, augmentation, assistant), measured on the validation split (what a choice of
size may look at) and on the test split (reported, not for choosing).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from distill2rules.errors import ConfigError
from distill2rules.pipeline import distill, load_inputs
from distill2rules.students import STUDENTS, StudentPlugin
from distill2rules.teachers import load_teacher

__all__ = ["PilotResult", "parse_sizes", "pilot_sizes", "size_label"]


def _sized(student: str) -> StudentPlugin:
    plugin = STUDENTS.get(student) if student in STUDENTS else None
    if plugin is None or plugin.size_param is None:
        sized = [n for n, p in STUDENTS.items() if p.size_param]
        raise ConfigError(
            f"--sizes does not know the size of a '{student}' student.",
            hint=f"Sizes apply to: {', '.join(sized)}.",
        )
    return plugin


def parse_sizes(student: str, text: str | Sequence[Any]) -> list[Any]:
    """``"5,10,20"`` → ``[5, 10, 20]``; ``"all"`` → ``None`` (logreg); mlp ``"32-16"`` → ``(32, 16)``.

    ``"default"`` gives the kind's default ladder (its plug-in's ``default_sizes``); each item
    is parsed by the plug-in's ``parse_size``.

    Examples
    --------
    >>> parse_sizes("mlp", "16,32-16")
    [(16,), (32, 16)]
    """
    plugin = _sized(student)
    if isinstance(text, str):
        text = plugin.default_sizes if text.strip().lower() == "default" else text
        items: list[Any] = [t.strip() for t in text.split(",") if t.strip()]
    else:
        items = list(text)
    if not items:
        raise ConfigError("--sizes needs at least one size, e.g. --sizes 5,10,20.")
    param = str(plugin.size_param)
    return [plugin.parse_size(item, param) for item in items]


def size_label(student: str, size: Any) -> str:
    """``None`` → ``"all"``; widths ``(32, 16)`` → ``"32-16"``; anything else ``str(size)``."""
    if size is None:
        return "all"
    if isinstance(size, (tuple, list)):
        return "-".join(map(str, size))
    return str(size)


@dataclass
class PilotResult:
    """One row per size: the size, the student's complexity, validation and test metrics."""

    student: str
    param: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "student": self.student,
            "param": self.param,
            "config": self.config,
            "rows": self.rows,
        }


def _row(student: str, size: Any, metrics: Mapping[str, Any]) -> dict[str, Any]:
    def pick(split: str, who: str) -> dict[str, Any] | None:
        m = (metrics.get(split) or {}).get(who)
        if not m:
            return None
        return {"fidelity": m.get("fidelity"), "accuracy": m.get("accuracy"), "ece": m.get("ece")}

    return {
        "size": size_label(student, size),
        "value": list(size) if isinstance(size, tuple) else size,
        "complexity": metrics["size"]["student"],
        "val": pick("val", "student"),
        "test": pick("test", "student"),
        "val_no_kd": pick("val", "baseline"),
        "test_no_kd": pick("test", "baseline"),
        "temperature": metrics.get("temperature"),
        "alpha": metrics.get("alpha"),
    }


def pilot_sizes(
    teacher: Any,
    data: Any,
    *,
    student: str,
    sizes: str | Sequence[Any],
    target: str | None = None,
    temperature: float | str | None = None,
    alpha: float | str = 0.0,
    seed: int = 0,
    student_params: Mapping[str, Any] | None = None,
    schema: Any = None,
    teacher_format: str | None = None,
    trust_pickle: bool = False,
    baseline: bool = True,
    calibrate: bool = True,
    augment: int | str = 0,
    assistant: str | None = None,
    progress: bool = False,
    trust_code: bool | None = None,
) -> PilotResult:
    """Distill one student per size (same data, teacher, split and KD settings) and tabulate.

    Parameters
    ----------
    teacher, data, target, temperature, alpha, seed, schema, teacher_format, trust_pickle, augment, assistant, trust_code
        As in :func:`distill2rules.pipeline.distill`.
    student : str
        Student kind; its size knob is its plug-in's ``size_param``.
    sizes : str or list
        ``"5,10,20"``, ``"default"``, or a list of sizes.
    baseline : bool
        Also fit each size on hard labels (no KD).
    """

    values = parse_sizes(student, sizes)
    param = str(_sized(student).size_param)
    base_params = dict(student_params or {})
    if param in base_params:
        raise ConfigError(f"--sizes sets '{param}'; do not also pass it with --param.")
    ds = load_inputs(data, target, schema)
    if isinstance(teacher, (str, Path)):
        teacher = load_teacher(
            teacher, format=teacher_format, trust_pickle=trust_pickle, trust_code=trust_code
        )
    result = PilotResult(
        student=student,
        param=param,
        config={
            "dataset": ds.name,
            "target": ds.target,
            "seed": seed,
            "temperature": temperature,
            "alpha": alpha,
            "augment": augment,
            "assistant": assistant,
            "split_for_choice": "val",
        },
    )
    for size in values:
        res = distill(
            teacher,
            ds.frame,
            target=ds.target,
            schema=ds.schema,
            student=student,
            temperature=temperature,
            alpha=alpha,
            seed=seed,
            student_params={**base_params, param: size},
            baseline=baseline,
            calibrate=calibrate,
            augment=augment,
            assistant=assistant,
            out=None,
            progress=progress,
        )
        result.rows.append(_row(student, size, res.metrics))
    return result

"""Explain decisions of an artifact: reason codes checked against the teacher (``distill2rules explain``).

:func:`explain_artifact` is the one library call behind the CLI command: it reads the
artifact's spec, loads the reason catalogue and the teacher (``--teacher PATH``, default: the
teacher recorded in the manifest when that file is still there, unchanged and loadable) and
calls :func:`distill2rules.exporters.reasons.explain_rows`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from distill2rules.artifact import load_spec, read_manifest, update_artifact
from distill2rules.errors import ConfigError, Distill2RulesError
from distill2rules.exporters import load_catalogue, normalise_catalogue
from distill2rules.exporters.reasons import DEFAULT_MIN_SHARE, explain_rows
from distill2rules.spec import jsonable
from distill2rules.teachers import load_teacher

__all__ = [
    "DECISIONS_FILE",
    "ExplainResult",
    "Explainer",
    "decisions_record",
    "explain_artifact",
    "save_decisions",
    "teacher_decider",
]

#: The per-applicant file the HTML report reads (declined applicants, reasons, counterfactuals).
DECISIONS_FILE = "decisions.json"


@dataclass
class ExplainResult:
    """Explained rows plus where the teacher came from (``teacher`` is None when unused)."""

    rows: list[dict[str, Any]]
    teacher: str | None = None
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """Counts: adverse rows, teacher agreement, counterfactuals that flip the teacher."""
        adverse = [r for r in self.rows if r.get("adverse")]
        cfs = [r["counterfactual"] for r in adverse if r.get("counterfactual")]
        out: dict[str, Any] = {
            "rows": len(self.rows),
            "adverse": len(adverse),
            "counterfactuals": len(cfs),
        }
        if self.teacher is not None:
            out["teacher_agrees"] = sum(
                bool((r.get("teacher") or {}).get("agrees")) for r in self.rows
            )
            out["counterfactuals_flipping_teacher"] = sum(bool(c.get("teacher_flips")) for c in cfs)
        return out


def teacher_decider(teacher: Any, classes: Sequence[Any], *, trust_pickle: bool = False):
    """``frame -> class index`` (in ``classes`` order) for a teacher file or loaded teacher."""

    if isinstance(teacher, (str, Path)):
        teacher = load_teacher(teacher, trust_pickle=trust_pickle)
    from distill2rules.teachers.align import align_teacher_classes  # lazy: pulls pandas (report)

    perm = align_teacher_classes(teacher, np.asarray(list(classes), dtype=object))
    names = list(teacher.feature_names or [])

    def decide(frame: Any) -> np.ndarray:
        cols = names or list(frame.columns)
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise ConfigError(
                f"the teacher needs column(s) the data lacks: {', '.join(missing[:5])}.",
                hint="Pass rows with every column of the training data, or --teacher none.",
            )
        z = np.asarray(teacher.logits(frame[cols]), dtype=np.float64)[:, perm]
        return np.argmax(z, axis=1)

    return decide


def _manifest_teacher(artifact: Path) -> tuple[str | None, str | None]:
    info = read_manifest(artifact).get("teacher") or {}
    return info.get("source"), info.get("fingerprint")


class Explainer:
    """``explainer(X) -> rows`` for an artifact: spec, catalogue and teacher loaded once.

    Usable chunk by chunk (``distill2rules explain`` streams large files); ``summary`` counts
    every row seen so far. See :func:`explain_artifact` for the parameters.
    """

    def __init__(
        self,
        artifact: str | Path,
        *,
        teacher: str | Path | None = None,
        trust_pickle: bool = False,
        labels: str | Path | Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        art = Path(artifact)
        self.spec = load_spec(art)
        self.notes: list[str] = []
        self.catalogue = None
        if labels is not None:
            self.catalogue = (
                normalise_catalogue(labels)
                if isinstance(labels, Mapping)
                else load_catalogue(labels)
            )
        self.decide, self.teacher = None, None
        if isinstance(teacher, str) and teacher.strip().lower() == "none":
            self.notes.append("teacher: not used (--teacher none)")
        elif teacher is not None:
            self.decide = teacher_decider(teacher, self.spec["classes"], trust_pickle=trust_pickle)
            self.teacher = str(teacher)
        else:
            self._manifest_teacher(art, trust_pickle)
        self.kwargs = kwargs
        self.result = ExplainResult(rows=[], teacher=self.teacher, notes=self.notes)
        self._counts = {
            "rows": 0,
            "adverse": 0,
            "counterfactuals": 0,
            "teacher_agrees": 0,
            "counterfactuals_flipping_teacher": 0,
        }

    def _manifest_teacher(self, art: Path, trust_pickle: bool) -> None:
        path, fingerprint = _manifest_teacher(art)
        if not (path and Path(path).is_file()):
            self.notes.append(
                "teacher: the manifest's teacher file is not available; pass --teacher PATH to check "
                "decisions and counterfactuals against it"
            )
            return
        try:
            t = load_teacher(path, trust_pickle=trust_pickle)
        except Distill2RulesError as exc:
            self.notes.append(f"teacher: {path} could not be loaded ({exc}); pass --teacher PATH")
            return
        if fingerprint and t.fingerprint() != fingerprint:
            self.notes.append(f"teacher: {path} changed since fit (fingerprint differs); not used")
            return
        self.decide, self.teacher = teacher_decider(t, self.spec["classes"]), str(path)

    def __call__(self, X: Any) -> list[dict[str, Any]]:
        rows = explain_rows(self.spec, X, labels=self.catalogue, teacher=self.decide, **self.kwargs)
        part = ExplainResult(rows=rows, teacher=self.teacher).summary()
        for key in self._counts:
            self._counts[key] += int(part.get(key, 0))
        return rows

    def summary(self) -> dict[str, Any]:
        out = dict(self._counts)
        if self.teacher is None:
            out.pop("teacher_agrees")
            out.pop("counterfactuals_flipping_teacher")
        return out


def explain_artifact(
    artifact: str | Path,
    X: Any,
    *,
    teacher: str | Path | None = None,
    trust_pickle: bool = False,
    labels: str | Path | Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> ExplainResult:
    """Reason codes (and teacher-checked counterfactuals) for rows ``X`` of an artifact.

    Parameters
    ----------
    artifact : path
        Artifact directory written by ``fit``.
    X : DataFrame
        Raw rows (every training column, so the teacher can score them too).
    teacher : path, "none" or None
        The teacher to check decisions and counterfactuals against. None: the manifest's
        teacher when its file is still there with the same fingerprint; ``"none"``: no teacher.
    labels : path or mapping, optional
        A reason catalogue overriding the one stored at fit time.
    **kwargs
        Passed to :func:`distill2rules.exporters.reasons.explain_rows` (``top``,
        ``adverse_class``, ``reference``, ``min_share``, ``immutable``, ``protected``, ...).
    """
    ex = Explainer(artifact, teacher=teacher, trust_pickle=trust_pickle, labels=labels, **kwargs)
    return ExplainResult(rows=ex(X), teacher=ex.teacher, notes=ex.notes)


_REASON_KEYS = (
    "rank",
    "term",
    "features",
    "value",
    "reference",
    "reference_share",
    "impact",
    "points",
    "code",
    "text",
    "detail",
)
_CF_KEYS = (
    "text",
    "changes",
    "new_decision",
    "new_probability",
    "teacher_decision",
    "teacher_flips",
    "student_only",
)


def decisions_record(
    artifact: str | Path,
    X: Any,
    *,
    n: int = 20,
    teacher: str | Path | None = None,
    source: str = "the given rows",
    **kwargs: Any,
) -> dict[str, Any]:
    """The first ``n`` applicants of ``X`` the student declines, explained (what ``decisions.json`` holds).

    Every row is scored and explained without counterfactuals; the first ``n`` adverse ones are
    explained again with teacher-checked counterfactuals. ``kwargs`` go to
    :func:`distill2rules.exporters.reasons.explain_rows` (``immutable``, ``min_share``, ...).
    """

    kwargs = {k: v for k, v in kwargs.items() if k != "counterfactuals"}
    ex = Explainer(artifact, teacher=teacher, **kwargs, counterfactuals=False)
    rows = ex(X)
    adverse = [r["row"] for r in rows if r.get("adverse")][: max(int(n), 0)]
    chosen = X.iloc[adverse] if adverse else X.iloc[:0]
    full = Explainer(artifact, teacher=teacher, **kwargs)
    explained = full(chosen) if len(chosen) else []
    applicants: list[dict[str, Any]] = []
    for r in explained:
        cf = r.get("counterfactual")
        applicants.append(
            {
                "index": r.get("index"),
                "decision": r.get("decision"),
                "probability": r.get("probability"),
                "points": r.get("points"),
                "teacher": r.get("teacher"),
                "rule": None
                if not r.get("rule")
                else {"name": r["rule"].get("name"), "text": r["rule"].get("text")},
                "reasons": [{k: rr.get(k) for k in _REASON_KEYS} for rr in r.get("reasons") or []],
                "counterfactual": None if not cf else {k: cf.get(k) for k in _CF_KEYS},
            }
        )
    summ = full.summary()
    summary = {
        "rows": len(rows),
        "declined": sum(bool(r.get("adverse")) for r in rows),
        "shown": len(applicants),
        "counterfactuals": summ.get("counterfactuals", 0),
    }
    if full.teacher is not None:
        summary["teacher_agrees_declined"] = sum(
            bool((r.get("teacher") or {}).get("agrees")) for r in explained
        )
        summary["counterfactuals_flipping_teacher"] = summ.get(
            "counterfactuals_flipping_teacher", 0
        )
    return jsonable(
        {
            "format": "distill2rules-decisions/1",
            "source": source,
            "adverse_class": explained[0].get("adverse_class")
            if explained
            else (rows[0].get("adverse_class") if rows else None),
            "teacher": full.teacher,
            "min_share": float(kwargs.get("min_share", DEFAULT_MIN_SHARE)),
            "summary": summary,
            "notes": list(full.notes),
            "applicants": applicants,
        }
    )


def save_decisions(artifact: str | Path, X: Any, **kwargs: Any) -> Path:
    """Write :func:`decisions_record` into the artifact as ``decisions.json`` (manifest re-hashed)."""
    import json

    record = decisions_record(artifact, X, **kwargs)
    return update_artifact(
        artifact, {DECISIONS_FILE: json.dumps(record, indent=1, allow_nan=False) + "\n"}
    )

"""The report's per-applicant section: declined applicants, their reasons, teacher vs student.

Reads ``decisions.json`` (written by :func:`distill2rules.explain.save_decisions`, which
``fit --report`` calls on the test split): for each declined applicant the student's decision
and probability, the teacher's decision (disagreements flagged), the ranked reasons in the
applicant's language (reviewer detail with the numbers beside them) and the counterfactual with
whether the teacher accepts it. The report computes nothing here; every value reaches the page
through an autoescaped jinja2 template.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from distill2rules.errors import Distill2RulesError
from distill2rules.explain import save_decisions

__all__ = ["applicants_section", "save_test_decisions"]

_TEMPLATE = (
    "<p>{{ summary }}</p>"
    '{% if note %}<p class="note">{{ note }}</p>{% endif %}'
    "<table><thead><tr><th>applicant</th><th>student</th><th>teacher</th><th>reasons (applicant language)</th>"
    "<th>counterfactual</th></tr></thead><tbody>"
    "{% for a in applicants %}<tr>"
    "<td>{{ a.index }}</td>"
    "<td>{{ a.decision }}{% if a.probability %} (p = {{ a.probability }}){% endif %}</td>"
    "<td>{% if a.teacher %}{{ a.teacher }}{% if not a.agrees %} <strong>(disagrees)</strong>{% endif %}"
    "{% else %}–{% endif %}</td>"
    "<td>{% if a.reasons %}<ol>{% for r in a.reasons %}<li>{{ r.text }}{% if r.code %} <code>{{ r.code }}</code>{% endif %}"
    "{% if r.detail %}<br><small>{{ r.detail }}</small>{% endif %}</li>{% endfor %}</ol>{% else %}–{% endif %}</td>"
    "<td>{% if a.cf %}{{ a.cf }}{% if a.cf_status %}<br><small>{{ a.cf_status }}</small>{% endif %}"
    "{% else %}none found{% endif %}</td>"
    "</tr>{% endfor %}</tbody></table>"
)
_ENV: Any = None


def _env() -> Any:
    global _ENV
    if _ENV is None:
        import jinja2

        _ENV = jinja2.Environment(
            loader=jinja2.DictLoader({"applicants.html": _TEMPLATE}),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
    return _ENV


def _prob(v: Any) -> str:
    return f"{float(v):.2f}" if isinstance(v, (int, float)) and not isinstance(v, bool) else ""


def _applicant(row: Mapping[str, Any]) -> dict[str, Any]:
    teacher = row.get("teacher") or {}
    cf = row.get("counterfactual") or {}
    status = ""
    if cf:
        flips = cf.get("teacher_flips")
        status = (
            "the teacher's decision flips too"
            if flips
            else "student only: the teacher would not change"
            if flips is False
            else "not checked against a teacher"
        )
    return {
        "index": str(row.get("index", row.get("row", ""))),
        "decision": str(row.get("decision")),
        "probability": _prob(row.get("probability")),
        "teacher": "" if not teacher else str(teacher.get("decision")),
        "agrees": bool(teacher.get("agrees", True)),
        "reasons": [
            {
                "text": str(r.get("text", "")),
                "code": str(r.get("code") or ""),
                "detail": str(r.get("detail") or ""),
            }
            for r in row.get("reasons") or []
        ],
        "cf": str(cf.get("text", "")) if cf else "",
        "cf_status": status,
    }


def applicants_section(run: Mapping[str, Any]) -> str:
    """HTML of the per-applicant section, or "" when the run has no ``decisions.json``."""
    dec = run.get("decisions")
    if not isinstance(dec, Mapping) or not dec.get("applicants"):
        return ""
    rows = [_applicant(r) for r in dec["applicants"] if isinstance(r, Mapping)]
    s = dec.get("summary") or {}
    n = len(rows)
    parts = [
        (
            f"The first {n} applicants of {dec.get('source', 'the test split')} the student declines "
            f"(adverse class '{dec.get('adverse_class')}'), of {s.get('rows', '?')} rows explained."
        )
    ]
    if dec.get("teacher"):
        parts.append(
            f"The teacher agrees on {s.get('teacher_agrees_declined', '?')} of {n}; "
            f"{s.get('counterfactuals_flipping_teacher', '?')} of {s.get('counterfactuals', '?')} "
            "counterfactuals flip the teacher's decision too."
        )
    else:
        parts.append(
            "No teacher was available: decisions and counterfactuals are the student's only."
        )
    note = (
        "Reasons are the terms (or rule conditions) pushing toward the adverse decision, compared with a "
        f"reference held by at least {dec.get('min_share', 0.05):.0%} of the training rows; protected features "
        "are never cited nor changed; counterfactuals change one or two actionable features within supported values."
    )
    return (
        _env()
        .get_template("applicants.html")
        .render(summary=" ".join(parts), note=note, applicants=rows)
    )


def save_run_decisions(run: Any, artifact: Any, *, n: int = 20) -> bool:
    """``fit --report``: explain the first ``n`` declined applicants of the run's test split into
    ``decisions.json`` of the written ``artifact`` (the teacher checks counterfactuals when it is a file).

    Returns False (and writes nothing) when the student has no adverse class or the rows cannot be
    explained; the report then simply has no per-applicant section.
    """
    from distill2rules.experiments.runs import eval_inputs_from_run  # lazy: pulls pandas

    src = run.config.teacher
    teacher = src if isinstance(src, (str, Path)) else None
    try:
        inp = eval_inputs_from_run(run, background_rows=1)
        save_decisions(artifact, inp.X, n=n, teacher=teacher, source="the test split")
    except Distill2RulesError:
        return False
    return True


def save_test_decisions(
    artifact: Any,
    data: Any,
    *,
    target: str | None = None,
    teacher: Any = None,
    trust_pickle: bool = False,
    n: int = 20,
) -> bool:
    """``fit --report``: explain the first ``n`` declined test applicants into ``decisions.json``.

    The test split is the one ``evaluate`` uses (the data re-split with the manifest's seed).
    Returns False (and writes nothing) when the rows or the teacher cannot be had or the
    student has no adverse class; the report then simply has no per-applicant section.
    """
    from distill2rules.experiments.runs import prepare_eval_inputs  # lazy: pulls pandas

    try:
        inp = prepare_eval_inputs(
            artifact,
            data,
            target=target,
            teacher=teacher,
            split="test",
            background_rows=1,
            trust_pickle=trust_pickle,
        )
        source = "the test split" if inp.split == "test" else "the given rows"
        save_decisions(
            artifact, inp.X, n=n, teacher=inp.teacher_path, trust_pickle=trust_pickle, source=source
        )
    except Distill2RulesError:
        return False
    return True

"""`distill2rules explain`: loan-decision reason codes and counterfactuals for rows."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from distill2rules.cli._io import input_path, is_stdio, with_format
from distill2rules.cli._options import ArtifactDir, TrustPickle
from distill2rules.errors import ConfigError

if TYPE_CHECKING:
    from distill2rules.explain import Explainer


def print_decision_facts(metrics: dict[str, Any]) -> None:
    """After `fit`: the adverse class, protected features the student uses, the exclusion cost."""
    if metrics.get("adverse_class") is not None:
        typer.echo(
            f"adverse class: {metrics['adverse_class']} (reason codes and counterfactuals explain this decision)"
        )
    used = (metrics.get("protected") or {}).get("used") or []
    for u in used:
        typer.echo(f"protected feature used by the student: {u['text']}")
    cost = metrics.get("excluded_features")
    if cost and "test" in cost:
        t = cost["test"]
        typer.echo(
            f"excluded {', '.join(cost['features'])}: test fidelity {t['fidelity_without']:.4f} "
            f"(with them {t['fidelity_with_all']:.4f}, cost {t['cost']:+.4f})"
        )


# Options whose help takes several lines, declared once here so the signature reads as a list.
AdverseClass = Annotated[
    str | None,
    typer.Option(
        help="The adverse outcome (e.g. 'bad'); default: recorded at fit, else the event class (1 of 0/1, True, a negative-looking label)."
    ),
]
Counterfactuals = Annotated[
    bool,
    typer.Option(
        help="Search the smallest change of one or two actionable features that flips each adverse decision."
    ),
]
Reference = Annotated[
    str,
    typer.Option(
        help="Reference of additive reasons: best (most favourable bin held by >= --min-share of training rows), mean or median (the average / median applicant), zero."
    ),
]
Teacher = Annotated[
    str | None,
    typer.Option(
        help="Teacher to check decisions and counterfactuals against (default: the manifest's teacher when available; 'none' to skip)."
    ),
]
Immutable = Annotated[
    str | None,
    typer.Option(
        help="Features counterfactuals must not change, 'col,...' (protected ones never change)."
    ),
]
Protected = Annotated[
    str | None,
    typer.Option(
        help="Protected columns 'col,...', never cited or changed (default: recorded at fit, else common names such as sex, race, age; 'none' to switch off)."
    ),
]
Labels = Annotated[
    Path | None,
    typer.Option(help="Reason catalogue labels.csv|json overriding the one stored at fit."),
]
JsonLinesOut = Annotated[
    Path | None,
    typer.Option(
        help="Also write one JSON object per row (JSON lines) to this file ('-': stdout)."
    ),
]


def explain(
    artifact: ArtifactDir,
    data: Annotated[
        Path, typer.Option(help="CSV/Parquet with the rows (applicants) to explain ('-': stdin).")
    ],
    top: Annotated[int, typer.Option(help="Number of reason codes per row.")] = 4,
    adverse_class: AdverseClass = None,
    counterfactuals: Counterfactuals = True,
    reference: Reference = "best",
    min_share: Annotated[
        float, typer.Option(help="Minimum share of training rows a reference bin must hold.")
    ] = 0.05,
    teacher: Teacher = None,
    trust_pickle: TrustPickle = False,
    immutable: Immutable = None,
    protected: Protected = None,
    labels: Labels = None,
    out: JsonLinesOut = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print only JSON lines (one object per row).")
    ] = False,
    limit: Annotated[int, typer.Option(help="Rows shown in the table (all rows go to JSON).")] = 20,
) -> None:
    """Explain decisions: probability, ranked reason codes, the rule that fired, the teacher's view, a counterfactual."""
    from distill2rules._stream import explain_stream  # lazy: pulls pandas; keeps --help fast
    from distill2rules.explain import Explainer  # lazy: keeps --help fast

    if top < 1:
        raise ConfigError(f"--top must be >= 1, got {top}.")
    explainer = Explainer(
        artifact,
        teacher=teacher,
        trust_pickle=trust_pickle,
        labels=labels,
        top=top,
        adverse_class=adverse_class,
        counterfactuals=counterfactuals,
        reference=reference,
        min_share=min_share,
        immutable=[c.strip() for c in (immutable or "").split(",") if c.strip()],
        protected=protected,
    )
    if is_stdio(out):
        as_json, out = True, None

    def explain_chunk(X: Any) -> list[dict[str, Any]]:  # every JSON line names its format
        return [with_format("explanation", r) for r in explainer(X)]

    with input_path(data) as src:
        head, n = explain_stream(  # chunk by chunk: memory stays flat on large files
            src, explain_chunk, out=out, echo=typer.echo if as_json else None, keep=max(limit, 0)
        )
    for note in explainer.notes:
        typer.echo(note, err=True)
    if not as_json:
        _print_explanations(explainer, head, n, limit=limit, out=out)


def _print_explanations(
    explainer: Explainer, head: list[dict[str, Any]], n: int, *, limit: int, out: Path | None
) -> None:
    """The reasons table of the first rows, then one summary line (adverse, teacher agreement)."""
    from distill2rules.exporters.reasons import reasons_table  # lazy: keeps --help fast

    typer.echo(reasons_table(head))
    if n > limit:
        typer.echo(f"... {n - limit} more row(s); use --json or --out for all of them")
    s = explainer.summary()
    line = f"{s['adverse']} of {s['rows']} row(s) adverse"
    if explainer.teacher is not None:
        line += (
            f"; teacher ({explainer.teacher}) agrees on {s['teacher_agrees']}; "
            f"{s['counterfactuals_flipping_teacher']} of {s['counterfactuals']} counterfactual(s) flip the teacher too"
        )
    typer.echo(line)
    if out is not None:
        typer.echo(f"JSON lines written to {out}")


def register(app: typer.Typer) -> None:
    app.command("explain")(explain)

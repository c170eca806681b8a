"""The ``distill2rules`` command: a thin face over the library.

Each command parses its options, calls one library function and prints the result. Any
:class:`~distill2rules.errors.Distill2RulesError` becomes one line on stderr and exit code 2.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

import distill2rules.cli as cli_package
from distill2rules import __version__
from distill2rules._optional import is_optional, missing_dependency
from distill2rules.cli import _fit_options as opt
from distill2rules.cli._choices import (
    export_format_help,
)
from distill2rules.cli._common import (
    check_student_params,
    console,
    fmt,
    parse_float_or_auto,
    parse_params,
)
from distill2rules.cli._io import echo_json, input_path, is_stdio, output_path, stdin_to_file
from distill2rules.cli._options import ArtifactDir, StudentOpt, TargetOpt, TrustCode, TrustPickle
from distill2rules.cli.cmd_explain import print_decision_facts
from distill2rules.errors import ConfigError, Distill2RulesError
from distill2rules.exporters import EXPORTERS
from distill2rules.students.cutoff import check_cutoff_args

if TYPE_CHECKING:
    from distill2rules.data import Schema
    from distill2rules.pipeline import DistillRun

app = typer.Typer(
    name="distill2rules",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    help="Distill a black-box classifier into a readable, auditable, deployable student.\n\n"
    "Typical use: [bold]distill2rules fit --teacher model.txt --student ebm --data data.csv --target y --out run/[/bold]",
)
teacher_app = typer.Typer(no_args_is_help=True, help="Train or inspect teachers.")
app.add_typer(teacher_app, name="teacher")


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"distill2rules {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool | None,
        typer.Option(
            "--version",
            callback=_version_callback,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = None,
) -> None:
    """Distill a black-box classifier into a readable, auditable, deployable student."""


# ----------------------------------------------------------------------------- helpers


def print_fit_table(metrics: dict[str, Any], title: str = "") -> None:
    from rich.table import Table

    test = metrics.get("test", {})
    src = (metrics.get("data_sources") or {}).get("test") or {}
    where = f"{src['split']} '{src['data']}'" if src else "test split"
    t = Table(
        title=title
        or f"{metrics.get('student')} student — {where} ({test.get('n_rows', '?')} rows)"
    )
    t.add_column("model")
    for col in ("accuracy", "bal. acc", "ROC AUC", "log loss", "ECE", "fidelity", "retention"):
        t.add_column(col, justify="right")
    rows = [
        ("teacher", test.get("teacher", {})),
        ("student (KD)", test.get("student", {})),
        ("student (no KD)", test.get("baseline")),
    ]
    for name, m in rows:
        if not m:
            continue
        t.add_row(
            name,
            fmt(m.get("accuracy")),
            fmt(m.get("balanced_accuracy")),
            fmt(m.get("roc_auc")),
            fmt(m.get("log_loss")),
            fmt(m.get("ece")),
            fmt(m.get("fidelity")),
            fmt(m.get("retention")),
        )
    console().print(t)
    fd = (test.get("student") or {}).get("fidelity_detail") or {}
    if fd.get("rank_auc") is not None or fd.get("balanced_agreement") is not None:
        console().print(
            f"fidelity beyond the 0.5 cut (KD student): balanced {fmt(fd.get('balanced_agreement'))}, "
            f"ranking AUC vs the teacher's decision {fmt(fd.get('rank_auc'))}, "
            f"Spearman {fmt(fd.get('spearman'))}, Kendall {fmt(fd.get('kendall'))}"
        )
    if src.get("notice"):
        console(stderr=True).print(f"[yellow]note:[/yellow] {src['notice']}")


# ----------------------------------------------------------------------------- commands


@app.command()
def fit(
    teacher: opt.Teacher,
    data: opt.Data,
    out: opt.Out = None,
    student: StudentOpt = "ebm",
    target: TargetOpt = None,
    temperature: opt.Temperature = None,
    alpha: opt.Alpha = "0.0",
    seed: opt.Seed = 0,
    teacher_format: opt.TeacherFormat = None,
    trust_pickle: TrustPickle = False,
    trust_code: TrustCode = False,
    schema: opt.Schema = None,
    sep: opt.Sep = None,
    encoding: opt.Encoding = None,
    param: opt.Param = None,
    monotone: opt.Monotone = None,
    special_values: opt.SpecialValues = None,
    augment: opt.Augment = "0",
    assistant: opt.Assistant = None,
    sizes: opt.Sizes = None,
    adverse_class: opt.AdverseClass = None,
    labels: opt.Labels = None,
    protected: opt.Protected = None,
    exclude_features: opt.ExcludeFeatures = None,
    baseline: opt.Baseline = True,
    calibrate: opt.Calibrate = True,
    onnx: opt.Onnx = True,
    quiet: opt.Quiet = False,
    as_json: opt.Json = False,
    report: opt.Report = False,
    test_data: opt.TestData = None,
    cutoff: opt.Cutoff = None,
    approval_rate: opt.ApprovalRate = None,
    sign_key: opt.SignKey = None,
) -> None:
    """Distill TEACHER into an interpretable STUDENT on DATA and write an artifact directory."""
    data = stdin_to_file(data)
    params = _student_params(student, param, monotone=monotone, special_values=special_values)
    check_cutoff_args(cutoff, approval_rate)  # before any loading
    distill_options: dict[str, Any] = {  # what the --sizes pilot and the artifact share
        "target": target,
        "student": student,
        "temperature": temperature,
        "alpha": alpha,
        "seed": seed,
        "student_params": params,
        "schema": _load_schema(schema),
        "teacher_format": teacher_format,
        "trust_pickle": trust_pickle,
        "trust_code": trust_code,
        "baseline": baseline,
        "calibrate": calibrate,
        "augment": augment,
        "assistant": assistant,
    }
    if sizes:
        _fit_sizes(teacher, data, sizes=sizes, as_json=as_json, **distill_options)
        return
    out = _required_out(out)
    run = _fit_artifact(
        teacher,
        data,
        out=out,
        report=report,
        sign_key=sign_key,
        export_onnx=onnx,
        progress=not quiet and not as_json,
        adverse_class=adverse_class,
        sep=sep,
        encoding=encoding,
        test_data=test_data,
        labels=labels,
        protected=protected,
        exclude_features=exclude_features,
        cutoff=cutoff,
        approval_rate=approval_rate,
        **distill_options,
    )
    _print_fit(run.metrics, out=out, report=report, quiet=quiet, as_json=as_json)


def _student_params(
    student: str, param: list[str] | None, *, monotone: str | None, special_values: str | None
) -> dict[str, Any]:
    """``--param KEY=VALUE`` checked against STUDENT's parameters, plus the given
    ``--monotone`` / ``--special-values`` (student parameters with flags of their own)."""
    params = check_student_params(student, parse_params(param))
    params.update(
        {k: v for k, v in (("monotone", monotone), ("special_values", special_values)) if v}
    )
    return params


def _load_schema(path: Path | None) -> Schema | None:
    """``--schema``: column types and missing markers from a file (None: inferred from the data)."""
    from distill2rules.data import Schema  # lazy: pulls pandas; keeps --help fast

    return Schema.load(path) if path is not None else None


def _required_out(out: Path | None) -> Path:
    """``--out``, which ``fit`` needs unless it only pilots ``--sizes``."""
    if out is None:
        raise ConfigError(
            "fit needs --out DIR (where to write the artifact).",
            hint="Or pass --sizes to only pilot student sizes.",
        )
    return out


def _fit_artifact(
    teacher: Path,
    data: str,
    *,
    out: Path,
    temperature: str | None,
    alpha: str,
    **options: Any,
) -> DistillRun:
    """``fit`` without ``--sizes``: distill into the artifact directory OUT.

    Special-values warnings are not shown as Python warnings: the metrics carry them and
    ``fit`` prints each once, as one line.
    """
    from distill2rules.data import SpecialValuesWarning  # lazy: pulls pandas; keeps --help fast
    from distill2rules.pipeline import fit_to_directory  # lazy: pulls pandas; keeps --help fast

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SpecialValuesWarning)
        return fit_to_directory(
            teacher,
            data,
            out=out,
            temperature=parse_float_or_auto(temperature, "temperature"),
            alpha=parse_float_or_auto(alpha, "alpha"),
            require_adverse_class=True,
            **options,
        )


def _print_fit(
    metrics: dict[str, Any], *, out: Path, report: bool, quiet: bool, as_json: bool
) -> None:
    """The fit's warnings (stderr), then its metrics as JSON or as a table with the decision
    facts and where the artifact (and report) went."""
    for message in metrics.get("warnings", []):
        print(f"warning: {message}", file=sys.stderr)
    if as_json:
        echo_json("fit", metrics)
        return
    print_fit_table(metrics)
    if not quiet:
        print_decision_facts(metrics)
        console().print(
            f"artifact: [bold]{out}[/bold]"
            + (f"; report: [bold]{out / 'report.html'}[/bold]" if report else "")
        )


def _complexity_text(c: dict[str, Any]) -> str:
    if "rules" in c:
        return f"{c['rules']} rules, {c['conditions']} conditions"
    if "terms" in c:
        return f"{c['terms']} terms" + (f", {c['pairs']} pairs" if c.get("pairs") else "")
    return "-".join(map(str, c.get("layers", [])[:-1])) + f" ({c.get('parameters')} weights)"


def _fit_sizes(
    teacher: Path,
    data: str,
    *,
    student: str,
    sizes: str,
    temperature: str | None,
    alpha: str,
    as_json: bool,
    **kw: Any,
) -> None:
    """``fit --sizes``: one distillation per size; a table of fidelity and accuracy vs complexity."""
    from rich.table import Table

    from distill2rules.experiments.pilot import pilot_sizes  # lazy: pulls pandas; keeps --help fast

    res = pilot_sizes(
        teacher,
        data,
        student=student,
        sizes=sizes,
        temperature=parse_float_or_auto(temperature, "temperature"),
        alpha=parse_float_or_auto(alpha, "alpha"),
        progress=False,
        **kw,
    )
    if as_json:
        echo_json("sizes", res.to_dict())
        return
    tau = {fmt(r["temperature"], 2) + " / " + fmt(r["alpha"], 2) for r in res.rows}
    t = Table(
        title=f"{student} sizes ({res.param}), τ / α = {', '.join(sorted(tau))}: validation split to choose, test to report"
    )
    for col in (
        "size",
        "complexity",
        "val fid",
        "val acc",
        "test fid",
        "test acc",
        "val fid no KD",
    ):
        t.add_column(col, justify="left" if col in ("size", "complexity") else "right")
    for r in res.rows:
        g = lambda block, key: fmt((r.get(block) or {}).get(key))
        t.add_row(
            r["size"],
            _complexity_text(r["complexity"]),
            g("val", "fidelity"),
            g("val", "accuracy"),
            g("test", "fidelity"),
            g("test", "accuracy"),
            g("val_no_kd", "fidelity"),
        )
    console().print(t)


@app.command()
def predict(
    artifact: ArtifactDir,
    data: Annotated[
        Path,
        typer.Option(
            help="CSV/Parquet with the raw feature columns ('-': read CSV or Parquet from stdin)."
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            help="CSV to write: one probability column per class (p_<class>); '-' writes to stdout."
        ),
    ],
    sep: Annotated[
        str | None, typer.Option(help="Delimiter of a CSV/text data file (default: sniffed).")
    ] = None,
    encoding: Annotated[
        str | None, typer.Option(help="Text encoding of the data file (default: UTF-8).")
    ] = None,
) -> None:
    """Score rows with a fitted student: one probability column per class."""
    from distill2rules.serve import predict_file  # lazy: pulls pandas; keeps --help fast

    with input_path(data) as src, output_path(out, name="predictions.csv") as dst:
        n = predict_file(artifact, src, dst, sep=sep, encoding=encoding)
    console(stderr=True).print(f"wrote {n} rows to {'stdout' if is_stdio(out) else out}")


@app.command()
def quickstart(
    out: Annotated[Path, typer.Option(help="Where to write the teacher and the artifacts.")] = Path(
        "distill2rules-quickstart"
    ),
    seed: Annotated[int, typer.Option(min=0, help="Seed for the split, teacher and students.")] = 0,
    temperature: Annotated[float, typer.Option(help="Distillation temperature τ.")] = 2.0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
) -> None:
    """Offline demo: train a GBT teacher on breast_cancer, distill logreg and EBM students, compare."""
    from distill2rules.quickstart import run_quickstart  # lazy: pulls pandas; keeps --help fast

    rows = run_quickstart(out, seed=seed, temperature=temperature, progress=not quiet)
    from rich.table import Table

    t = Table(title="quickstart — breast_cancer, LightGBM teacher (200 trees), test split")
    for col in ("model", "accuracy", "ROC AUC", "fidelity", "retention", "size", "artifact"):
        t.add_column(col)
    for r in rows:
        t.add_row(
            r["model"],
            fmt(r.get("accuracy")),
            fmt(r.get("roc_auc")),
            fmt(r.get("fidelity")),
            fmt(r.get("retention")),
            str(r.get("size", "")),
            str(r.get("artifact", "")),
        )
    console().print(t)


@teacher_app.command("train")
def teacher_train(
    kind: Annotated[
        str,
        typer.Option(help="mlp (512-256-128-64-32, early stopping) or gbt (LightGBM, 200 trees)."),
    ],
    data: Annotated[str, typer.Option(help="CSV/Parquet path or registry name.")],
    out: Annotated[
        Path,
        typer.Option(
            help="Output file: model.txt for gbt, model.pt (+ model.json sidecar) for mlp."
        ),
    ],
    target: Annotated[
        str | None, typer.Option(help="Target column (registry datasets know theirs).")
    ] = None,
    seed: Annotated[
        int,
        typer.Option(
            min=0, help="Seed; the teacher trains on the same 70% split `fit --seed` uses."
        ),
    ] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
) -> None:
    """Train a reference teacher (the paper's MLP or a 200-tree LightGBM) on the train split."""
    from distill2rules.quickstart import train_reference_teacher  # lazy: pulls pandas

    info = train_reference_teacher(kind, data, out, target=target, seed=seed, progress=not quiet)
    console().print(f"teacher ({kind}) written to [bold]{out}[/bold]: {info}")


@app.command()
def export(
    artifact: ArtifactDir,
    format: Annotated[str, typer.Option("--format", help=export_format_help())] = "onnx",
    inputs: Annotated[
        str,
        typer.Option(
            help="ONNX inputs: 'tensors' (numeric [N,d] + categorical [N,d] strings), 'columns' (one [N,1] input per column) or 'codes' (categorical as int64 codes, tables in the metadata; student.codes.onnx, used by `serve` and Scorer.load)."
        ),
    ] = "tensors",
    out: Annotated[
        Path | None,
        typer.Option(
            help="Write here instead of into the artifact: a file for onnx; for rulecard a directory (all three formats) or one file named .md, .html or .json; '-' writes the graph (onnx) or the Markdown card to stdout."
        ),
    ] = None,
) -> None:
    """Export the student as an ONNX graph or as a rule card (Markdown, HTML, JSON)."""
    from distill2rules.serve import export_artifact  # lazy: pulls pandas; keeps --help fast

    if is_stdio(out):
        names = EXPORTERS[format].file_names if format in EXPORTERS else ()
        assert out is not None  # is_stdio: out is '-'
        with output_path(
            out, name=names[0] if names else "export"
        ) as dst:  # an unknown format: refused below
            export_artifact(artifact, format=format, inputs=inputs, out=dst)
        return
    written = export_artifact(artifact, format=format, inputs=inputs, out=out)
    for p in written:
        typer.echo(str(p))


@app.command()
def verify(
    artifact: ArtifactDir,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    sign_key: Annotated[
        Path | None,
        typer.Option(
            help="Also check the artifact's HMAC-SHA256 signature with the key in this file (from fit --sign-key)."
        ),
    ] = None,
) -> None:
    """Check an artifact: file hashes, the spec, cross-part consistency, ONNX parity (and its signature). Exit 2 on any mismatch."""
    from distill2rules.artifact import read_sign_key, verify_artifact  # lazy: keeps --help fast

    key = read_sign_key(sign_key) if sign_key is not None else None
    report = verify_artifact(artifact, sign_key=key)
    if as_json:
        echo_json("verify", report)
        return
    sig = report.get("signature") or {}
    if sig.get("valid"):
        unsigned = sig.get("unsigned_files") or []
        signed = f"; signature valid (key {sig.get('key_id')})" + (
            f", unsigned: {', '.join(unsigned)}" if unsigned else ""
        )
    elif sig.get("signed"):
        signed = "; signed (not checked: pass --sign-key)"
    else:
        signed = "; not signed"
    typer.echo(
        f"ok: {report['files_checked']} files match the manifest; parts consistent"
        + (
            f"; ONNX parity max |Δp| = {report['onnx_max_abs_diff']:.2e}"
            if "onnx_max_abs_diff" in report
            else ""
        )
        + signed
    )


# ----------------------------------------------------------------------------- entry point


def _register_optional_commands() -> None:
    """Commands contributed by other wings live in ``distill2rules/cli/cmd_*.py`` modules."""
    for mod in sorted(
        m.name for m in pkgutil.iter_modules(cli_package.__path__) if m.name.startswith("cmd_")
    ):
        importlib.import_module(f"distill2rules.cli.{mod}").register(app)


_register_optional_commands()


def _click_types() -> tuple[
    tuple[type[BaseException], ...],
    tuple[type[BaseException], ...],
    tuple[type[BaseException], ...],
]:
    """(ClickException, Exit, Abort) classes of typer's vendored click copy and of click itself.

    typer 0.29 raises its own copy's exceptions (``typer._click``), which do not subclass
    ``click.ClickException``; an installed ``click`` may still raise its own from plug-ins.
    """
    import typer.exceptions as texc

    errors: list[type[BaseException]] = []
    exits: list[type[BaseException]] = [texc.Exit]
    aborts: list[type[BaseException]] = [texc.Abort]
    try:
        from typer._click import exceptions as tce

        errors.append(tce.ClickException)
    except ImportError:  # pragma: no cover - older typer re-exports click itself
        pass
    try:
        import click

        errors.append(click.ClickException)
        exits.append(click.exceptions.Exit)
        aborts.append(click.exceptions.Abort)
    except ImportError:
        pass
    return tuple(errors), tuple(exits), tuple(aborts)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: maps usage and library errors to one message on stderr and exit code 2."""
    click_errors, exits, aborts = _click_types()
    try:
        rv = app(args=argv, standalone_mode=False, prog_name="distill2rules")
    except exits as exc:
        sys.exit(getattr(exc, "exit_code", 0))
    except aborts:
        print("aborted", file=sys.stderr)
        sys.exit(130)
    except click_errors as exc:  # usage errors (unknown/missing option, bad value, no command): click's message, exit 2
        exc.show()  # type: ignore[attr-defined]  # click's exceptions, found at run time
        code = getattr(exc, "exit_code", 2)
        sys.exit(code if isinstance(code, int) and code != 1 else 2)
    except Distill2RulesError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except (FileNotFoundError, IsADirectoryError, PermissionError, NotADirectoryError) as exc:
        print(f"error: {exc.strerror or exc}: {exc.filename}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:
        if is_optional(exc):  # an optional dependency: name the extra that installs it
            print(f"error: {missing_dependency(exc)}", file=sys.stderr)
            sys.exit(2)
        if os.environ.get("DISTILL2RULES_DEBUG"):
            raise
        print(
            f"internal error: {type(exc).__name__}: {exc} (set DISTILL2RULES_DEBUG=1 for a traceback; please report it)",
            file=sys.stderr,
        )
        sys.exit(1)
    sys.exit(rv if isinstance(rv, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    main()

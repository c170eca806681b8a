"""The ``fit`` command's options: one ``Annotated`` alias per flag, in ``fit --help`` order.

``fit`` takes more flags than any other command; declaring them here keeps its signature a
readable list (``temperature: opt.Temperature = None``) and its body the steps. An alias leaves
the option's name to the parameter it annotates; its default stays in the signature. Options
shared with other commands (``--student``, ``--target``, ``--trust-pickle``, ``--trust-code``)
are in :mod:`distill2rules.cli._options`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from distill2rules.cli._choices import sizes_help, teacher_format_help

Teacher = Annotated[
    Path,
    typer.Option(
        help="Teacher file: LightGBM model.txt, TorchScript or state_dict .pt (+ sidecar .json), .onnx, .skops."
    ),
]

Data = Annotated[
    str,
    typer.Option(
        help="Dataset: a CSV/Parquet path ('-': stdin) or a registry name (adult, german_credit, breast_cancer, wine_quality, bank_marketing)."
    ),
]

Out = Annotated[
    Path | None,
    typer.Option(
        help="Artifact directory to write (atomically; replaced if it exists). Required unless --sizes."
    ),
]

Temperature = Annotated[
    str | None,
    typer.Option(
        help="Temperature τ >= 0 of the teacher's soft labels: 0 = its decisions (one-hot argmax), 1 = its probabilities, or 'auto' (searches 0, 1, 2, 4 on validation fidelity). Default: 0 for logreg, scorecard, tree and rules (they reproduce decisions), 1 for ebm and mlp."
    ),
]

Alpha = Annotated[
    str,
    typer.Option(help="Weight α in [0, 1] of the true labels (1 = no distillation), or 'auto'."),
]

Seed = Annotated[int, typer.Option(min=0, help="Seed of the 70/15/15 split and of the student.")]

TeacherFormat = Annotated[str | None, typer.Option(help=teacher_format_help())]

Schema = Annotated[
    Path | None,
    typer.Option(help="Schema JSON (column types, missing markers) instead of inference."),
]

Sep = Annotated[
    str | None,
    typer.Option(
        help="Delimiter of a CSV/text data file (default: sniffed among , ; tab | spaces)."
    ),
]

Encoding = Annotated[
    str | None,
    typer.Option(help="Text encoding of the data file (default: UTF-8), e.g. latin-1."),
]

Param = Annotated[
    list[str] | None,
    typer.Option(
        "--param",
        "-p",
        help="Student parameter KEY=VALUE (repeatable), e.g. -p interactions=5.",
    ),
]

Monotone = Annotated[str | None, typer.Option(help="Monotone constraints, e.g. 'income:+,debt:-'.")]

SpecialValues = Annotated[
    str | None,
    typer.Option(
        help="Codes in numeric columns that are levels, not numbers: '-9=no record,-8=no usable trades' (every numeric column) or 'col:-9=no record;other:-1=n/a' (see docs/data.md)."
    ),
]

Augment = Annotated[
    str,
    typer.Option(
        help="Add synthetic rows near the training rows (0.3-sd jitter, neighbour codes, near-neighbour mixup), labelled by the teacher, to the KD student's training rows: N rows, 'Kx' (K × the training rows) or 'auto' (0, 5x or 20x by validation fidelity)."
    ),
]

Assistant = Annotated[
    str | None,
    typer.Option(
        help="Multi-stage distillation through an assistant, e.g. 'mlp:128-64' (teacher → assistant → student)."
    ),
]

Sizes = Annotated[
    str | None,
    typer.Option(
        help=sizes_help("Pilot student sizes instead of writing an artifact, e.g. '5,10,20'")
    ),
]

AdverseClass = Annotated[
    str | None,
    typer.Option(
        help="The adverse outcome (e.g. 'bad'), recorded for reason codes and the rule card. Default: the event class (1 of 0/1, True, a negative-looking label)."
    ),
]

Labels = Annotated[
    Path | None,
    typer.Option(
        help="Reason catalogue labels.csv|json (plain labels, adverse-action codes, statements), stored in the artifact."
    ),
]

Protected = Annotated[
    str | None,
    typer.Option(
        help="Protected columns 'col,...' flagged on the rule card and never cited (default: common names such as sex, race, age, marital status; 'none' to switch off)."
    ),
]

ExcludeFeatures = Annotated[
    str | None,
    typer.Option(
        help="Columns the student must not read, 'col,...' (the teacher still does); the fidelity cost is recorded."
    ),
]

Baseline = Annotated[
    bool,
    typer.Option(help="Also fit the student on hard labels (no KD) and report it side by side."),
]

Calibrate = Annotated[
    bool,
    typer.Option(
        help="Calibrate the student on the validation split: Platt scaling for binary rule lists and additive students, temperature scaling otherwise (folded into the spec; decisions kept)."
    ),
]

Onnx = Annotated[bool, typer.Option(help="Write student.onnx into the artifact.")]

Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")]

Json = Annotated[bool, typer.Option("--json", help="Print metrics as JSON instead of a table.")]

Report = Annotated[
    bool,
    typer.Option(
        "--report",
        help="Also validate the student (SHAP alignment, stability, latency → evaluation.json) and write report.html into the artifact.",
    ),
]

TestData = Annotated[
    str | None,
    typer.Option(
        "--test-data",
        help="Held-out rows the teacher never saw (CSV/Parquet path or registry name): the whole file is the test set; --data is then split only into train/validation.",
    ),
]

Cutoff = Annotated[
    float | None,
    typer.Option(
        "--cutoff",
        help="Decline (the adverse class) when P(adverse) > CUTOFF instead of at 0.5, e.g. 0.3; the student learns the teacher's decisions at it and the spec, ONNX label, Scorer, reasons and rule card decide at it (binary targets).",
    ),
]

ApprovalRate = Annotated[
    float | None,
    typer.Option(
        "--approval-rate",
        help="Choose the cutoff so that the teacher approves this share of the training split's rows, e.g. 0.8 (binary targets; not with --cutoff).",
    ),
]

SignKey = Annotated[
    Path | None,
    typer.Option(
        help="Sign the artifact's manifest with the HMAC-SHA256 key in this file (check it with verify --sign-key)."
    ),
]

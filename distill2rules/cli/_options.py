"""CLI option declarations shared by several commands (one help text each).

Use them as parameter annotations: ``trust_code: TrustCode = False``. An alias leaves the
option's name to the parameter it annotates (``target: TargetOpt = None`` is ``--target``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from distill2rules.cli._choices import complete_student, student_help

__all__ = ["ArtifactDir", "QuietBar", "StudentOpt", "TargetOpt", "TrustCode", "TrustPickle"]

TrustPickle = Annotated[
    bool,
    typer.Option(
        "--trust-pickle",
        help="Allow loading pickle-based teachers (can run code: only for files you trust).",
    ),
]
"""``--trust-pickle``: allow teachers whose loading unpickles (skops/joblib/state_dict)."""

TrustCode = Annotated[
    bool,
    typer.Option(
        "--trust-code",
        help="Skip the code checks on TorchScript/ONNX teachers (tensor-math allowlist, no ONNX custom domains or Loop/Scan): only for files you trust.",
    ),
]
"""``--trust-code``: skip the TorchScript/ONNX code checks."""

ArtifactDir = Annotated[Path, typer.Argument(help="Artifact directory written by `fit`.")]
"""The ``ARTIFACT`` argument of the commands that read a fitted artifact."""

TargetOpt = Annotated[
    str | None, typer.Option(help="Target column (registry datasets know theirs).")
]
"""``--target`` of the commands that load a dataset by name or path."""

StudentOpt = Annotated[str, typer.Option(help=student_help(), autocompletion=complete_student)]
"""``--student``: help and shell completion generated from the student registry."""

QuietBar = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]
"""``--quiet`` of the commands whose only progress output is a progress bar."""

"""CLI option declarations shared by several commands (one help text each).

Use them as parameter annotations: ``trust_code: TrustCode = False``.
"""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["TrustCode", "TrustPickle"]

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

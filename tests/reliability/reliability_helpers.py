"""Helpers shared by the reliability tests (import as ``from reliability_helpers import ...``)."""

from __future__ import annotations

import sys
from pathlib import Path


def console_script() -> list[str]:
    """The installed ``distill2rules`` script next to this interpreter (else ``python -m``)."""
    script = Path(sys.executable).with_name("distill2rules")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "distill2rules.cli.main"]


def leftovers(out: Path) -> list[str]:
    """Temp/old siblings an interrupted or failed write could leave next to ``out``."""
    return sorted(p.name for p in out.parent.glob(f".{out.name}.*"))


def _needs_data():
    import os

    import pytest

    return pytest.mark.skipif(os.environ.get("DISTILL2RULES_DATA") is None, reason="needs DISTILL2RULES_DATA")


needs_data = _needs_data()

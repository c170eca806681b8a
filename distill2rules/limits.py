"""Every size and time limit on inputs, in one place (documented in docs/security.md).

Each limit has a default and an environment variable that raises (or lowers) it; a value of
``0`` there switches the limit off. Exceeding a limit raises the matching one-line
:class:`~distill2rules.errors.Distill2RulesError` subclass (exit 2 in the CLI) that names the
limit and the variable.

* teacher file size: ``DISTILL2RULES_MAX_TEACHER_BYTES``, 2 GiB
* data file size (as stored): ``DISTILL2RULES_MAX_DATA_BYTES``, 4 GiB
* decompressed data size: ``DISTILL2RULES_MAX_DECOMPRESSED_BYTES``, 2 GiB
* decompression ratio (once 64 MiB are out): ``DISTILL2RULES_MAX_DECOMPRESSION_RATIO``, 100
* ``--augment`` rows: ``DISTILL2RULES_MAX_AUGMENT_ROWS``, 5,000,000
* student spec size: ``DISTILL2RULES_MAX_SPEC_BYTES``, 64 MiB
* student spec nesting depth: ``DISTILL2RULES_MAX_SPEC_DEPTH``, 64
* teacher sidecar JSON size: ``DISTILL2RULES_MAX_SIDECAR_BYTES``, 32 MiB
* schema JSON size: ``DISTILL2RULES_MAX_SCHEMA_BYTES``, 32 MiB
* reason catalogue size (``--labels``): ``DISTILL2RULES_MAX_CATALOGUE_BYTES``, 8 MiB
* teacher probe time at load (ONNX, TorchScript): ``DISTILL2RULES_PROBE_SECONDS``, 60 s
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from distill2rules.errors import Distill2RulesError

__all__ = [
    "AUGMENT_ROWS",
    "CATALOGUE_BYTES",
    "DATA_BYTES",
    "DECOMPRESSED_BYTES",
    "DECOMPRESSION_RATIO",
    "LIMITS",
    "PROBE_SECONDS",
    "RATIO_FLOOR_BYTES",
    "SCHEMA_BYTES",
    "SIDECAR_BYTES",
    "SPEC_BYTES",
    "SPEC_DEPTH",
    "TEACHER_BYTES",
    "Limit",
    "check_expansion",
    "check_file_size",
    "check_regular_file",
    "json_depth",
    "read_capped",
]

_GiB = 1 << 30
_MiB = 1 << 20


@dataclass(frozen=True)
class Limit:
    """A named cap read from ``env`` (``0`` = off), falling back to ``default``."""

    what: str
    env: str
    default: float
    unit: str = "bytes"

    def value(self) -> float:
        """The cap in force (``inf`` when switched off with ``0``)."""
        raw = os.environ.get(self.env, "").strip()
        if not raw:
            return self.default
        try:
            v = float(raw.replace("_", ""))
        except ValueError:
            raise Distill2RulesError(
                f"environment variable {self.env}={raw!r} is not a number.",
                hint=f"Set it to a {self.unit} count (0 switches the limit off).",
            ) from None
        return float("inf") if v == 0 else v

    def exceeded(self, error: type[Distill2RulesError], subject: str, amount: float) -> Exception:
        """The one-line error for ``subject`` being ``amount`` over this limit."""
        cap = self.value()
        over = "" if amount == float("inf") else f"{_fmt(amount, self.unit)} > "
        return error(
            f"{subject} exceeds the {self.what} limit ({over}{_fmt(cap, self.unit)});",
            hint=f"raise it with the environment variable {self.env} (0 = no limit) if you "
            "trust the input.",
        )


def _fmt(n: float, unit: str) -> str:
    if unit != "bytes":
        return f"{n:,.0f} {unit}" if n == int(n) else f"{n:g} {unit}"
    for size, name in ((_GiB, "GiB"), (_MiB, "MiB"), (1 << 10, "KiB")):
        if n >= size:
            return f"{n / size:.1f} {name}"
    return f"{int(n)} bytes"


TEACHER_BYTES = Limit("teacher file size", "DISTILL2RULES_MAX_TEACHER_BYTES", 2 * _GiB)
DATA_BYTES = Limit("data file size", "DISTILL2RULES_MAX_DATA_BYTES", 4 * _GiB)
DECOMPRESSED_BYTES = Limit(
    "decompressed data size", "DISTILL2RULES_MAX_DECOMPRESSED_BYTES", 2 * _GiB
)
DECOMPRESSION_RATIO = Limit(
    "decompression ratio", "DISTILL2RULES_MAX_DECOMPRESSION_RATIO", 100, unit="x"
)
#: the ratio cap applies only once this much has been decompressed (small files compress well)
RATIO_FLOOR_BYTES = 64 * _MiB
AUGMENT_ROWS = Limit("--augment rows", "DISTILL2RULES_MAX_AUGMENT_ROWS", 5_000_000, unit="rows")
SPEC_BYTES = Limit("student spec size", "DISTILL2RULES_MAX_SPEC_BYTES", 64 * _MiB)
SPEC_DEPTH = Limit("student spec nesting depth", "DISTILL2RULES_MAX_SPEC_DEPTH", 64, unit="levels")
PROBE_SECONDS = Limit("teacher probe time", "DISTILL2RULES_PROBE_SECONDS", 60, unit="s")
SIDECAR_BYTES = Limit("teacher sidecar JSON size", "DISTILL2RULES_MAX_SIDECAR_BYTES", 32 * _MiB)
SCHEMA_BYTES = Limit("schema JSON size", "DISTILL2RULES_MAX_SCHEMA_BYTES", 32 * _MiB)
CATALOGUE_BYTES = Limit("reason catalogue size", "DISTILL2RULES_MAX_CATALOGUE_BYTES", 8 * _MiB)

LIMITS = (
    TEACHER_BYTES,
    DATA_BYTES,
    DECOMPRESSED_BYTES,
    DECOMPRESSION_RATIO,
    AUGMENT_ROWS,
    SPEC_BYTES,
    SPEC_DEPTH,
    PROBE_SECONDS,
    SIDECAR_BYTES,
    SCHEMA_BYTES,
    CATALOGUE_BYTES,
)


def check_regular_file(
    path: str | Path, error: type[Distill2RulesError], what: str, hint: str
) -> os.stat_result:
    """``os.stat`` of ``path`` (never opens it); ``error`` unless it is a regular file.

    A FIFO, socket or device (``/dev/zero``, ``/dev/stdin``) is refused before anything opens
    it, so reading can neither block forever nor run without end.
    """
    p = Path(path)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise error(f"{what} {p} does not exist.", hint=hint) from None
    except OSError as exc:
        raise error(f"{what} {p} cannot be read ({exc.strerror}).", hint=hint) from None
    if stat.S_ISDIR(st.st_mode):
        raise error(f"{what} {p} is a directory;", hint="pass the file inside it.")
    if not stat.S_ISREG(st.st_mode):
        kind = (
            "a FIFO (named pipe)"
            if stat.S_ISFIFO(st.st_mode)
            else "a device"
            if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)
            else "a socket"
            if stat.S_ISSOCK(st.st_mode)
            else "not a regular file"
        )
        raise error(
            f"{what} {p} is {kind}, not a regular file;",
            hint="save the input to a regular file and pass that.",
        )
    return st


def check_file_size(
    st: os.stat_result, limit: Limit, error: type[Distill2RulesError], subject: str
) -> None:
    """``error`` if the file of ``st`` is larger than ``limit``."""
    if st.st_size > limit.value():
        raise limit.exceeded(error, subject, st.st_size)


def json_depth(obj: Any, cap: float) -> int:
    """Nesting depth of parsed JSON ``obj`` (iterative; stops counting past ``cap``)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(obj, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (dict, list)):
            deepest = max(deepest, depth)
            if deepest > cap:
                return deepest
            children = node.values() if isinstance(node, dict) else node
            stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))
    return deepest


def check_expansion(
    total: float, stored: float, error: type[Distill2RulesError], subject: str
) -> None:
    """``error`` if ``total`` decompressed bytes (from ``stored`` bytes on disk) break the
    decompressed-size cap, or the ratio cap once :data:`RATIO_FLOOR_BYTES` are out."""
    if total > DECOMPRESSED_BYTES.value():
        raise DECOMPRESSED_BYTES.exceeded(error, subject, total)
    if total > RATIO_FLOOR_BYTES and total / max(stored, 1) > DECOMPRESSION_RATIO.value():
        raise DECOMPRESSION_RATIO.exceeded(error, subject, round(total / max(stored, 1)))


def read_capped(
    path: str | Path, limit: Limit, error: type[Distill2RulesError], what: str, hint: str
) -> bytes:
    """The bytes of a small input file (a JSON sidecar or schema): a regular file no larger
    than ``limit``; never reads more than the cap even if the file grows meanwhile."""
    p = Path(path)
    st = check_regular_file(p, error, what, hint)
    subject = f"{what} {p.name}"
    check_file_size(st, limit, error, subject)
    cap = limit.value()
    try:
        with open(p, "rb") as fh:
            raw = fh.read() if cap == float("inf") else fh.read(int(cap) + 1)
    except OSError as exc:
        raise error(f"{what} {p} cannot be read ({exc.strerror}).", hint=hint) from None
    if len(raw) > cap:
        raise limit.exceeded(error, subject, len(raw))
    return raw

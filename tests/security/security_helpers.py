"""Helpers for the attack tests: the real CLI in a subprocess (a crash or hang is caught), zip edits, artifact edits."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def cli_command() -> list[str]:
    """The installed ``distill2rules`` script next to this interpreter (else ``python -m``)."""
    script = Path(sys.executable).with_name("distill2rules")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "distill2rules.cli.main"]


def cli_subprocess(
    *args: object,
    timeout: float = 120,
    env: dict[str, str] | None = None,
    stdin: int | None = subprocess.DEVNULL,
) -> subprocess.CompletedProcess:
    """Run ``distill2rules ARGS`` in a child process (exit 134 or a hang cannot take pytest down)."""
    cmd = cli_command()
    full_env = {**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}
    return subprocess.run(
        [*cmd, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=full_env,
        stdin=stdin,
    )


def fit_args(teacher: Any, data: Any, out: Any, *extra: Any) -> tuple[Any, ...]:
    """The CLI arguments of a small, fast `fit` (logreg on target y, no baseline, no ONNX)."""
    return (
        "fit",
        "--teacher",
        teacher,
        "--data",
        data,
        "--target",
        "y",
        "--student",
        "logreg",
        "--out",
        out,
        "-q",
        "--no-baseline",
        "--no-onnx",
        *extra,
    )


def one_line_error(stderr: str) -> str:
    """The single non-empty stderr line of a refused input (no traceback)."""
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def rewrite_zip(src: Path, dst: Path, edit: Callable[[str, bytes], bytes]) -> Path:
    """Copy a zip archive, passing each member's bytes through ``edit(name, data)``."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            zout.writestr(info, edit(info.filename, zin.read(info.filename)))
    return dst


def fix_tree_sizes(text: str) -> str:
    """Recompute a LightGBM model.txt's ``tree_sizes`` after its trees were edited."""
    first, end = text.find("\nTree="), text.find("\nend of trees")
    body = text[first + 1 : end + 1]
    starts = [m.start() for m in re.finditer(r"^Tree=", body, flags=re.MULTILINE)] + [len(body)]
    sizes = [len(body[starts[i] : starts[i + 1]].encode()) for i in range(len(starts) - 1)]
    return re.sub(
        r"^tree_sizes=.*$",
        "tree_sizes=" + " ".join(map(str, sizes)),
        text,
        count=1,
        flags=re.MULTILINE,
    )


def rehash(art: Path) -> None:
    """What an attacker does after editing a file: recompute the manifest's sha256 entries."""
    m = json.loads((art / "manifest.json").read_text())
    for name in m["files"]:
        m["files"][name] = hashlib.sha256((art / name).read_bytes()).hexdigest()
    (art / "manifest.json").write_text(json.dumps(m, indent=1, sort_keys=True) + "\n")


def edit_json(path: Path, fn) -> None:
    obj = json.loads(path.read_text())
    fn(obj)
    path.write_text(json.dumps(obj, indent=1, sort_keys=True) + "\n")


def train_lgb(frame: Any, path: Path, **params: Any) -> Path:
    """A small real LightGBM booster on the a, b, c, d -> y frame, saved as model.txt."""
    import lightgbm as lgb

    X, y = frame[list("abcd")], frame["y"]
    base = {"objective": "binary", "num_leaves": 4, "verbose": -1, "num_threads": 1, "seed": 0}
    booster = lgb.train({**base, **params}, lgb.Dataset(X, y), num_boost_round=6)
    booster.save_model(str(path))
    return path

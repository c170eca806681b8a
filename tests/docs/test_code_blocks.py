"""Every code block in README.md and docs/*.md runs (python, bash) or parses (json).

Conventions (also in docs/index.md, "Examples in these docs are tested"):

* A fenced block tagged ``python``, ``bash`` or ``json`` is code; an untagged block is output or
  generated text and is not run.
* The blocks of one file run in order, in one temporary working directory, python blocks in one
  shared namespace (like a notebook). The directory holds ``applicants.csv`` (8 German-credit
  applicants) and ``artifact/`` (a fitted logreg artifact), both from ``tests/fixtures/``;
  ``distill2rules`` on PATH is this interpreter's; ``DISTILL2RULES_DATA`` is the test data folder.
* ``<!-- docs-test: skip (reason) -->`` on the line before a block skips it, with the reason in
  the test report. Use it only for blocks that install software, need files the reader brings,
  or run for many minutes; say which.
* ``<!-- docs-test: setup ... -->`` holds hidden python run before the next block (in the same
  namespace), for the names a fragment assumes (``spec``, ``X``...).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```([A-Za-z]*)\s*$")
SKIP = re.compile(r"<!--\s*docs-test:\s*skip\b(.*?)-->", re.DOTALL)
SETUP = re.compile(r"<!--\s*docs-test:\s*setup\s*\n(.*?)-->", re.DOTALL)
RUN = {"python", "bash", "sh", "json"}


@dataclass
class Block:
    path: Path
    line: int
    lang: str
    code: str
    skip: str | None
    setup: str


def blocks(path: Path) -> list[Block]:
    lines = path.read_text(encoding="utf-8").splitlines()
    out: list[Block] = []
    i, last_end = 0, 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        start = i
        j = i + 1
        while j < len(lines) and not lines[j].startswith("```"):
            j += 1
        lang = m.group(1).lower()
        between = "\n".join(lines[last_end:start])
        tail = between[-2000:]
        skip = None
        sm = list(SKIP.finditer(tail))
        if sm and tail[sm[-1].end() :].strip() == "":
            skip = sm[-1].group(1).strip(" ()") or "marked skip"
        setup = "\n".join(m.group(1) for m in SETUP.finditer(between))
        if lang in RUN:
            out.append(Block(path, start + 1, lang, "\n".join(lines[start + 1 : j]), skip, setup))
        i = j + 1
        last_end = i
    return out


def _doc_files() -> list[Path]:
    return [p for p in FILES if any(b.lang in RUN for b in blocks(p))]


@pytest.mark.slow
@pytest.mark.parametrize("path", _doc_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_code_blocks_run(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(FIXTURES / "german_rows.csv", tmp_path / "applicants.csv")
    shutil.copytree(FIXTURES / "artifact_german_logreg", tmp_path / "artifact")
    monkeypatch.chdir(tmp_path)
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "COLUMNS": "120",
    }
    namespace: dict = {"__name__": "__docs__"}
    skipped = []
    for b in blocks(path):
        where = f"{path.relative_to(ROOT)}:{b.line} ({b.lang})"
        if b.skip:
            skipped.append(f"{where}: {b.skip}")
            continue
        if b.setup:
            exec(compile(b.setup, f"{where} setup", "exec"), namespace)  # noqa: S102 - our own docs
        if b.lang == "json":
            try:
                json.loads(b.code)
            except json.JSONDecodeError as exc:
                pytest.fail(f"{where}: invalid JSON: {exc}")
        elif b.lang == "python":
            try:
                exec(compile(b.code, where, "exec"), namespace)  # noqa: S102 - our own docs
            except Exception as exc:
                pytest.fail(f"{where} raised {type(exc).__name__}: {exc}")
        else:
            r = subprocess.run(
                ["bash", "-euo", "pipefail", "-c", b.code],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=1200,
                check=False,
            )
            if r.returncode != 0:
                pytest.fail(f"{where} exited {r.returncode}:\n{r.stderr[-2000:]}")
    if skipped:
        print("skipped blocks:\n  " + "\n  ".join(skipped))


def test_skip_markers_give_a_reason() -> None:
    for path in FILES:
        for b in blocks(path):
            if b.skip is not None:
                assert b.skip != "marked skip", (
                    f"{path.name}:{b.line}: say why the block is skipped"
                )

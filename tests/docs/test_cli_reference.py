"""docs/cli.md documents every command and subcommand registered in the typer app."""

from __future__ import annotations

from pathlib import Path

import typer

DOCS = Path(__file__).resolve().parents[2] / "docs"


def registered_commands() -> list[str]:
    from distill2rules.cli.main import app

    out: list[str] = []

    def walk(cmd, path):
        if path:
            out.append(" ".join(path))
        for name, sub in sorted((getattr(cmd, "commands", None) or {}).items()):
            walk(sub, path + [name])

    walk(typer.main.get_command(app), [])
    return out


def test_every_command_is_documented():
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    commands = registered_commands()
    assert {"fit", "report", "explain", "teacher train"} <= set(commands)
    missing = [c for c in commands if f"## `distill2rules {c}`" not in text]
    assert not missing, f"run `python docs/gen_cli_reference.py`: docs/cli.md lacks {missing}"


def test_every_option_is_documented():
    from distill2rules.cli.main import app

    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    root = typer.main.get_command(app)
    undocumented = []
    for name, cmd in root.commands.items():
        subs = cmd.commands.items() if getattr(cmd, "commands", None) else [(None, cmd)]
        for _, c in subs:
            for p in c.params:
                if getattr(p, "param_type_name", "") == "option" and not any(
                    f"`{o}`" in text for o in p.opts
                ):
                    undocumented.append(f"{name} {p.opts[0]}")
    assert not undocumented, (
        f"run `python docs/gen_cli_reference.py`: undocumented options {undocumented}"
    )

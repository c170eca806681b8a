"""Generate docs/cli.md from the typer app: every command and subcommand with its options.

Run after changing a command (the test ``tests/docs/test_cli_reference.py`` fails when a
registered command is missing from docs/cli.md)::

    .venv/bin/python docs/gen_cli_reference.py          # writes docs/cli.md
    .venv/bin/python docs/gen_cli_reference.py --check  # exit 1 if docs/cli.md is out of date
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

OUT = Path(__file__).with_name("cli.md")


def walk(cmd, path: list[str]):
    """Yield ``(path, command)`` for the group and every command under it, depth first, sorted."""
    yield path, cmd
    if _is_group(cmd):
        for name in sorted(cmd.commands):
            yield from walk(cmd.commands[name], path + [name])


def _is_group(cmd) -> bool:
    return isinstance(getattr(cmd, "commands", None), dict)


def _is_arg(p) -> bool:
    return getattr(p, "param_type_name", "") == "argument"


def _default(p) -> str:
    if p.required or p.default is None or callable(p.default):
        return ""
    if getattr(p, "is_flag", False):
        return ""
    d = p.default
    if isinstance(d, (list, tuple)):
        return "" if not d else ", ".join(map(str, d))
    return str(d)


def option_rows(cmd) -> list[str]:
    rows = []
    for p in cmd.params:
        if getattr(p, "param_type_name", "") != "option" or getattr(p, "hidden", False):
            continue
        names = ", ".join(f"`{o}`" for o in p.opts + p.secondary_opts)
        help_ = (p.help or "").replace("|", "\\|").replace("\n", " ")
        default = _default(p).replace("|", "\\|")
        rows.append(
            f"| {names} | {help_} | {'yes' if p.required else ''} | {f'`{default}`' if default else ''} |"
        )
    return rows


def arg_help(cmd) -> list[str]:
    """typer keeps argument help on the param object (``help`` attribute)."""
    out = []
    for p in cmd.params:
        if _is_arg(p) and getattr(p, "help", None):
            out.append(
                f"* `{p.name.upper()}` (argument{'' if p.required else ', optional'}): {p.help}"
            )
    return out


def render() -> str:
    from distill2rules.cli.main import app

    root = typer.main.get_command(app)
    lines = [
        "# CLI reference",
        "",
        "Generated from the typer app by `docs/gen_cli_reference.py`; do not edit by hand. "
        "Every command also has `--help`. Library errors print one line on stderr and exit with code 2.",
        "",
    ]
    cmds = [(p, c) for p, c in walk(root, []) if p]
    lines.append(
        "Commands: "
        + ", ".join(f"[`{' '.join(p)}`](#{'-'.join(p)})" for p, c in cmds if not _is_group(c))
    )
    lines.append("")
    for path, cmd in cmds:
        full = "distill2rules " + " ".join(path)
        lines += [f'<a id="{"-".join(path)}"></a>', f"## `{full}`", ""]
        help_text = (cmd.help or "").strip().split("\n\n")[0]
        lines += [help_text, ""]
        if _is_group(cmd):
            lines += [
                "Subcommands: " + ", ".join(f"`{full} {n}`" for n in sorted(cmd.commands)),
                "",
            ]
            continue
        usage = " ".join(
            ["[OPTIONS]"]
            + [
                p.name.upper() if p.required else f"[{p.name.upper()}]"
                for p in cmd.params
                if _is_arg(p)
            ]
        )
        lines += ["```", f"{full} {usage}", "```", ""]
        lines += arg_help(cmd)
        if arg_help(cmd):
            lines.append("")
        rows = option_rows(cmd)
        if rows:
            lines += ["| option | meaning | required | default |", "|---|---|---|---|", *rows, ""]
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    text = render()
    if "--check" in argv:
        if not OUT.is_file() or OUT.read_text(encoding="utf-8") != text:
            print(f"{OUT} is out of date: run python docs/gen_cli_reference.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

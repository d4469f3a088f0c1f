"""The `postprod` Typer application and what its commands share: settings, output, exit codes (cli/base.py's,
re-exported here)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import typer.main
from typer import _click as click
from typer.core import TyperArgument

from cli.base import State, _LazyConsole, emit_json, err, exit_code_for, out, settings, state
from cli.coerce import light

__all__ = ["State", "_LazyConsole", "app", "command", "emit_json", "err", "exit_code_for", "out", "settings", "state"]

app = typer.Typer(
    name="postprod",
    help=(
        "Rushes ingest, conform check and PAD QC for film and TV post-production.\n\n"
        "Start with `postprod demo`: it builds a small production with cards and runs the pipeline on it."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # Plain help: rich markup would eat "[smtp]" and "[OPTIONS]" from the help texts.
    rich_markup_mode=None,
    add_completion=False,
)


# Metavars shown in --help instead of Python types (<str>, <list[Path]>): by option name, else by type.
METAVARS = {"production": "NAME", "today": "DATE", "start": "DATE", "day": "DATE", "since": "TIME",
            "hours": "HOURS", "rate": "RATE", "duration": "TIMECODE", "stage": "STAGE", "preset": "PRESET",
            "profile": "PROFILE", "spec": "SPEC", "template": "TEMPLATE", "responsible": "STAGE=NAME",
            "technician": "NAME", "done": "TEXT", "incidents": "TEXT", "reason": "TEXT", "name": "NAME",
            "dead_host": "HOST"}
BY_TYPE = {"int": "N", "float": "SECONDS", "path": "PATH"}


def _readable_metavars(cmd: click.Command) -> None:
    for param in cmd.params:
        if param.metavar is not None or getattr(param, "is_flag", False):
            continue
        name = param.name or ""
        if isinstance(param, TyperArgument):
            param.metavar = name.upper()
            if not param.type_descriptor.is_choice:
                param.display_type_rich = lambda ctx: None  # type: ignore[method-assign]
            continue
        kind = param.bare_type().lower()
        param.metavar = METAVARS.get(name) or next((v for k, v in BY_TYPE.items() if k in kind), name.upper())
    for sub in getattr(cmd, "commands", {}).values():
        _readable_metavars(sub)


_built: dict[tuple[int, int, str | None], click.Command] = {}


def command(args: list[str] | None = None) -> click.Command:
    """The click command of the application, its --help readable (built again when commands were added).

    With the command line `args` naming one command of a group (`plan status ...`), that group is built with that
    command alone: typer builds a click command from each function's signature, 4 ms apiece, a third of what
    `plan status` took to start. Nothing else reads the group's other commands then (its usage lines and errors
    name the command only); `plan`, `plan --help` or a misspelt name still get the whole group."""
    group, name = _group_command(args or [])
    key = (len(app.registered_commands), len(app.registered_groups), f"{group} {name}" if group else None)
    if key not in _built:
        _built.clear()
        _built[key] = _build(group, name)
        _readable_metavars(_built[key])
        light(_built[key])  # plain values coerced without pydantic (cli/coerce.py)
    return _built[key]


def _group_command(args: list[str]) -> tuple[typer.Typer | None, str | None]:
    """The group and its command that `postprod [-c FILE] GROUP COMMAND ...` names, else (None, None)."""
    i = 0
    while i < len(args) and (args[i] in ("-c", "--config") or args[i].startswith("--config=")):
        i += 1 if "=" in args[i] else 2
    words = args[i:i + 2]
    if len(words) < 2:
        return None, None
    group = next((g.typer_instance for g in app.registered_groups if g.name == words[0]), None)
    if group is None or sum(c.name == words[1] for c in group.registered_commands) != 1:
        return None, None
    return group, words[1]


def _build(group: typer.Typer | None, name: str | None) -> click.Command:
    if group is None:
        return typer.main.get_command(app)
    every = group.registered_commands
    group.registered_commands = [c for c in every if c.name == name]
    try:
        return typer.main.get_command(app)
    finally:
        group.registered_commands = every


@app.callback()
def _global(
    config: Annotated[Path | None, typer.Option("--config", "-c", help="Settings file (TOML). Default: "
                      "$POSTPROD_CONFIG, ./postprod.toml, ~/.config/postprod/postprod.toml.")] = None,
) -> None:
    state.config = config


JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON (see docs/json.md) instead of tables.")]
ProductionOpt = Annotated[str, typer.Option("--production", "-p", help="Production name from settings.")]

"""A plain command line of a command people wait on, parsed and run without typer.

Importing typer and building its click command is about a tenth of `postprod plan status --json` or `postprod
probe clip.mov`. For `probe`, `plan status`, `conform`, `qc`, `ingest` and `proxy`, a command line made only of
the options in `HOT` (each at most once, those in `REQUIRED` given, values that are not empty and do not start
with "-", the positional arguments the command takes) is parsed here into the same values typer would give, and
the command's work (a typer-free function the typer command calls as well) is called with them. Anything else —
`--help`, an option not in the table, a missing or malformed value, `-pNAME`, an option given twice, shell
completion — is left to typer, so that its messages stay (`parse` returns None). tests/cli/test_fast.py holds
`HOT` equal to the typer declarations and the values of many command lines equal to those typer calls the work
with.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

# What each kind of value becomes: a path, a string, a whole number ("int": 0 or more, "count": 1 or more; digits
# only: anything else is typer's to refuse or read), or a flag's own value.
_DIGITS = re.compile(r"[0-9]+")
GLOBAL = {"-c": ("config", "path"), "--config": ("config", "path")}
PRODUCTION = {"--production": ("production", "str"), "-p": ("production", "str")}

# command words: (the module of its typer-free work, its function, the positional parameter (name, "one" or
# "many", kind) or None, {option: (parameter, kind)})
HOT: dict[tuple[str, ...], tuple[str, str, tuple[str, str, str] | None, dict[str, tuple[str, str]]]] = {
    ("probe",): ("cli.commands.probe_run", "probe_command", ("files", "many", "path"),
                 {"--spec": ("spec", "str"), **PRODUCTION, "--json": ("as_json", "true")}),
    ("plan", "status"): ("cli.commands.plan_status", "status_command", None,
                         {**PRODUCTION, "--today": ("today", "str"), "--json": ("json_out", "true")}),
    ("conform",): ("cli.commands.conform_run", "conform_command", ("timeline", "one", "path"),
                   {**PRODUCTION, "--rate": ("rate", "str"), "--handles": ("handles", "int"),
                    "--relink": ("relink", "path"), "--report": ("report", "path"), "--record": ("record", "true"),
                    "--no-record": ("record", "false"), "--json": ("as_json", "true")}),
    ("qc",): ("cli.commands.qc_run", "qc_command", ("master", "one", "path"),
              {"--profile": ("profile", "str"), "--report": ("report", "path"), "--duration": ("duration", "str"),
               **PRODUCTION, "--flow": ("flow", "true"), "--json": ("as_json", "true")}),
    ("ingest",): ("cli.commands.ingest_run", "ingest_command", ("paths", "many", "path"),
                  {**PRODUCTION, "--direct": ("direct", "true"), "--json": ("as_json", "true")}),
    ("proxy",): ("cli.commands.proxy_run", "proxy_command", ("paths", "many", "path"),
                 {"--preset": ("preset", "str"), "--out": ("out_dir", "path"), **PRODUCTION,
                  "--workers": ("workers", "count"), "--lut": ("lut", "path"), "--json": ("as_json", "true")}),
}
# The options a command cannot do without: a command line without one of them is typer's (its message).
REQUIRED = {("proxy",): {"preset"}}


class _Typer(Exception):
    """Not a plain command line: typer parses it."""


def _value(kind: str, text: str) -> Any:
    if not text or text.startswith("-"):
        raise _Typer
    if kind == "path":
        return Path(text)
    if kind in ("int", "count"):
        if not _DIGITS.fullmatch(text) or (kind == "count" and int(text) < 1):
            raise _Typer
        return int(text)
    return text


def _options(words: list[str], table: dict[str, tuple[str, str]], values: dict[str, Any],
             positional: list[str] | None) -> None:
    """Read `words` into `values` (and the positional words into `positional`, where the command takes some)."""
    seen: set[str] = set()
    i = 0
    while i < len(words):
        word = words[i]
        if word == "--" and positional is not None:
            positional.extend(words[i + 1:])
            return
        name, eq, given = word.partition("=") if word.startswith("--") else (word, "", "")
        if name in table:
            param, kind = table[name]
            if param in seen:
                raise _Typer
            seen.add(param)
            if kind in ("true", "false"):
                if eq:
                    raise _Typer
                values[param] = kind == "true"
            elif eq:
                values[param] = _value(kind, given)
            else:
                if i + 1 >= len(words):
                    raise _Typer
                i += 1
                values[param] = _value(kind, words[i])
        elif word.startswith("-") or positional is None:
            raise _Typer
        else:
            positional.append(word)
        i += 1


def parse(args: list[str]) -> tuple[str, str, dict[str, Any], Path | None] | None:
    """(module, function, its keyword arguments, the settings file given) for a plain command line of a `HOT`
    command, else None (typer's)."""
    if os.environ.get("_POSTPROD_COMPLETE"):
        return None
    try:
        i = 0
        config: dict[str, Any] = {}
        while i < len(args) and args[i].startswith("-"):  # the options before the command: -c FILE alone
            j = i + 2 if args[i] in GLOBAL else i + 1
            _options(args[i:j], GLOBAL, config, None)
            i = j
        words = next((w for w in HOT if tuple(args[i:i + len(w)]) == w), None)
        if words is None:
            return None
        module, function, positional, table = HOT[words]
        values: dict[str, Any] = {}
        found: list[str] | None = [] if positional else None
        _options(args[i + len(words):], table, values, found)
        if not REQUIRED.get(words, set()) <= values.keys():
            raise _Typer
        if positional:
            name, count, kind = positional
            if not found or (count == "one" and len(found) != 1):
                raise _Typer
            items = [_value(kind, word) for word in found]
            values[name] = items if count == "many" else items[0]
        return module, function, values, config.get("config")
    except _Typer:
        return None


def run(call: tuple[str, str, dict[str, Any], Path | None]) -> int:
    """Run the command's work as typer would (its -c callback, then the command), with typer's answers to an
    interrupt, an end of input and a closed pipe; returns the exit code."""
    import errno
    import importlib

    from cli.base import state

    module, function, values, config = call
    state.config = config
    try:
        return getattr(importlib.import_module(module), function)(**values)
    except KeyboardInterrupt:  # typer: Exit(130), nothing said
        return 130
    except EOFError:  # typer: an empty line, then "Aborted!"
        sys.stderr.write("\nAborted!\n")
        sys.stderr.flush()
        return 1
    except OSError as exc:
        if exc.errno != errno.EPIPE:
            raise
        from typer._click.utils import PacifyFlushWrapper  # a closed pipe: as typer does (rare: typer may load)

        sys.stdout = PacifyFlushWrapper(sys.stdout)  # type: ignore[assignment]
        sys.stderr = PacifyFlushWrapper(sys.stderr)  # type: ignore[assignment]
        return 1

"""Every command's --help as a user reads it: nothing eaten as markup, no Python types as metavars."""

from __future__ import annotations

import re

import pytest
from postprod_inproc import postprod

from cli.main import register

PYTHON_TYPES = re.compile(r"<(bool|str|int|float|path|Path|list\[[^>]*\]|[a-z]+ range)>")


def _commands() -> list[tuple[list[str], object]]:
    register(["postprod"])
    from cli.app import command

    found: list[tuple[list[str], object]] = []

    def walk(cmd, path: list[str]) -> None:
        found.append((path, cmd))
        for name, sub in sorted(getattr(cmd, "commands", {}).items()):
            walk(sub, [*path, name])

    walk(command(), [])
    return found


@pytest.mark.parametrize(("path", "cmd"), _commands(), ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_help(path: list[str], cmd) -> None:
    result = postprod(*path, "--help")
    assert result.code == 0 and result.err == "", result.output
    text = " ".join(result.out.split())
    assert not PYTHON_TYPES.search(text), PYTHON_TYPES.search(text)
    # Every bracketed word of every option's help is shown as written ("[smtp] settings", not "( settings)").
    for param in cmd.params:
        for bracketed in re.findall(r"\[[^\]]*\]", param.help or ""):
            assert bracketed in text, f"{' '.join(path)} {param.name}: {bracketed} eaten"
    first = " ".join((cmd.help or "").split("\n\n")[0].split())
    assert first[:40] in text


def test_every_command_takes_json_but_the_worker() -> None:
    # README and docs/json.md: JSON is a contract; `worker` runs until stopped (its output is Prefect's log).
    leaves = [(" ".join(path), cmd) for path, cmd in _commands() if path and not getattr(cmd, "commands", None)]
    missing = [name for name, cmd in leaves if "as_json" not in {p.name for p in cmd.params}
               and "json_out" not in {p.name for p in cmd.params}]
    assert missing == ["worker"]

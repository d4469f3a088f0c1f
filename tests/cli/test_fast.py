"""cli/fast.py: a plain command line of probe, plan status, conform, qc, ingest or proxy runs without typer, with the very values
typer gives. Its table is held equal to the typer declarations (an option added to a command and not to the
table fails here), and over many generated command lines the work is called with what typer calls it with;
anything not plain is left to typer."""

from __future__ import annotations

import inspect
import io
import random
import sys
from pathlib import Path
from typing import Any

import pytest

import cli.main
from cli import fast

BODIES = {words: (module, function) for words, (module, function, _, _) in fast.HOT.items()}
# the typer command modules and the name under which each calls its work
TYPER_MODULES = {("probe",): "cli.commands.probe", ("plan", "status"): "cli.commands.plan",
                 ("conform",): "cli.commands.conform", ("qc",): "cli.commands.qc", ("ingest",): "cli.commands.ingest",
                 ("proxy",): "cli.commands.proxy"}


def _leaf(words: tuple[str, ...]):  # type: ignore[no-untyped-def]
    """The click command typer builds for `postprod WORDS`, and the root group."""
    cli.main.register(["postprod", *words])
    from cli.app import command

    root = command([*words, "x"])
    leaf = root
    for word in words:
        leaf = leaf.commands[word]  # type: ignore[attr-defined]
    return root, leaf


def _kind(param: Any) -> str:
    annotation = param.type_descriptor.annotation
    info = param.type_descriptor.parameter_info
    if annotation in (int, int | None):
        assert info.max is None and info.min in (None, 0, 1), param.name
        return "count" if info.min == 1 else "int"
    for kind, python in (("path", Path), ("str", str)):
        if annotation in (python, python | None, list[python]):
            return kind
    raise AssertionError(f"{param.name}: {annotation} has no kind in cli/fast.py")


@pytest.mark.parametrize("words", list(fast.HOT))
def test_the_table_is_the_typer_declaration(words: tuple[str, ...]) -> None:
    root, leaf = _leaf(words)
    module, function, positional, table = fast.HOT[words]
    declared: dict[str, tuple[str, str]] = {}
    arguments = []
    for param in leaf.params:
        assert not param.envvar and not param.multiple, param.name  # neither read here
        info = param.type_descriptor.parameter_info
        assert info.parser is None and info.callback is None and not getattr(info, "exists", False), param.name
        assert not getattr(info, "resolve_path", False) and not getattr(info, "clamp", False), param.name
        if param.param_type_name == "argument":
            arguments.append((param.name, "many" if param.nargs == -1 else "one", _kind(param)))
            assert param.required
            continue
        assert param.required == (param.name in fast.REQUIRED.get(words, set())), param.name
        if param.is_flag:
            declared.update({opt: (param.name, "true") for opt in param.opts})
            declared.update({opt: (param.name, "false") for opt in param.secondary_opts})
            assert param.default is False
        else:
            declared.update({opt: (param.name, _kind(param)) for opt in [*param.opts, *param.secondary_opts]})
    assert table == declared
    assert arguments == ([positional] if positional else [])
    body = getattr(__import__(module, fromlist=[function]), function)
    assert list(inspect.signature(body).parameters) == [p.name for p in leaf.params]
    assert {opt: (p.name, _kind(p)) for p in root.params for opt in p.opts} == fast.GLOBAL


PATHS = ["clip.mov", "A001/A001C001_261123_R1AB.mov", "/srv/rushes/day 1/take é.mov", "[final] cut.edl", "x",
         "./a", "dir/", "-"]
VALUES = {"str": ["test", "bench", "fiction prod", "2026-01-12", "é", "25", "29.97", "a=b", "[b]", "00:01:00:00",
                  "ebu-r128-hd25"],
          "path": ["out", "/tmp/reports", "rel/dir", "r é.otio", "a=b"],
          "int": ["0", "12", "007", "-1", "1e3", " 5", "+3", "x"], "count": ["1", "4", "0", "00", "-2", "2.0", "16"]}


def _argv(rng: random.Random, words: tuple[str, ...]) -> list[str]:
    _, _, positional, table = fast.HOT[words]
    tokens: list[list[str]] = []
    chosen = rng.sample(sorted(table.items()), rng.randint(0, len(table)))
    chosen += [(o, pk) for o, pk in table.items() if pk[0] in fast.REQUIRED.get(words, set()) and o.startswith("--")
               and rng.random() < 0.9 and all(pk[0] != c[1][0] for c in chosen)]
    for option, (_, kind) in chosen:
        if kind in ("true", "false"):
            tokens.append([option] if rng.random() < 0.95 else [f"{option}=1"])
        else:
            value = rng.choice(VALUES[kind]) if rng.random() < 0.95 else rng.choice(["", "--json", "-p"])
            form = rng.random()
            tokens.append([f"{option}={value}"] if option.startswith("--") and form < 0.3 else
                          [f"{option}{value}"] if not option.startswith("--") and form < 0.1 else [option, value])
    if rng.random() < 0.05:
        tokens.append(rng.choice([["--help"], ["--bogus"], ["-h"], ["--spec"]]))
    if rng.random() < 0.05 and tokens:
        tokens.append(rng.choice(tokens))  # an option twice
    names = [[p] for p in rng.sample(PATHS, rng.randint(0 if rng.random() < 0.05 else 1, 3))] if positional else []
    if positional and positional[1] == "one" and rng.random() < 0.9:
        names = names[:1]
    parts = tokens + names
    rng.shuffle(parts)
    argv = [word for part in parts for word in part]
    if positional and rng.random() < 0.1 and names:
        argv = [w for w in argv if [w] not in names] + ["--", *[n[0] for n in names]]
    head = rng.choice([[], [], ["-c", "my.toml"], ["--config=other.toml"], ["--config", "x y.toml"]])
    return [*head, *words, *argv]


class _Called(Exception):
    pass


def _calls(monkeypatch: pytest.MonkeyPatch, words: tuple[str, ...]) -> list[dict[str, Any]]:
    """Each call of the command's work (from typer's command or from cli/fast.py), as its bound arguments."""
    module, function = BODIES[words]
    body = getattr(__import__(module, fromlist=[function]), function)
    calls: list[dict[str, Any]] = []

    def record(*args: Any, **kw: Any) -> int:
        bound = inspect.signature(body).bind(*args, **kw)
        bound.apply_defaults()
        from cli.base import state

        calls.append({**bound.arguments, "-c": state.config})
        return 0

    monkeypatch.setattr(sys.modules[module], function, record)
    monkeypatch.setattr(sys.modules[TYPER_MODULES[words]], function, record)
    return calls


@pytest.mark.parametrize("words", list(fast.HOT))
def test_plain_command_lines_give_typer_s_values(words: tuple[str, ...], monkeypatch: pytest.MonkeyPatch) -> None:
    _leaf(words)
    calls = _calls(monkeypatch, words)
    rng = random.Random(" ".join(words))  # the same lines every run
    plain = 0
    for _ in range(300):
        argv = _argv(rng, words)
        parsed = fast.parse(argv)
        from cli.app import command

        calls.clear()
        monkeypatch.setattr(sys, "stderr", io.StringIO())  # typer's usage errors
        try:
            command(argv).main(args=argv, prog_name="postprod", standalone_mode=True)
        except SystemExit as exc:
            code = exc.code
        if parsed is None:
            continue
        assert code == 0 and len(calls) == 1, (argv, sys.stderr.getvalue())  # type: ignore[attr-defined]
        by_typer = calls.pop()
        assert fast.run(parsed) == 0
        assert calls == [by_typer], argv
        plain += 1
    assert plain >= 60, plain  # a good part of them were plain: the comparison covers the table


@pytest.mark.parametrize("argv", [
    ["probe"], ["probe", "--help"], ["probe", "-pX", "a.mov"], ["probe", "a.mov", "--spec"], ["probe", "a", "--bogus"],
    ["probe", "a", "-p", "x", "-p", "y"], ["probe", "a", "-p", ""], ["probe", "a", "--json=1"], ["plan", "status", "x"],
    ["plan", "status", "--today"], ["plan"], ["plan", "create", "-p", "x"], ["conform", "a", "b"],
    ["conform", "a", "--handles", "-1"], ["conform", "a", "--handles", "1e3"], ["conform"], ["-c"], ["--help"],
    ["-c", "x.toml", "--help"], ["qc", "a.mov", "b.mov"], ["ingest"], ["proxy", "a"], ["probe", "-"],
    ["proxy", "a", "--preset", "x", "--workers", "0"], ["deploy"], ["--config", "x", "probe", "a", "-h"],
])
def test_what_is_not_plain_is_typer_s(argv: list[str]) -> None:
    assert fast.parse(argv) is None


def test_completion_is_typer_s(monkeypatch: pytest.MonkeyPatch) -> None:
    assert fast.parse(["probe", "a.mov"]) is not None
    monkeypatch.setenv("_POSTPROD_COMPLETE", "bash_complete")
    assert fast.parse(["probe", "a.mov"]) is None


@pytest.mark.parametrize("raised", [KeyboardInterrupt, EOFError, BrokenPipeError])
def test_an_interrupt_is_answered_as_typer_does(monkeypatch: pytest.MonkeyPatch, raised: type[BaseException]) -> None:
    _leaf(("probe",))
    import cli.commands.probe
    import cli.commands.probe_run

    def interrupted(*_args: Any, **_kw: Any) -> int:
        if raised is BrokenPipeError:
            raise BrokenPipeError(32, "Broken pipe")
        raise raised

    monkeypatch.setattr(cli.commands.probe_run, "probe_command", interrupted)
    monkeypatch.setattr(cli.commands.probe, "probe_command", interrupted)
    answers = []
    for plain in (True, False):
        with monkeypatch.context() as m:
            if not plain:
                m.setattr(fast, "parse", lambda _args: None)
            m.setattr(sys, "stdout", io.StringIO())
            m.setattr(sys, "stderr", io.StringIO())
            code = cli.main.run(["probe", "a.mov"])
            answers.append((code, sys.stderr.getvalue()))  # type: ignore[attr-defined]
    assert answers[0] == answers[1]

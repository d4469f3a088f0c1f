"""cli/coerce.py against typer's own coercion (pydantic TypeAdapters), on every parameter of every command:
the same value of the same type, or the same error message; and the plain values never reach pydantic."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Any, get_args, get_origin

import pytest
from typer import _click as click
from typer._coercion import build_runtime_param

from cli.app import command
from cli.coerce import LightParam

SAMPLES: dict[Any, list[Any]] = {
    str: ["abc", "", "A001[/b]take.mov", "-", "été", "a\udcff", "  spaced  ", "25"],
    int: ["0", "25", "-3", "+7", "007", " 7", "7.0", "1_000", "x", "1e3", "", "99999999999999999999", 4],
    float: ["0", "1.5", "-2", ".5", "1.", "+3.25", "1e3", "nan", "inf", "x", " 2", "", "0.0001", 2.5, 3],
    bool: [True, False],
    Path: ["clip.mov", "", "a b/c.edl", "-", "/abs/x", "x\udcff.mov", "~/a", Path("given")],
}
PLAIN = {str: {"abc", "", "25"}, int: {"0", "25", "-3", 4}, float: {"0", "1.5", ".5", 2.5},
         bool: {True, False}, Path: {"clip.mov", "a b/c.edl", "/abs/x"}}


def parameters() -> list[tuple[str, click.Parameter]]:
    from cli.main import register

    register(["postprod"])  # every command
    found = []

    def walk(cmd: click.Command, name: str) -> None:
        for p in cmd.params:
            found.append((f"{name} {p.name}", cmd, p))
        for sub_name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, f"{name} {sub_name}".strip())

    walk(command(), "")
    return [(n, p) for n, _, p in found]


def samples(annotation: Any, default: Any) -> list[Any]:
    if get_origin(annotation) is list:
        item = get_args(annotation)[0]
        return [tuple(samples(item, None)[:3]), (), tuple(samples(item, None)[-2:])]
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        values = [m.value for m in annotation] + [m.name for m in annotation] + list(annotation)
        return [*values, *(str(v).upper() for v in values), "nope", ""]
    base = next(v for k, v in SAMPLES.items() if annotation is k or (k is Path and issubclass(annotation, Path)))
    return [*base, default] if default is not None else base


def outcome(runtime: Any, value: Any, param: click.Parameter, ctx: click.Context) -> tuple[str, Any]:
    try:
        result = runtime.coerce(value, param=param, ctx=ctx)
    except click.exceptions.BadParameter as exc:
        return "error", exc.format_message()
    return type(result).__name__, result


ALL = parameters()


def test_every_parameter_is_light() -> None:
    assert ALL
    for name, param in ALL:
        runtime = getattr(param, "_runtime_param", None)
        assert isinstance(runtime, LightParam), name


@pytest.mark.parametrize(("name", "param"), ALL, ids=[n for n, _ in ALL])
def test_light_coercion_equals_typers(name: str, param: click.Parameter) -> None:
    light: LightParam = param._runtime_param  # type: ignore[attr-defined]
    slow = build_runtime_param(light.descriptor)
    assert not isinstance(slow, LightParam)
    ctx = click.Context(command())
    for value in samples(light.annotation, param.default):
        assert outcome(light, value, param, ctx) == outcome(slow, value, param, ctx), (name, value)


def test_plain_values_need_no_pydantic() -> None:
    ctx = click.Context(command())
    checked = 0
    for name, param in ALL:
        light: LightParam = param._runtime_param  # type: ignore[attr-defined]
        fresh = LightParam(parameter_info=light.parameter_info, annotation=light.annotation,
                           descriptor=light.descriptor)
        kind = get_args(light.annotation)[0] if get_origin(light.annotation) is list else light.annotation
        plain = next((v for k, v in PLAIN.items() if kind is k), None)
        if plain is None or light.parameter_info.min is not None:
            continue
        for value in plain:
            fresh.coerce((value,) if get_origin(light.annotation) is list else value, param=param, ctx=ctx)
            checked += 1
        if param.default is not None:
            fresh.coerce(param.default, param=param, ctx=ctx)
        assert not fresh._typer, f"{name}: typer's pydantic adapter was built"
    assert checked > 100

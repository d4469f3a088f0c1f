"""Command-line values into their Python types without pydantic, where the answer is plain.

Typer (0.2x) coerces every parameter of a command, its defaults too, through a pydantic TypeAdapter built
at the first parse: `postprod probe clip.mov` and even `postprod probe --help` imported pydantic's
validators and built eight adapters for it (about a quarter of their start-up). Our parameters are strings,
paths, whole and decimal numbers, flags, one enum and lists of those: `light()` gives each one a coercion
that returns what typer's own would for the usual values (a string, a path, "25", a choice by name), and
hands anything else (a value it would refuse, "1e3", " 7", a clamp) to typer's own adapter, so that what is
accepted and every error message stay typer's (tests/cli/test_coerce.py compares the two on every
parameter of every command).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, get_args, get_origin

from typer import _click as click
from typer._coercion import RuntimeParam, TypeDescriptor, build_runtime_param
from typer._param_types import coerce_cli_choice, coerce_cli_path, routes_to_path

_INT = re.compile(r"[+-]?[0-9]+")  # pydantic reads " 7", "7.0" and "1_000" too: those go to it
_FLOAT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)")


class _Refer(Exception):
    """Not plain: typer's own coercion decides (and words the error)."""


@dataclass(frozen=True)
class LightParam(RuntimeParam):
    """Coerces the plain values itself; anything else through typer's own (pydantic) runtime parameter."""

    descriptor: TypeDescriptor = field(compare=False)
    _typer: list[RuntimeParam] = field(default_factory=list, compare=False, repr=False)

    def typer_param(self) -> RuntimeParam:
        if not self._typer:
            self._typer.append(build_runtime_param(self.descriptor))
        return self._typer[0]

    def _coerce_value(self, value: Any, param: Any, ctx: click.Context) -> Any:
        try:
            if get_origin(self.annotation) is list:
                items = value if isinstance(value, (list, tuple)) else [value]
                return [self._leaf(get_args(self.annotation)[0], item, param, ctx) for item in items]
            return self._leaf(self.annotation, value, param, ctx)
        except _Refer:
            return self.typer_param()._coerce_value(value, param=param, ctx=ctx)

    def _leaf(self, annotation: Any, value: Any, param: Any, ctx: click.Context) -> Any:
        info = self.parameter_info
        if info.parser is not None:
            raise _Refer
        if isinstance(annotation, type) and issubclass(annotation, Enum):
            try:
                return coerce_cli_choice(value, choices=list(annotation), case_sensitive=info.case_sensitive, ctx=ctx)
            except ValueError:
                raise _Refer from None
        if annotation is str:
            if type(value) is not str:
                raise _Refer
            return value
        if annotation is bool:
            if type(value) is not bool:
                raise _Refer
            return value
        if annotation in (int, float):
            return self._number(annotation, value)
        if isinstance(annotation, type) and issubclass(annotation, Path) and routes_to_path(annotation, info) \
                and info.path_type is None:
            if type(value) is not str and not isinstance(value, annotation):
                raise _Refer
            path = value if isinstance(value, annotation) else annotation(value)
            return coerce_cli_path(path, info, path_type=annotation, param=param, ctx=ctx)
        raise _Refer

    def _number(self, kind: type, value: Any) -> Any:
        info = self.parameter_info
        if info.clamp:
            raise _Refer
        if type(value) is kind:
            number = value
        elif type(value) is str and (_INT if kind is int else _FLOAT).fullmatch(value):
            number = kind(value)
        else:
            raise _Refer
        if (info.min is not None and number < info.min) or (info.max is not None and number > info.max):
            raise _Refer  # typer's adapter words the range error
        return number


def light(command: click.Command) -> None:
    """Give every typer parameter of `command` and its subcommands the light coercion (before any parse)."""
    for param in command.params:
        _lighten(param)
    original = command.get_help_option  # made at the first parse, then kept: its flag is coerced too

    def get_help_option(ctx: click.Context) -> Any:
        option = original(ctx)
        if option is not None:
            _lighten(option)
        return option

    command.get_help_option = get_help_option  # type: ignore[method-assign]
    for sub in getattr(command, "commands", {}).values():
        light(sub)


def _lighten(param: click.Parameter) -> None:
    descriptor = getattr(param, "type_descriptor", None)
    if isinstance(descriptor, TypeDescriptor) and getattr(param, "_runtime_param", 0) is None \
            and descriptor.file_annotation is None:
        param._runtime_param = LightParam(  # type: ignore[attr-defined]
            parameter_info=descriptor.parameter_info, annotation=descriptor.annotation, descriptor=descriptor)

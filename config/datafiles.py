"""The data files postprod reads (specs, proxy presets, delivery profiles, plan templates, rates): TOML read with
its faults named, validated into a model with the field named, and the exact-number field types they share.

Apart from config/spec.py so that reading settings, templates or rates does not build the spec's models (which
only a probe, an ingest or a conform check validates).
"""

from __future__ import annotations

import tomllib
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ValidationError

from config.errors import ConfigError, UnknownNameError
from config.framerate import TimecodeError, parse_rate

M = TypeVar("M", bound=BaseModel)


def _exact_rate(value: Any) -> Fraction:
    if isinstance(value, float):
        value = repr(value)
    try:
        return parse_rate(value)
    except TimecodeError as exc:
        raise ValueError(str(exc)) from exc


def _ratio(value: Any) -> Fraction:
    if isinstance(value, (int, Fraction)):
        return Fraction(value)
    text = str(value)
    try:
        return Fraction(text.replace(":", "/"))
    except (ValueError, ZeroDivisionError) as exc:
        raise ValueError(f"not a ratio: {value!r}") from exc


ExactRate = Annotated[Fraction, BeforeValidator(_exact_rate)]
Ratio = Annotated[Fraction, BeforeValidator(_ratio)]


def builtin_files(folder_name: str) -> dict[str, Path]:
    """The built-in data files of a kind (config/<folder_name>/*.toml), by name."""
    folder = Path(__file__).parent / folder_name  # what importlib.resources.files("config") gives (a folder)
    return {p.stem: p for p in folder.iterdir() if str(p).endswith(".toml")}


def load_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(path, None, "file not found") from exc
    except IsADirectoryError as exc:
        raise ConfigError(path, None, "is a folder, not a file") from exc
    except PermissionError as exc:
        raise ConfigError(path, None, "permission denied") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(path, None, "not UTF-8 text") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, None, f"not valid TOML: {exc}") from exc


def validation_to_config_error(path: Path | str, exc: ValidationError) -> ConfigError:
    """The main problem of a pydantic error, as a ConfigError naming the field.

    An unknown field comes first: a typo (`widht`) also makes the real field look missing.
    """
    errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
    first = errors[0]
    field = ".".join(str(p) for p in first["loc"]) or None
    reason = first["msg"]
    if first["type"] == "literal_error" and field == "schema_version":
        reason = f"unsupported schema_version {first.get('input')!r}; this postprod reads 1"
    elif first["type"] == "extra_forbidden":
        reason = "unknown field"
    elif first["type"] == "missing":
        reason = "required field is missing"
    if len(errors) > 1:
        reason += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return ConfigError(path, field, reason)


def load_data_file(name_or_path: str | Path, model: type[M], *, kind: str, folder_name: str) -> M:
    """A data file (spec, preset, profile...) by built-in name or by TOML path, validated into `model`.

    An unknown name lists the available ones; a bad file names the field and the reason.
    """
    text = str(name_or_path)
    path = Path(text).expanduser()
    if not path.suffix and not path.exists():
        available = builtin_files(folder_name)
        if text not in available:
            raise UnknownNameError(kind, text, list(available))
        path = available[text]
    data = load_toml(path)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_to_config_error(path, exc) from exc

"""Production technical specs as data: schema-versioned TOML files, validated on load."""

from __future__ import annotations

import tomllib
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from config.errors import ConfigError, UnknownNameError
from config.framerate import TimecodeError, parse_rate

SPEC_SCHEMA_VERSION = 1
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
SeverityName = Literal["error", "warning", "info"]


class VideoSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    width: int = Field(gt=0)
    height: int = Field(gt=0)
    frame_rate: ExactRate
    scan: Literal["progressive", "tff", "bff", "interlaced"] = "progressive"
    pixel_aspect: Ratio = Fraction(1)
    codecs: list[str] = []


class AudioSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sample_rate: int = Field(gt=0)
    bit_depth: int = Field(gt=0)
    codecs: list[str] = []


class TimecodeSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    required: bool = True


class TechSpec(BaseModel):
    """What a production's rushes must be; each mismatch becomes a finding."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1]
    name: str
    description: str = ""
    video: VideoSpec
    audio: AudioSpec
    timecode: TimecodeSpec = TimecodeSpec()
    severity: dict[str, SeverityName] = {}  # per-rule override: {"codec" = "info"}


def builtin_files(folder_name: str) -> dict[str, Path]:
    """The built-in data files of a kind (config/<folder_name>/*.toml), by name."""
    folder = Path(__file__).parent / folder_name  # what importlib.resources.files("config") gives (a folder)
    return {p.stem: p for p in folder.iterdir() if str(p).endswith(".toml")}


def builtin_specs() -> dict[str, Path]:
    return builtin_files("specs")


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


def load_spec(name_or_path: str | Path) -> TechSpec:
    """A spec by built-in name ("default") or by file path."""
    return load_data_file(name_or_path, TechSpec, kind="technical spec", folder_name="specs")

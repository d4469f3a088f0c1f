"""Production technical specs as data: schema-versioned TOML files, validated on load."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# The data files' reading and shared field types, here too for the modules that import them from this one.
from config.datafiles import (  # noqa: F401
    ExactRate,
    Ratio,
    builtin_files,
    load_data_file,
    load_toml,
    validation_to_config_error,
)

SPEC_SCHEMA_VERSION = 1
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


def builtin_specs() -> dict[str, Path]:
    return builtin_files("specs")


def load_spec(name_or_path: str | Path) -> TechSpec:
    """A spec by built-in name ("default") or by file path."""
    return load_data_file(name_or_path, TechSpec, kind="technical spec", folder_name="specs")

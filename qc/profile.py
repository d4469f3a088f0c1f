"""Delivery profiles as data: a broadcaster's PAD spec as schema-versioned TOML, validated on load.

Built-ins live in config/delivery/*.toml; a user's own file (any path ending in .toml) works the same.
Every check has a default severity (qc/checks/); a profile changes it in its [severity] table, or
turns a check off with "off".
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from config.datafiles import ExactRate, builtin_files, load_data_file
from config.errors import ConfigError

PROFILE_SCHEMA_VERSION = 1
SeverityOrOff = Literal["error", "warning", "info", "off"]


class _Strict(BaseModel):
    # Built at its first use (defer_build): a profile is validated by DeliveryProfile, whose schema holds the tables;
    # none builds a validator of its own when the module loads. A table left out: as its own model makes it.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class FormatSpec(_Strict):
    """What the file must be (from the probe). Empty lists and None mean: not checked."""

    containers: list[str] = []  # MediaInfo general format: MXF, MPEG-4
    operational_patterns: list[str] = []  # OP-1a
    video_codecs: list[str] = []  # MPEG Video, AVC, ProRes
    video_profiles: list[str] = []  # 4:2:2@High, High 4:2:2 Intra@L4.1 (prefix match)
    video_bit_rate: int | None = Field(default=None, gt=0)  # bits per second
    video_bit_rate_tolerance: float = Field(default=0.05, ge=0)  # fraction of video_bit_rate
    width: int | None = Field(default=None, gt=0)
    height: int | None = Field(default=None, gt=0)
    frame_rate: ExactRate | None = None
    scan: Literal["progressive", "tff", "bff"] | None = None
    chroma_subsampling: str | None = None
    bit_depth: list[int] = []
    audio_channels: list[int] = []  # total channel count over all audio tracks: [8], [4, 16]
    audio_tracks: list[int] = []  # number of audio tracks; with channels [8] and tracks [8]: 8 mono tracks
    audio_codecs: list[str] = []
    audio_sample_rate: int | None = None
    audio_bit_depth: list[int] = []


class TimecodeSpec(_Strict):
    """Where the programme starts; what precedes it in the file (bars, slate, countdown, black) is the head."""

    programme_start: str | None = None  # 10:00:00:00
    file_starts: list[str] = []  # accepted file start timecodes; empty = programme_start only
    tail_seconds: float = Field(default=0.0, ge=0)  # black/silence allowed at the end (black tail)
    duration: str | None = None  # expected programme duration, HH:MM:SS:FF; usually given on the command line
    duration_tolerance_frames: int = Field(default=0, ge=0)


class LoudnessSpec(_Strict):
    """ITU-R BS.1770 / EBU R128, measured over the programme (the head and tail are left out)."""

    channels: list[int] = [1, 2]  # 1-based channels forming the programme mix that is measured
    integrated: float = -23.0  # LUFS
    tolerance: float = Field(default=0.5, ge=0)  # LU either side
    true_peak_max: float = -1.0  # dBTP, every channel
    lra_max: float | None = None  # LU
    short_term_max: float | None = None  # LUFS (French adverts: -20)
    momentary_max: float | None = None  # LUFS


class SilenceSpec(_Strict):
    channels: list[int] = [1, 2]  # channels that must carry sound; the unused ones may be silent
    threshold_db: float = -60.0
    min_seconds: float = Field(default=2.0, gt=0)


class BlackSpec(_Strict):
    min_seconds: float = Field(default=1.0, gt=0)
    picture_ratio: float = Field(default=0.98, gt=0, le=1)  # share of the picture that must be black
    pixel_threshold: float = Field(default=0.10, gt=0, lt=1)  # luma at or below this share of the range


class FreezeSpec(_Strict):
    min_seconds: float = Field(default=2.0, gt=0)
    noise_db: float = -60.0


class LevelsSpec(_Strict):
    """EBU R103: limits as % of the nominal range (8-bit luma 16-235, chroma 16-240, R'G'B' 0-1).

    R103 v1 (DOMAIN.md): luma -1 %..103 %, R'G'B' -5 %..105 %; R103 v2 (2016): ±5 % for Y and R, G, B.
    Excursions over less than 1 % of the picture are ignored, and the measurement is spatially filtered:
    a frame is out of range when more than `area_pct` of its low-pass filtered picture is.
    """

    luma_min_pct: float = -1.0
    luma_max_pct: float = 103.0
    # Cb/Cr: R103's R, G, B tolerance (-5 %..105 %) applied to the colour-difference signals.
    chroma_min_pct: float = -5.0
    chroma_max_pct: float = 105.0
    # R'G'B' gamut (R103), from Y'CbCr through the file's colour matrix (BT.709 for HD when undeclared).
    rgb_min_pct: float = -5.0
    rgb_max_pct: float = 105.0
    area_pct: float = Field(default=1.0, ge=0, le=100)  # share of the picture that may be out of range
    min_frames: int = Field(default=1, ge=1)


class DeliveryProfile(_Strict):
    """A broadcaster's delivery spec: format, timecode, loudness and signal tolerances."""

    schema_version: Literal[1]
    name: str
    description: str = ""
    sources: list[str] = []
    format: FormatSpec = Field(default_factory=FormatSpec.model_construct)
    timecode: TimecodeSpec = Field(default_factory=TimecodeSpec.model_construct)
    loudness: LoudnessSpec = Field(default_factory=LoudnessSpec.model_construct)
    silence: SilenceSpec = Field(default_factory=SilenceSpec.model_construct)
    black: BlackSpec = Field(default_factory=BlackSpec.model_construct)
    freeze: FreezeSpec = Field(default_factory=FreezeSpec.model_construct)
    levels: LevelsSpec = Field(default_factory=LevelsSpec.model_construct)
    severity: dict[str, SeverityOrOff] = {}  # per-check override: {"video.freeze" = "info"}

    @model_validator(mode="after")
    def _known_checks(self) -> DeliveryProfile:
        from qc.checks import CHECKS

        unknown = [k for k in self.severity if k not in CHECKS]
        if unknown:
            raise ValueError(f"unknown check id '{unknown[0]}' in [severity]; available: {', '.join(sorted(CHECKS))}")
        return self

    @property
    def frame_rate(self) -> Fraction | None:
        return self.format.frame_rate


def builtin_profiles() -> dict[str, Path]:
    return builtin_files("delivery")


def load_profile(name_or_path: str | Path) -> DeliveryProfile:
    """A profile by built-in name ("fr-pad-hd") or by file path; unknown names list the available ones."""
    return load_data_file(name_or_path, DeliveryProfile, kind="delivery profile", folder_name="delivery")


__all__ = ["PROFILE_SCHEMA_VERSION", "ConfigError", "DeliveryProfile", "builtin_profiles", "load_profile"]

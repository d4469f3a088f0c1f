"""Proxy presets as data: schema-versioned TOML files (built-ins in config/proxy/, or a user's own file)."""

from __future__ import annotations

import hashlib
import json
from fractions import Fraction
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from config.spec import Ratio, builtin_files, load_data_file

PRESET_SCHEMA_VERSION = 1

CONTAINER_EXTENSIONS = {"mov": ".mov", "mp4": ".mp4", "mxf": ".mxf"}


class SizeRule(BaseModel):
    """How big the proxy is. Square pixels out: an anamorphic source is unsqueezed to its display aspect."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rule: Literal["height", "scale", "source"] = "height"
    height: int | None = Field(default=None, gt=0)  # rule = "height": this many lines
    scale: Ratio | None = None  # rule = "scale": this fraction of the source height ("1/2", "1/4")
    upscale: bool = False  # never make a proxy bigger than its source unless asked
    multiple: int = Field(default=2, ge=1)  # width and height are rounded to a multiple of this

    @model_validator(mode="after")
    def _needs_its_number(self) -> SizeRule:
        if self.rule == "height" and self.height is None:
            raise ValueError("rule 'height' needs height")
        if self.rule == "scale" and (self.scale is None or not 0 < self.scale <= 4):
            raise ValueError("rule 'scale' needs scale, a ratio between 0 and 4 such as \"1/2\"")
        return self


class VideoEncoding(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    encoder: str  # ffmpeg encoder: libx264, prores_ks, prores_aw, dnxhd...
    args: list[str] = []
    hw_encoder: str | None = None  # used where present and a trial encode works (h264_nvenc)
    hw_args: list[str] = []
    deinterlace: bool = True  # interlaced sources: one frame per frame (bwdif send_frame), rate unchanged


class AudioEncoding(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    codec: str = "pcm_s24le"
    args: list[str] = []
    # keep: each source audio stream as it is; mono: one mono track per channel (as Avid wants them)
    layout: Literal["keep", "mono"] = "keep"
    # Source channels to keep, 1-based across all audio streams, each as a mono track. Empty: all.
    channels: list[int] = []

    @model_validator(mode="after")
    def _positive(self) -> AudioEncoding:
        if any(c < 1 for c in self.channels):
            raise ValueError("channels are numbered from 1")
        return self


class BurnIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    timecode: bool = True  # the running source timecode
    clip_name: bool = True
    reel: bool = False
    text_height: Ratio = Fraction(1, 18)  # font size as a fraction of the proxy height
    position: Literal["top", "bottom"] = "bottom"


class AleSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    write: bool = False  # an Avid Log Exchange file per card, listing every proxy of it


class ProxyPreset(BaseModel):
    """A proxy recipe: container, size rule, video and audio encoding, burn-in, ALE."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1]
    name: str
    description: str = ""
    container: Literal["mov", "mp4", "mxf"]
    size: SizeRule
    video: VideoEncoding
    audio: AudioEncoding = AudioEncoding()
    burnin: BurnIn = BurnIn()
    ale: AleSettings = AleSettings()
    lut: bool = True  # apply the production's show LUT (if it has one)

    @property
    def extension(self) -> str:
        return CONTAINER_EXTENSIONS[self.container]

    def fingerprint(self) -> str:
        """Short digest of everything that changes the pixels or the sound: a changed preset re-makes proxies."""
        data = self.model_dump(mode="json", exclude={"description", "ale"})
        return hashlib.sha1(json.dumps(data, sort_keys=True).encode()).hexdigest()[:12]


def builtin_presets() -> dict[str, Path]:
    return builtin_files("proxy")


def load_preset(name_or_path: str | Path) -> ProxyPreset:
    """A preset by built-in name ("h264-review") or by TOML file path; a bad file names the field."""
    return load_data_file(name_or_path, ProxyPreset, kind="proxy preset", folder_name="proxy")
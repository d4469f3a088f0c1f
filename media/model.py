"""The media model: the one shared description of a file, read by ingest, proxies, conform and QC.

Unknown stays None: nothing is defaulted. Frame rates are exact rationals, serialised as "num/den".
"""

from __future__ import annotations

from enum import StrEnum
from fractions import Fraction
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_serializer

from media.findings import Finding, Severity, worst
from media.timecode import Timecode, format_rate

SCHEMA_VERSION = 1

# The models build their validators at their first use (defer_build), not when the module loads: a conform check
# imports them without ever making one.

Scan = Literal["progressive", "tff", "bff", "interlaced"]


class VideoStream(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)  # built at its first file

    codec: str | None  # MediaInfo's format name: ProRes, AVC, HEVC, VC-3, MPEG Video...
    codec_profile: str | None = None  # 422 HQ, High@L4.1, RI@LB, 4:2:2@High...
    width: int | None
    height: int | None
    pixel_aspect: Fraction | None = None
    display_aspect: Fraction | None = None
    frame_rate: Fraction | None
    scan: Scan | None  # interlaced = field order not stated
    variable_frame_rate: bool
    bit_depth: int | None
    chroma_subsampling: str | None
    color_primaries: str | None = None
    transfer: str | None = None
    matrix: str | None = None
    color_range: str | None = None
    bit_rate: int | None = None
    frame_count: int | None = None

    @field_serializer("frame_rate", "pixel_aspect", "display_aspect")
    def _ratio(self, value: Fraction | None) -> str | None:
        return None if value is None else format_rate(value)


class AudioStream(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)  # built at its first file

    codec: str | None  # PCM, AAC...
    channels: int | None
    sample_rate: int | None
    bit_depth: int | None
    channel_layout: str | None = None
    duration_samples: int | None = None


class MediaKind(StrEnum):
    MEDIA = "media"  # picture or sound that was read
    SIDECAR = "sidecar"  # card metadata: XML, RMD, ALE... hashed, not probed
    UNREADABLE = "unreadable"  # not media, cut short, or does not decode


class MediaFile(BaseModel):
    """A probed file. `error` says why it could not be read; the rest is then mostly None."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)  # built at its first file

    path: str
    size: int | None = None
    mtime_ns: int | None = None
    kind: MediaKind = MediaKind.MEDIA
    container: str | None = None  # MediaInfo's general format: MPEG-4, MXF, Wave...
    container_profile: str | None = None  # QuickTime, OP-1a, Base Media...
    clip_name: str | None = None
    duration_frames: int | None = None
    duration_seconds: float | None = None
    timecode_rate: Fraction | None = None  # the rate the timecode counts at
    start_timecode: str | None = None
    drop_frame: bool | None = None
    timecode_source: str | None = None  # tmcd, mxf, bext, ...
    reel: str | None = None
    reel_source: str | None = None  # tmcd-name, mxf-package, ixml-tape, clip-name
    video: VideoStream | None = None
    audio: list[AudioStream] = []
    findings: list[Finding] = []
    # What settled that the file decodes to its end: "decode" (ffmpeg decoded its last seconds, or all of it),
    # "sample tables" (QuickTime/MP4: every sample inside the file, the last frames whole), "mxf partitions"
    # (MXF: written to its footer and Random Index Pack, the last pictures there), "data chunk" (PCM WAVE,
    # its data chunk whole); None where nothing was checked. A file found not whole has `error`.
    integrity: Literal["decode", "sample tables", "mxf partitions", "data chunk"] | None = None
    error: str | None = None

    @field_serializer("timecode_rate")
    def _rate(self, value: Fraction | None) -> str | None:
        return None if value is None else format_rate(value)

    @property
    def start(self) -> Timecode | None:
        """The start timecode as a frame count, or None where the file has none."""
        if self.start_timecode is None or self.timecode_rate is None:
            return None
        return Timecode.parse(self.start_timecode, self.timecode_rate, self.drop_frame)

    @property
    def end(self) -> Timecode | None:
        """The timecode after the last frame (exclusive), as EDL source-out timecodes are."""
        start = self.start
        if start is None or self.duration_frames is None:
            return None
        return start + self.duration_frames

    @property
    def worst_severity(self) -> Severity | None:
        return worst([f.severity for f in self.findings])

    def with_findings(self, findings: list[Finding]) -> MediaFile:
        return self.model_copy(update={"findings": [*self.findings, *findings]})

"""What one decode of a master measured: frames, loudness, peaks, silence, black, freeze, levels, fields."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

from pydantic import BaseModel, ConfigDict, field_serializer

from config.errors import PostprodError
from media.timecode import format_rate

Progress = Callable[[float, float], None]  # (seconds analysed, total seconds)


class UnusableMaster(PostprodError):
    """A file that cannot be QC'd at all: not media, no picture, not decodable."""


class Interval(BaseModel):
    """Frames [start, end) from the file's first frame; `value` is the worst reading inside."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: int
    end: int
    value: float | None = None
    channel: int | None = None  # 1-based audio channel


class Analysis(BaseModel):
    """What one decode measured. Frame numbers count from the file's first frame."""

    model_config = ConfigDict(extra="forbid")

    path: str
    rate: Fraction
    declared_frames: int | None
    frames_decoded: int = 0
    last_frame: int | None = None  # index of the last frame decoded
    missing: list[Interval] = []  # frames absent from the decoded sequence
    decode_errors: list[str] = []
    integrated: float | None = None  # LUFS, programme channels, head left out
    lra: float | None = None
    true_peak: float | None = None  # dBTP, ebur128, programme channels
    max_short_term: float | None = None
    max_momentary: float | None = None
    loudness_series: list[tuple[float, float, float]] = []  # (seconds, momentary, short-term), every 100 ms
    loudness_from: float = 0.0  # seconds where the loudness measurement starts (after the head)
    frame_peaks_over: list[Interval] = []  # frames whose true peak (BS.1770 Annex 2) is over the limit, per channel
    max_frame_peak: float | None = None  # dBTP, largest true peak computed (frames that could be over), all channels
    max_sample_peak: float | None = None  # dBFS, all channels
    silence: list[Interval] = []
    black: list[Interval] = []
    freeze: list[Interval] = []
    luma_out: list[Interval] = []
    chroma_out: list[Interval] = []
    gamut_out: list[Interval] = []  # value: how far outside, in % of the R'G'B' range
    luma_range: tuple[float, float] | None = None  # min, max over the file (filtered picture)
    chroma_range: tuple[float, float] | None = None
    rgb_range: tuple[float, float] | None = None  # % of the nominal R'G'B' range (filtered picture)
    colour_matrix: str | None = None  # the matrix the gamut was computed with
    field_counts: dict[str, int] = {}  # idet single-frame classification
    field_runs: dict[str, list[Interval]] = {}  # runs of frames classified tff / bff / progressive
    reduction: int = 1  # the picture is measured this many times smaller each way (area average)
    levels_reduction: int = 1  # same as `reduction` (kept for readers of the earlier shape)
    first_pts: float = 0.0  # seconds: the first video frame's time, frame 0 for picture and sound alike
    elapsed_seconds: float = 0.0
    cpu_seconds: float | None = None  # user + system of the ffmpeg process, all its threads
    meter_cpu_seconds: float | None = None  # CPU of the numpy meters reading ffmpeg's raw picture and sound
    command: list[str] = []

    @field_serializer("rate")
    def _rate(self, value: Fraction) -> str:
        return format_rate(value)


def runs(flags: list[tuple[int, float | None]], worst: Callable[[float, float], float] = max) -> list[Interval]:
    """Consecutive frame numbers → intervals, keeping the worst value of each."""
    out: list[Interval] = []
    for frame, value in sorted(flags, key=lambda x: x[0]):
        if out and frame == out[-1].end:
            last = out[-1]
            v = last.value if value is None else (value if last.value is None else worst(last.value, value))
            out[-1] = last.model_copy(update={"end": frame + 1, "value": v})
        else:
            out.append(Interval(start=frame, end=frame + 1, value=value))
    return out

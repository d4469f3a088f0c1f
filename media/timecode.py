"""SMPTE timecode and exact frame rates: all arithmetic goes through frame counts.

Frame rates are read and written by config/framerate.py (pure, so that settings and specs can read them too);
its names are offered here as well, for the media layer and everything above it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from config.framerate import (
    KNOWN_RATES,
    TimecodeError,
    format_fps,
    format_rate,
    parse_rate,
    rate_from_float,
)

__all__ = ["KNOWN_RATES", "Timecode", "TimecodeError", "drop_frame_allowed", "format_fps", "format_rate",
           "nominal_fps", "parse_rate", "rate_from_float"]

_TC_RE = re.compile(r"^\s*(-)?(\d{1,2})[:;.](\d{2})[:;.](\d{2})([:;.,])(\d{2,3})\s*$")


def nominal_fps(rate: Fraction) -> int:
    """The frame count per timecode second: 30 for 29.97, 24 for 23.976 (round(rate), half to even, in integer
    arithmetic: Fraction.__round__ costs ten times more, and an edit list asks for it per timecode)."""
    num, den = rate.numerator, rate.denominator
    whole, rest = divmod(num, den)
    return whole + 1 if 2 * rest > den or (2 * rest == den and whole % 2) else whole


def drop_frame_allowed(rate: Fraction) -> bool:
    """Drop-frame exists only for 29.97 and 59.94 (and their multiples of 30000/1001)."""
    return rate.denominator == 1001 and nominal_fps(rate) % 30 == 0


def _drop_per_minute(fps: int) -> int:
    return 2 * (fps // 30)


@dataclass(frozen=True, slots=True)
class Timecode:
    """A timecode as a frame count since 00:00:00:00 at a rate, drop-frame or not."""

    frames: int
    rate: Fraction
    drop_frame: bool = False

    def __post_init__(self) -> None:
        if self.drop_frame and not drop_frame_allowed(self.rate):
            raise TimecodeError(f"drop-frame timecode does not exist at {format_rate(self.rate)} fps")

    @classmethod
    def parse(cls, text: str, rate: Fraction, drop_frame: bool | None = None) -> Timecode:
        """Read HH:MM:SS:FF; a ';' or '.' before the frames means drop-frame unless told otherwise."""
        match = _TC_RE.match(text)
        if not match:
            raise TimecodeError(f"not a timecode: {text!r}")
        sign, hh, mm, ss, sep, ff = match.groups()
        if drop_frame is None:
            drop_frame = sep in ";." and drop_frame_allowed(rate)
        h, m, s, f = int(hh), int(mm), int(ss), int(ff)
        fps = nominal_fps(rate)
        if m > 59 or s > 59 or f >= fps:
            raise TimecodeError(f"timecode {text!r} out of range at {format_rate(rate)} fps")
        frames = ((h * 60 + m) * 60 + s) * fps + f
        if drop_frame:
            if not drop_frame_allowed(rate):
                raise TimecodeError(f"drop-frame timecode does not exist at {format_rate(rate)} fps")
            drop = _drop_per_minute(fps)
            if s == 0 and f < drop and m % 10 != 0:
                raise TimecodeError(f"timecode {text!r} does not exist in drop-frame (frames skipped)")
            total_minutes = h * 60 + m
            frames -= drop * (total_minutes - total_minutes // 10)
        return cls(-frames if sign else frames, rate, drop_frame)

    @classmethod
    def from_seconds(cls, seconds: Fraction, rate: Fraction, drop_frame: bool = False) -> Timecode:
        """Real time since midnight to the frame that starts then (exact, rounded to the nearest frame)."""
        return cls(round(seconds * rate), rate, drop_frame)

    def __str__(self) -> str:
        return self.format()

    def format(self) -> str:
        frames = self.frames
        sign = "-" if frames < 0 else ""
        frames = abs(frames)
        fps = nominal_fps(self.rate)
        if self.drop_frame:
            drop = _drop_per_minute(fps)
            per_10min = fps * 600 - drop * 9
            per_min = fps * 60 - drop
            tens, rem = divmod(frames, per_10min)
            if rem >= drop:
                frames += drop * 9 * tens + drop * ((rem - drop) // per_min)
            else:
                frames += drop * 9 * tens
        ff = frames % fps
        total_seconds = frames // fps
        ss = total_seconds % 60
        mm = (total_seconds // 60) % 60
        hh = total_seconds // 3600
        sep = ";" if self.drop_frame else ":"
        return f"{sign}{hh:02d}:{mm:02d}:{ss:02d}{sep}{ff:02d}"

    def __add__(self, other: int) -> Timecode:
        return Timecode(self.frames + int(other), self.rate, self.drop_frame)

    def __sub__(self, other: int | Timecode) -> Timecode | int:
        if isinstance(other, Timecode):
            return self.frames - other.frames
        return Timecode(self.frames - int(other), self.rate, self.drop_frame)

    def seconds(self) -> Fraction:
        """Real time of this frame since 00:00:00:00 (exact)."""
        return Fraction(self.frames) / self.rate

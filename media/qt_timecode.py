"""The start timecode of a QuickTime/MP4 file, read from its tmcd track's first sample, as ffmpeg reads it.

MediaInfo computes the QuickTime timecode from the sample description's frames-per-second byte; some
cameras write a byte that disagrees with the track's timescale (29 at 30000/1001), and MediaInfo's
start then drifts by minutes over a day's count of frames. ffmpeg (libavformat/mov.c) counts at the
track's own rate, timescale / frame duration, and so does this reader: the file, not a tool's reading.

Every read is bounded: box sizes are checked against the file's size, the tree is walked to a fixed
depth with a fixed number of boxes, and only a tmcd track's small boxes are read whole.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO

from media.timecode import Timecode, TimecodeError, drop_frame_allowed

_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl"}
_MAX_BOXES = 20000
_MAX_SMALL = 1 << 16  # stsd, stco, co64, hdlr, tref of a tmcd track are tiny


@dataclass(frozen=True)
class TmcdSample:
    """A tmcd track's description and first sample (a frame count)."""

    value: int
    timescale: int
    frame_duration: int
    frames_per_second: int  # the description's "number of frames" byte
    drop_frame: bool

    @property
    def rate(self) -> Fraction:
        return Fraction(self.timescale, self.frame_duration)

    def timecode(self) -> Timecode:
        """The start as ffmpeg formats it: the count at the track's rate (60 fps counting 30: scaled)."""
        rate = self.rate
        rounded = round(rate)
        value = self.value
        if self.frames_per_second and rounded != self.frames_per_second:
            value *= rounded // self.frames_per_second
        drop = self.drop_frame and drop_frame_allowed(rate)
        return Timecode(value, rate, drop)


def boxes(fh: BinaryIO, start: int, end: int):
    """(type, payload start, payload end) of the boxes between start and end, sizes checked."""
    pos = start
    while pos + 8 <= end:
        fh.seek(pos)
        head = fh.read(8)
        if len(head) < 8:
            return
        size, kind = struct.unpack(">I4s", head)
        body = pos + 8
        if size == 1:
            large = fh.read(8)
            if len(large) < 8:
                return
            size = struct.unpack(">Q", large)[0]
            body = pos + 16
        elif size == 0:
            size = end - pos
        if size < body - pos or pos + size > end:
            return  # a box that claims more than there is: stop, do not guess
        yield kind, body, pos + size
        pos += size


def _read(fh: BinaryIO, start: int, end: int) -> bytes:
    if end - start > _MAX_SMALL:
        return b""
    fh.seek(start)
    return fh.read(end - start)


def _tmcd_tracks(fh: BinaryIO, size: int) -> list[dict[bytes, bytes]]:
    """The small boxes (hdlr, stsd, stco, co64) of each track whose handler is tmcd."""
    tracks: list[dict[bytes, bytes]] = []
    count = 0

    def walk(start: int, end: int, depth: int, track: dict[bytes, bytes] | None) -> None:
        nonlocal count
        for kind, body, stop in boxes(fh, start, end):
            count += 1
            if count > _MAX_BOXES or depth > 6:
                return
            if kind == b"trak":
                found: dict[bytes, bytes] = {}
                walk(body, stop, depth + 1, found)
                if found.get(b"hdlr", b"")[8:12] == b"tmcd":
                    tracks.append(found)
            elif kind in _CONTAINERS:
                walk(body, stop, depth + 1, track)
            elif track is not None and kind in (b"hdlr", b"stsd", b"stco", b"co64"):
                track[kind] = _read(fh, body, stop)

    walk(0, size, 0, None)
    return tracks


def _sample(fh: BinaryIO, size: int, boxes: dict[bytes, bytes]) -> TmcdSample | None:
    stsd = boxes.get(b"stsd", b"")
    # stsd: version/flags 4, entry count 4; entry: size 4, 'tmcd', reserved 6, data ref 2, reserved 4,
    # flags 4, timescale 4, frame duration 4, number of frames 1.
    if len(stsd) < 8 + 8 + 8 + 4 + 13 or stsd[12:16] != b"tmcd":
        return None
    flags, timescale, duration, nframes = struct.unpack(">IIIB", stsd[28:41])
    if b"co64" in boxes and len(boxes[b"co64"]) >= 16:
        offset = struct.unpack(">Q", boxes[b"co64"][8:16])[0]
    elif len(boxes.get(b"stco", b"")) >= 12:
        offset = struct.unpack(">I", boxes[b"stco"][8:12])[0]
    else:
        return None
    if not timescale or not duration or offset + 4 > size:
        return None
    fh.seek(offset)
    raw = fh.read(4)
    if len(raw) < 4:
        return None
    return TmcdSample(value=struct.unpack(">I", raw)[0], timescale=timescale, frame_duration=duration,
                      frames_per_second=nframes, drop_frame=bool(flags & 1))


def read_tmcd(path: Path) -> TmcdSample | None:
    """The first tmcd track's description and first sample; None where there is none or it cannot be read."""
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            for boxes in _tmcd_tracks(fh, size):
                sample = _sample(fh, size, boxes)
                if sample is not None:
                    return sample
    except OSError:
        return None
    return None


def tmcd_start(path: Path) -> Timecode | None:
    sample = read_tmcd(path)
    if sample is None:
        return None
    try:
        return sample.timecode()
    except TimecodeError:
        return None

"""Whether a QuickTime/MP4 picture sample is a whole frame of its codec, read from its own bytes.

Used by media/qt_tables.py on the last seconds of the picture, where a stalled copy leaves zeros (a file
preallocated, or its moov written first) or stops. ProRes: the frame header ('icpf', its size equal to the
sample's), the picture headers and slice tables adding up to the frame, as ffmpeg's decoder reads them.
H.264/HEVC: the length-prefixed NAL units filling the sample exactly, each with a valid header. DNxHD/DNxHR
(VC-3): the header prefix ffmpeg's decoder accepts, the width, and the end-of-frame code in the sample's last
4 bytes (a frame without it is decoded, as before).
A problem is `sure` only where the bytes cannot be a frame (zeros, no 'icpf'); anything else unusual is
a reason to decode, not a verdict.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from dataclasses import dataclass

PRORES = {b"apco", b"apcs", b"apcn", b"apch", b"ap4h", b"ap4x"}
DNX = {b"AVdn", b"AVdh"}  # DNxHD, DNxHR (VC-3)
_DNX_END = b"\x60\x0d\xc0\xde"  # the last 4 bytes of every VC-3 frame ffmpeg's encoder writes
_DNX_MIN = 0x280  # the header's size: ffmpeg's decoder refuses less
AVC = {b"avc1", b"avc3"}
HEVC = {b"hvc1", b"hev1"}
_VISUAL_ENTRY = 78  # a video sample description's fixed fields, before its child boxes
_MAX_NALS = 4096
_HEAD = 4096


@dataclass(frozen=True)
class Problem:
    why: str
    sure: bool = False


def _zeros(data: bytes) -> bool:
    return not data.strip(b"\0")


def _at(fd: int, head: bytes, offset: int, pos: int, n: int) -> bytes:
    """`n` bytes at `pos` of the sample at `offset`: from its first bytes, already read, where they hold them."""
    return head[pos:pos + n] if 0 <= pos and pos + n <= len(head) else os.pread(fd, n, offset + pos)


def _prores(fd: int, entry: memoryview, offset: int, size: int) -> Problem | None:
    head = os.pread(fd, min(size, _HEAD), offset)
    if len(head) < min(size, 28):
        return Problem("frame not readable", sure=True)
    if _zeros(head[:32]):
        return Problem("zeros where a ProRes frame should be: the copy did not write it", sure=True)
    if size < 28 or head[4:8] != b"icpf":
        return Problem("not a ProRes frame (no 'icpf')", sure=True)
    frame_size, _, header, version = struct.unpack_from(">I4sHH", head)
    if frame_size != size:
        return Problem(f"frame says {frame_size} bytes, its sample {size}")
    width, height, flags = struct.unpack_from(">HHB", head, 16)
    if version > 1 or (width, height) != struct.unpack_from(">HH", entry, 24):
        return Problem("frame header disagrees with the sample description")
    pictures = 2 if (flags >> 2) & 3 else 1
    pos = 8 + header
    for _ in range(pictures):
        problem = _prores_picture(fd, head, offset, size, pos)
        if isinstance(problem, Problem):
            return problem
        pos = problem
    if _zeros(_at(fd, head, offset, pos - 16, 16)):
        return Problem("the frame ends in zeros")
    return None


def _prores_picture(fd: int, frame: bytes, offset: int, size: int, pos: int) -> Problem | int:
    """One picture's header and slice table (`frame`: the frame's first bytes, already read); the position
    after the picture, or the problem."""
    head = _at(fd, frame, offset, pos, 8)
    if len(head) < 8:
        return Problem("picture header past the frame")
    header = head[0] >> 3
    picture, slices = struct.unpack_from(">IH", head, 1)
    if header < 8 or pos + picture > size or header + 2 * slices > picture or slices == 0:
        return Problem("picture header does not fit its frame")
    table = _at(fd, frame, offset, pos + header, 2 * slices)
    if len(table) < 2 * slices:
        return Problem("slice table not readable")
    sizes = struct.unpack(f">{slices}H", table)
    if min(sizes) < 6 or header + 2 * slices + sum(sizes) != picture:
        return Problem("slice sizes do not add up to the picture")
    return pos + picture


def _dnx_prefix(head: bytes) -> bool:
    """The header prefix ffmpeg's decoder accepts (libavcodec/dnxhddata.h, its first 5 bytes): DNxHD 4:2:2 or
    4:4:4, or DNxHR with its data offset."""
    if head[:5] in (b"\0\0\x02\x80\x01", b"\0\0\x02\x80\x02"):
        return True
    offset = int.from_bytes(head[2:4], "big")
    return head[:2] == b"\0\0" and head[4] == 3 and 0x280 <= offset <= 0x2170 and not offset & 3


def _dnx(fd: int, entry: memoryview, offset: int, size: int) -> Problem | None:
    """A VC-3 frame: its header prefix and width, and its end-of-frame code where the sample ends (a copy that
    stopped, or whose tail is zeros, has none there)."""
    head = os.pread(fd, min(size, 64), offset)
    if len(head) < min(size, 64):
        return Problem("frame not readable", sure=True)
    if _zeros(head[:32]):
        return Problem("zeros where a DNx frame should be: the copy did not write it", sure=True)
    if size < _DNX_MIN or not _dnx_prefix(head):
        return Problem("not a DNx frame (no header prefix)", sure=True)
    if struct.unpack_from(">H", head, 0x1A) != struct.unpack_from(">H", entry, 24):
        return Problem("frame header disagrees with the sample description")
    if os.pread(fd, 4, offset + size - 4) != _DNX_END:
        return Problem("the frame does not end with its end-of-frame code")
    return None


def _nal_length_size(entry: memoryview, config: bytes, at: int) -> int | None:
    pos = _VISUAL_ENTRY
    while pos + 8 <= len(entry):
        box, kind = struct.unpack_from(">I4s", entry, pos)
        if box < 8:
            return None
        if kind == config and box > at + 8:
            return (entry[pos + 8 + at] & 3) + 1
        pos += box
    return None


def _nal_units(fd: int, entry: memoryview, offset: int, size: int, hevc: bool) -> Problem | None:
    length_size = _nal_length_size(entry, b"hvcC" if hevc else b"avcC", 21 if hevc else 4)
    if length_size not in (1, 2, 4):
        return Problem("no NAL length size in the sample description")
    pos = count = 0
    while pos < size:
        head = os.pread(fd, length_size + 2, offset + pos)
        if len(head) < length_size + 2:
            return Problem("NAL unit past the end of its sample")
        if pos == 0 and _zeros(head) and _zeros(os.pread(fd, min(size, 64), offset)):
            return Problem("zeros where the frame should be: the copy did not write it", sure=True)
        nal = int.from_bytes(head[:length_size], "big")
        kind = head[length_size]
        bad = kind & 0x80 or (not (head[length_size + 1] & 7) if hevc else not kind & 0x1F)
        if nal == 0 or bad or pos + length_size + nal > size:
            return Problem(f"NAL unit at byte {pos} of the sample is not one")
        pos += length_size + nal
        count += 1
        if count > _MAX_NALS:
            return Problem("too many NAL units in one sample")
    if os.pread(fd, 1, offset + size - 1) == b"\0":
        return Problem("the frame ends in a zero byte")
    return None


Check = Callable[[int, memoryview, int, int], "Problem | None"]
FRAME_CHECKS: dict[bytes, Check] = {
    **dict.fromkeys(PRORES, _prores),
    **dict.fromkeys(DNX, _dnx),
    **dict.fromkeys(AVC, lambda fd, e, o, s: _nal_units(fd, e, o, s, hevc=False)),
    **dict.fromkeys(HEVC, lambda fd, e, o, s: _nal_units(fd, e, o, s, hevc=True)),
}


def frame_problem(fd: int, fourcc: bytes, entry: memoryview, offset: int, size: int) -> Problem | None:
    """None when the sample at `offset` is a whole frame of `fourcc` as far as its structure shows."""
    if size <= 0:
        return Problem("an empty picture sample")
    return FRAME_CHECKS[fourcc](fd, entry, offset, size)

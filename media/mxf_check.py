"""What an MXF file's own structure proves: that it was written to its end, and its start timecode as ffmpeg
reads it.

An MXF file ends with its footer partition and a Random Index Pack (RIP) listing every partition; a copy cut
short, or whose tail is zeros, has neither. Where the RIP lists partition packs that say where they are, the
header partition names the same footer, the KLV packets of the last partitions run exactly up to the footer,
and the last picture elements are not zeros, the file is whole without a decode (media/proven.py).

ffmpeg's decode also gave the probe its reading of the timecode (media/probe_ffmpeg.py cross-checks MediaInfo
against it): the material package's timecode component, the last of its tracks' (libavformat/mxfdec.c sets
the "timecode" metadata track by track), formatted as av_timecode_make_string does. Where the material
package has none, or anything here is unclear, there is no proof and ffmpeg decodes as before.

Every read is bounded: the RIP and the header metadata are read whole up to a few MiB, and the KLV walk stops
after a fixed number of packets.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

from media.qt_tables import NotProved, Verdict

_PREFIX = b"\x06\x0e\x2b\x34"
_PARTITION = b"\x06\x0e\x2b\x34\x02\x05\x01\x01\x0d\x01\x02\x01\x01"  # + kind (02 header, 03 body, 04 footer)
_RIP = b"\x06\x0e\x2b\x34\x02\x05\x01\x01\x0d\x01\x02\x01\x01\x11\x01\x00"
_FILL = b"\x06\x0e\x2b\x34\x01\x01\x01\x02\x03\x01\x02\x10\x01\x00\x00\x00"  # KLV fill item
_SET = b"\x06\x0e\x2b\x34\x02\x53\x01\x01\x0d\x01\x01\x01\x01\x01"  # + set type, 00: a header metadata set
_MATERIAL, _TIMELINE_TRACK, _STATIC_TRACK, _SEQUENCE, _TIMECODE = 0x36, 0x3B, 0x3A, 0x0F, 0x14
_MAX_READ = 8 << 20
_MAX_KLVS = 60_000  # about 11 minutes of frame-wrapped picture and sound in one partition
_TAIL_PICTURES = 64


@dataclass(frozen=True)
class MxfProof:
    verdict: Verdict
    timecode: str | None = None  # as ffmpeg prints it


def _ber(buf: bytes, pos: int) -> tuple[int, int]:
    """(length, bytes it took) of the BER length at `pos`."""
    first = buf[pos]
    if first < 0x80:
        return first, 1
    n = first & 0x7F
    if not 1 <= n <= 8 or pos + 1 + n > len(buf):
        raise NotProved("a KLV length not readable")
    return int.from_bytes(buf[pos + 1:pos + 1 + n], "big"), 1 + n


class _Window:
    """The walk's small reads, served from one buffer while they fall inside it: the header's small sets, and
    the small packets between two pictures, take one read rather than one each (the same bytes)."""

    SIZE = 1024

    def __init__(self, fd: int) -> None:
        self.fd, self.start, self.buf = fd, 0, b""

    def read(self, n: int, pos: int) -> bytes:
        at = pos - self.start
        if at < 0 or at + n > len(self.buf):  # (a buffer short at the end of the file is read again: as short)
            self.start, self.buf, at = pos, os.pread(self.fd, max(n, self.SIZE), pos), 0
        return self.buf[at:at + n]


def _klv_at(win: _Window, pos: int) -> tuple[bytes, int, int]:
    """(key, value start, value end) of the packet at `pos`."""
    head = win.read(25, pos)
    if len(head) < 17 or head[:4] != _PREFIX:
        raise NotProved(f"no KLV packet at byte {pos}")
    length, took = _ber(head, 16)
    return head[:16], pos + 16 + took, pos + 16 + took + length


def _rip(fd: int, size: int) -> list[int]:
    """The partitions' offsets, from the Random Index Pack that ends the file."""
    if size < 20:
        raise NotProved("too short for an MXF")
    total = struct.unpack(">I", os.pread(fd, 4, size - 4))[0]
    if not 20 <= total <= min(size, _MAX_READ):
        raise NotProved("no Random Index Pack at the end: cut short, or its tail not written")
    rip = os.pread(fd, total, size - total)
    if rip[:16] != _RIP:
        raise NotProved("no Random Index Pack at the end: cut short, or its tail not written")
    length, took = _ber(rip, 16)
    pairs = rip[16 + took:16 + took + length - 4]
    if 16 + took + length != total or len(pairs) % 12 or not pairs:
        raise NotProved("the Random Index Pack does not add up")
    return [struct.unpack_from(">IQ", pairs, i)[1] for i in range(0, len(pairs), 12)]


def _partition(win: _Window, offset: int) -> tuple[int, int, int, int]:
    """(kind, footer offset, header byte count, where the partition's packets start) of the pack at `offset`."""
    key, start, end = _klv_at(win, offset)
    if key[:13] != _PARTITION or key[13] not in (2, 3, 4) or end - start < 88:
        raise NotProved(f"the RIP points at byte {offset}, where no partition pack is")
    pack = win.read(64, start)
    this, _, footer, header_bytes = struct.unpack_from(">QQQQ", pack, 8)
    if this != offset:
        raise NotProved(f"the partition at byte {offset} says it is at byte {this}")
    return key[13], footer, header_bytes, end


def _after_fill(win: _Window, pos: int) -> int:
    """Where the header metadata starts: after the KLV fill that may follow the header partition pack (its
    header byte count runs from the primer pack's key, SMPTE ST 377-1 §7.1)."""
    key, _, end = _klv_at(win, pos)
    return end if key[:7] == _FILL[:7] and key[8:] == _FILL[8:] else pos  # (byte 7: the version, 1 or 2)


def _pictures(win: _Window, start: int, stop: int, budget: list[int]) -> list[tuple[int, int]]:
    """The picture elements (value start, end) of the packets from `start` running exactly to `stop`."""
    found = []
    pos = start
    while pos < stop:
        budget[0] -= 1
        if budget[0] < 0:
            raise NotProved("too many KLV packets to walk")
        key, value, end = _klv_at(win, pos)
        if end > stop:
            raise NotProved(f"the packet at byte {pos} runs past the next partition (byte {stop})")
        if key[4] == 1 and key[8:12] == b"\x0d\x01\x03\x01" and key[12] in (0x05, 0x15):
            found.append((value, end))
        pos = end
    return found


def _zeros(data: bytes) -> bool:
    return not data.strip(b"\0")


def _whole(fd: int, size: int, offsets: list[int]) -> tuple[str, int, int, list[tuple[int, int]]]:
    """What the partitions prove, the header metadata's (start, end), and the last pictures (value start, end)."""
    win = _Window(fd)
    parts = [_partition(win, off) for off in offsets]
    if offsets[0] != 0 or parts[0][0] != 2 or parts[-1][0] != 4 or offsets != sorted(offsets):
        raise NotProved("the RIP does not run from a header partition to a footer")
    footer = offsets[-1]
    if parts[0][1] != footer or parts[-1][1] != footer:
        raise NotProved("the header partition does not name the footer that ends the file")
    budget, pictures = [_MAX_KLVS], []
    for i in range(len(offsets) - 2, -1, -1):  # the last partitions first: where a stalled copy shows
        pictures = _pictures(win, parts[i][3], offsets[i + 1], budget) + pictures
        if len(pictures) >= _TAIL_PICTURES:
            break
    if not pictures:
        raise NotProved("no picture elements found before the footer")
    # A coded picture does not start with zeros (its end may be padding); uncompressed black might: so
    # zeros there are a reason to decode, not a verdict.
    for value, end in pictures[-_TAIL_PICTURES:]:
        if end - value < 16 or _zeros(os.pread(fd, 16, value)):
            raise NotProved(f"zeros where the picture at byte {value} is")
    header_start = _after_fill(win, parts[0][3])
    return f"{len(offsets)} partitions to the footer, the last {len(pictures)} pictures there", header_start, \
        header_start + parts[0][2], pictures[-_TAIL_PICTURES:]


def _sets(fd: int, start: int, end: int) -> dict[bytes, tuple[int, dict[int, bytes]]]:
    """Header metadata local sets by instance UID: (set type, tag → value)."""
    if end - start > _MAX_READ or end <= start:
        raise NotProved("header metadata not readable")
    data = os.pread(fd, end - start, start)
    sets: dict[bytes, tuple[int, dict[int, bytes]]] = {}
    pos = 0
    while pos + 17 <= len(data):
        length, took = _ber(data, pos + 16)
        body, stop = pos + 16 + took, pos + 16 + took + length
        if data[pos:pos + 14] == _SET and data[pos + 15] == 0:
            tags: dict[int, bytes] = {}
            at = body
            while at + 4 <= min(stop, len(data)):
                tag, n = struct.unpack_from(">HH", data, at)
                tags[tag] = data[at + 4:at + 4 + n]
                at += 4 + n
            if 0x3C0A in tags:
                sets[tags[0x3C0A]] = (data[pos + 14], tags)
        pos = stop
    return sets


def _batch(value: bytes) -> list[bytes]:
    count, item = struct.unpack_from(">II", value) if len(value) >= 8 else (0, 16)
    return [value[8 + i * item:8 + (i + 1) * item] for i in range(count)] if item == 16 else []


def _adjust_ntsc(frames: int, fps: int) -> int:
    """libavutil's av_timecode_adjust_ntsc_framenum2."""
    drop = fps // 30 * 2
    per_10 = fps // 30 * 17982
    d, m = divmod(frames, per_10)
    return frames + 9 * drop * d + drop * max(0, (m - drop) // (per_10 // 10))


def _ffmpeg_timecode(sets: dict[bytes, tuple[int, dict[int, bytes]]]) -> str | None:
    """The material package's timecode as ffmpeg prints it; None where there is none (or more than one package)."""
    materials = [tags for kind, tags in sets.values() if kind == _MATERIAL]
    if len(materials) != 1:
        return None
    found = None
    for ref in _batch(materials[0].get(0x4403, b"")):
        kind, track = sets.get(ref, (0, {}))
        if kind not in (_TIMELINE_TRACK, _STATIC_TRACK):
            continue
        seq_kind, sequence = sets.get(track.get(0x4803, b""), (0, {}))
        if seq_kind == _TIMECODE:
            found = sequence
        elif seq_kind == _SEQUENCE:
            for part in _batch(sequence.get(0x1001, b"")):
                kind, component = sets.get(part, (0, {}))
                if kind == _TIMECODE:
                    found = component
                    break
    if found is None or len(found.get(0x1501, b"")) != 8 or len(found.get(0x1502, b"")) != 2:
        return None
    start, fps = struct.unpack(">Q", found[0x1501])[0], struct.unpack(">H", found[0x1502])[0]
    drop = found.get(0x1503, b"\0")[:1] == b"\x01"
    if not fps or (drop and fps % 30) or start >= 1 << 31:
        return None  # ffmpeg sets no timecode there: decode, as before
    frames = _adjust_ntsc(start, fps) if drop else start
    return (f"{frames // (fps * 3600):02d}:{frames // (fps * 60) % 60:02d}:{frames // fps % 60:02d}"
            f"{';' if drop else ':'}{frames % fps:02d}")


def check_mxf(path: Path) -> MxfProof:
    """Whether the file is proved whole (see the module's docstring), with its timecode as ffmpeg reads it.
    Never raises."""
    try:
        with open(path, "rb") as fh:
            fd = fh.fileno()
            size = os.fstat(fd).st_size
            said, header_start, header_end, _ = _whole(fd, size, _rip(fd, size))
            timecode = _ffmpeg_timecode(_sets(fd, header_start, header_end))
    except NotProved as exc:
        return MxfProof(Verdict(False, str(exc)))
    except (OSError, OverflowError, struct.error, ValueError, IndexError) as exc:
        return MxfProof(Verdict(False, f"MXF structure not readable: {exc}"))
    if timecode is None:
        return MxfProof(Verdict(False, "no material package timecode read as ffmpeg reads it"))
    return MxfProof(Verdict(True, said), timecode)

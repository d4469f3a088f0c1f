"""What a QuickTime/MP4 file's sample tables prove: every sample of every track lies inside the file.

The probe's tail decode (media/probe.py) is there to catch copies that stopped early. A QuickTime/MP4
file says where each of its samples is (stco/co64 chunk offsets, stsc samples per chunk, stsz/stz2 sample
sizes): when every sample lies inside the file, and the picture's last frames are whole frames of their
codec (media/qt_frames.py), the file is whole without asking ffmpeg. Anything this reader does not
understand (fragmented MP4, samples in another file, several sample descriptions, a codec it does not
know, tables that disagree) is not proved, and the probe decodes as before. Edit lists play no part: every
sample is checked, whatever part of it an edit list presents.

Every read is bounded: the moov is read once (up to 64 MiB) and parsed in memory, each table's entry
count is checked against its box.
"""

from __future__ import annotations

import os
import struct
import sys
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path

from media.qt_frames import FRAME_CHECKS, frame_problem
from media.qt_timecode import boxes

_MAX_MOOV = 64 << 20
_CONTAINERS = {b"trak", b"mdia", b"minf", b"stbl", b"dinf"}
# Uncompressed sound: any bytes decode, so samples inside the file is all there is to prove.
_PCM = {b"lpcm": 0, b"sowt": 0, b"twos": 0, b"raw ": 1, b"in24": 3, b"in32": 4, b"fl32": 4, b"fl64": 8,
        b"ipcm": 0, b"fpcm": 0, b"NONE": 0}
_COMPRESSED_SOUND = {b"mp4a"}  # sizes in the table are bytes
_TAIL_SECONDS = 2.5  # the picture's frames checked at the end: a little more than the tail decode's 2 s
_MIN_TAIL_FRAMES = 8
_MAX_SAMPLES = 20_000_000  # 9 days of pictures at 25 fps: more is a damaged table, not a clip


class NotProved(Exception):
    """The tables could not be read or do not prove the file whole: decode it instead."""


class Defect(NotProved):
    """A sure fault: the file is not whole."""


@dataclass(frozen=True)
class Verdict:
    """proved: every sample inside the file and the picture's last frames whole. `why` says what was
    proved or why not; `defect` is set only for a sure fault (a sample past the end, a frame of zeros)."""

    proved: bool
    why: str
    defect: bool = False


@dataclass
class Track:
    handler: bytes
    boxes: dict[bytes, memoryview]
    timescale: int = 0
    duration: int = 0

    def entry(self) -> tuple[bytes, memoryview]:
        """The one sample description: (fourcc, its bytes after size and type)."""
        stsd = self.boxes.get(b"stsd")
        if stsd is None or len(stsd) < 16:
            raise NotProved("no sample description")
        count, size, fourcc = struct.unpack_from(">I I4s", stsd, 4)
        if count != 1:
            raise NotProved(f"{count} sample descriptions in one track")
        if size < 16 or 8 + size > len(stsd):
            raise NotProved("sample description runs past its box")
        return fourcc, stsd[16:8 + size]


def _children(buf: memoryview, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack_from(">I4s", buf, pos)
        body = pos + 8
        if size == 1 and pos + 16 <= end:
            size, body = struct.unpack_from(">Q", buf, pos + 8)[0], pos + 16
        elif size == 0:
            size = end - pos
        if size < body - pos or pos + size > end:
            raise NotProved(f"box {kind!r} runs past its parent")
        yield kind, body, pos + size
        pos += size


def _tracks(moov: memoryview) -> list[Track]:
    tracks: list[Track] = []

    def walk(start: int, end: int, track: Track | None, depth: int) -> None:
        for kind, body, stop in _children(moov, start, end):
            if kind == b"mvex":
                raise NotProved("fragmented MP4 (mvex)")
            if kind == b"trak" and depth == 0:
                track = Track(handler=b"", boxes={})
                walk(body, stop, track, depth + 1)
                tracks.append(track)
                track = None
            elif kind in _CONTAINERS and track is not None and depth < 6:
                walk(body, stop, track, depth + 1)
            elif track is not None and kind == b"hdlr" and not track.handler:
                track.handler = bytes(moov[body + 8:body + 12])  # the media handler: the first in mdia
            elif track is not None and kind not in track.boxes:
                track.boxes[kind] = moov[body:stop]

    walk(0, len(moov), None, 0)
    for track in tracks:
        mdhd = track.boxes.get(b"mdhd")
        if mdhd is not None and len(mdhd) >= 24:
            if mdhd[0] == 1 and len(mdhd) >= 32:
                track.timescale, track.duration = struct.unpack_from(">IQ", mdhd, 20)
            else:
                track.timescale, track.duration = struct.unpack_from(">II", mdhd, 12)
    return tracks


def _self_contained(track: Track) -> None:
    """Every data reference is 'this file' (flag 1): a reference movie's samples are elsewhere."""
    dref = track.boxes.get(b"dref")
    if dref is None or len(dref) < 8:
        raise NotProved("no data reference")
    count = struct.unpack_from(">I", dref, 4)[0]
    for _, body, _stop in _children(dref, 8, len(dref)):
        if not dref[body + 3] & 1:
            raise NotProved("samples in another file (a reference movie)")
        count -= 1
    if count != 0:
        raise NotProved("data references do not match their count")


def _table(box: memoryview | None, name: str, width: int, skip: int = 8, fields: int = 1) -> array:
    """The big-endian table after version/flags and the entry count (`skip` bytes): entries of `fields`
    numbers of `width` bytes, flattened."""
    if box is None or len(box) < skip:
        raise NotProved(f"no {name}")
    count = struct.unpack_from(">I", box, skip - 4)[0] * fields
    if skip + count * width > len(box):
        raise NotProved(f"{name} claims more entries than it holds")
    out = array("I" if width == 4 else "Q")
    if out.itemsize != width:
        raise NotProved(f"{name}: no {width}-byte integers on this machine")
    out.frombytes(bytes(box[skip:skip + count * width]))
    if sys.byteorder == "little":
        out.byteswap()
    return out


def chunk_offsets(track: Track) -> array:
    if b"co64" in track.boxes:
        return _table(track.boxes[b"co64"], "co64", 8)
    return _table(track.boxes.get(b"stco"), "stco", 4)


def sample_sizes(track: Track) -> tuple[int, int, array | None]:
    """(constant size or 0, sample count, the table when sizes vary)."""
    stsz = track.boxes.get(b"stsz")
    if stsz is not None:
        if len(stsz) < 12:
            raise NotProved("stsz too short")
        constant, count = struct.unpack_from(">II", stsz, 4)
        return (constant, count, None) if constant else (0, count, _table(stsz, "stsz", 4, 12))
    stz2 = track.boxes.get(b"stz2")
    if stz2 is None or len(stz2) < 12:
        raise NotProved("no sample sizes")
    field, count = stz2[7], struct.unpack_from(">I", stz2, 8)[0]
    raw = bytes(stz2[12:12 + (count * field + 7) // 8])
    if field not in (4, 8, 16) or len(raw) * 8 < count * field:
        raise NotProved("stz2 unreadable")
    if field == 16:
        return 0, count, array("I", struct.unpack(f">{count}H", raw[:2 * count]))
    if field == 8:
        return 0, count, array("I", raw[:count])
    return 0, count, array("I", [(raw[i // 2] >> (0 if i % 2 else 4)) & 15 for i in range(count)])


def samples_per_chunk(track: Track, chunks: int) -> list[int]:
    """stsc expanded: how many samples each chunk holds."""
    stsc = _table(track.boxes.get(b"stsc"), "stsc", 4, fields=3)
    if len(stsc) % 3 or not stsc or stsc[0] != 1:
        raise NotProved("stsc unreadable")
    out: list[int] = []
    runs = [(stsc[i], stsc[i + 1]) for i in range(0, len(stsc), 3)]
    for (first, per), (after, _) in zip(runs, [*runs[1:], (chunks + 1, 0)], strict=True):
        if after <= first or after > chunks + 1:
            raise NotProved("stsc runs out of order")
        out.extend([per] * (after - first))
    return out


def _sound_unit(fourcc: bytes, entry: memoryview, constant: int) -> int:
    """Bytes per sample-table sample of a sound track whose stsz gives a constant size."""
    if fourcc in _COMPRESSED_SOUND:
        if constant <= 1:
            raise NotProved(f"{fourcc!r} with no sample sizes")
        return constant
    if fourcc not in _PCM or len(entry) < 28:
        raise NotProved(f"sound {fourcc!r} not known here")
    version, channels, bits = struct.unpack_from(">H6xHH", entry, 8)
    if version == 1 and len(entry) < 44:
        raise NotProved("short sound description")
    if version == 1:
        per_packet, _bpp, per_frame = struct.unpack_from(">III", entry, 28)
        unit = per_frame // per_packet if per_packet and per_frame % per_packet == 0 else 0
    elif version == 2 and len(entry) >= 64:
        per_packet_bytes, frames = struct.unpack_from(">II", entry, 56)
        unit = per_packet_bytes // frames if frames and per_packet_bytes % frames == 0 else 0
    else:
        unit = channels * (_PCM[fourcc] or bits // 8)
    if unit <= 0 or constant not in (1, unit):
        raise NotProved(f"sound {fourcc!r}: sample size {constant} not understood")
    return unit


def sample_spans(track: Track) -> list[tuple[int, int]]:
    """Every sample's (offset, size), in order; for constant-size sound, every chunk's."""
    offsets = chunk_offsets(track)
    per_chunk = samples_per_chunk(track, len(offsets))
    constant, count, table = sample_sizes(track)
    if sum(per_chunk) != count:
        raise NotProved(f"stsc places {sum(per_chunk)} samples, stsz has {count}")
    if table is None and track.handler == b"soun":
        unit = _sound_unit(*track.entry(), constant)
        return [(off, n * unit) for off, n in zip(offsets, per_chunk, strict=True) if n]
    if count > _MAX_SAMPLES:
        raise NotProved(f"{count} samples in one track")
    if table is None:  # every sample the same size: still one by one, so that a picture's last frames can be read
        return [(off + i * constant, constant) for off, n in zip(offsets, per_chunk, strict=True) for i in range(n)]
    if len(table) != count:
        raise NotProved("stsz count and table disagree")
    spans: list[tuple[int, int]] = []
    first = 0
    for off, n in zip(offsets, per_chunk, strict=True):
        if n:
            sizes = table[first:first + n]
            spans.extend(zip(accumulate(sizes[:-1], initial=off), sizes, strict=True))
            first += n
    return spans


def _check_track(fd: int, track: Track, size_of_file: int, spans: list[tuple[int, int]] | None = None) -> str:
    """What was proved of one track (`spans`: its samples, already read); raises NotProved (or Defect) otherwise."""
    _self_contained(track)
    kind = track.handler
    fourcc = track.entry()[0] if kind in (b"vide", b"soun") else b""
    if kind == b"vide" and fourcc not in FRAME_CHECKS:
        raise NotProved(f"picture codec {fourcc!r}: its frames are not checked here")
    spans = sample_spans(track) if spans is None else spans
    past = next(((i, off + n) for i, (off, n) in enumerate(spans) if off + n > size_of_file), None)
    if past is not None:
        # Sure for the picture (a frame's own size); the sound's bytes come from our reading of its description.
        said = (f"{kind.decode('latin-1')} sample {past[0] + 1} of {len(spans)} ends at byte {past[1]}, "
                f"past the end of the file ({size_of_file} bytes): the copy is cut short")
        raise (Defect if kind == b"vide" else NotProved)(said)
    if kind != b"vide":
        return f"{len(spans)} {kind.decode('latin-1')} spans inside"
    if not spans:
        raise NotProved("a picture track with no frames")
    _check_tail_frames(fd, track, fourcc, spans)
    return f"{len(spans)} frames inside"


def _check_tail_frames(fd: int, track: Track, fourcc: bytes, spans: list[tuple[int, int]]) -> None:
    seconds = track.duration / track.timescale if track.timescale and track.duration else 0
    tail = max(_MIN_TAIL_FRAMES, round(len(spans) * _TAIL_SECONDS / seconds) if seconds else 64)
    _, entry = track.entry()
    first: NotProved | None = None
    for number in range(len(spans) - 1, max(0, len(spans) - tail) - 1, -1):  # from the end: zeros are there
        problem = frame_problem(fd, fourcc, entry, *spans[number])
        if problem is None:
            continue
        said = f"frame {number + 1} of {len(spans)}: {problem.why}"
        if problem.sure:
            raise Defect(said)
        first = first or NotProved(said)
    if first is not None:
        raise first


def check_samples(path: Path, read: tuple[list[Track], list[list[tuple[int, int]]]] | None = None) -> Verdict:
    """Whether the file's own tables prove it whole (see the module's docstring). Never raises.

    `read`: the moov's tracks and their samples, already read from this file (media/qt_facts.py)."""
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if read is None:
                return _verdict(fh, size)
            return _tracks_verdict(fh.fileno(), size, *read)
    except Defect as exc:
        return Verdict(False, str(exc), defect=True)
    except NotProved as exc:
        return Verdict(False, str(exc))
    except (OSError, OverflowError, struct.error, ValueError, IndexError) as exc:
        return Verdict(False, f"sample tables not readable: {exc}")


def _verdict(fh, size: int) -> Verdict:
    moov = None
    for kind, body, stop in boxes(fh, 0, size):
        if kind == b"moof":
            raise NotProved("fragmented MP4 (moof)")
        if kind == b"moov" and moov is None:
            if stop - body > _MAX_MOOV:
                raise NotProved("moov too large to read here")
            fh.seek(body)
            moov = memoryview(fh.read(stop - body))
    if moov is None:
        raise NotProved("no moov box found whole")
    return _tracks_verdict(fh.fileno(), size, _tracks(moov), None)


def _tracks_verdict(fd: int, size: int, tracks: list[Track], spans: list[list[tuple[int, int]]] | None) -> Verdict:
    if not any(t.handler == b"vide" for t in tracks):
        raise NotProved("no picture track")
    said = [_check_track(fd, t, size, spans[i] if spans else None) for i, t in enumerate(tracks)]
    return Verdict(True, "; ".join(said))

"""An MXF file's facts read from its own header metadata, as MediaInfo gives them (media/facts.py).

Only the shape ffmpeg and many recorders write is read here: OP-1a, written to its footer (media/mxf_check.py),
one material package holding one picture track, DNxHR (full frames, constant frame size; 1080 lines stored as
1088, as ffmpeg writes them) or MPEG-2 (XDCAM HD422 and its kin: media/mxf_mpeg2.py), PCM sound tracks of the same
length, one timecode track, no names MediaInfo would show but one: a source package's, as ffmpeg writes
`reel_name` on the tape's package (MediaInfo's PackageName, the probe's reel). Anything else returns None, and
MediaInfo reads the file.
"""

from __future__ import annotations

import os
import struct
from fractions import Fraction
from pathlib import Path

from media.mpeg2_headers import Picture
from media.mxf_check import MxfProof, NotProved, _batch, _ber, _ffmpeg_timecode, _klv_at, _rip, _sets, _whole, _Window
from media.mxf_mpeg2 import MPEG2_DESCRIPTOR, Declined, mpeg2_video, read_pictures
from media.qt_tables import Verdict
from media.tracks import Track, Tracks

_MATERIAL, _SOURCE, _TRACK, _SEQUENCE, _TIMECODE = 0x36, 0x37, 0x3B, 0x0F, 0x14
_CDCI, _AES3, _TAPE = 0x28, 0x47, 0x2E
# The header metadata sets of the files this reader was checked on (ffmpeg 5.1 and 9): preface, identification,
# content storage, essence container data, packages, tracks, sequences, components, multiple/CDCI/MPEG-2/AES3
# descriptors.
_KNOWN_SETS = {0x2F, 0x30, 0x18, 0x23, 0x36, 0x37, 0x3B, 0x0F, 0x14, 0x11, 0x44, _CDCI, MPEG2_DESCRIPTOR, _AES3}
_PRIMER = bytes.fromhex("060e2b34020501010d01020101050100")
_FIRST_PICTURES = 16  # read at the start of the essence (with the last 64): what MediaInfo's parse sees first
_FIRST_KLVS = 400
_KINDS = {b"\x01\x03\x02\x01\x01": "timecode", b"\x01\x03\x02\x02\x01": "picture", b"\x01\x03\x02\x02\x02": "sound"}
_OP1A = b"\x06\x0e\x2b\x34\x04\x01\x01\x01\x0d\x01\x02\x01\x01\x01"
_DNXHR = {0x24: (1270, "RI@444"), 0x25: (1271, "RI@HQX"), 0x26: (1272, "RI@HQ"), 0x27: (1273, "RI@SQ"),
          0x28: (1274, "RI@LB")}  # the picture coding label's byte 13: the compression ID and MediaInfo's profile
_VC3_CODING = b"\x06\x0e\x2b\x34\x04\x01\x01\x0a\x04\x01\x02\x02\x71"
_CHROMA = {(2, 1): "4:2:2", (1, 1): "4:4:4"}
_LIMITED = {8: (16, 235), 10: (64, 940)}
_MAX_FRAMES = 20_000_000

Sets = dict[bytes, tuple[int, dict[int, bytes]]]


class _Unknown(Exception):
    """Something this reader does not name as MediaInfo does."""


def mxf_tracks(path: Path, size: int) -> Tracks | None:
    """The file's tracks as MediaInfo shows them, or None where this reader is not sure of every field."""
    try:
        with open(path, "rb") as fh:
            return _read(fh.fileno(), size)
    except (_Unknown, Declined, NotProved, OSError, OverflowError, struct.error, ValueError, IndexError, KeyError,
            ZeroDivisionError):
        return None


def _u(value: bytes) -> int:
    return int.from_bytes(value, "big")


def _rate(value: bytes) -> Fraction:
    num, den = struct.unpack(">II", value)
    return Fraction(num, den)


def _read(fd: int, size: int) -> Tracks:
    said, header_start, header_end, pictures = _whole(fd, size, offsets := _rip(fd, size))
    sets = _sets(fd, header_start, header_end)
    prefaces = [tags for kind, tags in sets.values() if kind == 0x2F]
    if len(prefaces) != 1 or prefaces[0].get(0x3B09, b"")[:14] != _OP1A:
        raise _Unknown("not OP-1a")
    package = _package_name(sets)
    tracks = _material_tracks(sets)
    kinds = [kind for kind, _, _, _ in tracks]
    if kinds.count("picture") != 1 or kinds.count("timecode") != 1:
        raise _Unknown("not one picture and one timecode track")
    rate, frames = next((r, n) for kind, r, n, _ in tracks if kind == "picture")
    if any(r != rate or n != frames for _, r, n, _ in tracks) or not 0 < frames < _MAX_FRAMES:
        raise _Unknown("tracks of other rates or lengths")
    duration = Fraction(frames * 1000) / rate
    if duration.denominator == 2:
        raise _Unknown("a duration on an exact half millisecond")
    ms = round(duration)
    timecode = _ffmpeg_timecode(sets)
    if timecode is None:
        raise _Unknown("no material timecode")
    found = _descriptors(sets)
    if len(found[_CDCI]) + len(found[MPEG2_DESCRIPTOR]) != 1:
        raise _Unknown("not one picture descriptor")
    if found[_CDCI]:
        video = _video(fd, found[_CDCI][0], rate, frames, pictures)
    else:
        first = _first_pictures(fd, offsets, header_end)
        dynamic = _dynamic(fd, header_start, header_end, found[MPEG2_DESCRIPTOR][0])
        video = mpeg2_video(found[MPEG2_DESCRIPTOR][0], dynamic, rate, frames, first + read_pictures(fd, pictures))
    out = [Track("General", format="MXF", format_profile="OP-1a", duration=ms, package_name=package), video]
    out += _audio(found[_AES3], [track_id for kind, _, _, track_id in tracks if kind == "sound"], ms)
    out.append(Track("Other", type="Time code", time_code_of_first_frame=timecode,
                     time_code_settings="Material Package", framerate_num=str(rate.numerator),
                     framerate_den=str(rate.denominator), frame_rate=f"{float(rate):.3f}",
                     timecode_dropframe="Yes" if ";" in timecode else "No"))
    # The structure read here is the decode check's proof too (media/proven.py): not read twice.
    return Tracks(out, proof=MxfProof(Verdict(True, said), timecode))


def _material_tracks(sets: Sets) -> list[tuple[str, Fraction, int, int]]:
    """(kind, edit rate, duration, track ID) of the material package's tracks; each a sequence of one component."""
    materials = [tags for kind, tags in sets.values() if kind == _MATERIAL]
    if len(materials) != 1:
        raise _Unknown("not one material package")
    out = []
    for ref in _batch(materials[0].get(0x4403, b"")):
        kind, track = sets[ref]
        if kind != _TRACK or 0x4802 in track:
            raise _Unknown("a named or static track")
        seq_kind, sequence = sets[track[0x4803]]
        if seq_kind not in (_SEQUENCE, _TIMECODE) or (seq_kind == _SEQUENCE and len(_batch(sequence[0x1001])) != 1):
            raise _Unknown("a sequence of several components")
        name = _KINDS.get(sequence[0x0201][8:13])
        if name is None:
            raise _Unknown("a track of another kind")
        out.append((name, _rate(track[0x4B01]), _u(sequence[0x0202]), _u(track.get(0x4801, b""))))
    return out


def _package_name(sets: Sets) -> str | None:
    """The name MediaInfo shows as the file's PackageName: that of the one named package, a source package (where
    ffmpeg writes `reel_name`: the tape's package), NUL-terminated UTF-16; None when no package is named. A named
    material package, several names, or a name MediaInfo might show otherwise (blank, padded, control characters)
    are not read here."""
    names = [(kind, tags[0x4402]) for kind, tags in sets.values() if 0x4402 in tags]
    if not names:
        return None
    if len(names) != 1 or names[0][0] != _SOURCE:
        raise _Unknown("a material package named, or several names")
    name = names[0][1].decode("utf-16-be").removesuffix("\x00")  # a UnicodeDecodeError is a ValueError: declined
    if not name or name != name.strip() or not name.isprintable():
        raise _Unknown("a package name MediaInfo may show otherwise")
    return name


def _descriptors(sets: Sets) -> dict[int, list[dict[int, bytes]]]:
    found: dict[int, list[dict[int, bytes]]] = {_CDCI: [], MPEG2_DESCRIPTOR: [], _AES3: []}
    for kind, tags in sets.values():
        if kind == _TAPE and set(tags) <= {0x3C0A}:  # the tape's package's descriptor as ffmpeg writes it: empty
            continue
        if kind not in _KNOWN_SETS:  # another descriptor, channel labels (MCA), ...: MediaInfo may show them
            raise _Unknown(f"header metadata set {kind:#x}")
        if kind in found:
            found[kind].append(tags)
    return found


def _dynamic(fd: int, start: int, end: int, tags: dict[int, bytes]) -> dict[bytes, bytes]:
    """A set's dynamic tags (0x8000 and up) by their labels, from the primer pack that starts the header metadata."""
    data = os.pread(fd, min(end - start, 1 << 16), start)
    if data[:16] != _PRIMER:
        raise _Unknown("no primer pack")
    length, took = _ber(data, 16)
    body = data[16 + took:16 + took + length]
    count, item = struct.unpack_from(">II", body)
    if item != 18 or len(body) < 8 + count * item:
        raise _Unknown("a primer pack not read here")
    labels = {}
    for i in range(count):
        tag = struct.unpack_from(">H", body, 8 + i * item)[0]
        labels[tag] = body[10 + i * item:8 + (i + 1) * item]
    return {labels[tag]: value for tag, value in tags.items() if tag >= 0x8000 and tag in labels}


def _first_pictures(fd: int, offsets: list[int], header_end: int) -> list[Picture]:
    """The first pictures of the essence: the first partition after the header metadata that holds any."""
    win = _Window(fd)
    spans: list[tuple[int, int]] = []
    pos, budget = header_end, _FIRST_KLVS
    while len(spans) < _FIRST_PICTURES and pos < offsets[-1]:
        budget -= 1
        if budget < 0:
            raise _Unknown("no pictures near the start")
        key, value, end = _klv_at(win, pos)
        if key[4] == 1 and key[8:12] == b"\x0d\x01\x03\x01" and key[12] in (0x05, 0x15):
            spans.append((value, end))
        pos = end
    return read_pictures(fd, spans)


def _video(fd: int, cdci: dict[int, bytes], rate: Fraction, frames: int, pictures: list[tuple[int, int]]) -> Track:
    if _rate(cdci[0x3001]) != rate or cdci.get(0x320C, b"\x00") != b"\x00":
        raise _Unknown("no full-frame picture descriptor at the track's rate")
    coding = cdci.get(0x3201, b"")
    if coding[:13] != _VC3_CODING or coding[13] not in _DNXHR:
        raise _Unknown("not DNxHR")
    cid, profile = _DNXHR[coding[13]]
    sizes = {end - value for value, end in pictures}
    head = os.pread(fd, 44, pictures[-1][0])
    if len(sizes) != 1 or len(head) < 44 or _u(head[0x28:0x2C]) != cid:
        raise _Unknown("frames of several sizes, or another compression ID")
    width, height = _u(cdci.get(0x3209, b"")), _u(cdci.get(0x3208, b""))  # displayed
    stored = _u(cdci[0x3203]), _u(cdci[0x3202])
    # ffmpeg stores a 1080-line DNxHR as 1088 lines (whole macroblocks), sampled and displayed as 1080.
    if (_u(cdci.get(0x3205, b"")), _u(cdci.get(0x3204, b""))) != (width, height) or \
            stored not in ((width, height), (width, -(-height // 16) * 16)) or \
            any(_u(cdci.get(tag, b"")) for tag in (0x3206, 0x3207, 0x320A, 0x320B)):
        raise _Unknown("stored, sampled and displayed sizes differ")
    depth = _u(cdci[0x3301])
    chroma = _CHROMA.get((_u(cdci[0x3302]), _u(cdci.get(0x3308, b"\x01"))))
    if chroma is None or _LIMITED.get(depth) != (_u(cdci.get(0x3304, b"")), _u(cdci.get(0x3305, b""))):
        raise _Unknown("sampling or levels not known here")
    if any(tag in cdci for tag in (0x3219, 0x3210, 0x321A)):
        raise _Unknown("colour labels (not checked against MediaInfo for DNxHR)")
    par = _rate(cdci[0x320E]) / Fraction(width, height)
    return Track("Video", format="VC-3", format_profile=profile, width=width, height=height,
                 pixel_aspect_ratio=f"{float(par):.3f}", framerate_num=str(rate.numerator),
                 framerate_den=str(rate.denominator), frame_rate=f"{float(rate):.3f}", scan_type="Progressive",
                 bit_depth=depth, chroma_subsampling=chroma, color_range="Limited",
                 bit_rate=round(sizes.pop() * 8 * rate), frame_count=str(frames))


def _audio(sounds: list[dict[int, bytes]], track_ids: list[int], ms: int) -> list[Track]:
    """One track per sound descriptor, in the order of the tracks they describe (their linked track IDs)."""
    linked = sorted((_u(sound.get(0x3006, b"")), n) for n, sound in enumerate(sounds))
    if [track_id for track_id, _ in linked] != sorted(track_ids) or len(set(track_ids)) != len(track_ids):
        raise _Unknown("sound descriptors that are not the sound tracks'")
    out = []
    for _, n in linked:
        sound = sounds[n]
        rate = _rate(sound[0x3D03])
        samples = ms * rate / 1000
        if rate.denominator != 1 or samples.denominator != 1 or 0x3D0A not in sound:
            raise _Unknown("sound rate or length")
        out.append(Track("Audio", format="PCM", channel_s=_u(sound[0x3D07]), sampling_rate=rate.numerator,
                         bit_depth=_u(sound[0x3D01]), samples_count=str(samples.numerator)))
    return out

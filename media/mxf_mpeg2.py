"""The picture track of an MPEG-2 MXF (XDCAM HD422 and its kin, as ffmpeg's `-f mxf` writes them), as MediaInfo
shows it: from the MPEG-2 video descriptor and the MPEG-2 headers of the first and last pictures.

MediaInfo (the libmediainfo pymediainfo carries) takes the picture size, pixel aspect, bit rate, range and frame
layout from the descriptor and the profile, chroma and field order from the stream; each fact is read here from
both where both carry it, and any disagreement, or anything not checked against MediaInfo
(tests/media/test_facts_differential.py, the `xdcam_*` and `mpeg2_*` variants of both ffmpegs), is a reason to
decline (media/mxf_facts.py's _Unknown): a field that cannot be proved is MediaInfo's to read.

Scan type and field order: the descriptor's frame layout (full frame, or separate fields with a field dominance)
must say what every picture read says (progressive_sequence and progressive_frame; top_field_first, no repeated
fields, frame pictures): the first pictures of the file and the last 64.
"""

from __future__ import annotations

import os
from fractions import Fraction

from media.colour import NAMES
from media.mpeg2_headers import Picture, read_picture
from media.tracks import Track

MPEG2_DESCRIPTOR = 0x51
_MPEG2_CODING = b"\x06\x0e\x2b\x34\x04\x01\x01\x03\x04\x01\x02\x02\x01"  # + the profile's byte
_BIT_RATE = bytes.fromhex("060e2b340101010504010602010b0000")
_PROFILE_LEVEL = bytes.fromhex("060e2b340101010504010602010a0000")
# profile_and_level_indication as MediaInfo names it; only those checked against it.
_PROFILES = {0x82: "4:2:2@High", 0x85: "4:2:2@Main", 0x48: "Main@Main", 0x44: "Main@High"}
# chroma_format → (MediaInfo's name, the descriptor's horizontal and vertical subsampling)
_CHROMA = {2: ("4:2:2", 2, 1), 1: ("4:2:0", 2, 2)}
_RATES = {1: Fraction(24000, 1001), 2: Fraction(24), 3: Fraction(25), 4: Fraction(30000, 1001), 5: Fraction(30),
          6: Fraction(50), 7: Fraction(60000, 1001), 8: Fraction(60)}
_ASPECTS = {2: Fraction(4, 3), 3: Fraction(16, 9)}  # aspect_ratio_information 1 is square samples
# The descriptor's colour labels (byte 7, the registry version, left out) as MediaInfo names them.
_PRIMARIES = {b"\x04\x01\x01\x01\x03\x03": "BT.709", b"\x04\x01\x01\x01\x03\x01": "BT.601 NTSC",
              b"\x04\x01\x01\x01\x03\x04": "BT.2020"}
_TRANSFERS = {b"\x04\x01\x01\x01\x01\x02": "BT.709"}
_MATRICES = {b"\x04\x01\x01\x01\x02\x02": "BT.709", b"\x04\x01\x01\x01\x02\x01": "BT.601",
             b"\x04\x01\x01\x01\x02\x06": "BT.2020 non-constant"}
_RANGES = {(16, 235, 225): "Limited", (0, 255, 256): "Full"}
_HEAD = 1024  # bytes read of a picture: its headers before the first slice


class Declined(Exception):
    """A fact of the picture track not proved as MediaInfo gives it."""


def _u(value: bytes) -> int:
    return int.from_bytes(value, "big")


def _ratio(value: bytes) -> Fraction:
    return Fraction(_u(value[:4]), _u(value[4:8]))


def _colour(desc: dict[int, bytes], picture: Picture) -> dict[str, str]:
    """Primaries, transfer and matrix: the descriptor's labels and the sequence display extension's codes must
    name the same (or both say nothing)."""
    seq = picture.sequence
    codes = seq.colour if seq is not None and seq.colour is not None else (2, 2, 2)
    out = {}
    for field, tag, table, names, code in zip(
            ("color_primaries", "transfer_characteristics", "matrix_coefficients"), (0x3219, 0x3210, 0x321A),
            (_PRIMARIES, _TRANSFERS, _MATRICES), NAMES, codes, strict=True):
        label = desc.get(tag)
        container = None
        if label is not None:
            if label[:7] != b"\x06\x0e\x2b\x34\x04\x01\x01" or label[8:14] not in table or any(label[14:]):
                raise Declined(f"colour label {label.hex()}")
            container = table[label[8:14]]
        stream = None if code == 2 else names.get(code)
        if code != 2 and stream is None:
            raise Declined(f"colour code {code}")
        if container != stream:
            raise Declined(f"{field}: the descriptor says {container}, the stream {stream}")
        if container is not None:
            out[field] = container
    return out


def _scan(desc: dict[int, bytes], pictures: list[Picture]) -> dict[str, str]:
    layout, dominance = desc.get(0x320C), desc.get(0x3212)
    progressive_seq = pictures[0].sequence is not None and pictures[0].sequence.progressive
    flags = {(p.structure, p.top_field_first, p.repeat_first_field, p.progressive_frame) for p in pictures}
    if layout == b"\x00" and dominance is None and progressive_seq and flags == {(3, False, False, True)}:
        return {"scan_type": "Progressive"}
    if layout == b"\x01" and not progressive_seq:
        if dominance == b"\x01" and flags == {(3, True, False, False)}:
            return {"scan_type": "Interlaced", "scan_order": "TFF"}
        if dominance == b"\x02" and flags == {(3, False, False, False)}:
            return {"scan_type": "Interlaced", "scan_order": "BFF"}
    raise Declined(f"frame layout {layout!r}, dominance {dominance!r}, pictures {sorted(flags)}")


def _size(desc: dict[int, bytes], separate_fields: bool) -> tuple[int, int]:
    """The displayed size (a field's height doubled), as MediaInfo shows it; sampled and displayed must agree."""
    width, height = _u(desc[0x3209]), _u(desc[0x3208])
    if (_u(desc.get(0x3205, b"")), _u(desc.get(0x3204, b""))) != (width, height) or \
            any(_u(desc.get(tag, b"")) for tag in (0x320A, 0x320B, 0x3206, 0x3207)) or not width or not height:
        raise Declined("sampled and displayed sizes differ, or offsets")
    return width, height * 2 if separate_fields else height


def read_pictures(fd: int, spans: list[tuple[int, int]]) -> list[Picture]:
    return [read_picture(os.pread(fd, min(_HEAD, end - start), start)) for start, end in spans]


def mpeg2_video(desc: dict[int, bytes], dynamic: dict[bytes, bytes], rate: Fraction, frames: int,
                pictures: list[Picture]) -> Track:
    """The video track from the MPEG-2 descriptor (`dynamic`: its tags by label) and the pictures read (the first
    one starting with a sequence header)."""
    coding = desc.get(0x3201, b"")
    seq = pictures[0].sequence if pictures else None
    if coding[:13] != _MPEG2_CODING or seq is None:
        raise Declined("not MPEG-2 video, or no sequence header first")
    if any(p.sequence is not None and p.sequence != seq for p in pictures):
        raise Declined("sequence headers that differ")
    if seq.display is not None and seq.display != (seq.width, seq.height):
        raise Declined("a display size other than the coded size (not checked against MediaInfo)")
    profile = _PROFILES.get(seq.profile_level)
    level_byte = dynamic.get(_PROFILE_LEVEL)
    if profile is None or level_byte is None or _u(level_byte) != seq.profile_level:
        raise Declined("profile and level not named here, or not the descriptor's")
    chroma, horizontal, vertical = _CHROMA.get(seq.chroma, (None, 0, 0))
    if chroma is None or (_u(desc.get(0x3302, b"")), _u(desc.get(0x3308, b""))) != (horizontal, vertical) \
            or _u(desc.get(0x3301, b"")) != 8:
        raise Declined("chroma or depth not the descriptor's")
    if _ratio(desc[0x3001]) != rate or _RATES.get(seq.rate_code) != rate or seq.rate_ext != (0, 0):
        raise Declined("frame rates that differ")
    scan = _scan(desc, pictures)
    width, height = _size(desc, scan["scan_type"] == "Interlaced")
    aspect = _ratio(desc[0x320E])
    if seq.aspect not in (1, *_ASPECTS) or (seq.aspect in _ASPECTS and _ASPECTS[seq.aspect] != aspect):
        raise Declined("the stream's aspect ratio is not the descriptor's")
    levels = tuple(_u(desc[tag]) if tag in desc else None for tag in (0x3304, 0x3305, 0x3306))
    if levels != (None, None, None) and levels not in _RANGES:
        raise Declined(f"levels {levels}")
    bit_rate = dynamic.get(_BIT_RATE)
    if bit_rate is None or not _u(bit_rate):
        raise Declined("no bit rate in the descriptor")
    return Track("Video", format="MPEG Video", format_profile=profile, width=width, height=height,
                 pixel_aspect_ratio=f"{float(aspect * height / width):.3f}", framerate_num=str(rate.numerator),
                 framerate_den=str(rate.denominator), frame_rate=f"{float(rate):.3f}", bit_depth=8,
                 chroma_subsampling=chroma, color_range=_RANGES.get(levels),  # type: ignore[arg-type]
                 bit_rate=_u(bit_rate), frame_count=str(frames), **scan, **_colour(desc, pictures[0]))

"""MPEG-2 video headers at the start of a coded picture (ISO/IEC 13818-2 §6.2): the sequence header and its
extensions, the GOP header, the picture header and its coding extension, as media/mxf_facts.py reads them from
an MXF picture element. Each reader raises ValueError for anything it does not know how to read."""

from __future__ import annotations

from dataclasses import dataclass

from media.codec_headers import _Bits  # an IndexError past the end: declined by media/mxf_facts.py

_START = b"\x00\x00\x01"
_SEQUENCE, _EXTENSION, _GOP, _PICTURE = 0xB3, 0xB5, 0xB8, 0x00
_FIRST_SLICE, _LAST_SLICE = 0x01, 0xAF


@dataclass(frozen=True)
class Sequence:
    """The sequence header, its sequence extension and (where written) its sequence display extension."""

    width: int
    height: int
    aspect: int  # aspect_ratio_information
    rate_code: int
    rate_ext: tuple[int, int]  # frame_rate_extension_n, _d
    bit_rate: int  # bits/s: (bit_rate_value | extension << 18) × 400
    profile_level: int  # profile_and_level_indication (with its escape bit)
    progressive: bool  # progressive_sequence
    chroma: int  # chroma_format: 1 4:2:0, 2 4:2:2, 3 4:4:4
    low_delay: bool
    matrices: bool  # intra or non-intra quantiser matrices loaded in the header
    display: tuple[int, int] | None = None  # display_horizontal_size, display_vertical_size
    video_format: int | None = None
    colour: tuple[int, int, int] | None = None  # colour_primaries, transfer_characteristics, matrix_coefficients


@dataclass(frozen=True)
class Picture:
    """A coded picture's header and coding extension (and the sequence and GOP headers before it, where any)."""

    coding_type: int  # 1 I, 2 P, 3 B
    structure: int  # picture_structure: 3 frame, 1 top field, 2 bottom field
    top_field_first: bool
    repeat_first_field: bool
    progressive_frame: bool
    sequence: Sequence | None = None
    gop: tuple[int, bool] | None = None  # (time code bits, closed_gop)


def _units(data: bytes) -> list[tuple[int, bytes]]:
    """(start code, payload) of the units before the first slice."""
    out = []
    pos = data.find(_START)
    if pos != 0:
        raise ValueError("a picture element that does not start with a start code")
    while pos >= 0 and pos + 3 < len(data):
        code = data[pos + 3]
        if _FIRST_SLICE <= code <= _LAST_SLICE:
            return out
        nxt = data.find(_START, pos + 4)
        if nxt < 0:
            raise ValueError("headers longer than what was read")
        out.append((code, data[pos + 4:nxt]))
        pos = nxt
    raise ValueError("no slice after the headers")


def _sequence_header(body: bytes) -> dict:
    r = _Bits(body)
    width, height, aspect, rate = r.bits(12), r.bits(12), r.bits(4), r.bits(4)
    bit_rate = r.bits(18)
    r.bits(1)
    r.bits(10)  # vbv_buffer_size_value
    r.bits(1)  # constrained_parameters_flag
    matrices = False
    for _ in range(2):
        if r.bits(1):
            matrices = True
            r.bits(8 * 64)
    return {"width": width, "height": height, "aspect": aspect, "rate_code": rate, "bit_rate": bit_rate,
            "matrices": matrices}


def read_picture(data: bytes) -> Picture:
    """The headers at the start of one coded picture (`data`: its first bytes, up to its first slice)."""
    seq: dict | None = None
    pic: dict | None = None
    gop = None
    for code, body in _units(data):
        if code == _SEQUENCE:
            if seq is not None or pic is not None:
                raise ValueError("a second sequence header")
            seq = _sequence_header(body)
        elif code == _GOP:
            r = _Bits(body)
            gop = (r.bits(25), bool(r.bits(1)))
        elif code == _PICTURE:
            r = _Bits(body)
            r.bits(10)
            pic = {"coding_type": r.bits(3)}
        elif code == _EXTENSION:
            _extension(_Bits(body), seq, pic)
        else:
            raise ValueError(f"an MPEG-2 unit not read here: {code:#x}")
    if pic is None or "structure" not in pic or (seq is not None and "profile_level" not in seq):
        raise ValueError("not MPEG-2: no picture coding or sequence extension")
    sequence = None
    if seq is not None:
        ext_n, ext_d = seq.pop("rate_ext")
        seq["bit_rate"] = (seq["bit_rate"] | seq.pop("bit_rate_ext") << 18) * 400
        sequence = Sequence(rate_ext=(ext_n, ext_d), **seq)
    return Picture(sequence=sequence, gop=gop, **pic)


def _extension(r: _Bits, seq: dict | None, pic: dict | None) -> None:
    kind = r.bits(4)
    if kind == 1 and seq is not None and pic is None:
        seq["profile_level"] = r.bits(8)
        seq["progressive"] = bool(r.bits(1))
        seq["chroma"] = r.bits(2)
        if r.bits(2) or r.bits(2):
            raise ValueError("a size extension")
        seq["bit_rate_ext"] = r.bits(12)
        r.bits(1)
        r.bits(8)
        seq["low_delay"] = bool(r.bits(1))
        seq["rate_ext"] = (r.bits(2), r.bits(5))
    elif kind == 2 and seq is not None and pic is None:
        seq["video_format"] = r.bits(3)
        if r.bits(1):
            seq["colour"] = (r.bits(8), r.bits(8), r.bits(8))
        width = r.bits(14)
        r.bits(1)
        seq["display"] = (width, r.bits(14))
    elif kind == 8 and pic is not None:
        r.bits(16)  # f_codes
        r.bits(2)  # intra_dc_precision
        pic["structure"] = r.bits(2)
        pic["top_field_first"] = bool(r.bits(1))
        r.bits(5)  # frame_pred_frame_dct, concealment_motion_vectors, q_scale_type, intra_vlc_format, alternate_scan
        pic["repeat_first_field"] = bool(r.bits(1))
        r.bits(1)  # chroma_420_type
        pic["progressive_frame"] = bool(r.bits(1))
    else:
        raise ValueError(f"an MPEG-2 extension not read here: {kind}")

"""The few codec headers the probe reads itself (media/qt_facts.py): H.264's sequence parameter set, AAC's
AudioSpecificConfig. Each reader returns None for anything outside what it is sure to name as MediaInfo does."""

from __future__ import annotations

from dataclasses import dataclass

_AVC_PROFILES = {66: "Baseline", 77: "Main", 100: "High"}
_HIGH_PROFILES = {100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135}
_CHROMA = {1: "4:2:0", 2: "4:2:2", 3: "4:4:4"}
AAC_RATES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350)
AAC_LAYOUTS = {1: "M", 2: "L R", 6: "C L R Ls Rs LFE"}


class _Bits:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def bit(self) -> int:
        byte = self.data[self.pos >> 3]  # IndexError past the end: the caller's "not understood"
        value = (byte >> (7 - (self.pos & 7))) & 1
        self.pos += 1
        return value

    def bits(self, n: int) -> int:
        value = 0
        for _ in range(n):  # bit() inlined: an MPEG-2 sequence header's matrices are 1,024 bits
            byte = self.data[self.pos >> 3]
            value = value << 1 | (byte >> (7 - (self.pos & 7))) & 1
            self.pos += 1
        return value

    def ue(self) -> int:
        zeros = 0
        while not self.bit():
            zeros += 1
            if zeros > 31:
                raise ValueError("exp-Golomb code too long")
        return (1 << zeros) - 1 + self.bits(zeros)


def _unescape(nal: bytes) -> bytes:
    return nal.replace(b"\x00\x00\x03", b"\x00\x00")


@dataclass(frozen=True)
class Avc:
    profile: str  # MediaInfo's Format_Profile: "High@L4.1"
    bit_depth: int
    chroma: str
    full_range: bool | None = None  # the VUI's video_full_range_flag; None: no video signal type
    colour: tuple[int, int, int] | None = None  # the VUI's colour description codes; None: none


def avc_sps(avcc: bytes) -> Avc | None:
    """The first SPS of an avcC box's body: progressive, no scaling matrices, no VUI aspect; else None."""
    try:
        if len(avcc) < 8 or avcc[0] != 1 or (avcc[5] & 0x1F) != 1:
            return None
        size = int.from_bytes(avcc[6:8], "big")
        raw = avcc[8:8 + size]
        if len(raw) != size or size < 4 or (raw[0] & 0x1F) != 7:
            return None
        return _sps(_unescape(raw))
    except (IndexError, ValueError):
        return None


def _sps(sps: bytes) -> Avc | None:
    profile_idc, constraints, level_idc = sps[1], sps[2], sps[3]
    r = _Bits(sps[4:])
    r.ue()  # seq_parameter_set_id
    chroma, depth = 1, 8
    if profile_idc in _HIGH_PROFILES:
        chroma = r.ue()
        if chroma == 3 and r.bit():
            return None  # separate colour planes
        depth = r.ue() + 8
        if r.ue() + 8 != depth or r.bit() or r.bit():  # luma and chroma depths differ; qpprime; scaling matrices
            return None
    r.ue()  # log2_max_frame_num
    poc_type = r.ue()
    if poc_type == 0:
        r.ue()  # log2_max_pic_order_cnt_lsb
    elif poc_type != 2:  # type 1's cycle: not needed here, and not read
        return None
    r.ue()  # max_num_ref_frames
    r.bit()
    r.ue()
    r.ue()  # picture size in macroblocks: MediaInfo's width and height come from the container here
    if not r.bit():  # frame_mbs_only_flag 0: fields or MBAFF, named from the slices: MediaInfo's reading
        return None
    r.bit()
    if r.bit():  # frame cropping
        for _ in range(4):
            r.ue()
    signal = _vui(r) if r.bit() else (None, None)
    if signal is None:
        return None
    name = _avc_profile(profile_idc, constraints)
    if name is None or chroma not in _CHROMA:
        return None
    level = f"{level_idc // 10}" + (f".{level_idc % 10}" if level_idc % 10 else "")
    if level_idc == 11 and constraints & 0x10 and profile_idc in (66, 77):
        return None  # level 1b
    return Avc(f"{name}@L{level}", depth, _CHROMA[chroma], *signal)


def _vui(r: _Bits) -> tuple[bool | None, tuple[int, int, int] | None] | None:
    """A VUI with square pixels (or none said): its video signal type (full range, colour codes), which MediaInfo
    reports; None for other pixels."""
    if r.bit():  # aspect_ratio_info_present
        idc = r.bits(8)
        extended = (r.bits(16), r.bits(16)) if idc == 255 else None
        if idc != 1 and not (extended and extended[0] == extended[1] and extended[0]):
            return None
    if r.bit():  # overscan_info_present
        r.bit()
    if not r.bit():  # video_signal_type_present
        return None, None
    r.bits(3)  # video_format
    full = bool(r.bit())
    return full, ((r.bits(8), r.bits(8), r.bits(8)) if r.bit() else None)


def _avc_profile(profile_idc: int, constraints: int) -> str | None:
    name = _AVC_PROFILES.get(profile_idc)
    if name is None:
        return None
    if profile_idc == 66 and constraints & 0x40:
        return "Constrained Baseline"
    if profile_idc == 100 and constraints & 0x0C:
        return None  # constrained/progressive High variants: named otherwise
    return name


@dataclass(frozen=True)
class Aac:
    sample_rate: int
    channels: int
    layout: str


def aac_config(esds: bytes) -> Aac | None:
    """AAC LC's AudioSpecificConfig from an esds box's body (after version and flags); None for anything else."""
    try:
        asc = _descriptor(esds[4:], (3, 4, 5))
        if asc is None or len(asc) < 2:
            return None
        r = _Bits(asc)
        if r.bits(5) != 2:  # AAC LC only: HE-AAC and friends change rates and channels
            return None
        index = r.bits(4)
        rate = r.bits(24) if index == 15 else AAC_RATES[index]
        channels = r.bits(4)
        if channels not in AAC_LAYOUTS or rate < 32000:  # low rates: maybe implicit SBR, which MediaInfo finds
            return None
        return Aac(rate, channels, AAC_LAYOUTS[channels])
    except (IndexError, ValueError):
        return None


def _descriptor(data: bytes, path: tuple[int, ...]) -> bytes | None:
    """The body of the descriptor reached by tags `path` (ES 3 → DecoderConfig 4 → DecSpecificInfo 5)."""
    tag, rest = path[0], path[1:]
    pos = 0
    while pos < len(data):
        kind = data[pos]
        size, pos = 0, pos + 1
        for _ in range(4):
            byte = data[pos]
            pos += 1
            size = size << 7 | (byte & 0x7F)
            if not byte & 0x80:
                break
        body = data[pos:pos + size]
        if kind == tag:
            if not rest:
                return body
            return _descriptor(body[_header_size(tag, body):], rest)
        pos += size
    return None


def _header_size(tag: int, body: bytes) -> int:
    """The fixed fields before an ES (3) or DecoderConfig (4) descriptor's children."""
    if tag == 4:
        if body[0] != 0x40:  # objectTypeIndication: MPEG-4 audio
            raise ValueError("not MPEG-4 audio")
        return 13
    flags, skip = body[2], 3
    if flags & 0x80:
        skip += 2
    if flags & 0x40:
        skip += 1 + body[skip]
    if flags & 0x20:
        skip += 2
    return skip

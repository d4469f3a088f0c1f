"""A file's facts from our own readers, in the shape MediaInfo's tracks have, where those readers know all of them.

MediaInfo's parse is most of a probe's time (5–10 ms a file even at its lowest parse speed). For the kinds of
file whose every fact our readers already reach (a plain PCM WAVE/BWF take: media/bwf.py; QuickTime/MP4:
media/qt_facts.py), the probe builds the same tracks itself, field for field as MediaInfo writes them, and
MediaInfo reads everything else: any field these readers would have to guess is a reason to ask MediaInfo.
tests/media/test_facts.py holds both ways equal on real files made by ffmpeg.
"""

from __future__ import annotations

import struct
from fractions import Fraction
from pathlib import Path

from media.bwf import BwfInfo, NotWave, read_bwf
from media.tracks import Track, Tracks

# MediaInfo's names of WAVE_FORMAT_EXTENSIBLE's speaker bits (dwChannelMask), in bit order.
_SPEAKERS = ("L", "R", "C", "LFE", "Lb", "Rb", "Lc", "Rc", "Cb", "Ls", "Rs")
# KSDATAFORMAT_SUBTYPE_PCM / _IEEE_FLOAT: the tag, then this.
_GUID_TAIL = bytes.fromhex("000000001000800000aa00389b71")


def _ms(numerator: int, denominator: int) -> int | None:
    """Milliseconds as MediaInfo prints them (rounded); None on an exact half, where its rounding is not known here."""
    exact = Fraction(numerator * 1000, denominator)
    if exact.denominator == 2:
        return None
    return round(exact)


def wave_layout(bwf: BwfInfo) -> tuple[bool, str | None]:
    """(known, MediaInfo's channel layout): from the extensible speaker mask, none for a plain mono or stereo take."""
    if not bwf.extensible:
        return bool(bwf.channels and bwf.channels <= 2), None
    mask = bwf.channel_mask or 0
    if not mask or mask >> len(_SPEAKERS) or bin(mask).count("1") != bwf.channels:
        return False, None
    return True, " ".join(name for bit, name in enumerate(_SPEAKERS) if mask >> bit & 1)


def wave_tracks(path: Path, size: int) -> Tracks | None:
    """A plain PCM RIFF WAVE (BWF) take whole in its file, described as MediaInfo does; None for anything else."""
    try:
        bwf = read_bwf(path)
    except (NotWave, OSError, ValueError, struct.error):
        return None  # MediaInfo's turn, and the probe's own verdict on the header
    channels, rate, bits, align = bwf.channels, bwf.sample_rate, bwf.bit_depth, bwf.block_align
    # A data chunk past the RIFF's own size: MediaInfo calls the file truncated, so it is MediaInfo's to read.
    if bwf.riff != b"RIFF" or bwf.data_chunks != 1 or bwf.data_bytes is None or bwf.data_end is None \
            or bwf.data_end > size or bwf.riff_size is None or bwf.data_end > bwf.riff_size + 8 \
            or not channels or not rate or not bits or bits % 8 or not align:
        return None
    if bwf.format_tag not in (1, 3) or (bwf.extensible and (bwf.valid_bits != bits or bwf.subformat is None
                                                            or bwf.subformat[2:] != _GUID_TAIL)):
        return None
    if align != channels * bits // 8 or bwf.byte_rate != rate * align or bwf.data_bytes % align:
        return None
    known, layout = wave_layout(bwf)
    samples = bwf.data_bytes // align
    duration = _ms(samples, rate)
    if not known or duration is None or not samples:
        return None
    general = Track("General", format="Wave", duration=duration)
    audio = Track("Audio", format="PCM", channel_s=channels, sampling_rate=rate, bit_depth=bits,
                  channel_layout=layout, samples_count=samples)
    return Tracks([general, audio], bwf)


def own_tracks(path: Path, size: int) -> Tracks | None:
    """The file's tracks from our own readers, or None: MediaInfo is to read it."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(12)
    except OSError:
        return None
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return wave_tracks(path, size)
    if head[4:8] in (b"ftyp", b"wide", b"free", b"mdat", b"moov"):
        from media.qt_facts import qt_tracks

        return qt_tracks(path, size)
    if head[:4] == b"\x06\x0e\x2b\x34":
        from media.mxf_facts import mxf_tracks

        return mxf_tracks(path, size)
    return None

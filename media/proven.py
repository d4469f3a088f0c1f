"""What a file's header already proves, so that the probe need not ask ffmpeg or parse deeper.

Each shortcut is taken only where the answer is the one the slower way gives (tests/media/test_proven.py
compares both on the test media); anywhere else the probe does what it always did.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from media.bwf import BwfInfo
from media.mxf_check import MxfProof, check_mxf
from media.qt_facts import QtRead
from media.qt_tables import check_samples

# MediaInfo's default: enough of a QuickTime/MXF/MP4 to find its tracks, timecode and frame counts.
PARSE_SPEED = 0.5
# A WAVE file's facts are all in its header chunks (fmt, data size, bext, iXML): the default parse
# speed reads far into the samples for nothing (44 ms against 9 ms a take).
WAVE_PARSE_SPEED = 0.0

# ProRes: the FourCC fixes the sampling and the depth ffmpeg decodes it to (proresdec2: 10 bits for the
# 422 family, 12 for 4444). MediaInfo names the chroma but prints no bit depth for ProRes.
PRORES_DEPTH = {
    "apco": (10, "4:2:2"), "apcs": (10, "4:2:2"), "apcn": (10, "4:2:2"), "apch": (10, "4:2:2"),
    "ap4h": (12, "4:4:4"), "ap4x": (12, "4:4:4"),
}

# WAVE format tags whose samples are plain numbers: any bytes decode, so a complete data chunk decodes.
_PCM_TAGS = {1, 3}  # integer PCM, IEEE float


def is_wave(path: Path) -> bool:
    """RIFF/RF64/BW64 WAVE by its first 12 bytes (the name's extension proves nothing)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(12)
    except OSError:
        return False
    return len(head) == 12 and head[:4] in (b"RIFF", b"RF64", b"BW64") and head[8:12] == b"WAVE"


def parse_speed(path: Path) -> float:
    return WAVE_PARSE_SPEED if is_wave(path) else PARSE_SPEED


def codec_depth(codec: str | None, codec_id: str | None) -> tuple[int | None, str | None]:
    """Bit depth and chroma sampling the codec itself fixes; (None, None) where it does not."""
    if codec == "ProRes" and codec_id:
        return PRORES_DEPTH.get(codec_id.strip().lower(), (None, None))
    return None, None


def decodes_by_construction(bwf: BwfInfo | None, has_video: bool, size: int) -> bool:
    """A PCM WAVE whose data chunk lies whole inside the file: nothing a decode could find wrong.

    A cut-short copy (data chunk running past the end) still goes to ffmpeg, as before.
    """
    return (bwf is not None and not has_video and bwf.format_tag in _PCM_TAGS and not bwf.problems
            and bwf.data_end is not None and bwf.data_end <= size)


@dataclass(frozen=True)
class Plan:
    """How the probe settles whether a file decodes to its end (MediaFile.integrity)."""

    decode_check: str  # what ffmpeg is still to do: "none" where the header proved the file whole
    proof: str | None = None  # "data chunk" | "sample tables" | "mxf partitions": what proved it
    defect: str | None = None  # a sure fault the file's structure shows: reported if the decode does not
    found_by: str | None = None  # the check that found the defect
    timecode: str | None = None  # MXF: the start timecode as ffmpeg would have read it (media/mxf_check.py)


def integrity_plan(path: Path, decode_check: str, *, container: str | None, bwf: BwfInfo | None,
                   has_video: bool, size: int, known: object = None) -> Plan:
    """The tail decode where the file's structure does not prove it whole (media/qt_tables.py,
    media/mxf_check.py). Only the tail check is replaced: "full" decodes everything as asked, "none" checks
    nothing. `known`: what reading the file's facts already read of its structure (media/facts.py)."""
    if decode_check == "none":
        return Plan("none")
    if decodes_by_construction(bwf, has_video, size):
        return Plan("none", "data chunk")  # a whole PCM data chunk: no decode can fail
    if decode_check != "tail" or not has_video:
        return Plan(decode_check)
    if container in ("MPEG-4", "QuickTime"):
        read = (known.tracks, known.spans) if isinstance(known, QtRead) else None
        verdict, name, timecode = check_samples(path, read), "sample tables", None
    elif container == "MXF":
        proof = known if isinstance(known, MxfProof) else check_mxf(path)
        verdict, name, timecode = proof.verdict, "mxf partitions", proof.timecode
    else:
        return Plan(decode_check)
    if verdict.proved:
        return Plan("none", name, timecode=timecode)
    return Plan(decode_check, defect=verdict.why, found_by=name) if verdict.defect else Plan(decode_check)

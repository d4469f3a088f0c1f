"""Broadcast WAV: the bext and iXML chunks that carry a sound take's timecode, tape and frame rate.

A BWF start is `bext` TimeReference, in samples since midnight at the file's sample rate. The frame
rate to count it in comes from iXML (SPEED/TIMECODE_RATE): at 23.976 the timecode runs 0.1 % slower
than the wall clock, so frames = samples * rate / sample_rate, never seconds * 24.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from media.timecode import format_rate

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element


@dataclass(frozen=True, slots=True)
class BwfInfo:
    channels: int | None = None
    sample_rate: int | None = None
    bit_depth: int | None = None
    format_tag: int | None = None
    data_bytes: int | None = None
    data_end: int | None = None  # where the data chunk's samples end, by its header: past the file's size = cut short
    time_reference: int | None = None  # samples since midnight
    description: str | None = None
    originator: str | None = None
    ixml_rate: Fraction | None = None
    ixml_drop_frame: bool | None = None
    tape: str | None = None
    scene: str | None = None
    take: str | None = None
    project: str | None = None
    problems: tuple[str, ...] = ()  # chunks that could not be used: findings on the file, never exceptions
    # The fmt chunk as written (media/wave_facts.py describes a plain take from these without MediaInfo).
    riff: bytes | None = None  # b"RIFF", b"RF64" or b"BW64"
    riff_size: int | None = None  # the RIFF header's size: where it says the file's chunks end, less 8
    byte_rate: int | None = None
    block_align: int | None = None
    extensible: bool = False  # WAVE_FORMAT_EXTENSIBLE: `format_tag` is then its subformat's
    valid_bits: int | None = None
    channel_mask: int | None = None
    subformat: bytes | None = None  # the extensible format's GUID
    data_chunks: int = 0

    @property
    def duration_samples(self) -> int | None:
        if self.data_bytes is None or not self.channels or not self.bit_depth:
            return None
        return self.data_bytes // (self.channels * ((self.bit_depth + 7) // 8))


class NotWave(ValueError):
    """Not a RIFF/RF64 WAVE file."""


def _text(raw: bytes) -> str | None:
    text = raw.split(b"\x00", 1)[0].decode("latin-1").strip()
    return text or None


def _ixml_fields(raw: bytes) -> dict[str, str]:
    # The XML parser loads for a file that has an iXML chunk only (a probe of a MOV or an MXF never needs it).
    from defusedxml import ElementTree as SafeET
    from defusedxml.common import DefusedXmlException

    try:
        root: Element = SafeET.fromstring(raw.rstrip(b"\x00 \r\n\t"))
    except (SafeET.ParseError, DefusedXmlException, ValueError):
        return {}
    fields: dict[str, str] = {}
    for path in ("SPEED/TIMECODE_RATE", "SPEED/TIMECODE_FLAG", "SPEED/MASTER_SPEED", "TAPE", "SCENE",
                 "TAKE", "PROJECT"):
        node = root.find(path)
        if node is not None and node.text and node.text.strip():
            fields[path] = node.text.strip()
    return fields


MAX_CHUNKS = 10_000  # a header is a handful of chunks: past this, the rest is not a WAVE header
DAY_SECONDS = 24 * 3600


def read_bwf(path: Path) -> BwfInfo:
    """Read the header chunks of a WAV/BWF/RF64 file without reading its samples.

    Bounded and tolerant: a chunk that cannot be used is named in `problems` and left out.
    """
    values: dict[str, object] = {}
    problems: list[str] = []
    with path.open("rb") as fh:
        header = fh.read(12)
        if len(header) < 12 or header[8:12] != b"WAVE" or header[:4] not in (b"RIFF", b"RF64", b"BW64"):
            raise NotWave(f"not a WAVE file: {path}")
        rf64_data_size: int | None = None
        values["riff"] = header[:4]
        values["riff_size"] = struct.unpack("<I", header[4:8])[0]
        for _ in range(MAX_CHUNKS):
            chunk = fh.read(8)
            if len(chunk) < 8:
                break
            cid, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
            if cid == b"data":
                values["data_chunks"] = int(values.get("data_chunks", 0)) + 1  # type: ignore[call-overload]
                data_bytes = rf64_data_size if size == 0xFFFFFFFF and rf64_data_size else size
                values["data_bytes"] = data_bytes
                if size != 0xFFFFFFFF or rf64_data_size:
                    values["data_end"] = fh.tell() + data_bytes
                fh.seek(size + (size & 1), 1) if size != 0xFFFFFFFF else fh.seek(0, 2)
                continue
            if size > 16 * 1024 * 1024:  # no header chunk is this big: skip it
                fh.seek(size + (size & 1), 1)
                continue
            body = fh.read(size)
            if size & 1:
                fh.read(1)
            if cid == b"ds64" and len(body) >= 16:
                rf64_data_size = struct.unpack("<Q", body[8:16])[0]
            elif cid == b"fmt " and len(body) >= 16:
                tag, channels, rate, byte_rate, align, bits = struct.unpack("<HHIIHH", body[:16])
                if tag == 0xFFFE and len(body) >= 26:  # WAVE_FORMAT_EXTENSIBLE: the subformat says
                    valid, mask, tag = struct.unpack("<HIH", body[18:26])
                    values.update(extensible=True, valid_bits=valid, channel_mask=mask, subformat=body[24:40])
                values.update(format_tag=tag, channels=channels, sample_rate=rate, bit_depth=bits,
                              byte_rate=byte_rate, block_align=align)
            elif cid == b"bext":
                if len(body) < 346:
                    problems.append(f"bext chunk of {len(body)} bytes, shorter than its 346-byte fields: not read")
                    continue
                low, high = struct.unpack("<II", body[338:346])
                values.update(
                    time_reference=(high << 32) | low,
                    description=_text(body[0:256]),
                    originator=_text(body[256:288]),
                )
            elif cid == b"iXML":
                fields = _ixml_fields(body)
                rate_text = fields.get("SPEED/TIMECODE_RATE")
                if rate_text:
                    from media.timecode import TimecodeError, parse_rate

                    try:
                        values["ixml_rate"] = parse_rate(rate_text)
                    except TimecodeError:
                        pass
                flag = fields.get("SPEED/TIMECODE_FLAG")
                if flag:
                    values["ixml_drop_frame"] = flag.upper() == "DF"
                values.update(tape=fields.get("TAPE"), scene=fields.get("SCENE"), take=fields.get("TAKE"),
                              project=fields.get("PROJECT"))
    _check_time_reference(values, problems)
    return BwfInfo(**values, problems=tuple(problems))  # type: ignore[arg-type]


def _check_time_reference(values: dict[str, object], problems: list[str]) -> None:
    """A start is samples since midnight: one past 24 hours is garbage, not a timecode."""
    ref, rate = values.get("time_reference"), values.get("sample_rate")
    if not isinstance(ref, int):
        return
    per_second = rate if isinstance(rate, int) and rate > 0 else None
    if per_second is None or ref >= DAY_SECONDS * per_second:
        where = f"{ref} samples" + (f" ({ref / per_second / 3600:.0f} h at {per_second} Hz)" if per_second else "")
        problems.append(f"bext TimeReference {where} is not a time of day: start timecode not taken from it")
        values["time_reference"] = None


def ixml_document(*, rate: Fraction, drop_frame: bool, tape: str, scene: str, take: str, project: str,
                  sample_rate: int, time_reference: int, channel_names: list[str]) -> bytes:
    """An iXML chunk as sound recorders write it (used by the demo and the tests to make BWFs)."""
    hi, lo = divmod(time_reference, 1 << 32)
    tracks = "".join(
        f"<TRACK><CHANNEL_INDEX>{i}</CHANNEL_INDEX><INTERLEAVE_INDEX>{i}</INTERLEAVE_INDEX>"
        f"<NAME>{name}</NAME></TRACK>"
        for i, name in enumerate(channel_names, start=1)
    )
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<BWFXML><IXML_VERSION>1.61</IXML_VERSION>'
        f"<PROJECT>{project}</PROJECT><SCENE>{scene}</SCENE><TAKE>{take}</TAKE><TAPE>{tape}</TAPE>"
        f"<SPEED><MASTER_SPEED>{format_rate(rate)}</MASTER_SPEED>"
        f"<TIMECODE_RATE>{format_rate(rate)}</TIMECODE_RATE>"
        f"<TIMECODE_FLAG>{'DF' if drop_frame else 'NDF'}</TIMECODE_FLAG>"
        f"<FILE_SAMPLE_RATE>{sample_rate}</FILE_SAMPLE_RATE>"
        f"<TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_HI>{hi}</TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_HI>"
        f"<TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_LO>{lo}</TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_LO></SPEED>"
        f"<TRACK_LIST><TRACK_COUNT>{len(channel_names)}</TRACK_COUNT>{tracks}</TRACK_LIST></BWFXML>"
    )
    return xml.encode("utf-8")


def bext_chunk(*, description: str, originator: str, date: str, time: str, time_reference: int) -> bytes:
    """A bext chunk body (version 1, no UMID, no loudness values)."""
    low, high = time_reference & 0xFFFFFFFF, time_reference >> 32
    body = (
        description.encode("latin-1")[:256].ljust(256, b"\0")
        + originator.encode("latin-1")[:32].ljust(32, b"\0")
        + b"".ljust(32, b"\0")
        + date.encode("ascii")[:10].ljust(10, b"\0")
        + time.encode("ascii")[:8].ljust(8, b"\0")
        + struct.pack("<IIH", low, high, 1)
        + b"\0" * 64  # UMID
        + b"\0" * 10  # loudness fields
        + b"\0" * 180  # reserved
    )
    return body


def write_bwf(pcm_wav: Path, out: Path, *, bext: bytes, ixml: bytes) -> None:
    """Write `out` as `pcm_wav` with bext and iXML chunks placed before its data (new file)."""
    raw = pcm_wav.read_bytes()
    if raw[:4] != b"RIFF" or raw[8:12] != b"WAVE":
        raise NotWave(f"not a RIFF WAVE file: {pcm_wav}")
    chunks: list[tuple[bytes, bytes]] = []
    pos = 12
    while pos + 8 <= len(raw):
        cid = raw[pos:pos + 4]
        size = struct.unpack("<I", raw[pos + 4:pos + 8])[0]
        chunks.append((cid, raw[pos + 8:pos + 8 + size]))
        pos += 8 + size + (size & 1)
    kept = [(c, b) for c, b in chunks if c in (b"fmt ", b"data")]
    ordered = [kept[0], (b"bext", bext), (b"iXML", ixml), *kept[1:]]
    payload = b"".join(c + struct.pack("<I", len(b)) + b + (b"\0" if len(b) & 1 else b"") for c, b in ordered)
    out.write_bytes(b"RIFF" + struct.pack("<I", 4 + len(payload)) + b"WAVE" + payload)

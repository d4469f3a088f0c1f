"""A QuickTime/MP4 file's facts read from its own boxes, as MediaInfo gives them (media/facts.py).

Only the common shape is read here: one picture track of ProRes 422 or progressive H.264, PCM or AAC LC sound,
at most one timecode track, constant frame rate, every sample inside the file, no colour box but a 'colr'
(nclc, as cameras and ffmpeg write it; nclx beside H.264; its codes, and the H.264 SPS's, named in
media/colour.py). Anything else
(fragments, other codecs, several descriptions, edit lists that cut, tables that disagree, metadata MediaInfo
would show but the reel ffmpeg writes as an MP4 metadata key) returns None, and MediaInfo reads the file.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from media import colour
from media.codec_headers import Avc, aac_config, avc_sps
from media.qt_tables import NotProved, _children, _self_contained, _tracks, sample_spans
from media.qt_tables import Track as QtTrack
from media.qt_timecode import _sample, boxes
from media.tracks import Track, Tracks

_BRANDS = {b"qt  ": "QuickTime", b"isom": "Base Media"}
_COMPATIBLE = {b"qt  ": {b"qt  "}, b"isom": {b"isom", b"iso2", b"avc1", b"mp41"}}
_PRORES = {b"apco": "422 Proxy", b"apcs": "422 LT", b"apcn": "422", b"apch": "422 HQ"}
_MOOV_KEEP = {b"mvhd", b"trak", b"udta", b"iods", b"free", b"skip"}
_RATES = {Fraction(24000, 1001), Fraction(24), Fraction(25), Fraction(30000, 1001), Fraction(30), Fraction(48),
          Fraction(50), Fraction(60000, 1001), Fraction(60)}
_PCM_BITS = {b"in24": 24, b"sowt": 16}
_MONO, _STEREO = (100 << 16) | 1, (101 << 16) | 2  # CoreAudio channel layout tags in a 'chan' box
_MAX_MOOV = 16 << 20
_VISUAL_ENTRY = 78
_SOUND_V1 = 44


@dataclass(frozen=True)
class QtRead:
    """The moov's tracks and every track's samples, as read for the facts: check_samples need not read them again."""

    tracks: list[QtTrack]
    spans: list[list[tuple[int, int]]]


class _Unknown(Exception):
    """Something this reader does not name as MediaInfo does."""


def qt_tracks(path: Path, size: int) -> Tracks | None:
    """The file's tracks as MediaInfo shows them, or None where this reader is not sure of every field."""
    try:
        with open(path, "rb") as fh:
            return _read(fh, size)
    except (_Unknown, NotProved, OSError, OverflowError, struct.error, ValueError, IndexError, KeyError):
        return None


def _top(fh, size: int) -> tuple[str, memoryview]:
    brand, moov, end = None, None, 0
    for kind, body, stop in boxes(fh, 0, size):
        end = stop
        if kind == b"ftyp" and brand is None:
            fh.seek(body)
            ftyp = fh.read(min(stop - body, 64))
            major, compatible = ftyp[:4], {ftyp[i:i + 4] for i in range(8, len(ftyp) - 3, 4)}
            if compatible <= _COMPATIBLE.get(major, set()):  # the brands ffmpeg writes: MediaInfo's profile known
                brand = _BRANDS[major]
        elif kind == b"moov" and moov is None:
            if stop - body > _MAX_MOOV:
                raise _Unknown("moov too large")
            fh.seek(body)
            moov = memoryview(fh.read(stop - body))
        elif kind in (b"moof", b"moov"):
            raise _Unknown(f"a second {kind!r}")
    if brand is None or moov is None or end != size:
        raise _Unknown("no known brand, no moov, or boxes that do not end with the file")
    return brand, moov


def _read(fh, size: int) -> Tracks:
    profile, moov = _top(fh, size)
    timescale = duration = 0
    tags: dict[str, str] = {}
    for kind, body, stop in _children(moov, 0, len(moov)):
        if kind not in _MOOV_KEEP:
            raise _Unknown(f"moov holds {kind!r}")
        if kind == b"mvhd":
            if moov[body] != 0:
                raise _Unknown("mvhd version 1")
            timescale, duration = struct.unpack_from(">II", moov, body + 12)
        elif kind == b"udta":
            udta = bytes(moov[body:stop])  # `in` on a memoryview looks for one element, never a run of bytes
            if b"mdta" in udta and profile == "Base Media":
                tags = _mdta(moov[body:stop])
            elif b"mdta" in udta or (b"meta" in udta and profile == "QuickTime"):
                raise _Unknown("metadata keys MediaInfo would show")
    tracks = _tracks(moov)
    kinds = [t.handler for t in tracks]
    if not timescale or kinds.count(b"vide") != 1 or kinds.count(b"tmcd") > 1 \
            or set(kinds) - {b"vide", b"soun", b"tmcd"}:
        raise _Unknown("not one picture track with sound and timecode")
    out = [Track("General", format="MPEG-4", format_profile=profile, duration=_ms(duration, timescale), **tags)]
    read = []
    for track in tracks:
        _self_contained(track)
        _edits(track, timescale)
        spans = sample_spans(track)
        read.append(spans)
        if any(off + n > size for off, n in spans):
            raise _Unknown("samples past the end of the file")
        if track.handler == b"vide":
            out.insert(1, _video(fh.fileno(), track, spans, timescale))
        elif track.handler == b"soun":
            out.append(_audio(track, timescale))
        else:
            out.append(_timecode(fh, size, track))
    # The decode check's proof (media/proven.py) from the tables read here, when it is asked for.
    return Tracks(out, proof=QtRead(tracks, read))


# The metadata keys ffmpeg's MP4 muxer writes with `-movflags +use_metadata_tags` (postprod's review proxies), and
# the general track's field MediaInfo shows each in that the probe reads (None: one it reads none of).
_MDTA_KEYS = {b"reel_name": "reel_name", b"timecode": None, b"encoder": None}


def _mdta(udta: memoryview) -> dict[str, str]:
    """An MP4's udta holding only ffmpeg's metadata keys (meta: hdlr mdta, keys, ilst of one UTF-8 value each):
    the general track's fields MediaInfo shows for them; _Unknown for any other key, box or value."""
    [(kind, body, stop)] = list(_children(udta, 0, len(udta)))  # one box: the meta
    if kind != b"meta" or udta[body:body + 4] != b"\0\0\0\0":
        raise _Unknown("a udta other than one meta box")
    parts = {k: (b, e) for k, b, e in _children(udta, body + 4, stop)}
    if set(parts) != {b"hdlr", b"keys", b"ilst"} or len(list(_children(udta, body + 4, stop))) != 3:
        raise _Unknown("a meta other than hdlr, keys and ilst")
    hdlr, _ = parts[b"hdlr"]
    if bytes(udta[hdlr + 8:hdlr + 12]) != b"mdta":
        raise _Unknown("meta handler not mdta")
    start, end = parts[b"keys"]
    count = _u32(udta, start + 4)
    names = []
    for kind, at, key_end in _children(udta, start + 8, end):
        if kind != b"mdta" or bytes(udta[at:key_end]) not in _MDTA_KEYS:
            raise _Unknown("a metadata key not named here")
        names.append(bytes(udta[at:key_end]))
    if udta[start:start + 4] != b"\0\0\0\0" or len(names) != count or len(set(names)) != count:
        raise _Unknown("keys not as ffmpeg writes them")
    start, end = parts[b"ilst"]
    fields: dict[str, str] = {}
    seen = set()
    for kind, at, item_end in _children(udta, start, end):
        index = struct.unpack(">I", kind)[0]
        [(data, value, data_end)] = list(_children(udta, at, item_end))
        if data != b"data" or not 1 <= index <= count or index in seen or _u32(udta, value) != 1 \
                or _u32(udta, value + 4) != 0:
            raise _Unknown("a metadata value other than one UTF-8 text")
        seen.add(index)
        text = bytes(udta[value + 8:data_end]).decode("utf-8")
        field = _MDTA_KEYS[names[index - 1]]
        if field is not None:
            if not text.strip() or text != text.strip() or "/" in text:
                raise _Unknown("a metadata value MediaInfo may show otherwise")
            fields[field] = text
    return fields


def _ms(value: int, timescale: int) -> int:
    exact = Fraction(value * 1000, timescale)
    if exact.denominator == 2:
        raise _Unknown("a duration on an exact half millisecond")
    return round(exact)


def _u32(box: memoryview, at: int) -> int:
    return struct.unpack_from(">I", box, at)[0]


def _tkhd_duration(track: QtTrack) -> int:
    tkhd = track.boxes[b"tkhd"]
    if tkhd[0] != 0:
        raise _Unknown("tkhd version 1")
    return _u32(tkhd, 20)


def _edits(track: QtTrack, movie_timescale: int) -> None:
    """At most one edit, from the media's start, as long as the track: anything else is MediaInfo's to read."""
    edts = track.boxes.get(b"edts")
    if edts is None:
        return
    found = list(_children(edts, 0, len(edts)))
    if len(found) != 1 or found[0][0] != b"elst":
        raise _Unknown("edts")
    body = found[0][1]
    if edts[body] != 0 or _u32(edts, body + 4) != 1:
        raise _Unknown("edit list of several edits")
    length, start, rate = struct.unpack_from(">IiI", edts, body + 8)
    if track.handler == b"tmcd" and start == 0 and rate == 1 << 16:
        return  # its first sample is the start, however long the edit (ffmpeg 9 writes it longer)
    if start < 0 or rate != 1 << 16 or abs(length - _tkhd_duration(track)) > 1:  # ffmpeg rounds one down
        raise _Unknown("an edit that does not present the whole track")


def _entry_boxes(entry: memoryview, start: int) -> dict[bytes, memoryview]:
    found = [(kind, entry[body:stop]) for kind, body, stop in _children(entry, start, len(entry))]
    if len({kind for kind, _ in found}) != len(found):
        raise _Unknown("a box twice in one sample description")
    return dict(found)


def _video(fd: int, track: QtTrack, spans: list[tuple[int, int]], movie_timescale: int) -> Track:
    fourcc, entry = track.entry()
    width, height = struct.unpack_from(">HH", entry, 24)
    extra = _entry_boxes(entry, _VISUAL_ENTRY)
    if set(extra) - {b"pasp", b"fiel", b"avcC", b"btrt", b"colr"}:
        raise _Unknown(f"sample description boxes {sorted(extra)}")
    rate = _frame_rate(track)
    fields: dict[str, object] = {}
    if fourcc in _PRORES:
        fields.update(format="ProRes", format_profile=_PRORES[fourcc], chroma_subsampling="4:2:2",
                      **_prores_scan(fd, spans[0], extra.get(b"fiel"), extra.get(b"colr")))
    elif fourcc == b"avc1" and b"avcC" in extra and b"fiel" not in extra:
        avc = avc_sps(bytes(extra[b"avcC"]))
        if avc is None:
            raise _Unknown("H.264 parameters not read here")
        fields.update(format="AVC", format_profile=avc.profile, bit_depth=avc.bit_depth,
                      chroma_subsampling=avc.chroma, scan_type="Progressive", **_avc_colour(avc, extra.get(b"colr")))
    else:
        raise _Unknown(f"picture {fourcc!r}")
    count = len(spans)
    return Track("Video", codec_id=fourcc.decode("latin-1"), width=width, height=height,
                 pixel_aspect_ratio=_pixel_aspect(extra.get(b"pasp")), framerate_num=str(rate.numerator),
                 framerate_den=str(rate.denominator), frame_rate=f"{float(rate):.3f}", frame_rate_mode="CFR",
                 bit_rate=_bit_rate(spans, rate, extra.get(b"btrt")), frame_count=str(count), **fields)


def _bit_rate(spans: list[tuple[int, int]], rate: Fraction, btrt: memoryview | None) -> int:
    """MediaInfo's: the rate the btrt box states, else the frames' bytes over their count at the printed rate."""
    stated = (_u32(btrt, 8) or _u32(btrt, 4)) if btrt is not None else 0  # the average, else the maximum
    if stated:
        return stated
    return round(sum(n for _, n in spans) * 8 / (len(spans) / round(float(rate), 3)))


def _frame_rate(track: QtTrack) -> Fraction:
    stts = track.boxes[b"stts"]
    if _u32(stts, 4) != 1 or not track.timescale:
        raise _Unknown("frame durations vary")
    delta = _u32(stts, 12)
    rate = Fraction(track.timescale, delta) if delta else None
    if rate not in _RATES:
        raise _Unknown(f"frame rate {rate}")
    return rate


def _pixel_aspect(pasp: memoryview | None) -> str:
    if pasp is None:
        return "1.000"
    h, v = struct.unpack_from(">II", pasp)
    if not h or not v:
        raise _Unknown("pasp of zero")
    return f"{h / v:.3f}"


def _colour(frame_codes: bytes, colr: memoryview | None) -> dict[str, str]:
    """The colour MediaInfo shows: a colr box's codes where there is one (the frame header's then only its
    "original", which the probe does not show: tested on boxes and headers that disagree), else the frame
    header's; a code not named in media/colour.py is MediaInfo's to read."""
    if colr is not None:
        if len(colr) != 10 or bytes(colr[:4]) != b"nclc" or not colour.known(frame_codes):
            raise _Unknown("a colr box other than nclc, or frame colour codes not named here")
        codes = struct.unpack_from(">HHH", colr, 4)
    else:
        codes = tuple(frame_codes)
    named = colour.named(codes)
    if named is None:
        raise _Unknown(f"colour codes {codes}")
    return named


def _avc_colour(avc: Avc, colr: memoryview | None) -> dict[str, str]:
    """H.264's colour and range as MediaInfo shows them: a colr box's codes over the SPS's (as for ProRes), the
    range an nclx box's flag, else the SPS's video signal type's; none where neither says."""
    full = avc.full_range
    if colr is None:
        codes = avc.colour or (2, 2, 2)
    elif len(colr) == 10 and bytes(colr[:4]) == b"nclc" or len(colr) == 11 and bytes(colr[:4]) == b"nclx":
        codes = struct.unpack_from(">HHH", colr, 4)
        if len(colr) == 11:
            if colr[10] & 0x7F:
                raise _Unknown("nclx reserved bits set")
            full = bool(colr[10] & 0x80)
        if avc.colour is not None and not colour.known(avc.colour):
            raise _Unknown("SPS colour codes not named here")
    else:
        raise _Unknown("a colr box other than nclc or nclx")
    named = colour.named(codes)
    if named is None:
        raise _Unknown(f"colour codes {codes}")
    return {**named, "color_range": "Full" if full else "Limited"} if full is not None else named


def _prores_scan(fd: int, first: tuple[int, int], fiel: memoryview | None,
                 colr: memoryview | None) -> dict[str, str]:
    """Progressive or the field order, and the colour, from the first frame's header (and the colr box), as
    MediaInfo reads them."""
    head = os.pread(fd, 25, first[0])
    if len(head) < 25 or head[4:8] != b"icpf":
        raise _Unknown("first frame not a ProRes frame")
    colours = _colour(head[22:25], colr)
    if head[20] >> 6 != 2:  # the frames' own chroma format, which MediaInfo shows over the 422 fourcc
        raise _Unknown("ProRes frames not 4:2:2")
    mode = (head[20] >> 2) & 3
    fields = bytes(fiel[:1]) if fiel is not None else None
    if mode == 0 and fields in (None, b"\x01"):
        return {"scan_type": "Progressive", **colours}
    # A fiel box's order (detail 1 or 9 top first, 6 or 14 bottom first, as ffmpeg 5.1 and 9 write them) is what
    # MediaInfo shows: one that disagrees with the frames, or says neither, is MediaInfo's to read.
    detail = fiel[1] if fiel is not None and len(fiel) > 1 else None
    if fields == b"\x02" and detail not in ((1, 9) if mode == 1 else (6, 14)):
        raise _Unknown("fiel box's field order not the frames'")
    if mode in (1, 2) and fields in (None, b"\x02"):
        return {"scan_type": "Interlaced", "scan_order": "TFF" if mode == 1 else "BFF", **colours}
    raise _Unknown("ProRes scan not understood")


def _audio(track: QtTrack, movie_timescale: int) -> Track:
    fourcc, entry = track.entry()
    version, channels, bits = struct.unpack_from(">H6xHH", entry, 8)
    rate = struct.unpack_from(">I", entry, 24)[0] >> 16
    # MediaInfo's count is its duration in whole milliseconds (the track header's, rounded) at the sample rate,
    # not the samples the track holds: 7213 samples in a movie timed at 1/48000 s are 150 ms, "7200".
    ms = _ms(_tkhd_duration(track), movie_timescale)
    samples = Fraction(ms * rate, 1000)
    if version not in (0, 1) or samples.denominator == 2 or ms < 40 or rate != track.timescale:
        raise _Unknown("sound description")  # (a count on an exact half, or a sound shorter than a frame)
    samples = Fraction(round(samples))
    extra = _entry_boxes(entry, 28 if version == 0 else _SOUND_V1)
    if fourcc in _PCM_BITS:
        chan = extra.get(b"chan")
        tag = _u32(chan, 4) if chan is not None and len(chan) >= 8 else None
        if set(extra) - {b"chan", b"wave"} or (channels, tag) not in ((1, _MONO), (2, _STEREO)):
            raise _Unknown("PCM channels")
        return Track("Audio", format="PCM", channel_s=channels, sampling_rate=rate, bit_depth=_PCM_BITS[fourcc],
                     channel_layout="C" if channels == 1 else "L R", samples_count=str(samples.numerator))
    if fourcc == b"mp4a" and version == 0 and set(extra) <= {b"esds", b"btrt"} and b"esds" in extra:
        aac = aac_config(bytes(extra[b"esds"]))
        if aac is None or aac.sample_rate != rate:
            raise _Unknown("AAC configuration")
        return Track("Audio", format="AAC", channel_s=aac.channels, sampling_rate=rate, channel_layout=aac.layout,
                     samples_count=str(samples.numerator))
    raise _Unknown(f"sound {fourcc!r}")


def _timecode(fh, size: int, track: QtTrack) -> Track:
    sample = _sample(fh, size, {k: bytes(v) for k, v in track.boxes.items()})
    if sample is None or sample.frames_per_second != round(sample.rate) or sample.rate not in _RATES:
        raise _Unknown("a timecode MediaInfo may count otherwise")  # the cameras' case: MediaInfo's own reading
    if sample.drop_frame and sample.rate not in (Fraction(30000, 1001), Fraction(60000, 1001)):
        raise _Unknown("drop-frame flagged at a rate that has none")  # MediaInfo counts it otherwise
    stsd = track.boxes[b"stsd"]
    flags = _u32(stsd, 28)
    if flags & ~1:
        raise _Unknown("timecode flags")
    title = None
    entry_end = 8 + _u32(stsd, 8)
    for kind, body, stop in _children(stsd, 8 + 34, entry_end):
        if kind == b"name" and stop - body >= 4:
            length = struct.unpack_from(">H", stsd, body)[0]
            title = bytes(stsd[body + 4:body + 4 + length]).decode("utf-8")
        else:
            raise _Unknown(f"tmcd box {kind!r}")
    rate = sample.rate
    return Track("Other", type="Time code", time_code_of_first_frame=sample.timecode().format(),
                 framerate_num=str(rate.numerator), framerate_den=str(rate.denominator),
                 frame_rate=f"{float(rate):.3f}", timecode_dropframe="Yes" if sample.drop_frame else "No", title=title)

"""Read any edit list (CMX3600 EDL, FCP7 xmeml, FCPXML, AAF, OTIO) into the one timeline model.

EDLs go through our own reader (conform/edl.py); the other formats through OpenTimelineIO and its
adapter plugins, XML being checked with defusedxml first (no entity expansion, no external entities).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

from conform.edl import MAX_EDL_BYTES, read_edl
from conform.model import Event, Timeline, TimelineError, conform_finding
from media.timecode import Timecode, TimecodeError, drop_frame_allowed, rate_from_float

MAX_TIMELINE_BYTES = 256 * 1024 * 1024
SUFFIX_FORMATS = {".edl": "cmx3600", ".xml": "fcp_xml", ".fcpxml": "fcpx_xml", ".aaf": "aaf", ".otio": "otio"}
OTIO_ADAPTERS = {"fcp_xml": "fcp_xml", "fcpx_xml": "fcpx_xml", "aaf": "AAF", "otio": "otio_json"}


def sniff(path: Path, head: bytes) -> str:
    """The format from the extension, else from the first bytes; a clear error when neither says."""
    fmt = SUFFIX_FORMATS.get(path.suffix.lower())
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if path.suffix.lower() == ".fcpxmld" or path.is_dir():
        info = path / "Info.fcpxml"
        if info.is_file():
            return "fcpx_xml"
    looks_xml = text.startswith(b"<")
    if fmt in ("fcp_xml", "fcpx_xml") or (fmt is None and looks_xml):
        if b"<fcpxml" in head:
            return "fcpx_xml"
        if b"<xmeml" in head or fmt == "fcp_xml":
            return "fcp_xml"
        return fmt or "unknown"
    if fmt is not None:
        return fmt
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "aaf"  # a structured storage file: what AAF is made of
    if text.startswith(b"{") and b"OTIO_SCHEMA" in head:
        return "otio"
    if text[:6].upper().startswith(b"TITLE:") or text[:4].upper().startswith(b"FCM:") or text[:3].isdigit():
        return "cmx3600"
    return "unknown"


def read_timeline(path: Path, *, rate: Fraction | None, default_rate: Fraction) -> Timeline:
    """Read a timeline file. The rate comes from `rate` (the option), else the file, else `default_rate`."""
    path = Path(path)
    if not path.exists():
        raise TimelineError("no such file", path=path)
    if path.is_dir() and not (path / "Info.fcpxml").is_file():
        raise TimelineError("a folder, not a timeline file", path=path)
    file = path / "Info.fcpxml" if path.is_dir() else path
    size = file.stat().st_size
    if size == 0:
        raise TimelineError("empty file", path=path)
    limit = MAX_EDL_BYTES if path.suffix.lower() == ".edl" else MAX_TIMELINE_BYTES
    if size > limit:
        raise TimelineError(f"file too large for an edit list ({size:,} bytes; the limit is {limit:,})", path=path)
    with open(file, "rb") as fh:
        head = fh.read(4096)
    fmt = sniff(path, head)
    if fmt == "unknown":
        raise TimelineError(f"unknown timeline format '{path.suffix or '(no extension)'}' and contents not "
                            f"recognised; available: {', '.join(SUFFIX_FORMATS)}", path=path)
    try:
        if fmt == "cmx3600":
            if size > MAX_EDL_BYTES:
                raise TimelineError(f"file too large for an EDL ({size:,} bytes)", path=path)
            return read_edl(path, rate or default_rate, "option" if rate else "production", data=file.read_bytes())
        return read_with_otio(path, file, fmt, rate=rate, default_rate=default_rate)
    except (TimecodeError, ValueError, OverflowError, RecursionError) as exc:
        # A value no reader step expected: still the file's fault, still a message, not a traceback.
        raise TimelineError(f"cannot read this {fmt} file: {exc}", path=path) from exc


def _check_xml(file: Path, data: bytes) -> None:
    """Refuse XML with entity declarations or external references before any other parser sees it."""
    from xml.etree.ElementTree import ParseError

    import defusedxml.ElementTree as SafeET
    from defusedxml import DefusedXmlException

    try:
        SafeET.fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise TimelineError(f"XML refused: it declares entities or external references ({exc})", path=file) from exc
    except ParseError as exc:
        raise TimelineError(f"not well-formed XML ({exc})", path=file) from exc


def read_with_otio(path: Path, file: Path, fmt: str, *, rate: Fraction | None, default_rate: Fraction) -> Timeline:
    import opentimelineio as otio

    data = file.read_bytes()
    if fmt in ("fcp_xml", "fcpx_xml"):
        _check_xml(file, data)
    if fmt == "fcpx_xml":
        from conform import fcpx_compat

        fcpx_compat.install()
    try:
        if fmt == "aaf":
            result = otio.adapters.read_from_file(str(file), adapter_name=OTIO_ADAPTERS[fmt])
        elif fmt in ("fcp_xml", "fcpx_xml"):
            # Bytes: the XML parser follows the file's own encoding declaration (UTF-16, Latin-1...).
            result = otio.adapters.read_from_string(data, adapter_name=OTIO_ADAPTERS[fmt])
        else:
            result = otio.adapters.read_from_string(data.decode("utf-8-sig"), adapter_name=OTIO_ADAPTERS[fmt])
    except UnicodeDecodeError as exc:
        raise TimelineError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", path=path) from exc
    except Exception as exc:
        raise TimelineError(f"{fmt} reader could not read it: {type(exc).__name__}: {exc}", path=path) from exc
    timelines = _timelines(result)
    if not timelines:
        raise TimelineError(f"no timeline (sequence) in this {fmt} file", path=path)
    return from_otio(timelines[0], path, fmt, rate=rate, default_rate=default_rate)


def _timelines(result: Any) -> list[Any]:
    import opentimelineio as otio

    if isinstance(result, otio.schema.Timeline):
        return [result]
    if isinstance(result, otio.schema.SerializableCollection):
        return list(result.find_children(descended_from_type=otio.schema.Timeline))
    return []


def _exact(rate: float) -> Fraction:
    return rate_from_float(float(rate))


def _find_key(data: Any, names: set[str], depth: int = 0) -> str | None:
    """A reel/tape name anywhere in adapter metadata (fcp_xml file/timecode/reel/name, AAF TapeName...)."""
    if depth > 6:
        return None
    if isinstance(data, dict):
        for key, value in data.items():
            if str(key).lower().replace(" ", "").replace("_", "") in names:
                if isinstance(value, str) and value.strip():
                    return value.strip()
                if isinstance(value, dict) and isinstance(value.get("name"), str) and value["name"].strip():
                    return value["name"].strip()
        for value in data.values():
            found = _find_key(value, names, depth + 1)
            if found:
                return found
    elif isinstance(data, list):
        for value in data[:50]:
            found = _find_key(value, names, depth + 1)
            if found:
                return found
    return None


REEL_KEYS = {"reel", "reelname", "tape", "tapename"}


def _tape_name(clip: Any) -> str | None:
    """AAF: the tape source mob at the end of the clip's chain is the reel (otio-aaf-adapter keeps it as a
    reference named after the tape, with a TapeDescriptor)."""
    for name, ref in clip.media_references().items():
        aaf = ref.metadata.get("AAF") if ref is not None else None
        if aaf is not None and dict(aaf.get("EssenceDescription") or {}).get("ClassName") == "TapeDescriptor":
            return ref.name or name
    return None


def _target_url(ref: Any) -> str | None:
    url = getattr(ref, "target_url", None)
    if not url:
        return None
    if url.startswith("file://"):
        from urllib.parse import unquote, urlparse

        return unquote(urlparse(url).path)
    return url


def from_otio(otl: Any, path: Path, fmt: str, *, rate: Fraction | None, default_rate: Fraction) -> Timeline:
    """Flatten an OTIO timeline into events: one per clip, numbered per track in record order."""
    import opentimelineio as otio

    file_rate: Fraction | None = None
    if otl.global_start_time is not None:
        file_rate = _exact(otl.global_start_time.rate)
    if file_rate is None:
        for clip in otl.find_clips():
            file_rate = _exact(clip.range_in_parent().duration.rate)
            break
    if rate is not None:
        tl_rate, source = rate, "option"
    elif file_rate is not None and file_rate > 1:
        tl_rate, source = file_rate, "file"
    else:
        tl_rate, source = default_rate, "production"
    drop = False
    meta_df = _find_key(dict(otl.metadata), {"dropframe", "displayformat"})
    if meta_df and drop_frame_allowed(tl_rate) and meta_df.upper() in ("DF", "TRUE", "1"):
        drop = True
    timeline = Timeline(name=otl.name or None, path=str(path), format=fmt, rate=tl_rate, drop_frame=drop,
                        rate_source=source)
    start = otl.global_start_time.rescaled_to(float(tl_rate)).value if otl.global_start_time is not None else 0

    def tc(value: float) -> Timecode:
        return Timecode(round(value), tl_rate, drop)

    video_n = audio_n = 0
    number = 0
    for track in otl.tracks:
        if track.kind == otio.schema.TrackKind.Video:
            video_n += 1
            track_name = f"V{video_n}" if video_n > 1 else "V"
        else:
            audio_n += 1
            track_name = f"A{audio_n}"
        pending: tuple[str, int] | None = None
        previous: Event | None = None
        for item in track:
            if isinstance(item, otio.schema.Transition):
                frames = round((item.in_offset + item.out_offset).rescaled_to(float(tl_rate)).value)
                pending = ("D" if "dissolve" in (item.transition_type or "").lower() else "W", frames)
                if previous is not None:
                    previous.tail_frames = round(item.in_offset.rescaled_to(float(tl_rate)).value)
                continue
            if not isinstance(item, otio.schema.Clip):
                pending = None
                continue
            number += 1
            rec = item.range_in_parent()
            src = item.trimmed_range()
            rec_in = start + rec.start_time.rescaled_to(float(tl_rate)).value
            rec_dur = rec.duration.rescaled_to(float(tl_rate)).value
            src_in = src.start_time.rescaled_to(float(tl_rate)).value
            ref = item.media_reference
            reel = _find_key(dict(item.metadata), REEL_KEYS) or _tape_name(item) or (
                _find_key(dict(ref.metadata), REEL_KEYS) if ref is not None else None)
            event = Event(number=number, line=None, reel=reel, track=track_name, source_in=tc(src_in),
                          source_out=tc(src_in + rec_dur), record_in=tc(rec_in), record_out=tc(rec_in + rec_dur),
                          clip_name=item.name or None, source_file=_target_url(ref))
            if pending:
                event.transition, event.transition_frames = pending
                pending = None
            for effect in item.effects:
                if isinstance(effect, otio.schema.FreezeFrame):
                    event.freeze, event.speed = True, Fraction(0)
                elif isinstance(effect, otio.schema.LinearTimeWarp):
                    scalar = Fraction(effect.time_scalar).limit_denominator(1000)
                    event.speed = scalar * tl_rate
                    event.freeze = scalar == 0
            timeline.events.append(event)
            previous = event
    if not timeline.events:
        timeline.findings.append(conform_finding("unparsed_line", "the timeline holds no clip"))
    return timeline

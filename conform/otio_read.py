"""FCP7 XML, FCPXML, AAF and OTIO through OpenTimelineIO, flattened into the one timeline model.

Every clip met is accounted for (Timeline.accounting, unit "clip"): an event, or a finding that names it.
Nested sequences and compound clips are flattened onto their track at their record place, through OTIO's
own time transforms; those that cannot be (a speed effect on the container) are reported, each one, as
not checked. Every timeline of a file (FCPXML projects, XML sequences) is read. Guards before the
adapters see the bytes: XML through defusedxml, OTIO JSON nesting depth (a C++ parser would overflow
its stack); AAF drop-frame read from the composition's timecode with pyaaf2 (the adapter drops it).
"""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path
from typing import Any

from conform.model import Event, NotTaken, Timeline, TimelineError, conform_finding
from conform.otio_meta import REEL_KEYS, aaf_drop_frame, find_key, tape_name, target_url
from media.findings import Severity
from media.timecode import Timecode, drop_frame_allowed, format_rate, rate_from_float

OTIO_ADAPTERS = {"fcp_xml": "fcp_xml", "fcpx_xml": "fcpx_xml", "aaf": "AAF", "otio": "otio_json"}
MAX_JSON_DEPTH = 512  # a real .otio nests some tens of levels; 100,000 crashed the C++ reader
MAX_XML_DEPTH = 400  # the adapters recurse per element (Python's limit is 1,000 frames)


def json_depth(data: bytes) -> int:
    """The deepest {/[ nesting of a JSON text, strings skipped; cheap, and never recursive."""
    stripped = re.sub(rb'"(?:[^"\\]|\\.)*"', b'""', data)
    depth = deepest = 0
    for byte in re.findall(rb"[\[\]{}]", stripped):
        if byte in (b"{", b"["):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def check_xml(file: Path, data: bytes) -> None:
    """Refuse XML with entity declarations or external references before any other parser sees it."""
    from xml.etree.ElementTree import ParseError

    import defusedxml.ElementTree as SafeET
    from defusedxml import DefusedXmlException

    try:
        root = SafeET.fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise TimelineError(f"XML refused: it declares entities or external references ({exc})", path=file) from exc
    except ParseError as exc:
        raise TimelineError(f"not well-formed XML ({exc})", path=file) from exc
    depth = _xml_depth(root)
    if depth > MAX_XML_DEPTH:
        raise TimelineError(f"XML nested {depth} levels deep (the limit is {MAX_XML_DEPTH}): not read", path=file)


def _xml_depth(root: Any) -> int:
    """The deepest element nesting, walked without recursion (the adapters recurse on it)."""
    deepest, stack = 0, [(root, 1)]
    while stack:
        element, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in element)
    return deepest


def _parse(path: Path, file: Path, fmt: str, data: bytes) -> Any:
    import opentimelineio as otio

    if fmt == "fcpx_xml":
        from conform import fcpx_compat

        fcpx_compat.install()
    if fmt == "fcp_xml":
        from conform import fcp_compat

        fcp_compat.install()
    try:
        if fmt == "aaf":
            return otio.adapters.read_from_file(str(file), adapter_name=OTIO_ADAPTERS[fmt])
        if fmt in ("fcp_xml", "fcpx_xml"):
            # Bytes: the XML parser follows the file's own encoding declaration (UTF-16, Latin-1...).
            return otio.adapters.read_from_string(data, adapter_name=OTIO_ADAPTERS[fmt])
        return otio.adapters.read_from_string(data.decode("utf-8-sig"), adapter_name=OTIO_ADAPTERS[fmt])
    except UnicodeDecodeError as exc:
        raise TimelineError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", path=path) from exc
    except RecursionError as exc:
        raise TimelineError(f"{fmt} reader gave up: nested too deep", path=path) from exc
    except Exception as exc:
        raise TimelineError(f"{fmt} reader could not read it: {type(exc).__name__}: {exc}", path=path) from exc


def read_with_otio(path: Path, file: Path, fmt: str, *, rate: Fraction | None, default_rate: Fraction) -> Timeline:
    data = file.read_bytes()
    if fmt in ("fcp_xml", "fcpx_xml"):
        check_xml(file, data)
    if fmt == "otio":
        depth = json_depth(data)
        if depth > MAX_JSON_DEPTH:
            raise TimelineError(f"OTIO nested {depth} levels deep (the limit is {MAX_JSON_DEPTH}): not read", path=path)
    timelines = _timelines(_parse(path, file, fmt, data))
    if not timelines:
        raise TimelineError(f"no timeline (sequence) in this {fmt} file", path=path)
    drop = aaf_drop_frame(file, timelines[0].name) if fmt == "aaf" else None
    return from_otio(timelines, path, fmt, rate=rate, default_rate=default_rate, drop=drop)


def _timelines(result: Any) -> list[Any]:
    import opentimelineio as otio

    if isinstance(result, otio.schema.Timeline):
        return [result]
    if isinstance(result, otio.schema.SerializableCollection):
        return list(result.find_children(descended_from_type=otio.schema.Timeline))
    return []


def _rate_of(otl: Any, rate: Fraction | None, default_rate: Fraction) -> tuple[Fraction, str, str]:
    file_rate: Fraction | None = None
    if otl.global_start_time is not None:
        file_rate = rate_from_float(float(otl.global_start_time.rate))
    if file_rate is None:
        for clip in otl.find_clips():
            try:
                file_rate = rate_from_float(float(clip.range_in_parent().duration.rate))
                break
            except Exception:  # noqa: BLE001 - a clip without a range: reported when flattened
                continue
    if rate is not None:
        return rate, "option", f"--rate {format_rate(rate)}"
    if file_rate is not None and file_rate > 1:
        return file_rate, "file", "the file's own rate (start time or first clip)"
    return default_rate, "production", "the file states no rate: the production's"


def from_otio(otls: list[Any] | Any, path: Path, fmt: str, *, rate: Fraction | None, default_rate: Fraction,
              drop: bool | None = None) -> Timeline:
    """Flatten OTIO timelines (every project of the file) into events: one per clip, numbered in order."""
    otls = otls if isinstance(otls, list) else [otls]
    first = otls[0]
    tl_rate, source, reason = _rate_of(first, rate, default_rate)
    if drop is None:
        meta_df = find_key(dict(first.metadata), {"dropframe", "displayformat"})
        drop = bool(meta_df) and meta_df.upper() in ("DF", "TRUE", "1")
    drop = bool(drop) and drop_frame_allowed(tl_rate)
    timeline = Timeline(name=first.name or None, path=str(path), format=fmt, rate=tl_rate, drop_frame=drop,
                        rate_source=source, rate_reason=reason)
    timeline.accounting.unit = "clip"
    timeline.findings.append(conform_finding(
        "timeline_rate", f"read at {format_rate(tl_rate)} fps{' drop-frame' if drop else ''} from the {source}: "
        f"{reason}", measured=format_rate(tl_rate)))
    flattener = _Flattener(timeline)
    for index, otl in enumerate(otls, start=1):
        flattener.timeline(otl, f"P{index}." if len(otls) > 1 else "")
    if len(otls) > 1:
        names = "; ".join(f"P{i}: {otl.name or '(unnamed)'!r}" for i, otl in enumerate(otls, start=1))
        timeline.findings.append(conform_finding(
            "edl_note", f"{len(otls)} timelines in this file, all read (their tracks are prefixed): {names}"))
    if not timeline.events and not timeline.accounting.not_taken:
        timeline.findings.append(conform_finding("unparsed_line", "the timeline holds no clip"))
    return timeline


class _Flattener:
    """Clips to events, nested containers flattened onto their top-level track."""

    def __init__(self, timeline: Timeline) -> None:
        self.tl, self.rate = timeline, timeline.rate
        self.number = 0

    def tc(self, value: float) -> Timecode:
        return Timecode(round(value), self.rate, self.tl.drop_frame)

    def frames(self, rt: Any) -> float:
        return rt.rescaled_to(float(self.rate)).value

    def timeline(self, otl: Any, prefix: str) -> None:
        import opentimelineio as otio

        self.root = otl.tracks
        self.start = self.frames(otl.global_start_time) if otl.global_start_time is not None else 0
        counts = {"V": 0, "A": 0}
        for top in otl.tracks:
            kind = "V" if getattr(top, "kind", None) == otio.schema.TrackKind.Video else "A"
            if isinstance(top, otio.schema.Stack):
                kind = "V" if any(getattr(t, "kind", None) == otio.schema.TrackKind.Video for t in top) else "A"
            counts[kind] += 1
            n = counts[kind]
            name = prefix + (("V" if n == 1 else f"V{n}") if kind == "V" else f"A{n}")
            if isinstance(top, otio.schema.Track):
                self.track(top, name)
            else:
                self.nested(top, name)

    def track(self, track: Any, name: str) -> None:
        import opentimelineio as otio

        pending: tuple[str, int] | None = None
        previous: Event | None = None
        for item in track:
            if isinstance(item, otio.schema.Transition):
                frames = round(self.frames(item.in_offset + item.out_offset))
                pending = ("D" if "dissolve" in (item.transition_type or "").lower() else "W", frames)
                if previous is not None:
                    previous.tail_frames = round(self.frames(item.in_offset))
                continue
            if isinstance(item, otio.schema.Clip):
                self.tl.accounting.read += 1
                self.tl.accounting.event_lines += 1
                previous = self.timed_clip(item, name)
                if pending and previous is not None:
                    previous.transition, previous.transition_frames = pending
            elif isinstance(item, otio.schema.Stack | otio.schema.Track):
                self.nested(item, name)
                previous = None
            pending = None

    def timed_clip(self, item: Any, track: str) -> Event | None:
        """A clip of a top-level track; one OTIO cannot place (no range, no media range) is reported."""
        try:
            src, rec = item.trimmed_range(), item.range_in_parent()
        except Exception as exc:  # noqa: BLE001 - OTIO's range errors are the file's, said in a finding
            self.not_taken(item.name or "(unnamed clip)", 1, f"OTIO cannot place it: {exc}", Severity.ERROR)
            return None
        return self.clip(item, track, src, rec)

    def clip(self, item: Any, track: str, src: Any, rec: Any) -> Event:
        import opentimelineio as otio

        self.number += 1
        rec_in = self.start + self.frames(rec.start_time)
        rec_dur = self.frames(rec.duration)
        src_in = self.frames(src.start_time)
        ref = item.media_reference
        reel = find_key(dict(item.metadata), REEL_KEYS) or tape_name(item) or (
            find_key(dict(ref.metadata), REEL_KEYS) if ref is not None else None)
        event = Event(number=self.number, line=None, reel=reel, track=track, source_in=self.tc(src_in),
                      source_out=self.tc(src_in + rec_dur), record_in=self.tc(rec_in),
                      record_out=self.tc(rec_in + rec_dur), clip_name=item.name or None, source_file=target_url(ref))
        for effect in item.effects:
            if isinstance(effect, otio.schema.FreezeFrame):
                event.freeze, event.speed = True, Fraction(0)
            elif isinstance(effect, otio.schema.LinearTimeWarp):
                scalar = Fraction(effect.time_scalar).limit_denominator(1000)
                event.speed = scalar * self.rate
                event.freeze = scalar == 0
        self.tl.events.append(event)
        return event

    def nested(self, container: Any, track: str) -> None:
        """A nested sequence or compound clip: each clip at its place in the top timeline, cut to what the
        containers show; a container with a speed effect is reported, its clips not checked."""
        clips = list(container.find_clips())
        acc = self.tl.accounting
        acc.read += len(clips)
        acc.event_lines += len(clips)
        label = container.name or type(container).__name__
        if not clips:
            if container.duration().value > 0:
                self.not_taken(label, 0, f"a nested sequence of {round(self.frames(container.duration()))} frames "
                               "in which the reader sees no clip: what plays there is not checked", Severity.WARNING)
            return
        if any(a.effects for a in [container, *_ancestors_inside(container, self.root)]):
            self.not_taken(label, len(clips), "a nested sequence with a speed effect: its clips cannot be "
                           "placed frame-exactly", Severity.ERROR)
            return
        hidden = 0
        for clip in clips:
            try:
                placed = self.place(clip)
            except Exception as exc:  # noqa: BLE001 - OTIO's range errors are the file's, said in a finding
                self.not_taken(clip.name or label, 1, f"OTIO cannot place it in {label!r}: {exc}", Severity.ERROR)
                continue
            if placed is None:
                hidden += 1
                continue
            src, rec = placed
            self.clip(clip, track + _lane(clip, container), src, rec)
        if hidden:
            self.not_taken(label, hidden, "clips of a nested sequence outside the part it shows (not in the cut)",
                           Severity.INFO)
        self.tl.findings.append(conform_finding(
            "edl_note", f"nested sequence {label!r} on track {track}: {len(clips) - hidden} clips flattened onto "
            "the track at their record place"))

    def place(self, clip: Any) -> tuple[Any, Any] | None:
        """The clip's source and record ranges in the top timeline, cut to every container's window."""
        import opentimelineio as otio

        rec = clip.transformed_time_range(clip.trimmed_range(), self.root)
        start, end = rec.start_time, rec.end_time_exclusive()
        for holder in _ancestors_inside(clip, self.root):
            window = holder.transformed_time_range(holder.trimmed_range(), self.root)
            start = max(start, window.start_time)
            end = min(end, window.end_time_exclusive())
        if end <= start:
            return None
        shown = otio.opentime.range_from_start_end_time(start, end)
        src_start = clip.trimmed_range().start_time + (start - rec.start_time).rescaled_to(
            clip.trimmed_range().start_time.rate)
        return otio.opentime.TimeRange(src_start, shown.duration), shown

    def not_taken(self, label: str, count: int, why: str, severity: Severity) -> None:
        self.tl.accounting.not_taken.append(NotTaken(None, why, event_line=True, count=count, item=label))
        rule = "edl_note" if severity == Severity.INFO else "not_checked"
        self.tl.findings.append(conform_finding(rule, f"{label!r}: {count} clips not taken: {why}", severity=severity))


def _ancestors_inside(item: Any, root: Any) -> list[Any]:
    """The containers between an item and the timeline's root stack (nearest first)."""
    chain = []
    parent = item.parent()
    while parent is not None and parent is not root:
        chain.append(parent)
        parent = parent.parent()
    return chain


def _lane(clip: Any, container: Any) -> str:
    """Nested tracks beyond the first get their own lane (".2"), so they do not read as overlaps."""
    import opentimelineio as otio

    track = clip.parent()
    holder = track.parent() if track is not None else None
    if not isinstance(holder, otio.schema.Stack):
        return ""
    index = next((i for i, t in enumerate(holder) if t is track), 0)
    return "" if index == 0 else f".{index + 1}"

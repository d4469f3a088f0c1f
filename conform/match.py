"""Events against the rushes catalogue: find each event's camera original, then check range and handles.
The index (conform/index.py) finds candidates by name, then by timecode."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import PurePath

from conform.candidates import whole
from conform.index import AnyIndex, CatalogueClip, CatalogueIndex, rate_of_text
from conform.model import AUX_REELS, Event, Timeline, conform_finding, tc_label
from ingest.known import UNTRUSTED
from media.findings import Finding, Severity
from media.timecode import format_rate, nominal_fps

__all__ = ["CatalogueClip", "CatalogueIndex", "ConformResult", "EventResult", "conform", "match_event",
           "rate_of_text", "record_overlaps"]


@dataclass
class EventResult:
    """One event, the media it resolved to, and its findings."""

    event: Event
    media: CatalogueClip | None = None
    matched_by: str | None = None
    media_range: tuple[int, int] | None = None
    findings: list[Finding] = field(default_factory=list)

    def add(self, rule: str, message: str, *, severity: Severity | None = None, expected: str | None = None,
            measured: str | None = None) -> None:
        self.findings.append(conform_finding(rule, message, severity=severity, event=self.event.number,
                                            line=self.event.line, expected=expected, measured=measured))


def _distinct(clips: list[CatalogueClip]) -> list[CatalogueClip]:
    """One per file; identical copies (same hash) count once."""
    seen: set[str] = set()
    out = []
    for c in clips:
        key = c.hash or c.path
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out


def _tc(frames: int, event: Event) -> str:
    return tc_label(frames, event.rate, event.source_in.drop_frame)


def match_event(event: Event, index: AnyIndex, handles: int, *, labels: bool = True) -> EventResult:
    """Find the event's original and check it. labels: the list writes timecode labels (EDL), not frame
    counts (XML, AAF, OTIO)."""
    result = EventResult(event)
    if event.is_generator:
        return result
    if event.freeze:
        result.add("freeze_frame", f"freeze frame at {event.source_in} for {event.record_frames} frames")
    elif event.speed is not None and event.speed != event.rate:
        result.add("speed_effect", f"speed {float(event.speed):g} fps "
                   f"({float(event.speed / event.rate) * 100:.1f} % of {float(event.rate):g})",
                   measured=f"{float(event.speed):g}")
    if (event.source_out.frames < event.source_in.frames and not event.freeze
            and (event.speed is None or event.speed > 0)):
        result.add("source_reversed", f"source out {event.source_out} is before source in {event.source_in}: "
                   "the list is corrupt here; the source range cannot be checked",
                   expected=f"source out after {event.source_in}", measured=str(event.source_out))
    first, end = event.used_source()
    zero_length = event.source_out.frames == event.source_in.frames and not event.tail_frames and not event.freeze
    df = event.source_in.drop_frame if labels else None
    label = event.reel or event.clip_name or event.source_file or "?"

    named = index.names(event)
    chosen, how = _choose(event, index, named, first, end, df)
    if not chosen:
        _unmatched(result, index, named, first, end, df, zero_length, label)
        return result

    if len(chosen) > 1:
        result.add("ambiguous_match", f"{label}: {len(chosen)} catalogued files match by {how}: "
                   + ", ".join(c.path for c in chosen[:5]), measured=str(len(chosen)))
    media = chosen[0]
    result.media, result.matched_by = media, how
    _check_media(result, media, handles, first, end, zero_length, labels)
    return result


def _choose(event: Event, index: AnyIndex, named: list[tuple[str, list[CatalogueClip]]], first: int, end: int,
            df: bool | None) -> tuple[list[CatalogueClip], str | None]:
    """The candidates that cover the source: by name first (most specific first), else by timecode."""
    rate = event.rate
    fallback: tuple[list[CatalogueClip], str] | None = None
    for how, named_clips in named:
        candidates = _distinct(named_clips)
        overlapping = [c for c in candidates if (r := c.range_at(rate, df)) and r[0] < max(end, first + 1)
                       and first < r[1]]
        if overlapping:
            return overlapping, how
        candidates = _distinct(whole(named_clips))  # none covers it: every clip of the name counts now
        untimed = [c for c in candidates if c.range_at(rate, df) is None]
        if untimed and len(untimed) == len(candidates):
            return untimed, how
        if how != "reel" and len(candidates) == 1 and fallback is None:
            fallback = (candidates, how)  # a file or clip name naming one file: its range is checked below
    if fallback is not None:
        return fallback
    if not named and (event.reel or "").strip().upper() in AUX_REELS | {""}:
        by_tc = _distinct(index.by_timecode(first, max(end, first + 1), rate, df))
        if by_tc:
            return by_tc, "timecode"
    return [], None


def _unmatched(result: EventResult, index: AnyIndex, named: list[tuple[str, list[CatalogueClip]]], first: int,
               end: int, df: bool | None, zero_length: bool, label: str) -> None:
    """No original: a placeholder, a proxy alone, a reel without this range, or a name nobody knows."""
    event = result.event
    if zero_length:
        if event.record_frames > 0:  # a placeholder, a leader: an event with nothing to fetch for it
            result.add("missing_media", f"{label}: zero-length source ({event.source_in}) over "
                       f"{event.record_frames} record frames ({event.record_in}-{event.record_out}): no "
                       "media plays here (a placeholder or leader?)", expected=f"{event.record_frames} frames",
                       measured="0 frames")
        return
    proxies = [c for _, cs in index.proxy_names(event) for c in cs
               if (r := c.range_at(event.rate, df)) is None or (r[0] < max(end, first + 1) and first < r[1])]
    if proxies:
        result.add("proxy_only", f"{label}: only a proxy is catalogued ({proxies[0].path}); the camera "
                   "original is missing", measured=proxies[0].path)
    elif named:
        names = ", ".join(sorted({PurePath(c.path).name for _, cs in named for c in whole(cs)})[:5])
        result.add("missing_media", f"{label}: no catalogued clip of this reel covers "
                   f"{_tc(first, event)}-{_tc(end, event)} (clips of the reel: {names})",
                   expected=f"{_tc(first, event)}-{_tc(end, event)}")
    else:
        result.add("missing_media", f"{label}: not in the catalogue (no reel, card, clip or file of this "
                   "name)", expected=label)


def _check_media(result: EventResult, media: CatalogueClip, handles: int, first: int, end: int,
                 zero_length: bool, labels: bool) -> None:
    event = result.event
    rate = event.rate
    df = event.source_in.drop_frame
    if media.status in UNTRUSTED:
        result.add("media_not_verified", f"{PurePath(media.path).name}: {UNTRUSTED[media.status]}: the online must "
                   "not use this copy until it is copied again and verified", expected="ok", measured=media.status)
    if media.rate is not None and media.rate != rate:
        same_count = nominal_fps(media.rate) == nominal_fps(rate)
        result.add("frame_rate_mismatch",
                   f"media timecode runs at {format_rate(media.rate)} fps, the timeline at {format_rate(rate)}"
                   + (" (same timecode count; speed differs by 0.1 %)" if same_count else ""),
                   severity=Severity.WARNING if same_count else Severity.ERROR,
                   expected=format_rate(rate), measured=format_rate(media.rate))
    elif labels and media.drop_frame is not None and bool(media.drop_frame) != df and media.rate == rate:
        result.add("drop_frame_mismatch", f"media timecode is {'DF' if media.drop_frame else 'NDF'}, the event "
                   f"reads it as {'DF' if df else 'NDF'}", expected="DF" if df else "NDF",
                   measured="DF" if media.drop_frame else "NDF")
    span = media.range_at(rate, df if labels else None)
    result.media_range = span
    if zero_length and event.record_frames > 0:
        result.add("zero_length_source", f"zero-length source ({event.source_in}) over {event.record_frames} "
                   f"record frames ({event.record_in}-{event.record_out}) of {PurePath(media.path).name}",
                   expected=f"{event.record_frames} frames", measured="0 frames")
    if span is None or zero_length and not event.tail_frames:
        return
    m_first, m_end = span
    if first < m_first or end > m_end:
        media_tc = f"{_tc(m_first, event)}-{_tc(m_end, event)}"
        result.add("source_out_of_range", f"source {_tc(first, event)}-{_tc(end, event)} is outside the media "
                   f"{media_tc} ({PurePath(media.path).name})", expected=f"{_tc(first, event)}-{_tc(end, event)}",
                   measured=media_tc)
        return
    head, tail = first - m_first, m_end - end
    if head < handles or tail < handles:
        media_tc = f"{_tc(m_first, event)}-{_tc(m_end, event)}"  # (labelled only for a finding: most have none)
        result.add("insufficient_handles", f"handles {head} frames before and {tail} after, "
                   f"{handles} needed ({PurePath(media.path).name} {media_tc})", expected=str(handles),
                   measured=f"head {head}, tail {tail}")


def record_overlaps(events: list[Event]) -> list[Finding]:
    """Events whose record ranges overlap on the same track (dissolve partners excepted), or run backwards."""
    findings = []
    by_track: dict[str, list[Event]] = defaultdict(list)
    for e in events:
        if e.record_out.frames < e.record_in.frames:
            findings.append(conform_finding("record_overlap", f"record out {e.record_out} is before record in "
                                           f"{e.record_in}", event=e.number, line=e.line))
            continue
        if e.record_frames > 0:
            by_track[e.track].append(e)
    for track_events in by_track.values():
        track_events.sort(key=lambda e: (e.record_in.frames, e.record_out.frames))
        last: Event | None = None
        for e in track_events:
            if last is not None and e.record_in.frames < last.record_out.frames:
                dissolve = e.number == last.number or (e.transition != "C" and
                                                       last.record_out.frames - e.record_in.frames
                                                       <= e.transition_frames)
                if not dissolve:
                    findings.append(conform_finding(
                        "record_overlap", f"record {e.record_in}-{e.record_out} overlaps event {last.number} "
                        f"({last.record_in}-{last.record_out}) on track {e.track}", event=e.number, line=e.line))
            if last is None or e.record_out.frames > last.record_out.frames:
                last = e
    return findings


@dataclass
class ConformResult:
    timeline: Timeline
    results: list[EventResult]
    findings: list[Finding]  # timeline-level: unreadable lines, overlaps
    handles: int

    def all_findings(self) -> list[Finding]:
        return [*self.findings, *(f for r in self.results for f in r.findings)]

    def counts(self) -> dict[str, int]:
        c = {"error": 0, "warning": 0, "info": 0}
        for f in self.all_findings():
            c[str(f.severity)] += 1
        return c


def conform(timeline: Timeline, index: AnyIndex, handles: int) -> ConformResult:
    """Match every event and gather every finding; never raises for a bad event."""
    labels = timeline.format == "cmx3600"
    results = [match_event(e, index, handles, labels=labels) for e in timeline.events]
    findings = [*timeline.findings, *record_overlaps(timeline.events)]
    overlap_by_event: dict[int | None, list[Finding]] = defaultdict(list)
    kept = []
    for f in findings:
        if f.rule == "record_overlap" and f.event is not None:
            overlap_by_event[f.line if f.line is not None else f.event].append(f)
        else:
            kept.append(f)
    for r in results:
        key = r.event.line if r.event.line is not None else r.event.number
        r.findings.extend(overlap_by_event.pop(key, []))
    return ConformResult(timeline, results, kept + [f for fs in overlap_by_event.values() for f in fs], handles)

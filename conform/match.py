"""Events against the rushes catalogue: find each event's camera original, then check range and handles.

Matching is indexed: dicts by reel, card, camera clip id, clip name and file name, then a sorted interval
search by timecode, so a 5,000-event list against 100,000 clips stays fast.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from pathlib import PurePath
from typing import Any

from conform.model import AUX_REELS, Event, Timeline, conform_finding
from media.findings import Finding, Severity
from media.timecode import Timecode, TimecodeError, format_rate, nominal_fps

# ARRI A001C003_230514_R2EC, RED A001_C002_0514XY, Sony/Canon A001C001: camera roll + clip index.
_CAMERA = re.compile(r"^([A-Z]\d{3})_?(C\d{3})", re.IGNORECASE)


@dataclass(slots=True)
class CatalogueClip:
    """What matching needs of one catalogue row (original or proxy)."""

    id: int
    path: str
    card: str
    reel: str | None
    clip_name: str | None
    start_frames: int | None
    duration_frames: int | None
    rate: Fraction | None
    drop_frame: bool | None
    role: str = "original"
    source_id: int | None = None
    hash: str | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> CatalogueClip:
        rate = row.get("rate")
        return cls(id=row["id"], path=row["path"], card=row.get("card") or "", reel=row.get("reel"),
                   clip_name=row.get("clip_name"), start_frames=row.get("start_frames"),
                   duration_frames=row.get("duration_frames"), rate=rate_of_text(rate) if rate else None,
                   drop_frame=row.get("drop_frame"), role=row.get("role") or "original",
                   source_id=row.get("source_id"), hash=row.get("hash"))

    def range_at(self, rate: Fraction, drop_frame: bool | None) -> tuple[int, int] | None:
        """The media's [start, end) in frames at the timeline's rate (by timecode label when the nominal
        fps agree, as an NLE reads it, else by real time). drop_frame None: the timeline counts frames
        (XML, AAF, OTIO), so the media's own DF/NDF labelling does not matter."""
        if self.start_frames is None or self.duration_frames is None or self.rate is None:
            return None
        if drop_frame is None:
            drop_frame = bool(self.drop_frame)
        if (self.rate.numerator == rate.numerator and self.rate.denominator == rate.denominator
                and bool(self.drop_frame) == drop_frame):
            return self.start_frames, self.start_frames + self.duration_frames
        try:
            start_tc = Timecode(self.start_frames, self.rate, bool(self.drop_frame))
            if nominal_fps(self.rate) == nominal_fps(rate):
                label = start_tc.format().replace(";", ":")
                try:
                    start = Timecode.parse(label, rate, drop_frame).frames
                except TimecodeError:
                    start = Timecode.parse(label, rate, False).frames
                return start, start + self.duration_frames
            seconds = start_tc.seconds()
            start = round(seconds * rate)
            return start, start + round(Fraction(self.duration_frames) / self.rate * rate)
        except TimecodeError:
            return None


@lru_cache(maxsize=64)
def rate_of_text(text: str) -> Fraction:
    return Fraction(text)


def _basename(name: str) -> str:
    return name.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1].strip()


def _keys_for_name(name: str | None) -> list[str]:
    """A name's lookup keys: the file name and its stem, upper-cased."""
    if not name:
        return []
    base = _basename(name).upper()
    if not base:
        return []
    stem = base.rsplit(".", 1)[0] if "." in base else base
    return [base] if stem == base or not stem else [base, stem]


class CatalogueIndex:
    """Originals and proxies of one production, indexed by every name an edit list may use."""

    def __init__(self, clips: list[CatalogueClip]) -> None:
        self.originals = [c for c in clips if c.role == "original"]
        self.proxies = [c for c in clips if c.role != "original"]
        self.by_reel: dict[str, list[CatalogueClip]] = defaultdict(list)
        self.by_name: dict[str, list[CatalogueClip]] = defaultdict(list)
        self.proxy_by_reel: dict[str, list[CatalogueClip]] = defaultdict(list)
        self.proxy_by_name: dict[str, list[CatalogueClip]] = defaultdict(list)
        camera_match = _CAMERA.match
        for group, by_reel, by_name in ((self.originals, self.by_reel, self.by_name),
                                        (self.proxies, self.proxy_by_reel, self.proxy_by_name)):
            for c in group:
                file_keys = _keys_for_name(c.path)
                reels = {_basename(c.card).upper()} if c.card else set()
                if c.reel:
                    reels.add(c.reel.strip().upper())
                camera = camera_match(c.clip_name or file_keys[0] if file_keys else c.clip_name or "")
                if camera:
                    roll, clip = camera.groups()
                    reels.add(roll.upper())
                    by_name[(roll + clip).upper()].append(c)
                for r in reels:
                    by_reel[r].append(c)
                keys = set(file_keys)
                if c.clip_name:
                    keys.update(_keys_for_name(c.clip_name))
                for k in keys:
                    by_name[k].append(c)
        self._sorted: list[CatalogueClip] | None = None

    def _interval_index(self) -> list[CatalogueClip]:
        """Built on first use: only events with no usable name search all originals by timecode."""
        if self._sorted is None:
            self._sorted = sorted((c for c in self.originals if c.start_frames is not None
                                   and c.duration_frames is not None), key=lambda c: c.start_frames or 0)
            self._starts = [c.start_frames or 0 for c in self._sorted]
            self._max_duration = max((c.duration_frames or 0 for c in self._sorted), default=0)
        return self._sorted

    def by_timecode(self, first: int, end: int, rate: Fraction, drop_frame: bool | None) -> list[CatalogueClip]:
        """Originals whose timecode range overlaps [first, end) (assuming most share the timeline's rate)."""
        ordered = self._interval_index()
        lo = bisect_left(self._starts, first - self._max_duration - 1)
        hi = bisect_right(self._starts, end + 1)
        found = []
        for c in ordered[lo:hi]:
            r = c.range_at(rate, drop_frame)
            if r and r[0] < end and first < r[1]:
                found.append(c)
        return found

    def names(self, event: Event) -> list[tuple[str, list[CatalogueClip]]]:
        return _lookup(event, self.by_reel, self.by_name)

    def proxy_names(self, event: Event) -> list[tuple[str, list[CatalogueClip]]]:
        return _lookup(event, self.proxy_by_reel, self.proxy_by_name)


def _lookup(event: Event, by_reel: dict[str, list[CatalogueClip]],
            by_name: dict[str, list[CatalogueClip]]) -> list[tuple[str, list[CatalogueClip]]]:
    """Candidate sets, most specific first: source file, clip name, then reel (as reel, card, camera roll,
    or a file name used as reel, as Resolve writes)."""
    found: list[tuple[str, list[CatalogueClip]]] = []
    for how, name in (("source file", event.source_file), ("clip name", event.clip_name)):
        for key in _keys_for_name(name):
            if key in by_name:
                found.append((how, by_name[key]))
                break
        else:
            if name:
                camera = _CAMERA.match(PurePath(name.replace("\\", "/")).name)
                if camera and (camera.group(1) + camera.group(2)).upper() in by_name:
                    found.append((how, by_name[(camera.group(1) + camera.group(2)).upper()]))
    reel = (event.reel or "").strip()
    if reel and reel.upper() not in AUX_REELS:
        key = reel.upper()
        if key in by_reel:
            found.append(("reel", by_reel[key]))
        elif key in by_name:
            found.append(("reel", by_name[key]))
        else:
            stem = _keys_for_name(reel)
            hit = next((by_name[k] for k in stem if k in by_name), None)
            if hit:
                found.append(("reel", hit))
            else:
                camera = _CAMERA.match(reel)
                if camera and (camera.group(1) + camera.group(2)).upper() in by_name:
                    found.append(("reel", by_name[(camera.group(1) + camera.group(2)).upper()]))
    return found


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
    return str(Timecode(frames, event.rate, event.source_in.drop_frame))


def match_event(event: Event, index: CatalogueIndex, handles: int, *, labels: bool = True) -> EventResult:
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
    first, end = event.used_source()
    zero_length = event.source_out.frames == event.source_in.frames and not event.tail_frames and not event.freeze
    rate = event.rate
    df = event.source_in.drop_frame if labels else None
    label = event.reel or event.clip_name or event.source_file or "?"

    chosen: list[CatalogueClip] = []
    how = None
    named = index.names(event)
    fallback: tuple[list[CatalogueClip], str] | None = None
    for how_, candidates in named:
        candidates = _distinct(candidates)
        overlapping = [c for c in candidates if (r := c.range_at(rate, df)) and r[0] < max(end, first + 1)
                       and first < r[1]]
        if overlapping:
            chosen, how = overlapping, how_
            break
        untimed = [c for c in candidates if c.range_at(rate, df) is None]
        if untimed and len(untimed) == len(candidates):
            chosen, how = untimed, how_
            break
        if how_ != "reel" and len(candidates) == 1 and fallback is None:
            fallback = (candidates, how_)  # a file or clip name naming one file: its range is checked below
    if not chosen and fallback is not None:
        chosen, how = fallback
    if not named and (event.reel or "").strip().upper() in AUX_REELS | {""}:
        by_tc = _distinct(index.by_timecode(first, max(end, first + 1), rate, df))
        if by_tc:
            chosen, how = by_tc, "timecode"

    if not chosen:
        if zero_length:
            return result  # an audio leader or a zero-length source: nothing to fetch
        proxies = [c for _, cs in index.proxy_names(event) for c in cs
                   if (r := c.range_at(rate, df)) is None or (r[0] < max(end, first + 1) and first < r[1])]
        if proxies:
            result.add("proxy_only", f"{label}: only a proxy is catalogued ({proxies[0].path}); the camera "
                       "original is missing", measured=proxies[0].path)
            return result
        if named:
            names = ", ".join(sorted({PurePath(c.path).name for _, cs in named for c in cs})[:5])
            result.add("missing_media", f"{label}: no catalogued clip of this reel covers "
                       f"{_tc(first, event)}-{_tc(end, event)} (clips of the reel: {names})",
                       expected=f"{_tc(first, event)}-{_tc(end, event)}")
        else:
            result.add("missing_media", f"{label}: not in the catalogue (no reel, card, clip or file of this "
                       "name)", expected=label)
        return result

    if len(chosen) > 1:
        result.add("ambiguous_match", f"{label}: {len(chosen)} catalogued files match by {how}: "
                   + ", ".join(c.path for c in chosen[:5]), measured=str(len(chosen)))
    media = chosen[0]
    result.media, result.matched_by = media, how
    _check_media(result, media, handles, first, end, zero_length, labels)
    return result


def _check_media(result: EventResult, media: CatalogueClip, handles: int, first: int, end: int,
                 zero_length: bool, labels: bool) -> None:
    event = result.event
    rate = event.rate
    df = event.source_in.drop_frame
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
    if span is None or zero_length and not event.tail_frames:
        return
    m_first, m_end = span
    media_tc = f"{_tc(m_first, event)}-{_tc(m_end, event)}"
    if first < m_first or end > m_end:
        result.add("source_out_of_range", f"source {_tc(first, event)}-{_tc(end, event)} is outside the media "
                   f"{media_tc} ({PurePath(media.path).name})", expected=f"{_tc(first, event)}-{_tc(end, event)}",
                   measured=media_tc)
        return
    head, tail = first - m_first, m_end - end
    if head < handles or tail < handles:
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


def conform(timeline: Timeline, index: CatalogueIndex, handles: int) -> ConformResult:
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

"""The timeline model every edit-list format is read into: events with exact timecodes, and findings."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from config.errors import PostprodError
from media.findings import Finding, Severity
from media.timecode import Timecode, format_rate, nominal_fps

# Rules a conform check reports, with their default severity.
RULES: dict[str, Severity] = {
    "missing_media": Severity.ERROR,
    "ambiguous_match": Severity.WARNING,
    "source_out_of_range": Severity.ERROR,
    "insufficient_handles": Severity.WARNING,
    "frame_rate_mismatch": Severity.WARNING,
    "drop_frame_mismatch": Severity.WARNING,
    "speed_effect": Severity.INFO,
    "freeze_frame": Severity.INFO,
    "proxy_only": Severity.ERROR,
    "record_overlap": Severity.WARNING,
    "unparsed_line": Severity.WARNING,
    "unreadable_event": Severity.ERROR,
    "duplicate_event": Severity.WARNING,
    "zero_length_source": Severity.WARNING,
    "source_reversed": Severity.ERROR,
    "not_checked": Severity.ERROR,
    "timeline_rate": Severity.INFO,
    "edl_note": Severity.INFO,
    "production_hint": Severity.WARNING,
    "media_not_verified": Severity.ERROR,
}

_FPS: tuple[Fraction | None, int] = (None, 0)  # the last rate asked and its timecode count (one rate per list)


def fps_of(rate: Fraction) -> int:
    """nominal_fps(rate), remembered for the last rate object asked (every timecode of a list shares one)."""
    global _FPS
    last = _FPS
    if last[0] is rate:
        return last[1]
    fps = nominal_fps(rate)
    _FPS = (rate, fps)
    return fps


def tc_label(frames: int, rate: Fraction, drop_frame: bool) -> str:
    """str(Timecode(frames, rate, drop_frame)), without making one: the common case (non-drop-frame, not
    negative) formatted here, thousands of times per list; any other through Timecode itself."""
    if drop_frame or frames < 0:
        return Timecode(frames, rate, drop_frame).format()
    fps = fps_of(rate)
    seconds = frames // fps
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}:{frames % fps:02d}"


def tc_text(tc: Timecode) -> str:
    """str(tc), as tc_label does it."""
    return tc_label(tc.frames, tc.rate, tc.drop_frame)


# Reels that name no media: black, colour bars, and Avid's "auxiliary" source (its file is in a comment).
GENERATOR_REELS = {"BL", "BLK", "BLACK", "BARS", "SMPTEBARS"}
AUX_REELS = {"AX", "AUX"}


class TimelineError(PostprodError):
    """A timeline file that cannot be used at all (exit code 2)."""


def conform_finding(rule: str, message: str, *, severity: Severity | None = None, event: int | None = None,
                    line: int | None = None, expected: str | None = None, measured: str | None = None) -> Finding:
    """One problem, on one event (number and line) or on one unreadable line; the rule's severity by default."""
    return Finding(rule=rule, severity=severity or RULES[rule], message=message, event=event, line=line,
                   expected=expected, measured=measured)


@dataclass
class Event:
    """One edit: a source range of a reel or file placed at a record range on a track."""

    number: int | None
    line: int | None
    reel: str | None
    track: str  # V, A1, A2, A1A2, V+A1 ... as written, normalised
    source_in: Timecode
    source_out: Timecode
    record_in: Timecode
    record_out: Timecode
    transition: str = "C"  # C cut, D dissolve, W wipe, K key (the CMX codes)
    transition_frames: int = 0
    clip_name: str | None = None
    source_file: str | None = None
    speed: Fraction | None = None  # frames per second of source played per second of record (M2); None = normal
    freeze: bool = False
    tail_frames: int = 0  # extra source used after source_out (the outgoing side of a following dissolve)
    comments: list[str] = field(default_factory=list)

    @property
    def rate(self) -> Fraction:
        return self.record_in.rate

    @property
    def is_video(self) -> bool:
        return "V" in self.track

    @property
    def is_generator(self) -> bool:
        return (self.reel or "").upper() in GENERATOR_REELS

    @property
    def record_frames(self) -> int:
        return self.record_out.frames - self.record_in.frames

    def used_source(self) -> tuple[int, int]:
        """Source frames really read [first, end): speed changes and freezes change what the online needs."""
        start = self.source_in.frames
        if self.freeze:
            return start, start + 1
        if self.speed is not None and self.speed != self.rate:
            n = self.record_frames * self.speed / self.rate
            whole = -(-abs(n.numerator) // n.denominator)  # ceil
            if self.speed < 0:
                return start - whole + 1, start + 1
            return start, start + whole + self.tail_frames
        return start, max(self.source_out.frames, start) + self.tail_frames

    def as_dict(self) -> dict[str, Any]:
        return {
            "event": self.number, "line": self.line, "track": self.track, "reel": self.reel,
            "clip_name": self.clip_name, "source_file": self.source_file,
            "source_in": tc_text(self.source_in), "source_out": tc_text(self.source_out),
            "record_in": tc_text(self.record_in), "record_out": tc_text(self.record_out),
            "record_in_frames": self.record_in.frames, "duration_frames": self.record_frames,
            "transition": self.transition, "transition_frames": self.transition_frames,
            "speed": None if self.speed is None else float(self.speed), "freeze": self.freeze,
        }


@dataclass
class NotTaken:
    """Lines (or, for XML/AAF/OTIO, items) the reader did not take into the events, and why.
    A run of repeated lines is one entry: `line` to `last_line`, `count` event lines among them."""

    line: int | None
    reason: str
    event_line: bool = True
    last_line: int | None = None
    count: int = 1
    item: str | None = None

    def covers(self, line: int) -> bool:
        return self.line is not None and self.line <= line <= (self.last_line or self.line)

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "last_line": self.last_line or self.line, "count": self.count,
                "event_line": self.event_line, "reason": self.reason, "item": self.item}


@dataclass
class Accounting:
    """A count a user can check against the file: lines read, event lines, what was not taken and why."""

    unit: str = "line"  # "line" for an EDL; "clip" for XML, FCPXML, AAF, OTIO
    read: int = 0  # lines read (EDL), clips met (other formats)
    blank: int = 0
    event_lines: int = 0  # EDL lines that start with an event number (other formats: clips met)
    kinds: Counter[str] = field(default_factory=Counter)  # title, fcm, comment, tag, speed, header...
    not_taken: list[NotTaken] = field(default_factory=list)
    padding: str | None = None  # DOS end-of-file padding removed

    def as_dict(self, events_in_report: int) -> dict[str, Any]:
        return {"unit": self.unit, "read": self.read, "blank": self.blank, "event_lines": self.event_lines,
                "events_in_report": events_in_report,
                "event_lines_not_taken": sum(n.count for n in self.not_taken if n.event_line),
                "not_taken_entries": len(self.not_taken), "kinds": dict(sorted(self.kinds.items())),
                "padding": self.padding, "not_taken": [n.as_dict() for n in self.not_taken]}


@dataclass
class Timeline:
    """A whole edit list: its events in file order, its rate, and what could not be read."""

    name: str | None
    path: str
    format: str  # cmx3600, fcp_xml, fcpx_xml, aaf, otio
    rate: Fraction
    drop_frame: bool
    rate_source: str  # option, file, production
    events: list[Event] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    encoding: str | None = None
    line_endings: str | None = None
    rate_reason: str | None = None
    accounting: Accounting = field(default_factory=Accounting)
    groups: int | None = None  # EDL: events as an editor counts them (a dissolve's two lines are one)

    def event_count(self) -> int:
        """Events as an editor counts them: a dissolve's two lines are one event."""
        if self.groups is not None:
            return self.groups
        return len({(e.number if e.number is not None else -i) for i, e in enumerate(self.events)})

    def record_span(self) -> tuple[Timecode, Timecode] | None:
        timed = [e for e in self.events if e.record_frames > 0]
        if not timed:
            return None
        return (min((e.record_in for e in timed), key=lambda t: t.frames),
                max((e.record_out for e in timed), key=lambda t: t.frames))

    def header(self) -> dict[str, Any]:
        span = self.record_span()
        return {"name": self.name, "path": self.path, "format": self.format, "rate": format_rate(self.rate),
                "drop_frame": self.drop_frame, "rate_source": self.rate_source, "encoding": self.encoding,
                "line_endings": self.line_endings, "events": self.event_count(), "event_lines": len(self.events),
                "record_in": str(span[0]) if span else None, "record_out": str(span[1]) if span else None,
                "duration_frames": span[1].frames - span[0].frames if span else 0,
                "rate_reason": self.rate_reason, "accounting": self.accounting.as_dict(len(self.events))}

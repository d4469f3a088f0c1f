"""A forgiving CMX3600 EDL reader: every statement kept with its line, unknown lines become findings.

It covers what OpenTimelineIO's reader does not (DOMAIN.md §5): FCM DROP/NON-DROP (also switching per
event), byte-order marks, CR-only line endings, Latin-1/Windows text, DOS end-of-file padding, long reels
and file names as reels, 6-digit event numbers, a dissolve on a first event, semicolon timecodes, frame
numbers in place of timecode, zero-length sources, M2 speed changes and freezes, star-less comments and
Flame's tags. Two passes: the rate is decided over the whole list first (conform/edl_rate.py), so no event
is judged at one rate and the next at another. Every line is counted: an event line is either an event
or named by a finding on its line (Timeline.accounting).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from conform.edl_rate import CatalogueRates, decide, gather
from conform.edl_syntax import (
    COMMENT_KEYS,
    EVENT_NO,
    FRAMES,
    HEADER,
    IGNORED_PREFIXES,
    STARLESS_COMMENTS,
    TAGS,
    SpeedLine,
    WrongRate,
    frames_of,
    make_event,
    split_event,
    split_m2,
    tc_fields,
    timecode,
)
from conform.edl_text import decode, split_lines
from conform.model import Event, NotTaken, Timeline, TimelineError, conform_finding
from media.findings import Severity
from media.timecode import Timecode, TimecodeError, drop_frame_allowed, format_rate

MAX_EDL_BYTES = 64 * 1024 * 1024


def read_edl(path: Path, rate: Fraction | None, rate_source: str = "production", data: bytes | None = None, *,
             production_rate: Fraction | None = None, catalogue: CatalogueRates | None = None) -> Timeline:
    """Read a CMX3600 EDL. `rate` is --rate (None: inferred from the list, the catalogue, the production).
    Raises TimelineError only when nothing can be used."""
    if data is None:
        data = path.read_bytes()
    decoded = decode(data, path)
    lines = split_lines(decoded.text)
    option = rate if rate_source == "option" else None
    decision = decide(gather(lines), option, production_rate or rate or Fraction(25), catalogue)
    timeline = Timeline(name=None, path=str(path), format="cmx3600", rate=decision.rate, drop_frame=False,
                        rate_source=decision.source, encoding=decoded.encoding, line_endings=decoded.line_endings,
                        rate_reason=decision.reason)
    timeline.findings.append(conform_finding(
        "timeline_rate", f"read at {format_rate(decision.rate)} fps from the {decision.source}: {decision.reason}",
        severity=decision.severity, measured=format_rate(decision.rate)))
    reader = _Reader(path, timeline)
    timeline.accounting.padding = decoded.padding
    if decoded.padding:
        timeline.findings.append(conform_finding(
            "edl_note", f"DOS end-of-file padding at the end ({decoded.padding}) ignored", line=len(lines)))
    try:
        for line_no, raw in enumerate(lines, start=1):
            reader.line(line_no, raw)
    finally:
        tc_fields.cache_clear()  # its memory goes back before matching and the reports need theirs
    reader.finish()
    return timeline


class _Reader:
    """Pass 2: one statement per line, in order, at the rate already decided."""

    def __init__(self, path: Path, timeline: Timeline) -> None:
        self.path, self.tl, self.rate = path, timeline, timeline.rate
        self.acc = timeline.accounting
        self.source_df = False  # the FCM in force for the next events' sources
        self.record_df: bool | None = None  # the first FCM: the record timeline's
        self.fcm_stated = False
        self.group: list[Event] = []  # the lines of the current event (two for a dissolve)
        self.orphan: str | None = None  # why M2 lines here attach to nothing: their event line was not taken
        self.seen: dict[str, int] = {}  # an event line's fields -> the line that first had them
        self.read: dict[tuple[str, bool, bool], Timecode] = {}  # timecodes read (edl_syntax.make_event)
        self.repeats: NotTaken | None = None  # the open run of repeated event lines
        self.wrong_rate: list[tuple[int, WrongRate]] = []
        self.frame_counts: list[int] = []
        self.groups = 0
        self.unparsed: NotTaken | None = None  # the open run of unreadable lines (not event lines)
        self.keep_run = False
        # Runs whose one finding is rewritten at the end to name the whole run: (entry, index, rule, text).
        self.run_findings: list[tuple[NotTaken, int, str, str]] = []

    def finding(self, rule: str, message: str, line: int | None, severity: Severity | None = None) -> None:
        event = self.group[-1].number if self.group else None
        self.tl.findings.append(conform_finding(rule, message, severity=severity, line=line, event=event))

    def not_taken(self, line_no: int, raw: str, why: str, *, event_line: bool) -> None:
        """A line the events do not hold: counted, and a finding names it on its line. Lines that are not
        event lines and follow each other for the same reason are one run: one entry, one finding."""
        run = self.unparsed
        if not event_line and run is not None and run.reason == why:
            run.last_line, run.count = line_no, run.count + 1
            self.keep_run = True
            return
        entry = NotTaken(line_no, why, event_line=event_line)
        self.acc.not_taken.append(entry)
        rule = "unreadable_event" if event_line else "unparsed_line"
        what = "event line" if event_line else "line"
        self.finding(rule, f"{what} {line_no} not taken ({why}): {raw.strip()[:120]!r}", line_no)
        if not event_line:
            self.unparsed, self.keep_run = entry, True
            self.run_findings.append((entry, len(self.tl.findings) - 1, rule, raw.strip()[:120]))

    def line(self, line_no: int, raw: str) -> None:
        self.acc.read += 1
        line = raw.strip().lstrip("\ufeff")
        if not line or line == "\x1a":
            self.acc.blank += 1
            return
        self.keep_run = False
        self.statement(line_no, raw, line)
        if not self.keep_run:
            self.unparsed = None

    def statement(self, line_no: int, raw: str, line: str) -> None:
        upper = line.upper()
        tokens = line.split()
        if EVENT_NO.match(tokens[0]) and len(tokens) >= 2 and not upper.startswith(("FCM", "TITLE")):
            self.acc.event_lines += 1
            self.event(line_no, raw, tokens)
        elif upper.startswith("TITLE:"):
            self.acc.kinds["title"] += 1
            self.tl.name = line[6:].strip() or None
        elif upper.startswith(("FCM:", "FCM ")):
            self.fcm(line_no, raw, upper)
        elif line.startswith(("*", ";")):
            self.comment(line.lstrip("*; ").strip())
        elif upper.startswith("M2") and upper[2:3] in (" ", "\t"):
            self.speed(line_no, raw, line)
        elif upper.startswith(STARLESS_COMMENTS) or upper.startswith(TAGS):
            self.acc.kinds["tag" if upper.startswith(TAGS) else "comment"] += 1
            self._comment_text(line)
        elif upper.startswith(IGNORED_PREFIXES):
            self.acc.kinds["known"] += 1
        elif not self.tl.events and HEADER.match(line):
            # Non-standard headers (music and mixing tools): "PROJECT: x", "DATE: y". Noted, not an error.
            self.acc.kinds["header"] += 1
            self.finding("edl_note", f"line {line_no}: non-standard header ignored: {line[:80]!r}", line_no)
        else:
            self.not_taken(line_no, raw, "not an event, comment or header", event_line=False)

    def fcm(self, line_no: int, raw: str, upper: str) -> None:
        value = upper[4:].strip().replace("-", " ").replace("_", " ")
        if value.startswith("DROP"):
            if not drop_frame_allowed(self.rate):
                raise TimelineError(
                    f"line {line_no}: FCM: DROP FRAME, but drop-frame exists only at 29.97 and 59.94 fps and "
                    f"the rate is {format_rate(self.rate)} ({self.tl.rate_source}); give the EDL's rate with --rate",
                    path=self.path)
            self.source_df = True
        elif value.startswith(("NON DROP", "NDF")):
            self.source_df = False
        else:
            self.not_taken(line_no, raw, "unknown FCM value", event_line=False)
            return
        self.acc.kinds["fcm"] += 1
        self.fcm_stated = True
        if self.record_df is None:
            self.record_df = self.source_df
            if self.tl.events and self.source_df:
                self.finding("edl_note", f"line {line_no}: the first FCM comes after {len(self.tl.events)} event "
                             "lines; those were read as non-drop, the CMX default", line_no, Severity.WARNING)

    def event(self, line_no: int, raw: str, tokens: list[str]) -> None:
        key = " ".join(tokens[1:]).upper()
        first = self.seen.get(key)
        if first is not None:
            self.repeat(line_no, first)
            return
        try:
            fields = split_event(tokens) if len(tokens) >= 6 else None
            if fields is None:
                raise ValueError("too few fields for an event line")
            record_df = self.record_df if self.record_df is not None else self.source_df
            event = make_event(fields, line_no, self.rate, self.source_df, record_df, self.fcm_stated, self.read)
        except WrongRate as exc:
            self.wrong_rate.append((line_no, exc))
            self._lost(line_no, raw, f"timecode {exc.token}: frame {exc.frame} does not exist at "
                       f"{format_rate(self.rate)} fps")
            return
        except (TimecodeError, ValueError) as exc:
            self._lost(line_no, raw, str(exc))
            return
        self.seen[key] = line_no
        self.repeats, self.orphan = None, None
        for note in fields.notes:
            self.finding("edl_note", f"line {line_no}: {note}", line_no, Severity.WARNING)
        if any(FRAMES.match(t) for t in fields.timecodes):
            self.frame_counts.append(line_no)
        if self.group and len(self.group) == 1 and self.group[-1].number == event.number and event.transition != "C":
            # The outgoing clip of a dissolve plays on under the transition.
            self.group[-1].tail_frames = event.transition_frames
            self.group.append(event)
        else:
            self.group = [event]
            self.groups += 1
        self.tl.events.append(event)

    def _lost(self, line_no: int, raw: str, why: str) -> None:
        """An event line that could not be read: its M2 and comments must not fall on a neighbour."""
        self.group, self.orphan, self.repeats = [], f"event line {line_no} was not read", None
        self.not_taken(line_no, raw, why, event_line=True)

    def repeat(self, line_no: int, first: int) -> None:
        """An event line that repeats an earlier one exactly: one entry and one finding per run."""
        self.group, self.orphan = [], f"it follows event line {line_no}, a repeat"
        run = self.repeats
        if run is not None:
            run.last_line, run.count = line_no, run.count + 1
            return
        run = NotTaken(line_no, f"repeats line {first} exactly", event_line=True)
        self.repeats = run
        self.acc.not_taken.append(run)
        self.tl.findings.append(conform_finding(
            "duplicate_event", f"event line {line_no} repeats line {first} exactly: not taken twice", line=line_no))
        self.run_findings.append((run, len(self.tl.findings) - 1, "duplicate_event", ""))

    def comment(self, text: str) -> None:
        self.acc.kinds["comment"] += 1
        self._comment_text(text)

    def _comment_text(self, text: str) -> None:
        group = self.group
        if not group:
            return
        key, sep, value = text.partition(":")
        field = COMMENT_KEYS.get(key.strip().upper()) if sep else None
        value = value.strip()
        if field == "from_clip":
            target = group[0] if len(group) > 1 else group[-1]
            if target.clip_name is None:
                target.clip_name = value
        elif field == "to_clip":
            group[-1].clip_name = value
        elif field in ("source_file", "to_file"):
            target = group[-1] if field == "to_file" else next((e for e in group if e.source_file is None), group[-1])
            target.source_file = value
        else:
            group[-1].comments.append(text)

    def speed(self, line_no: int, raw: str, line: str) -> None:
        m2 = split_m2(line)
        if m2 is None:
            self.not_taken(line_no, raw, "an M2 line without reel, speed and timecode", event_line=False)
            return
        if not self.group and self.repeats is not None:
            self.repeats.last_line = line_no  # the M2 of a repeated event line: part of the repeated block
            self.acc.kinds["speed"] += 1
            return
        if not self.group:
            why = self.orphan or "M2 speed change before any event"
            self.not_taken(line_no, raw, f"M2 of no event: {why}", event_line=False)
            return
        target = _speed_target(self.group, m2)
        if target is None:
            reels = ", ".join(repr(e.reel) for e in self.group)
            if len(self.group) > 1:
                self.not_taken(line_no, raw, f"M2 names reel {m2.reel!r}, not one of the event's ({reels})",
                               event_line=False)
                return
            target = self.group[-1]
            self.finding("edl_note", f"line {line_no}: M2 names reel {m2.reel!r}, the event's is {reels}: applied "
                         f"to event {target.number} (line {target.line})", line_no, Severity.WARNING)
        self.acc.kinds["speed"] += 1
        target.speed, target.freeze = m2.speed, m2.speed == 0
        try:
            start = _speed_start(m2, target, self.rate, self.source_df, self.fcm_stated)
        except (TimecodeError, WrongRate):
            self.finding("edl_note", f"line {line_no}: M2 timecode {m2.tc!r} not read; the event's source in is "
                         "kept", line_no, Severity.WARNING)
            return
        if target.freeze or m2.speed < 0 or m2.relative:
            target.source_in = start

    def name_runs(self) -> None:
        """A run's one finding names all its lines (findings are not changed in place: replaced)."""
        for entry, index, rule, text in self.run_findings:
            if entry.count == 1:
                continue
            span = f"lines {entry.line}-{entry.last_line}"
            if rule == "duplicate_event":
                entry.reason = f"{entry.count} event lines repeating earlier ones exactly (the first {entry.reason})"
                message = f"event {span}: {entry.reason}; not taken twice"
            else:
                message = f"{span} ({entry.count} lines) not taken ({entry.reason}); the first: {text!r}"
            self.tl.findings[index] = conform_finding(rule, message, line=entry.line)

    def finish(self) -> None:
        self.name_runs()
        tl = self.tl
        tl.drop_frame = bool(self.record_df)
        tl.groups = self.groups
        if self.frame_counts:
            first = self.frame_counts[0]
            event = next(e for e in tl.events if e.line == first)
            tl.findings.append(conform_finding(
                "edl_note", f"{len(self.frame_counts)} event lines write timecodes as frame counts (first: line "
                f"{first}, source in {event.source_in} at {format_rate(self.rate)} fps); read as frames since "
                "00:00:00:00", line=first))
        if self.wrong_rate and len(self.wrong_rate) * 2 >= len(tl.events) + len(self.wrong_rate):
            line_no, first = self.wrong_rate[0]
            raise TimelineError(
                f"line {line_no}: timecode {first.token} counts more frames than {format_rate(self.rate)} fps allows "
                f"(rate from {tl.rate_source}): this EDL is at another rate; give it with --rate", path=self.path)
        if not tl.events:
            bad = next((n.line for n in self.acc.not_taken), None)
            why = f"; first unreadable line: {bad}" if bad else ""
            raise TimelineError(f"no edit event could be read from this EDL{why}", path=self.path)


def _speed_target(group: list[Event], m2: SpeedLine) -> Event | None:
    """The event of the group whose reel the M2 names (MSTR: the event itself); None when none is."""
    reel = m2.reel.upper()
    if reel in ("MSTR", "MASTER") or len(group) == 1 and not reel:
        return group[-1]
    for e in reversed(group):
        own = (e.reel or "").upper()
        if own == reel or (own and reel and (own.startswith(reel) or reel.startswith(own))):
            return e
    return None


def _speed_start(m2: SpeedLine, target: Event, rate: Fraction, source_df: bool, fcm_stated: bool):
    if m2.relative:
        return target.source_in + m2.relative * frames_of(m2.tc, rate)
    return timecode(m2.tc, rate, source_df, fcm_stated)

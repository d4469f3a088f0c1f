"""A forgiving CMX3600 EDL reader: every line kept with its number, unreadable lines become findings.

It covers what OpenTimelineIO's reader does not (DOMAIN.md §5): FCM DROP/NON-DROP (also switching per
event), byte-order marks, CR-only line endings, Latin-1/Windows text, long reels and file names as reels,
6-digit event numbers, a dissolve on a first event, semicolon timecodes, frame numbers in place of
timecode, zero-length sources, M2 speed changes and freezes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from conform.model import Event, Timeline, TimelineError, conform_finding
from media.findings import Severity
from media.timecode import Timecode, TimecodeError, drop_frame_allowed, format_rate, nominal_fps

_TC = re.compile(r"^(\d{1,2})[:;.](\d{2})[:;.](\d{2})([:;.,])(\d{2,3})$")
_FRAMES = re.compile(r"^\d{1,9}$")
_TRACK = re.compile(r"^(V\d*|A\d*|AA|B|NONE|A\d*/V|AA/V|V/A\d*|V/AA)$", re.IGNORECASE)
_TRANS = re.compile(r"^(C|D|W\d{0,3}|K|KB|KO)$", re.IGNORECASE)
_HEADER = re.compile(r"^[A-Za-z][A-Za-z0-9 _.-]{0,30}:")
_EVENT_NO = re.compile(r"^\d{1,6}$")
_M2 = re.compile(r"^M2\s+(.+?)\s+(-?\d+(?:\.\d+)?)\s+(\S+)\s*$", re.IGNORECASE)
_COMMENT_KEYS = {
    "FROM CLIP NAME": "from_clip",
    "TO CLIP NAME": "to_clip",
    "CLIP NAME": "from_clip",
    "SOURCE FILE": "source_file",
    "FROM FILE": "source_file",
    "TO FILE": "to_file",
}
# Statements we understand and do not need: they are not "unreadable".
_IGNORED_PREFIXES = ("SPLIT:", "AUD ", "AUD\t", ">>>", "EFFECTS NAME IS", "SWAP", "R1 ", "R2 ", "FCM=",
                     "TITLE=", "NOTE", "LOC:", "%")
MAX_EDL_BYTES = 64 * 1024 * 1024


@dataclass
class Decoded:
    text: str
    encoding: str
    line_endings: str


def decode(data: bytes, path: Path) -> Decoded:
    """Bytes to text: BOMs (UTF-8/16), UTF-8, else Windows-1252/Latin-1; binary data is refused."""
    if data.startswith(b"\xef\xbb\xbf"):
        text, encoding = data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text, encoding = data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise TimelineError(f"not a text EDL: bad UTF-16 text ({exc.reason})", path=path) from exc
    else:
        if b"\x00" in data[:65536]:
            raise TimelineError("not a text EDL: binary data (NUL bytes)", path=path)
        try:
            text, encoding = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            try:
                text, encoding = data.decode("cp1252"), "cp1252"
            except UnicodeDecodeError:
                text, encoding = data.decode("latin-1"), "latin-1"
    controls = sum(1 for ch in text[:65536] if ord(ch) < 32 and ch not in "\r\n\t\f\x1a")
    if controls > max(8, len(text[:65536]) // 50):
        raise TimelineError("not a text EDL: binary data (control characters)", path=path)
    if "\r\n" in text:
        endings = "crlf"
    elif "\r" in text:
        endings = "cr"
    else:
        endings = "lf"
    return Decoded(text, encoding, endings)


def split_lines(text: str) -> list[str]:
    return re.split(r"\r\n|\r|\n", text)


class _WrongRate(Exception):
    def __init__(self, token: str, line: int) -> None:
        self.token, self.line = token, line


def _timecode(token: str, rate: Fraction, drop_frame: bool, fcm_stated: bool, line: int) -> Timecode:
    """A timecode, or a bare frame count; ';' means drop-frame only when no FCM says otherwise."""
    if _FRAMES.match(token):
        return Timecode(int(token), rate, drop_frame)
    match = _TC.match(token)
    if not match:
        raise TimecodeError(f"not a timecode: {token!r}")
    ff = int(match.group(5))
    if ff >= nominal_fps(rate) and int(match.group(3)) < 60:
        raise _WrongRate(token, line)
    df = drop_frame if fcm_stated else (match.group(4) in ";." and drop_frame_allowed(rate))
    if df and not drop_frame_allowed(rate):
        df = False
    return Timecode.parse(token, rate, df)


def _is_tc(token: str) -> bool:
    return bool(_TC.match(token) or _FRAMES.match(token))


def _track(token: str) -> str:
    """Normalise the CMX channel field: V, A -> A1, AA -> A1A2, B -> A1V, AA/V -> A1A2V."""
    t = token.upper()
    if t in ("B", "A/V", "V/A"):
        return "A1V"
    if t in ("AA/V", "V/AA"):
        return "A1A2V"
    if t == "AA":
        return "A1A2"
    if t == "A":
        return "A1"
    if t.startswith("A") and "/V" in t:
        return t.replace("/V", "") + "V"
    return t


def read_edl(path: Path, rate: Fraction, rate_source: str, data: bytes | None = None) -> Timeline:
    """Read a CMX3600 EDL at a given rate. Raises TimelineError only when nothing can be used."""
    if data is None:
        data = path.read_bytes()
    decoded = decode(data, path)
    lines = split_lines(decoded.text)
    timeline = Timeline(name=None, path=str(path), format="cmx3600", rate=rate, drop_frame=False,
                        rate_source=rate_source, encoding=decoded.encoding, line_endings=decoded.line_endings)
    source_df = False  # the FCM in force for the next events' sources
    record_df: bool | None = None  # the first FCM: the record timeline's
    fcm_stated = False
    group: list[Event] = []  # the lines of the current event number (two for a dissolve)
    wrong_rate: list[_WrongRate] = []

    def unparsed(line_no: int, text: str, why: str) -> None:
        timeline.findings.append(conform_finding(
            "unparsed_line", f"line {line_no} cannot be read ({why}): {text.strip()[:120]!r}", line=line_no,
            event=group[-1].number if group else None))

    for line_no, raw in enumerate(lines, start=1):
        line = raw.strip().lstrip("\ufeff")
        if not line or line == "\x1a":
            continue
        upper = line.upper()
        if upper.startswith("TITLE:"):
            timeline.name = line[6:].strip() or None
            continue
        if upper.startswith(("FCM:", "FCM ")):
            value = upper[4:].strip().replace("-", " ").replace("_", " ")
            if value.startswith("DROP"):
                if not drop_frame_allowed(rate) and rate_source == "production" and not timeline.events:
                    # The list says drop-frame, so it runs at 29.97 (59.94 where the production is 50/60p):
                    # the file's own statement wins over the production's rate.
                    rate = Fraction(60000, 1001) if nominal_fps(rate) >= 48 else Fraction(30000, 1001)
                    rate_source = "file"
                    timeline.rate, timeline.rate_source = rate, rate_source
                if not drop_frame_allowed(rate):
                    raise TimelineError(
                        f"line {line_no}: FCM: DROP FRAME, but drop-frame exists only at 29.97 and 59.94 fps "
                        f"and the rate is {format_rate(rate)} ({rate_source}); give the EDL's rate with --rate",
                        path=path)
                source_df = True
            elif value.startswith(("NON DROP", "NDF")):
                source_df = False
            else:
                unparsed(line_no, raw, "unknown FCM value")
                continue
            fcm_stated = True
            if record_df is None:
                record_df = source_df
            continue
        if line.startswith(("*", ";")):
            _comment(line.lstrip("*; ").strip(), group)
            continue
        m2 = _M2.match(line)
        if m2:
            _speed(m2, group, line_no, rate, source_df, fcm_stated, unparsed, raw)
            continue
        tokens = line.split()
        if _EVENT_NO.match(tokens[0]) and len(tokens) >= 6:
            try:
                event = _event(tokens, line_no, rate, source_df, bool(record_df) if record_df is not None
                               else source_df, fcm_stated)
            except _WrongRate as exc:
                wrong_rate.append(exc)
                unparsed(line_no, raw, f"timecode {exc.token} has more frames than {format_rate(rate)} fps allows")
                continue
            except (TimecodeError, ValueError) as exc:
                unparsed(line_no, raw, str(exc))
                continue
            if group and group[-1].number == event.number:
                if event.transition != "C":
                    # The outgoing clip of a dissolve plays on under the transition.
                    group[-1].tail_frames = event.transition_frames
                group.append(event)
            else:
                group = [event]
            timeline.events.append(event)
            continue
        if upper.startswith(_IGNORED_PREFIXES):
            continue
        if not timeline.events and _HEADER.match(line):
            # Non-standard headers (music and mixing tools): "PROJECT: x", "DATE: y". Noted, not an error.
            timeline.findings.append(conform_finding(
                "unparsed_line", f"line {line_no}: non-standard header ignored: {line[:80]!r}",
                severity=Severity.INFO, line=line_no))
            continue
        unparsed(line_no, raw, "not an event, comment or header")
    timeline.drop_frame = bool(record_df)
    if wrong_rate and len(wrong_rate) * 2 >= len(timeline.events) + len(wrong_rate):
        first = wrong_rate[0]
        raise TimelineError(
            f"line {first.line}: timecode {first.token} counts more frames than {format_rate(rate)} fps allows "
            f"(rate from {rate_source}): this EDL is at another rate; give it with --rate", path=path)
    if not timeline.events:
        bad = next((f.line for f in timeline.findings), None)
        why = f"; first unreadable line: {bad}" if bad else ""
        raise TimelineError(f"no edit event could be read from this EDL{why}", path=path)
    return timeline


def _event(tokens: list[str], line_no: int, rate: Fraction, source_df: bool, record_df: bool,
           fcm_stated: bool) -> Event:
    number = int(tokens[0])
    tcs = tokens[-4:]
    if not all(_is_tc(t) for t in tcs):
        raise ValueError("expected four timecodes at the end of the event line")
    middle = tokens[1:-4]
    for i in range(len(middle) - 1, 1, -1):  # a key written "K B" or "K O": one code
        if middle[i - 1].upper() == "K" and middle[i].upper() in ("B", "O"):
            middle[i - 1:i + 1] = ["K" + middle[i].upper()]
            break
    transition, frames = "C", 0
    if len(middle) >= 3 and _FRAMES.match(middle[-1]) and _TRANS.match(middle[-2]) and middle[-2].upper() != "C":
        transition, frames = middle[-2].upper(), int(middle[-1])
        middle = middle[:-2]
    elif middle and _TRANS.match(middle[-1]):
        transition = middle[-1].upper()
        middle = middle[:-1]
    else:
        raise ValueError("no transition code (C, D, W, K)")
    if len(middle) < 2 or not _TRACK.match(middle[-1]):
        raise ValueError("no track (V, A, A2, AA, B...)")
    track = _track(middle[-1])
    reel = " ".join(middle[:-1])
    src_in = _timecode(tcs[0], rate, source_df, fcm_stated, line_no)
    src_out = _timecode(tcs[1], rate, source_df, fcm_stated, line_no)
    rec_in = _timecode(tcs[2], rate, record_df, fcm_stated, line_no)
    rec_out = _timecode(tcs[3], rate, record_df, fcm_stated, line_no)
    return Event(number=number, line=line_no, reel=reel, track=track, source_in=src_in, source_out=src_out,
                 record_in=rec_in, record_out=rec_out, transition=transition[0], transition_frames=frames)


def _comment(text: str, group: list[Event]) -> None:
    if not group:
        return
    key, sep, value = text.partition(":")
    field = _COMMENT_KEYS.get(key.strip().upper()) if sep else None
    value = value.strip()
    if field == "from_clip":
        target = group[0] if len(group) > 1 else group[-1]
        if target.clip_name is None:
            target.clip_name = value
        return
    if field == "to_clip":
        group[-1].clip_name = value
        return
    if field in ("source_file", "to_file"):
        target = group[-1] if field == "to_file" else next((e for e in group if e.source_file is None), group[-1])
        target.source_file = value
        return
    group[-1].comments.append(text)


def _speed(m2: re.Match[str], group: list[Event], line_no: int, rate: Fraction, source_df: bool,
           fcm_stated: bool, unparsed, raw: str) -> None:
    reel, speed_text, tc = m2.group(1).strip(), m2.group(2), m2.group(3)
    if not group:
        unparsed(line_no, raw, "M2 speed change before any event")
        return
    target = next((e for e in reversed(group) if (e.reel or "") == reel), group[-1])
    speed = Fraction(speed_text).limit_denominator(1001)
    target.speed = speed
    target.freeze = speed == 0
    try:
        start = _timecode(tc, rate, source_df, fcm_stated, line_no)
    except (TimecodeError, _WrongRate):
        return
    if target.freeze or speed < 0:
        target.source_in = start

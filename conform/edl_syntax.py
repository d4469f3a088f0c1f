"""The statements of a CMX3600 line, as tokens: event lines, M2 speed lines, comments, known tags.

Pure functions over one line's text; the reader (conform/edl.py) keeps the state between lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache

from conform.model import Event, fps_of
from media.timecode import Timecode, TimecodeError, drop_frame_allowed, format_fps, format_rate

TC = re.compile(r"^(\d{1,2})[:;.](\d{2})[:;.](\d{2})([:;.,])(\d{2,3})$")
FRAMES = re.compile(r"^\d{1,9}$")
EVENT_NO = re.compile(r"^\d{1,6}$")
_TRACK = re.compile(r"^(V\d*|A\d*|AA|B|NONE|A\d*/V|AA/V|V/A\d*|V/AA)$", re.IGNORECASE)
_TRANS = re.compile(r"^(C|D|W\d{0,3}|K|KB|KO)$", re.IGNORECASE)
_DURATION = re.compile(r"^\d{1,3}$")
HEADER = re.compile(r"^[A-Za-z][A-Za-z0-9 _.-]{0,30}:")
_SPEED = re.compile(r"^[+-]?\d{1,4}(?:\.\d+)?$")
COMMENT_KEYS = {
    "FROM CLIP NAME": "from_clip",
    "TO CLIP NAME": "to_clip",
    "CLIP NAME": "from_clip",
    "SOURCE FILE": "source_file",
    "FROM FILE": "source_file",
    "TO FILE": "to_file",
}
# Comments written without the star (Flame and others), Flame's tags, REM remarks, Resolve's marker lines
# (" |C:ResolveColorBlue |M:Marker 1 |D:1"): read as comments.
STARLESS_COMMENTS = tuple(f"{key}:" for key in COMMENT_KEYS)
TAGS = ("DLEDL:", "REM ", "REM\t", "REM:", "|C:", "|M:")
# Statements we understand and do not need: they are not "unreadable".
IGNORED_PREFIXES = ("SPLIT:", "AUD ", "AUD\t", ">>>", "EFFECTS NAME IS", "SWAP", "R1 ", "R2 ", "FCM=",
                    "TITLE=", "NOTE", "LOC:", "%")


class WrongRate(Exception):
    """A frame field that the rate does not have (27 at 25 fps)."""

    def __init__(self, token: str, frame: int) -> None:
        super().__init__(token)
        self.token, self.frame = token, frame


@lru_cache(maxsize=1 << 16)
def tc_fields(token: str) -> tuple[int, int, int, str, int] | None:
    """A timecode token's hours, minutes, seconds, separator before the frames, and frames (None: not a
    timecode). Remembered: the rate's pass, the event's split and its reading all ask for each token."""
    match = TC.match(token)
    if match is None:
        return None
    hh, mm, ss, sep, ff = match.groups()
    return int(hh), int(mm), int(ss), sep, int(ff)


def timecode(token: str, rate: Fraction, drop_frame: bool, fcm_stated: bool) -> Timecode:
    """A timecode, or a bare frame count; ';' means drop-frame only when no FCM says otherwise."""
    fields = tc_fields(token)
    if fields is None:
        if FRAMES.match(token):
            return Timecode(int(token), rate, drop_frame)
        raise TimecodeError(f"not a timecode: {token!r}")
    h, m, s, sep, f = fields
    fps = fps_of(rate)
    if f >= fps and m < 60 and s < 60:
        raise WrongRate(token, f)
    df = drop_frame if fcm_stated else (sep in ";." and drop_frame_allowed(rate))
    if df and not drop_frame_allowed(rate):
        df = False
    if df or m > 59 or s > 59:
        return Timecode.parse(token, rate, df)  # drop-frame counting, or its error message
    return Timecode(((h * 60 + m) * 60 + s) * fps + f, rate, False)  # what Timecode.parse counts, read once


def _read_once(read: dict[tuple[str, bool, bool], Timecode], token: str, rate: Fraction, drop_frame: bool,
               fcm_stated: bool) -> Timecode:
    key = (token, drop_frame, fcm_stated)
    tc = read.get(key)
    if tc is None:
        tc = read[key] = timecode(token, rate, drop_frame, fcm_stated)  # (an error is raised again each time)
    return tc


def is_tc(token: str) -> bool:
    return tc_fields(token) is not None or FRAMES.match(token) is not None


def track_name(token: str) -> str:
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


@dataclass
class EventLine:
    """An event line's fields before timecodes are read; notes say what was assumed."""

    number: int
    reel: str
    track: str
    transition: str
    frames: int
    timecodes: list[str]
    notes: list[str] = field(default_factory=list)


def split_event(tokens: list[str]) -> EventLine:
    """Number, reel, track, transition and the four timecodes. ValueError says what is missing."""
    tcs = tokens[-4:]
    if not all(is_tc(t) for t in tcs):
        raise ValueError("expected four timecodes at the end of the event line")
    middle = tokens[1:-4]
    for i in range(len(middle) - 1, 1, -1):  # a key written "K B" or "K O": one code
        if middle[i - 1].upper() == "K" and middle[i].upper() in ("B", "O"):
            middle[i - 1:i + 1] = ["K" + middle[i].upper()]
            break
    transition, frames, notes = "C", 0, []
    if len(middle) >= 3 and middle[-2].upper() == "C" and FRAMES.match(middle[-1]) and int(middle[-1]) == 0:
        middle = middle[:-1]  # a cut written with a zero duration: "C   000"
    if len(middle) >= 3 and FRAMES.match(middle[-1]) and _TRANS.match(middle[-2]) and middle[-2].upper() != "C":
        transition, frames = middle[-2].upper(), int(middle[-1])
        middle = middle[:-2]
    elif middle and _TRANS.match(middle[-1]):
        transition = middle[-1].upper()
        middle = middle[:-1]
    elif len(middle) >= 3 and _DURATION.match(middle[-1]) and _TRACK.match(middle[-2]):
        # Avid writes some wipes with a blank transition field: "005  REEL  V       008  ...".
        transition, frames = "W", int(middle[-1])
        middle = middle[:-1]
        notes.append(f"no transition code before the duration {tokens[-5]}: read as a transition (W) of "
                     f"{frames} frames")
    else:
        raise ValueError("no transition code (C, D, W, K)")
    if len(middle) < 2 or not _TRACK.match(middle[-1]):
        raise ValueError("no track (V, A, A2, AA, B...)")
    return EventLine(int(tokens[0]), " ".join(middle[:-1]), track_name(middle[-1]), transition, frames, tcs, notes)


def make_event(fields: EventLine, line_no: int, rate: Fraction, source_df: bool, record_df: bool,
               fcm_stated: bool, read: dict[tuple[str, bool, bool], Timecode] | None = None) -> Event:
    """`read`: the timecodes this list's reader has read already, by (token, drop-frame, FCM stated), all at the
    one rate (a record out is the next event's record in: read once; a Timecode is immutable)."""
    if read is None:
        read = {}
    src_in, src_out, rec_in, rec_out = (
        _read_once(read, tc, rate, df, fcm_stated)
        for tc, df in zip(fields.timecodes, (source_df, source_df, record_df, record_df), strict=True))
    return Event(number=fields.number, line=line_no, reel=fields.reel, track=fields.track, source_in=src_in,
                 source_out=src_out, record_in=rec_in, record_out=rec_out, transition=fields.transition[0],
                 transition_frames=fields.frames)


@dataclass
class SpeedLine:
    """M2 REEL SPEED [I|O] [+|-]TC: speed in frames per second of source; a signed TC is an offset."""

    reel: str
    speed: Fraction
    tc: str
    relative: int  # 0 absolute, +1/-1 an offset from the event's source in


def split_m2(line: str) -> SpeedLine | None:
    """The M2 forms seen: `M2 A001 025.0 10:00:00:00`, `M2 MSTR 000.0 I +00:00:00:10`, `M2 MSTR I 000.0 ...`."""
    tokens = line.split()
    if len(tokens) < 4 or tokens[0].upper() != "M2":
        return None
    tc = tokens[-1]
    rest = tokens[1:-1]
    if rest and rest[-1].upper() in ("I", "O"):
        rest = rest[:-1]
    if len(rest) < 2 or not _SPEED.match(rest[-1]):
        return None
    reel_tokens = rest[:-1]
    if len(reel_tokens) > 1 and reel_tokens[-1].upper() in ("I", "O"):
        reel_tokens = reel_tokens[:-1]
    relative = 0
    if tc[:1] in "+-" and len(tc) > 1:
        relative, tc = (1 if tc[0] == "+" else -1), tc[1:]
    return SpeedLine(" ".join(reel_tokens), Fraction(rest[-1]).limit_denominator(1001), tc, relative)


def frames_of(token: str, rate: Fraction) -> int:
    """An M2 offset (+00:00:00:10) as a frame count at the list's rate (no drop-frame: a duration)."""
    if FRAMES.match(token):
        return int(token)
    return Timecode.parse(token.replace(";", ":").replace(".", ":"), rate, False).frames


def describe_rate(rate: Fraction) -> str:
    return format_fps(rate) if rate.denominator == 1 else f"{format_fps(rate)} ({format_rate(rate)})"

"""The rate of an EDL, decided once, before any event is judged (the first of the reader's two passes).

A CMX3600 list does not state its rate. What shows it: drop-frame markers (an FCM: DROP FRAME anywhere,
or ';' timecodes) mean 29.97 (59.94); the largest frame field bounds it from below (a 27 rules out 25)
and, over many timecodes, from above (400 timecodes that never pass 23 are not 25 fps); a title may say
it ("CUT V3 23.976"); the catalogued media of the list's reels run at some rate; the production has one.
The order: --rate; FCM: DROP FRAME; the title; the catalogue; ';' timecodes (EDL-X and others write them
for drop-frame, but some tools write them at any rate, so the title and the catalogue come first); the
production; else the smallest standard rate that counts the frame fields. The decision always comes with
the reason, said in a finding.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from fractions import Fraction

from conform.edl_syntax import EVENT_NO, tc_fields
from media.findings import Severity
from media.timecode import format_fps, nominal_fps, rate_from_float

# The smallest standard rate for each top frame field, and the one read when nothing else says.
FAMILIES = [(24, Fraction(24)), (25, Fraction(25)), (30, Fraction(30000, 1001)), (50, Fraction(50)),
            (60, Fraction(60000, 1001))]
_TITLE_RATE = re.compile(r"(?<![\d.])(23[.,]976?|23[.,]98|2398|29[.,]97|2997|59[.,]94|5994|24|25|30|48|50|60)"
                         r"(?:\s*(fps|p|i)\b|(?=[^\d]|$))", re.IGNORECASE)
# Below this likelihood ratio the frame fields rule a rate out: (small/fps)^n, n distinct timecodes.
IMPROBABLE = 1e-3

CatalogueRates = Callable[[Iterable[str]], Counter]


@dataclass
class RateEvidence:
    """What pass 1 found: the top frame field, drop-frame markers, the title, the reels."""

    top: int = -1
    top_line: int | None = None
    frame_values: set[str] = field(default_factory=set)
    fcm_drop_line: int | None = None
    semicolon_line: int | None = None
    title: str | None = None
    reels: set[str] = field(default_factory=set)

    @property
    def samples(self) -> int:
        return len(self.frame_values)


@dataclass
class RateDecision:
    rate: Fraction
    source: str  # option, file, catalogue, production
    reason: str
    severity: Severity = Severity.INFO


def gather(lines: list[str]) -> RateEvidence:
    """Pass 1: scan every line once, judge nothing."""
    ev = RateEvidence()
    seen: set[str] = set()
    for line_no, raw in enumerate(lines, start=1):
        if raw in seen:
            continue  # a repeated line says nothing new
        seen.add(raw)
        line = raw.strip().lstrip("\ufeff")
        upper = line.upper()
        if upper.startswith("TITLE:") and ev.title is None:
            ev.title = line[6:].strip()
        elif upper.startswith(("FCM:", "FCM ")):
            if upper[4:].strip().replace("-", " ").startswith("DROP") and ev.fcm_drop_line is None:
                ev.fcm_drop_line = line_no
        else:
            tokens = line.split()
            if len(tokens) >= 6 and EVENT_NO.match(tokens[0]):
                _scan_event(tokens, line_no, ev)
    return ev


def _scan_event(tokens: list[str], line_no: int, ev: RateEvidence) -> None:
    for token in tokens[-4:]:
        if token in ev.frame_values:
            continue
        fields = tc_fields(token)
        if fields is None or fields[1] > 59 or fields[2] > 59 or fields[4] > 59:
            continue  # not a timecode that any rate has: the reader reports it on its line
        ff = fields[4]
        ev.frame_values.add(token)
        if ff > ev.top:
            ev.top, ev.top_line = ff, line_no
        if fields[3] == ";" and ev.semicolon_line is None:
            ev.semicolon_line = line_no
    if len(tokens) >= 7:
        ev.reels.add(tokens[1].upper())


def title_rate(title: str | None) -> Fraction | None:
    if not title:
        return None
    match = _TITLE_RATE.search(title)
    if not match or (match.group(2) is None and "." not in match.group(1) and "," not in match.group(1)
                     and len(match.group(1)) < 4):
        return None  # a bare "25" in a title is a scene or a version, not a rate
    text = match.group(1).replace(",", ".")
    if "." not in text and len(text) == 4:
        text = f"{text[:2]}.{text[2:]}"
    return rate_from_float(float(text))


def _fits(rate: Fraction, ev: RateEvidence) -> bool:
    return ev.top < nominal_fps(rate)


def _improbable(rate: Fraction, ev: RateEvidence) -> bool:
    """The frame fields never pass `top` although `rate` counts further, over so many timecodes that the
    smallest standard rate counting them is far likelier: (small/fps)^n. Frame fields that do not spread
    near the top of that smaller count (all :00, as in hand-made lists) are no evidence either way."""
    fps = nominal_fps(rate)
    small = next((f for f, _ in FAMILIES if ev.top < f), fps)
    if small >= fps or ev.top + 1 < small * 0.8:
        return False
    return (small / fps) ** ev.samples < IMPROBABLE


def _frames_said(ev: RateEvidence) -> str:
    if ev.top < 0:
        return "no timecode with a frame field"
    return f"frame fields up to {ev.top:02d} (line {ev.top_line}) over {ev.samples} distinct timecodes"


def decide(ev: RateEvidence, option: Fraction | None, production: Fraction,
           catalogue: CatalogueRates | None = None) -> RateDecision:
    """The rate to read the whole list at, and why."""
    said = _frames_said(ev)
    if option is not None:
        return RateDecision(option, "option", f"--rate {_show(option)} ({said})")
    if ev.fcm_drop_line is not None:
        return _drop_frame(ev, production, f"FCM: DROP FRAME on line {ev.fcm_drop_line}", said)
    from_title = title_rate(ev.title)
    skipped = []
    if from_title is not None:
        if _fits(from_title, ev):
            return RateDecision(from_title, "file", f"the title {ev.title!r} says {_show(from_title)} ({said})")
        skipped.append(f"the title's {_show(from_title)} is contradicted by the frame fields")
    media = _catalogue_rate(ev, catalogue)
    if media is not None and not _improbable(media[0], ev):
        return RateDecision(media[0], "catalogue", f"{media[1]} ({said})")
    if media is not None:
        skipped.append(f"{media[1]}, which the frame fields make improbable")
    if ev.semicolon_line is not None:
        return _drop_frame(ev, production, f"drop-frame timecodes (';') from line {ev.semicolon_line}", said)
    if _fits(production, ev) and not _improbable(production, ev):
        doubt = [r for fps, r in FAMILIES if ev.top < fps < nominal_fps(production)]
        reason = f"the production's rate; nothing in the list states one ({said})" + "".join(
            f"; {s}" for s in skipped)
        if doubt and ev.top >= 0:
            alt = " or ".join(_show(r) for r in doubt[:2])
            return RateDecision(production, "production", f"{reason}: {alt} would fit as well; if the list is "
                                f"not at {_show(production)}, give --rate", Severity.WARNING)
        return RateDecision(production, "production", reason)
    fps, rate = next(((fps, r) for fps, r in FAMILIES if ev.top < fps), FAMILIES[-1])
    if media is not None and nominal_fps(media[0]) == fps:
        rate = media[0]
    why = ("more than the production's " + _show(production) + " counts" if not _fits(production, ev)
           else f"too few for the production's {_show(production)} over so many timecodes")
    same_count = [r for f, r in ((24, Fraction(24000, 1001)), (30, Fraction(30)), (60, Fraction(60)),
                                 (24, Fraction(24))) if f == fps and r != rate]
    alt = f" (or {_show(same_count[0])}: the same timecode count; give --rate to say which)" if same_count else ""
    notes = "".join(f"; {s}" for s in skipped)
    return RateDecision(rate, "file", f"{said}: {why}; read at {_show(rate)}, the smallest standard rate that "
                        f"counts them{alt}{notes}", Severity.WARNING)


def _drop_frame(ev: RateEvidence, production: Fraction, marker: str, said: str) -> RateDecision:
    rate = Fraction(60000, 1001) if ev.top >= 30 or nominal_fps(production) >= 48 else Fraction(30000, 1001)
    return RateDecision(rate, "file", f"{marker}: drop-frame exists only at 29.97 and 59.94 ({said})")


def _catalogue_rate(ev: RateEvidence, catalogue: CatalogueRates | None) -> tuple[Fraction, str] | None:
    if catalogue is None or not ev.reels:
        return None
    counts = catalogue(ev.reels)
    fitting = [(n, r) for r, n in counts.items() if r is not None and _fits(r, ev)]
    if not fitting:
        return None
    n, rate = max(fitting, key=lambda x: (x[0], x[1]))
    total = sum(counts.values())
    return rate, f"the catalogued media of the list's reels run at {_show(rate)} ({n} of {total} files)"


def _show(rate: Fraction) -> str:
    return format_fps(rate)

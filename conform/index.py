"""The catalogue as matching sees it: each original and proxy, indexed by every name an edit list may use.

Dicts by reel, card, camera clip id, clip name and file name, then a sorted interval search by timecode,
so a 5,000-event list against 100,000 clips stays fast.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import PurePath
from typing import Any

from conform.model import AUX_REELS, Event
from media.timecode import Timecode, TimecodeError, nominal_fps

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
    status: str = "ok"  # the catalogue's verdict on the copy: ok, changed (after its ingest), hash_mismatch

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

    def rates_of(self, reels: Iterable[str]) -> Counter:
        """How many originals of these reels (or files) run at each rate: evidence for an EDL's rate."""
        seen: dict[int, Fraction | None] = {}
        for reel in reels:
            key = reel.strip().upper()
            for c in self.by_reel.get(key) or self.by_name.get(key) or []:
                seen[c.id] = c.rate
        return Counter(r for r in seen.values() if r is not None)

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

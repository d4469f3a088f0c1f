"""The catalogue as matching sees it: each original and proxy, indexed by every name an edit list may use.

Dicts by reel, card, camera clip id, clip name and file name, then a sorted interval search by timecode,
so a 5,000-event list against 100,000 clips stays fast.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import PurePath
from typing import Any, Protocol

from conform.model import AUX_REELS, Event
from media.timecode import Timecode, TimecodeError, nominal_fps
from store.keys import CAMERA as _CAMERA
from store.keys import clip_keys
from store.keys import keys_for_name as _keys_for_name


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


class CatalogueIndex:
    """Originals and proxies of one production, indexed by every name an edit list may use."""

    def __init__(self, clips: list[CatalogueClip]) -> None:
        self.originals = [c for c in clips if c.role == "original"]
        self.proxies = [c for c in clips if c.role != "original"]
        self.by_reel: dict[str, list[CatalogueClip]] = defaultdict(list)
        self.by_name: dict[str, list[CatalogueClip]] = defaultdict(list)
        self.proxy_by_reel: dict[str, list[CatalogueClip]] = defaultdict(list)
        self.proxy_by_name: dict[str, list[CatalogueClip]] = defaultdict(list)
        for group, by_reel, by_name in ((self.originals, self.by_reel, self.by_name),
                                        (self.proxies, self.proxy_by_reel, self.proxy_by_name)):
            for c in group:
                reels, camera_key, names = clip_keys(c.path, c.card, c.reel, c.clip_name)
                if camera_key:
                    by_name[camera_key].append(c)
                for r in reels:
                    by_reel[r].append(c)
                for k in names:
                    by_name[k].append(c)
        self._sorted: list[CatalogueClip] | None = None

    def original_count(self) -> int:
        return len(self.originals)

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


def event_keys(event: Event) -> set[str]:
    """Every key `_lookup` may ask for this event (a superset: all its names' keys, not only the first found)."""
    keys: set[str] = set()
    for name in (event.source_file, event.clip_name):
        if name:
            keys.update(_keys_for_name(name))
            camera = _CAMERA.match(PurePath(name.replace("\\", "/")).name)
            if camera:
                keys.add((camera.group(1) + camera.group(2)).upper())
    reel = (event.reel or "").strip()
    if reel and reel.upper() not in AUX_REELS:
        keys.add(reel.upper())
        keys.update(_keys_for_name(reel))
        camera = _CAMERA.match(reel)
        if camera:
            keys.add((camera.group(1) + camera.group(2)).upper())
    return keys


class CatalogueSource(Protocol):
    """Where a SelectedIndex reads its rows (conform/check.py: the catalogue's SQL queries)."""

    def named(self, keys: Sequence[str]) -> list[CatalogueClip]:
        """The clips whose lookup keys include one of `keys` (and any clip without keys), by id."""
        ...

    def starting(self, first: int, last: int) -> list[CatalogueClip]:
        """The originals with a timecode range starting in [first, last], by start then id."""
        ...

    def longest(self) -> int:
        """The longest duration of an original with a timecode range (0: none)."""
        ...

    def original_count(self) -> int:
        ...


class SelectedIndex:
    """The catalogue index over only the rows an edit list can match, selected by the source (in SQL, by the
    media_keys index) instead of loaded whole: the reels' rows when the list's rate is decided, every name of
    the events before matching (`prepare`), and by timecode only for an event with no name, within its range.

    It answers exactly as a CatalogueIndex over the whole catalogue: each name's list holds every row under
    that name (any row with that key is selected), in catalogue order."""

    def __init__(self, source: CatalogueSource) -> None:
        self.source = source
        self._rows: dict[int, CatalogueClip] = {}
        self._asked: set[str] = set()
        self._index = CatalogueIndex([])
        self._longest: int | None = None

    def _select(self, keys: set[str]) -> None:
        new = keys - self._asked
        if not new and self._asked:
            return
        self._asked |= new or {""}
        fresh = [c for c in self.source.named(sorted(new)) if c.id not in self._rows]
        if fresh or not self._rows:
            for c in fresh:
                self._rows[c.id] = c
            self._index = CatalogueIndex([self._rows[i] for i in sorted(self._rows)])

    def prepare(self, events: Iterable[Event]) -> None:
        """Select the rows every event may be matched with, in one go (chunked IN lists)."""
        keys: set[str] = set()
        for e in events:
            keys |= event_keys(e)
        self._select(keys)

    def rates_of(self, reels: Iterable[str]) -> Counter:
        reels = list(reels)
        self._select({r.strip().upper() for r in reels})
        return self._index.rates_of(reels)

    def names(self, event: Event) -> list[tuple[str, list[CatalogueClip]]]:
        self._select(event_keys(event))
        return self._index.names(event)

    def proxy_names(self, event: Event) -> list[tuple[str, list[CatalogueClip]]]:
        self._select(event_keys(event))
        return self._index.proxy_names(event)

    def by_timecode(self, first: int, end: int, rate: Fraction, drop_frame: bool | None) -> list[CatalogueClip]:
        """As CatalogueIndex.by_timecode, the rows searched selected by start frame in SQL."""
        if self._longest is None:
            self._longest = self.source.longest()
        found = []
        for c in self.source.starting(first - self._longest - 1, end + 1):
            r = c.range_at(rate, drop_frame)
            if r and r[0] < end and first < r[1]:
                found.append(c)
        return found

    def original_count(self) -> int:
        return self.source.original_count()

"""The catalogue as matching sees it: each original and proxy, indexed by every name an edit list may use.

Dicts by reel, card, camera clip id, clip name and file name, then a sorted interval search by timecode,
so a 5,000-event list against 100,000 clips stays fast.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache, partial
from pathlib import PurePath
from typing import Any, Protocol

from conform.candidates import Candidates, Deferred
from conform.model import AUX_REELS, Event
from media.timecode import Timecode, TimecodeError, format_rate, nominal_fps
from store.keys import CAMERA as _CAMERA
from store.keys import KEY_CHARS, clip_keys
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


def _rate_texts(rate: Fraction) -> tuple[str, ...]:
    """A rate as the catalogue may have stored it ("25/1", "25"), each once."""
    return tuple(dict.fromkeys((f"{rate.numerator}/{rate.denominator}", format_rate(rate))))


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


@lru_cache(maxsize=1 << 14)
def _name_keys(name: str) -> tuple[list[str], str | None]:
    """A source file's or clip name's keys (file name, stem) and its camera key (roll + clip index), once per name:
    the index is asked for each event's names twice (which exist, then their rows)."""
    camera = _CAMERA.match(PurePath(name.replace("\\", "/")).name)
    return _keys_for_name(name), (camera.group(1) + camera.group(2)).upper() if camera else None


@lru_cache(maxsize=1 << 14)
def _reel_keys(reel: str) -> tuple[str, list[str], str | None] | None:
    """A reel's keys (stripped): as written, its file name and stem, its camera roll + clip index; None for none
    or an auxiliary source."""
    reel = reel.strip()
    if not reel or reel.upper() in AUX_REELS:
        return None
    camera = _CAMERA.match(reel)
    return reel.upper(), _keys_for_name(reel), (camera.group(1) + camera.group(2)).upper() if camera else None


def _lookup(event: Event, by_reel: dict[str, list[CatalogueClip]],
            by_name: dict[str, list[CatalogueClip]]) -> list[tuple[str, list[CatalogueClip]]]:
    """Candidate sets, most specific first: source file, clip name, then reel (as reel, card, camera roll,
    or a file name used as reel, as Resolve writes)."""
    found: list[tuple[str, list[CatalogueClip]]] = []
    for how, name in (("source file", event.source_file), ("clip name", event.clip_name)):
        if not name:
            continue
        keys, camera = _name_keys(name)
        for key in keys:
            if key in by_name:
                found.append((how, by_name[key]))
                break
        else:
            if camera and camera in by_name:
                found.append((how, by_name[camera]))
    reel_keys = _reel_keys(event.reel) if event.reel else None
    if reel_keys is not None:
        key, stem, camera = reel_keys
        if key in by_reel:
            found.append(("reel", by_reel[key]))
        elif key in by_name:
            found.append(("reel", by_name[key]))
        else:
            hit = next((by_name[k] for k in stem if k in by_name), None)
            if hit:
                found.append(("reel", hit))
            elif camera and camera in by_name:
                found.append(("reel", by_name[camera]))
    return found


def name_keys(event: Event) -> set[str]:
    """The keys of an event's source file and clip name (not its reel's)."""
    keys: set[str] = set()
    for name in (event.source_file, event.clip_name):
        if name:
            found, camera = _name_keys(name)
            keys.update(found)
            if camera:
                keys.add(camera)
    return keys


def _covers(event: Event, rows: list[tuple[str, str, CatalogueClip, bool]]) -> bool:
    """Some original among these rows covers the event's source range, as matching judges it (`_choose`):
    matching will not read the lists after that name's."""
    first, end = event.used_source()
    end = max(end, first + 1)
    rate, df = event.rate, event.source_in.drop_frame
    for _, _, c, _ in rows:
        if c.role == "original" and (r := c.range_at(rate, df)) and r[0] < end and first < r[1]:
            return True
    return False


def event_keys(event: Event) -> set[str]:
    """Every key `_lookup` may ask for this event (a superset: all its names' keys, not only the first found)."""
    keys = name_keys(event)
    reel_keys = _reel_keys(event.reel) if event.reel else None
    if reel_keys is not None:
        key, stem, camera = reel_keys
        keys.add(key)
        keys.update(stem)
        if camera:
            keys.add(camera)
    return keys


class CatalogueSource(Protocol):
    """Where a SelectedIndex reads its rows (conform/check.py: the catalogue's queries, ingest/catalogue.py)."""

    def present(self, keys: Iterable[str]) -> set[tuple[str, str, bool]]:
        """(kind, key, original) for each of `keys` (cut as stored) that some usable row has."""
        ...

    def rates(self, keys: Iterable[str]) -> list[tuple[str, str, int, str | None]]:
        """(kind, key, id, rate text) of the originals under `keys`."""
        ...

    def rate_counts(self, reel_keys: list[str], name_keys: list[str]) -> dict[str | None, int] | None:
        """Distinct originals per rate text under `reel_keys` as reels and `name_keys` as names (None: too many
        keys for one query; ask `rates`)."""
        ...

    def rows(self, keys: Iterable[str]) -> list[tuple[str, str, CatalogueClip, bool]]:
        """(kind, key, clip, shared hash) under `keys`, by id."""
        ...

    def within(self, windows: list[tuple[int, str, int, int, bool]], rates: tuple[str, ...]
               ) -> list[tuple[int, str, str, CatalogueClip, bool]]:
        """For each window (tag, key, first, end, drop-frame): (tag, kind, key, clip, shared hash) of the clips
        under the key that may reach [first, end): all but those whose timecode at one of `rates` with that
        drop-frame flag provably does not; by tag, then id."""
        ...

    def starting(self, first: int, last: int) -> list[CatalogueClip]:
        """The originals with a timecode range starting in [first, last], by start then id."""
        ...

    def longest(self) -> int:
        """The longest duration of an original with a timecode range (0: none)."""
        ...

    def original_count(self) -> int:
        ...


def _has_key(c: CatalogueClip, kind: str, key: str) -> bool:
    reels, camera_key, names = clip_keys(c.path, c.card, c.reel, c.clip_name)
    return key in reels if kind == "reel" else key == camera_key or key in names


class SelectedIndex:
    """The catalogue index over only the rows an edit list can match, selected in SQL (media_keys) instead of
    loaded whole: which of the list's names exist (`prepare`, one batch), then for each event the rows under
    its names that may cover its source range (one query), all the rows of a name only when none covers it,
    and by timecode only for an event with no name, within its range.

    It answers every question of matching as a CatalogueIndex over the whole catalogue does: a name exists
    when a row has it; the clips that cover a range are all there, in catalogue order (identical copies are
    counted once, as `_distinct` does: a clip with a copy elsewhere brings the whole name's list)."""

    def __init__(self, source: CatalogueSource) -> None:
        self.source = source
        self._present: set[tuple[str, str, bool]] = set()
        self._asked: set[str] = set()
        self._whole: dict[tuple[str, str, bool], list[CatalogueClip]] = {}
        self._longest: int | None = None
        self._event: Event | None = None
        self._lists: tuple[dict, dict, dict, dict] = ({}, {}, {}, {})
        self._prepared: dict[int, list[tuple[str, str, CatalogueClip, bool]]] = {}
        self._held: list[Event] = []
        self._event_keys: dict[int, set[str]] = {}
        self._selected: dict[int, set[str]] = {}  # id(event) -> the keys whose rows prepare selected for it
        self._combos: dict[str, list[tuple[str, bool]]] = defaultdict(list)  # key -> (kind, original) present

    def _know(self, keys: Iterable[str]) -> None:
        new = {k for k in keys if k and k not in self._asked}
        if new:
            found = self.source.present(new)
            self._present |= found
            for kind, key, original in found:
                self._combos[key].append((kind, original))
            self._asked |= new

    def _keys_of(self, event: Event) -> set[str]:
        keys = self._event_keys.get(id(event))
        return event_keys(event) if keys is None else keys

    def _whole_list(self, kind: str, key: str, original: bool) -> list[CatalogueClip]:
        found = self._whole.get((kind, key, original))
        if found is None:
            found = self._whole[(kind, key, original)] = [
                c for k, stored, c, _ in self.source.rows([key]) if k == kind and stored == key[:KEY_CHARS]
                and (c.role == "original") == original and (len(key) <= KEY_CHARS or _has_key(c, kind, key))]
        return found

    def _wanted(self, keys: Iterable[str]) -> list[tuple[str, str, bool]]:
        """(kind, key, original) of `keys` that some usable row has (a key longer than stored: checked whole)."""
        wanted = []
        for key in keys:
            for kind, original in self._combos.get(key[:KEY_CHARS], ()):
                if len(key) <= KEY_CHARS or self._whole_list(kind, key, original):
                    wanted.append((kind, key, original))
        return wanted

    def prepare(self, events: Iterable[Event]) -> None:
        """Find which of the events' names exist, then the rows under them that may cover each event's source
        range: a few queries for the whole list (chunked), not one per event."""
        events = list(events)
        self._held = events  # the ids in _prepared and _event_keys stay theirs
        self._event_keys = {id(e): event_keys(e) for e in events}
        self._know(k for keys in self._event_keys.values() for k in keys)
        # Its file and clip names first; its reel only for an event that none of them covers (matching reads a
        # reel's list only then: a reel's list not selected here is selected when read, conform/candidates.py).
        named = {id(e): self._event_keys[id(e)] & name_keys(e) for e in events}
        prepared = self._narrowed(events, named)
        rest = {id(e): self._event_keys[id(e)] - named[id(e)] for e in events
                if not _covers(e, prepared[id(e)])}
        for i, rows in self._narrowed([e for e in events if id(e) in rest], rest).items():
            prepared[i] += rows
        self._prepared = prepared
        self._selected = {i: keys | rest.get(i, set()) for i, keys in named.items()}

    def _narrowed(self, events: list[Event], keys_of: dict[int, set[str]] | None = None
                  ) -> dict[int, list[tuple[str, str, CatalogueClip, bool]]]:
        """id(event) -> (kind, key, clip, shared hash) under its names (`keys_of`: the keys to select for each
        event, else all its names), of the clips that may cover its range."""
        groups: dict[tuple[str, ...], list[tuple[int, str, int, int, bool]]] = defaultdict(list)
        combos = self._combos
        texts: dict[int, tuple[str, ...]] = {}  # id(rate) -> its texts (the events of a list share one rate object)
        for e in events:
            keys = [k for k in (self._keys_of(e) if keys_of is None else keys_of[id(e)])
                    if k in combos and len(k) <= KEY_CHARS]
            if not keys:
                continue
            first, end = e.used_source()
            df = bool(e.source_in.drop_frame)
            rate = e.rate
            rates = texts.get(id(rate))
            if rates is None:
                rates = texts[id(rate)] = _rate_texts(rate)
            groups[rates] += [(id(e), k, first, max(end, first + 1), df) for k in keys]
        found: dict[int, list[tuple[str, str, CatalogueClip, bool]]] = {id(e): [] for e in events}
        for rates, windows in groups.items():
            for i, kind, key, clip, shared in self.source.within(windows, rates):
                found[i].append((kind, key, clip, shared))
        return found

    def _lists_for(self, event: Event) -> tuple[dict, dict, dict, dict]:
        """by_reel, by_name, proxy_by_reel, proxy_by_name for this event's names: each list the clips that may
        cover its source range."""
        if event is self._event:
            return self._lists
        keys = self._keys_of(event)
        self._know(keys)
        wanted = self._wanted(keys)
        lists: dict[tuple[str, str, bool], list[tuple[CatalogueClip, bool]]] = {w: [] for w in wanted}
        narrowed = self._prepared.get(id(event))
        selected = self._selected.get(id(event))  # the keys whose rows prepare selected (None: all of them)
        if narrowed is None:
            narrowed, selected = self._narrowed([event])[id(event)], None
        for kind, key, c, shared in narrowed:
            found = lists.get((kind, key, c.role == "original"))
            if found is not None:
                found.append((c, shared))
        out: tuple[dict, dict, dict, dict] = ({}, {}, {}, {})
        for (kind, key, original), clips in lists.items():
            all_of = partial(self._whole_list, kind, key, original)
            if selected is not None and key not in selected and len(key) <= KEY_CHARS:
                chosen: Candidates = Deferred(partial(self._candidates, event, kind, key, original), all_of)
            else:
                chosen = Candidates(self._chosen(kind, key, original, clips), all_of)
            out[(0 if kind == "reel" else 1) + (0 if original else 2)][key] = chosen
        self._event, self._lists = event, out
        return out

    def _chosen(self, kind: str, key: str, original: bool, clips: list[tuple[CatalogueClip, bool]]
                ) -> list[CatalogueClip]:
        """The clips under a name that may cover the event, from its narrowed rows: the name's whole list when a
        clip has an identical copy (`_distinct` counts copies once, over them all) or the key is cut as stored."""
        if len(key) > KEY_CHARS or any(shared for _, shared in clips):
            return self._whole_list(kind, key, original)
        return [c for c, _ in clips]

    def _candidates(self, event: Event, kind: str, key: str, original: bool) -> list[CatalogueClip]:
        """A name's candidates for one event, selected now (a Deferred list's first read)."""
        rows = self._narrowed([event], {id(event): {key}})[id(event)]
        clips = [(c, shared) for k, stored, c, shared in rows
                 if k == kind and stored == key and (c.role == "original") == original]
        return self._chosen(kind, key, original, clips)

    def rates_of(self, reels: Iterable[str]) -> Counter:
        """As CatalogueIndex.rates_of, counted in SQL (each original once, under the reel when some original has
        it as its reel, else under the name)."""
        keys = list(dict.fromkeys(reel.strip().upper() for reel in reels))
        if all(len(k) <= KEY_CHARS for k in keys):
            self._know(keys)
            present = self._present
            reel_keys = [k for k in keys if ("reel", k, True) in present]
            name_keys = [k for k in keys if ("reel", k, True) not in present and ("name", k, True) in present]
            counts = self.source.rate_counts(reel_keys, name_keys) if reel_keys or name_keys else {}
            if counts is not None:
                found: Counter = Counter()
                for text, n in counts.items():
                    if text:
                        found[rate_of_text(text)] += n
                return found
        by_key: dict[tuple[str, str], list[tuple[int, str | None]]] = defaultdict(list)
        for kind, key, clip_id, rate in self.source.rates(k for k in keys if len(k) <= KEY_CHARS):
            by_key[(kind, key)].append((clip_id, rate))
        for key in (k for k in keys if len(k) > KEY_CHARS):
            for kind in ("reel", "name"):
                by_key[(kind, key)] = [(c.id, None if c.rate is None else f"{c.rate.numerator}/{c.rate.denominator}")
                                       for c in self._whole_list(kind, key, True)]
        seen: dict[int, Fraction | None] = {}
        for key in keys:
            for clip_id, rate in by_key.get(("reel", key)) or by_key.get(("name", key)) or []:
                seen[clip_id] = rate_of_text(rate) if rate else None
        return Counter(r for r in seen.values() if r is not None)

    def names(self, event: Event) -> list[tuple[str, list[CatalogueClip]]]:
        by_reel, by_name, _, _ = self._lists_for(event)
        return _lookup(event, by_reel, by_name)

    def proxy_names(self, event: Event) -> list[tuple[str, list[CatalogueClip]]]:
        _, _, by_reel, by_name = self._lists_for(event)
        return _lookup(event, by_reel, by_name)

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

    def close(self) -> None:
        close = getattr(self.source, "close", None)
        if close is not None:
            close()


AnyIndex = CatalogueIndex | SelectedIndex  # what matching asks: the same questions, the same answers

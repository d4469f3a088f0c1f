"""What conform reads of the catalogue: plain SQL on a DB-API connection, no SQLAlchemy to import.

The same SQL runs on a full Store (its engine's driver connection) and on store/reading.py's SqliteReader (the
standard library's sqlite3, which is also what SQLAlchemy drives for SQLite), so both give the same rows:
`postprod conform` reads a SQLite store at HEAD without loading SQLAlchemy (a third of its start-up).
`Catalogue` (ingest/catalogue.py) is a CatalogueReader with the writes and the other reads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import TYPE_CHECKING, Any, NamedTuple

from media.model import MediaFile
from store.keys import KEY_CHARS, ROW_KEY, lookup_keys
from store.reading import naming_unreachable
from store.rows import ByKey

if TYPE_CHECKING:
    from store.reading import Readable


@dataclass(frozen=True)
class MediaRow(ByKey):
    """One catalogued file: an original, or a proxy (source_id: its original's id)."""

    id: int
    production: str
    path: str
    card: str  # the card (or folder) root it came in with
    relpath: str
    role: str  # original | proxy
    source_id: int | None
    kind: str  # media | sidecar | unreadable
    size: int
    mtime_ns: int
    hash_algorithm: str | None
    hash: str | None
    clip_name: str | None
    reel: str | None
    start_frames: int | None
    duration_frames: int | None
    rate: str | None  # "num/den"
    drop_frame: bool | None
    worst_severity: str | None
    status: str  # ok | changed | missing
    media_json: str
    ingest_id: int | None
    first_seen: datetime
    updated_at: datetime

    @property
    def media(self) -> MediaFile:
        """The media description stored at its ingest."""
        return MediaFile.model_validate_json(self.media_json)

    @property
    def timecode_rate(self) -> Fraction | None:
        return Fraction(self.rate) if self.rate else None


# The media table's columns (store/tables.py's order), with what SQLAlchemy makes of SQLite's values: a DateTime's
# text read with datetime.fromisoformat, a Boolean's 0/1 as bool (sqlalchemy.dialects.sqlite; PostgreSQL's driver
# gives these types itself). tests/store/test_store_reading.py holds them equal to store/tables.py's.
MEDIA_COLUMNS: dict[str, Callable[[Any], Any] | None] = {
    "id": None, "production": None, "path": None, "card": None, "relpath": None, "role": None, "source_id": None,
    "kind": None, "size": None, "mtime_ns": None, "hash_algorithm": None, "hash": None, "clip_name": None,
    "reel": None, "start_frames": None, "duration_frames": None, "rate": None, "drop_frame": bool,
    "worst_severity": None, "status": None, "media_json": None, "ingest_id": None,
    "first_seen": datetime.fromisoformat, "updated_at": datetime.fromisoformat}


class IndexRow(NamedTuple):
    """What matching an edit list needs of one catalogued clip (a tuple: 100,000 of them load fast)."""

    id: int
    path: str
    card: str | None
    reel: str | None
    clip_name: str | None
    start_frames: int | None
    duration_frames: int | None
    rate: str | None
    drop_frame: bool | None
    role: str | None
    source_id: int | None
    hash: str | None
    status: str | None = None  # ok | changed | hash_mismatch ... (missing rows are left out)


class KeyedRow(NamedTuple):
    kind: str  # reel | name (store/keys.py)
    key: str
    row: IndexRow
    shared: bool  # another row of the production has the same hash (an identical copy)


_INDEX_COLUMNS = ("id, path, card, reel, clip_name, start_frames, duration_frames, rate, drop_frame, role, "
                  "source_id, hash, status")
_USABLE = "production = {m} AND kind = 'media' AND status <> 'missing'"  # a media file of the production, there
_ORIGINAL = "(role = 'original' OR role IS NULL)"


class CatalogueReader:
    """The catalogue's rows as conform reads them, from a Store or a SqliteReader (store/reading.py)."""

    def __init__(self, store: Readable) -> None:
        self.store = store
        self.url = store.url
        self._mark = "?" if store.paramstyle == "qmark" else "%s"

    def _all(self, sql: str, args: tuple[Any, ...]) -> list[Any]:
        """The rows of one query (`{m}` marks each parameter), on a connection of its own."""
        with naming_unreachable(self.url, Exception):  # whatever the driver
            conn = self.store.raw_connection()
            try:
                cursor = conn.cursor()
                cursor.execute(sql.format(m=self._mark), args)
                return cursor.fetchall()
            finally:
                conn.close()

    def lookup(self, production: str, path: str) -> MediaRow | None:
        """The row of a catalogued file (what `postprod probe` asks of a production's catalogue)."""
        rows = self._all(f"SELECT {', '.join(MEDIA_COLUMNS)} FROM media WHERE production = {{m}} AND path = {{m}}",
                         (production, path))
        if not rows:
            return None
        sqlite = self.store.dialect == "sqlite"
        return MediaRow(**{name: (read(value) if sqlite and read is not None and value is not None else value)
                           for (name, read), value in zip(MEDIA_COLUMNS.items(), rows[0], strict=True)})

    def sources(self, production: str) -> set[str]:
        """The cards and folders the production's ingests took (each once, however many times ingested)."""
        return {row[0] for row in self._all("SELECT DISTINCT source FROM ingests WHERE production = {m}",
                                            (production,))}

    def index_rows(self, production: str) -> list[IndexRow]:
        """Every media file of the production still there (originals and proxies), as matching needs them,
        in catalogue order (by id): one query, no JSON decoding."""
        rows = self._all(f"SELECT {_INDEX_COLUMNS} FROM media WHERE {_USABLE} ORDER BY id", (production,))
        return [IndexRow._make(r) for r in rows]

    def unkeyed(self, production: str) -> int:
        """How many media rows of the production have no lookup keys (a catalogue filled by other means than
        record(): conform then loads the whole catalogue rather than miss them)."""
        rows = self._all("SELECT COUNT(*) FROM media WHERE production = {m}", (production,))
        keyed = self._all("SELECT COUNT(*) FROM media_keys WHERE production = {m} AND key = {m} AND kind = {m}",
                          (production, ROW_KEY[1], ROW_KEY[0]))  # one ("row", "") key per row: two counts
        return int(rows[0][0] or 0) - int(keyed[0][0] or 0)

    def keyed(self, production: str) -> KeyedRows:
        """The production's rows by lookup key (store/keys.py), on one connection: what conform selects."""
        return KeyedRows(self, production)

    def index_rows_starting(self, production: str, first: int, last: int) -> list[IndexRow]:
        """The originals (as index_rows) with a timecode range whose start frame is in [first, last], by start
        frame then id."""
        rows = self._all(f"SELECT {_INDEX_COLUMNS} FROM media WHERE {_USABLE} AND {_ORIGINAL} AND start_frames "
                         "BETWEEN {m} AND {m} AND duration_frames IS NOT NULL ORDER BY start_frames, id",
                         (production, first, last))
        return [IndexRow._make(r) for r in rows]

    def longest_original(self, production: str) -> int:
        """The longest duration (frames) of the production's originals with a timecode range (0: none)."""
        rows = self._all(f"SELECT MAX(duration_frames) FROM media WHERE {_USABLE} AND {_ORIGINAL} "
                         "AND start_frames IS NOT NULL", (production,))
        return int(rows[0][0] or 0)

    def originals_per_production(self) -> dict[str, int]:
        """How many media originals (still there) each production holds."""
        rows = self._all("SELECT production, COUNT(*) FROM media WHERE kind = 'media' AND status <> 'missing' "
                         "AND role = 'original' GROUP BY production", ())
        return {row[0]: row[1] for row in rows}


class KeyedRows:
    """The catalogue rows of one production by lookup key, for conform: which keys exist, the rows of a key
    (all, or only those that may cover a source range), the rates of reels. Plain DB-API queries on one
    connection, their SQL made once per number of keys: one query per event stays cheap."""

    _ROW = ("m.id, m.path, m.card, m.reel, m.clip_name, m.start_frames, m.duration_frames, m.rate, m.drop_frame, "
            "m.role, m.source_id, m.hash, m.status")
    _FROM = ("FROM media_keys k JOIN media m ON m.id = k.media_id WHERE k.production = {p} AND m.production = {p} "
             "AND k.usable = {true} AND m.kind = 'media' AND m.status <> 'missing' AND k.key IN ({keys})")

    _SHARED = ("CASE WHEN m.hash IS NOT NULL AND EXISTS (SELECT 1 FROM media d WHERE d.production = m.production "
               "AND d.hash = m.hash AND d.id <> m.id) THEN 1 ELSE 0 END")

    def __init__(self, catalogue: CatalogueReader, production: str, *, chunk: int = 500) -> None:
        self.production, self.chunk = production, chunk
        store = catalogue.store
        self._conn = store.raw_connection()
        sqlite = store.dialect == "sqlite"
        self._mark = "?" if store.paramstyle == "qmark" else "%s"
        self._false, self._true = ("0", "1") if sqlite else ("false", "true")
        self._limit = 30000  # bound parameters in one statement (PostgreSQL: 65,535)
        if sqlite:
            driver = getattr(self._conn, "driver_connection", self._conn)  # (SQLAlchemy's, or sqlite3's own)
            getlimit = getattr(driver, "getlimit", None)  # Python 3.11+: SQLite's own limit (999 before 3.32)
            self._limit = getlimit(9) if getlimit else 999  # 9: SQLITE_LIMIT_VARIABLE_NUMBER
        self._sql: dict[tuple[str, int], str] = {}

    def close(self) -> None:
        self._conn.close()

    def _query(self, what: str, n: int, template: str) -> str:
        sql = self._sql.get((what, n))
        if sql is None:
            m = self._mark
            sql = self._sql[(what, n)] = template.format(
                p=m, keys=", ".join([m] * n), m=m, row=self._ROW, true=self._true,
                from_=self._FROM.format(p=m, keys=", ".join([m] * n), true=self._true))
        return sql

    def _run(self, sql: str, args: Iterable[Any]) -> list[Any]:
        cursor = self._conn.cursor()
        try:
            cursor.execute(sql, tuple(args))
            return cursor.fetchall()
        finally:
            cursor.close()

    def _chunks(self, keys: Iterable[str]) -> Iterator[list[str]]:
        wanted = sorted(lookup_keys(keys))
        for start in range(0, len(wanted), self.chunk):
            yield wanted[start:start + self.chunk]

    def present(self, keys: Iterable[str]) -> set[tuple[str, str, bool]]:
        """(kind, key, original) of each of `keys` some usable row has (original: a camera original's): from
        the keys' index alone."""
        found: set[tuple[str, str, bool]] = set()
        template = ("SELECT DISTINCT kind, key, original FROM media_keys WHERE production = {p} AND usable = {true} "
                    "AND key IN ({keys})")
        for chunk in self._chunks(keys):
            sql = self._query("present", len(chunk), template)
            found.update((kind, key, bool(original))
                         for kind, key, original in self._run(sql, [self.production, *chunk]))
        return found

    def rate_counts(self, reel_keys: list[str], name_keys: list[str]) -> dict[str | None, int] | None:
        """How many distinct usable originals run at each rate, of those under `reel_keys` as reels and under
        `name_keys` as names; None when the keys do not fit one statement (then ask `rates`)."""
        m = self._mark
        if not reel_keys or not name_keys:  # an IN () is not SQL
            reel_keys, name_keys = reel_keys or [""], name_keys or [""]
        if len(reel_keys) + len(name_keys) + 3 > self._limit:
            return None
        reels, names = ", ".join([m] * len(reel_keys)), ", ".join([m] * len(name_keys))
        each = f"SELECT media_id, rate FROM media_keys WHERE production = {m} AND usable = {self._true} AND " \
               f"original = {self._true} AND kind = "
        sql = (f"SELECT rate, COUNT(DISTINCT media_id) FROM ({each}'reel' AND key IN ({reels}) UNION ALL "
               f"{each}'name' AND key IN ({names})) AS u GROUP BY rate")  # two index searches, not one OR'ed scan
        return dict(self._run(sql, [self.production, *reel_keys, self.production, *name_keys]))

    def rates(self, keys: Iterable[str]) -> list[tuple[str, str, int, str | None]]:
        """(kind, key, id, rate) of the usable originals under `keys`."""
        template = ("SELECT kind, key, media_id, rate FROM media_keys WHERE production = {p} AND usable = {true} "
                    "AND original = {true} AND key IN ({keys})")
        out: list[tuple[str, str, int, str | None]] = []
        for chunk in self._chunks(keys):
            out += self._run(self._query("rates", len(chunk), template), [self.production, *chunk])
        return out

    def rows(self, keys: Iterable[str]) -> list[KeyedRow]:
        """Every row under `keys`, by id."""
        template = f"SELECT k.kind, k.key, {{row}}, {self._SHARED} {{from_}} ORDER BY m.id"
        out: list[KeyedRow] = []
        for chunk in self._chunks(keys):
            out += [KeyedRow(r[0], r[1], IndexRow._make(r[2:15]), bool(r[15]))
                    for r in self._run(self._query("rows", len(chunk), template),
                                       [self.production, self.production, *chunk])]
        out.sort(key=lambda r: r.row.id)  # chunks: one list by id again (stable: already sorted within each)
        return out

    def within(self, windows: list[tuple[int, str, int, int, bool]], rates: tuple[str, ...]
               ) -> list[tuple[int, str, str, tuple, bool]]:
        """For each window (tag, key, first, end, drop-frame), the rows under its key that may reach
        [first, end): all but those whose timecode at one of `rates` with that drop-frame flag provably does
        not (another rate, no timecode: kept, for the caller to judge); by tag, then id: (tag, kind, key, the
        row's columns as IndexRow orders them, shared hash), plain tuples (thousands come back). One query per
        chunk of windows (a VALUES list joined to the keys), not one per event."""
        m = self._mark
        per_chunk = max(1, min(self.chunk, (self._limit - len(rates) - 2) // 5))  # small statements: small memory
        out: list[tuple[int, str, str, tuple, bool]] = []
        for start in range(0, len(windows), per_chunk):
            chunk = windows[start:start + per_chunk]
            values = ", ".join([f"({m}, {m}, {m}, {m}, {m})"] * len(chunk))
            sql = (f"WITH w(tag, key, lo, hi, df) AS (VALUES {values}) "
                   f"SELECT w.tag, k.kind, k.key, {self._ROW}, {self._SHARED} FROM w "
                   # CROSS JOIN: SQLite keeps the windows outside (each a lookup by key), never the reverse; the
                   # range is judged on the keys' index (its copy of the timecode), the media rows read after.
                   "CROSS JOIN media_keys k JOIN media m ON m.id = k.media_id "
                   f"WHERE k.production = {m} AND k.key = w.key AND k.usable = {self._true} AND NOT ("
                   f"k.rate IS NOT NULL AND k.rate IN ({', '.join([m] * len(rates))}) "  # a NULL rate: kept, not lost
                   f"AND COALESCE(k.drop_frame, {self._false}) = w.df AND k.start_frames IS NOT NULL AND "
                   "k.end_frames IS NOT NULL AND (k.start_frames >= w.hi OR k.end_frames <= w.lo)) "
                   "AND m.kind = 'media' AND m.status <> 'missing' ORDER BY w.tag, m.id")
            args = [v for w in chunk for v in (w[0], w[1][:KEY_CHARS], w[2], w[3], w[4])]
            out += [(r[0], r[1], r[2], r[3:16], bool(r[16])) for r in self._run(sql, [*args, self.production, *rates])]
        if len(windows) > per_chunk:
            out.sort(key=lambda t: t[0])
        return out

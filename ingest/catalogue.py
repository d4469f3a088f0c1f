"""The rushes catalogue: every ingested file with its hash and media description, per production.

Rows come back typed: IngestRow and MediaRow (every column), IndexRow (what matching an edit list needs,
fetched in bulk). The tables are store/tables.py's; their schema is the store's migrations'.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any, NamedTuple

from sqlalchemy import Connection, delete, func, or_, select, update

from media.model import MediaFile, MediaKind
from media.timecode import format_rate
from store import ByKey, Store, row_of
from store.keys import KEY_CHARS, ROW_KEY, key_rows, lookup_keys, usable
from store.tables import ingests, media, media_keys


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class IngestRow(ByKey):
    """One ingest of a card or folder (finished_at None: it did not finish)."""

    id: int
    production: str
    source: str
    started_at: datetime
    finished_at: datetime | None
    files: int
    new_files: int
    skipped: int
    errors: int
    warnings: int
    report_json: str | None
    report_html: str | None


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


class Catalogue:
    """Access to the catalogue tables in one database (SQLite file or server)."""

    def __init__(self, store: Store | str) -> None:
        self.store = Store.of(store)
        self.url = self.store.url
        self.engine = self.store.engine

    # -- ingests ---------------------------------------------------------------------------
    def start_ingest(self, production: str, source: str) -> int:
        with self.store.write() as conn:
            result = conn.execute(ingests.insert().values(production=production, source=source, started_at=now()))
            return int(result.inserted_primary_key[0])

    def finish_ingest(self, ingest_id: int, **counts: Any) -> None:
        with self.store.write() as conn:
            conn.execute(update(ingests).where(ingests.c.id == ingest_id).values(finished_at=now(), **counts))

    def ingest_rows(self, production: str | None = None) -> list[IngestRow]:
        query = select(ingests).order_by(ingests.c.id)
        if production:
            query = query.where(ingests.c.production == production)
        with self.store.read() as conn:
            return [row_of(IngestRow, r) for r in conn.execute(query)]

    # -- media -----------------------------------------------------------------------------
    def lookup(self, production: str, path: str) -> MediaRow | None:
        with self.store.read() as conn:
            row = conn.execute(select(media).where(media.c.production == production, media.c.path == path)).first()
            return row_of(MediaRow, row) if row else None

    def originals_state(self, production: str) -> dict[str, tuple[int, int, str]]:
        """path -> (size, mtime_ns, status) of every original catalogued for the production."""
        query = select(media.c.path, media.c.size, media.c.mtime_ns, media.c.status).where(
            media.c.production == production, media.c.role == "original")
        with self.store.read() as conn:
            return {r.path: (r.size, r.mtime_ns, r.status) for r in conn.execute(query)}

    def clip_names(self, production: str, role: str = "original") -> list[tuple[str, str]]:
        query = select(media.c.clip_name, media.c.path).where(
            media.c.production == production, media.c.role == role, media.c.kind == MediaKind.MEDIA.value)
        with self.store.read() as conn:
            return [(r.clip_name, r.path) for r in conn.execute(query) if r.clip_name]

    def record(self, production: str, item: MediaFile, *, card: str, relpath: str, hash_algorithm: str | None,
               hash_value: str | None, ingest_id: int | None, role: str = "original",
               source_id: int | None = None, status: str = "ok", within: Connection | None = None) -> int:
        """Insert or update one file's row; returns its id. `within`: a transaction of the caller's (one commit
        for this row and the caller's own), else one of its own."""
        start = item.start
        values = {
            "card": card,
            "relpath": relpath,
            "role": role,
            "source_id": source_id,
            "kind": item.kind.value,
            "size": item.size or 0,
            "mtime_ns": item.mtime_ns or 0,
            "hash_algorithm": hash_algorithm,
            "hash": hash_value,
            "clip_name": item.clip_name,
            "reel": item.reel,
            "start_frames": start.frames if start else None,
            "duration_frames": item.duration_frames,
            "rate": format_rate(item.timecode_rate) if item.timecode_rate else None,
            "drop_frame": item.drop_frame,
            "worst_severity": item.worst_severity.value if item.worst_severity else None,
            "status": status,
            "media_json": item.model_dump_json(),
            "ingest_id": ingest_id,
            "updated_at": now(),
        }
        if within is None:
            with self.store.write() as conn:
                return _upsert(conn, production, item.path, values)
        return _upsert(within, production, item.path, values)

    def mark(self, production: str, path: str, status: str) -> None:
        with self.store.write() as conn:
            conn.execute(update(media).where(media.c.production == production, media.c.path == path)
                         .values(status=status, updated_at=now()))
            row = conn.execute(select(media.c.id, media.c.kind).where(
                media.c.production == production, media.c.path == path)).first()
            if row is not None:  # the copy beside its keys (store/keys.py) follows
                conn.execute(update(media_keys).where(media_keys.c.media_id == row.id).values(
                    usable=usable(row.kind, status)))

    def rows(self, production: str | None = None, *, role: str | None = None) -> Iterator[MediaRow]:
        query = select(media).order_by(media.c.id)
        if production:
            query = query.where(media.c.production == production)
        if role:
            query = query.where(media.c.role == role)
        with self.store.read() as conn:
            for r in conn.execute(query):
                yield row_of(MediaRow, r)

    def cards(self, production: str) -> list[tuple[str, int]]:
        """Each card (or folder) of the production with its number of originals, by card."""
        query = (select(media.c.card, func.count()).where(media.c.production == production, media.c.role == "original")
                 .group_by(media.c.card).order_by(media.c.card))
        with self.store.read() as conn:
            return [(r[0], r[1]) for r in conn.execute(query)]

    def find(self, production: str, *, card: str = "", reel: str = "", text: str = "") -> list[MediaRow]:
        """The production's originals on a card, with a reel (any case), whose clip name or path holds a text
        (any case); by card and path."""
        query = select(media).where(media.c.production == production, media.c.role == "original")
        if card:
            query = query.where(media.c.card == card)
        if reel:
            query = query.where(func.lower(media.c.reel) == reel.lower())
        if text:
            like = f"%{text.lower().replace('%', '').replace('_', '')}%"
            query = query.where(or_(func.lower(media.c.clip_name).like(like), func.lower(media.c.relpath).like(like)))
        with self.store.read() as conn:
            return [row_of(MediaRow, r) for r in conn.execute(query.order_by(media.c.card, media.c.relpath))]

    def media_files(self, production: str, *, role: str | None = "original") -> list[MediaFile]:
        """The catalogue as media models (what conform and QC read)."""
        return [r.media for r in self.rows(production, role=role)]

    # -- what conform reads ------------------------------------------------------------------
    _INDEX_COLUMNS = (media.c.id, media.c.path, media.c.card, media.c.reel, media.c.clip_name, media.c.start_frames,
                      media.c.duration_frames, media.c.rate, media.c.drop_frame, media.c.role, media.c.source_id,
                      media.c.hash, media.c.status)

    def _usable(self, production: str) -> list[Any]:
        return [media.c.production == production, media.c.kind == MediaKind.MEDIA.value, media.c.status != "missing"]

    def index_rows(self, production: str) -> list[IndexRow]:
        """Every media file of the production still there (originals and proxies), as matching needs them,
        in catalogue order (by id): one query, no JSON decoding."""
        return self._index_query(select(*self._INDEX_COLUMNS).where(*self._usable(production)).order_by(media.c.id))

    def unkeyed(self, production: str) -> int:
        """How many media rows of the production have no lookup keys (a catalogue filled by other means than
        record(): conform then loads the whole catalogue rather than miss them)."""
        rows = select(func.count()).select_from(media).where(media.c.production == production)
        keyed = select(func.count()).select_from(media_keys).where(  # one ("row", "") key per row: two counts
            media_keys.c.production == production, media_keys.c.key == ROW_KEY[1], media_keys.c.kind == ROW_KEY[0])
        with self.store.read() as conn:
            return int(conn.execute(rows).scalar() or 0) - int(conn.execute(keyed).scalar() or 0)

    def keyed(self, production: str) -> KeyedRows:
        """The production's rows by lookup key (store/keys.py), on one connection: what conform selects."""
        return KeyedRows(self, production)

    def index_rows_starting(self, production: str, first: int, last: int) -> list[IndexRow]:
        """The originals (as index_rows) with a timecode range whose start frame is in [first, last], by start
        frame then id."""
        query = select(*self._INDEX_COLUMNS).where(
            *self._usable(production), or_(media.c.role == "original", media.c.role.is_(None)),
            media.c.start_frames.between(first, last), media.c.duration_frames.is_not(None)).order_by(
            media.c.start_frames, media.c.id)
        return self._index_query(query)

    def longest_original(self, production: str) -> int:
        """The longest duration (frames) of the production's originals with a timecode range (0: none)."""
        query = select(func.max(media.c.duration_frames)).where(
            *self._usable(production), or_(media.c.role == "original", media.c.role.is_(None)),
            media.c.start_frames.is_not(None))
        with self.store.read() as conn:
            return int(conn.execute(query).scalar() or 0)

    def _index_query(self, query: Any) -> list[IndexRow]:
        # A plain DB-API cursor: 100,000 rows come back several times faster than through Row objects.
        compiled = query.compile(dialect=self.engine.dialect, compile_kwargs={"render_postcompile": True})
        params = compiled.construct_params()
        args = tuple(params[k] for k in compiled.positiontup or ()) if compiled.positional else params
        with self.store.read() as conn:
            cursor = conn.connection.cursor()
            try:
                cursor.execute(str(compiled), args)
                return [IndexRow._make(r) for r in cursor.fetchall()]
            finally:
                cursor.close()

    def originals_per_production(self) -> dict[str, int]:
        """How many media originals (still there) each production holds."""
        query = (select(media.c.production, func.count()).where(
            media.c.kind == MediaKind.MEDIA.value, media.c.status != "missing", media.c.role == "original")
            .group_by(media.c.production))
        with self.store.read() as conn:
            return {row[0]: row[1] for row in conn.execute(query)}


def _upsert(conn: Connection, production: str, path: str, values: dict[str, Any]) -> int:
    """Insert or update the row of a path; its id."""
    existing = conn.execute(select(media.c.id).where(media.c.production == production, media.c.path == path)).first()
    if existing:
        media_id = int(existing.id)
        conn.execute(update(media).where(media.c.id == media_id).values(**values))
        conn.execute(delete(media_keys).where(media_keys.c.media_id == media_id))
    else:
        result = conn.execute(media.insert().values(production=production, path=path, first_seen=now(), **values))
        media_id = int(result.inserted_primary_key[0])
    # The names an edit list may use for it, in the same transaction (store/keys.py).
    conn.execute(media_keys.insert(), key_rows(media_id, production, path, values))
    return media_id


class KeyedRow(NamedTuple):
    kind: str  # reel | name (store/keys.py)
    key: str
    row: IndexRow
    shared: bool  # another row of the production has the same hash (an identical copy)


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

    def __init__(self, catalogue: Catalogue, production: str, *, chunk: int = 500) -> None:
        self.production, self.chunk = production, chunk
        self._conn = catalogue.engine.raw_connection()
        sqlite = catalogue.engine.dialect.name == "sqlite"
        self._mark = "?" if catalogue.engine.dialect.paramstyle == "qmark" else "%s"
        self._false, self._true = ("0", "1") if sqlite else ("false", "true")
        self._limit = 30000  # bound parameters in one statement (PostgreSQL: 65,535)
        if sqlite:
            driver = getattr(self._conn, "driver_connection", None)
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

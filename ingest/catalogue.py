"""The rushes catalogue: every ingested file with its hash and media description, per production.

Rows come back typed: IngestRow and MediaRow (every column), IndexRow (what matching an edit list needs,
fetched in bulk). The tables are store/tables.py's; their schema is the store's migrations'.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, or_, select, update

from ingest.catalogue_read import CatalogueReader, IndexRow, KeyedRow, KeyedRows, MediaRow
from ingest.catalogue_rows import media_values, now
from media.model import MediaFile, MediaKind
from store import ByKey, Store, row_of
from store.keys import key_rows, usable
from store.tables import ingests, media, media_keys

__all__ = ["Catalogue", "CatalogueReader", "IndexRow", "IngestRow", "KeyedRow", "KeyedRows", "MediaRow", "now"]


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


class Catalogue(CatalogueReader):
    """Access to the catalogue tables in one database (SQLite file or server); what conform reads is
    CatalogueReader's (ingest/catalogue_read.py: plain SQL, the same on a store opened without SQLAlchemy)."""

    store: Store

    def __init__(self, store: Store | str) -> None:
        super().__init__(Store.of(store))
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
        values = media_values(item, card=card, relpath=relpath, hash_algorithm=hash_algorithm, hash_value=hash_value,
                              ingest_id=ingest_id, role=role, source_id=source_id, status=status)
        return self.record_values(production, item.path, values, within=within)

    def record_values(self, production: str, path: str, values: dict[str, Any], *,
                      within: Connection | None = None) -> int:
        """Insert or update the row of a path with these values (catalogue_rows.media_values); its id."""
        if within is None:
            with self.store.write() as conn:
                return _upsert(conn, production, path, values)
        return _upsert(within, production, path, values)

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


def _upsert(conn: Connection, production: str, path: str, values: dict[str, Any]) -> int:
    """Insert or update the row of a path; its id."""
    existing = conn.execute(select(media.c.id).where(media.c.production == production, media.c.path == path)).first()
    if existing:
        media_id = int(existing.id)
        conn.execute(update(media).where(media.c.id == media_id).values(**values))
        conn.execute(delete(media_keys).where(media_keys.c.media_id == media_id))
    else:
        result = conn.execute(media.insert().values(production=production, path=path, first_seen=values["updated_at"],
                                                    **values))
        media_id = int(result.inserted_primary_key[0])
    # The names an edit list may use for it, in the same transaction (store/keys.py).
    conn.execute(media_keys.insert(), key_rows(media_id, production, path, values))
    return media_id

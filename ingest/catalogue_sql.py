"""The catalogue's writes of an ingest in plain SQL, on a SQLite store at HEAD (store/writing.py's SqliteWriter).

The same statements as ingest/catalogue.py's Catalogue (SQLAlchemy Core), with the same values
(ingest/catalogue_rows.py's media_values, store/keys.py's key rows, SQLAlchemy's Python-side column defaults)
bound as SQLAlchemy's SQLite dialect binds them (store/writing.py's sqlite_value): an ingest on such a store
never imports SQLAlchemy. `catalogue_for` picks the writer for a store; PostgreSQL, a store to migrate, and a
Store handed over by a flow keep Catalogue. tests/ingest/test_ingest_sqlite_writes.py holds the two equal,
row for row, over real cards (re-runs, a failed verification, a changed file, a touched one).
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

from ingest.catalogue_read import CatalogueReader
from ingest.catalogue_rows import media_values, now
from media.model import MediaFile, MediaKind
from store.keys import key_rows, usable
from store.writing import SqliteWriter, insert, open_for_writing, update

if TYPE_CHECKING:
    from ingest.catalogue import Catalogue
    from store.base import Store

# ingests' columns with a Python-side default (store/tables.py: default=0), which SQLAlchemy's INSERT fills in.
_INGEST_DEFAULTS = {"files": 0, "new_files": 0, "skipped": 0, "errors": 0, "warnings": 0}


def catalogue_for(store: Store | SqliteWriter | str) -> Catalogue | SqliteCatalogue:
    """The catalogue of an ingest: plain SQL on a SQLite store at HEAD (a URL is opened with
    store/writing.py's open_for_writing), else SQLAlchemy's."""
    if isinstance(store, str):
        store = open_for_writing(store)
    if isinstance(store, SqliteWriter):
        return SqliteCatalogue(store)
    from ingest.catalogue import Catalogue

    return Catalogue(store)


class SqliteCatalogue(CatalogueReader):
    """What an ingest asks of the catalogue (Catalogue's methods of the same names), on a SqliteWriter."""

    store: SqliteWriter

    def __init__(self, store: SqliteWriter) -> None:
        super().__init__(store)

    def start_ingest(self, production: str, source: str) -> int:
        with self.store.write() as conn:
            return insert(conn, "ingests", {"production": production, "source": source, "started_at": now(),
                                            **_INGEST_DEFAULTS})

    def finish_ingest(self, ingest_id: int, **counts: Any) -> None:
        with self.store.write() as conn:
            update(conn, "ingests", {"finished_at": now(), **counts}, "id = ?", (ingest_id,))

    def clip_names(self, production: str, role: str = "original") -> list[tuple[str, str]]:
        rows = self._all("SELECT clip_name, path FROM media WHERE production = {m} AND role = {m} AND kind = {m}",
                         (production, role, MediaKind.MEDIA.value))
        return [(clip_name, path) for clip_name, path in rows if clip_name]

    def record(self, production: str, item: MediaFile, *, card: str, relpath: str, hash_algorithm: str | None,
               hash_value: str | None, ingest_id: int | None, role: str = "original",
               source_id: int | None = None, status: str = "ok", within: sqlite3.Connection | None = None) -> int:
        """Catalogue.record: insert or update one file's row and its keys; its id. `within`: a transaction of
        the caller's (SqliteWriter.write()), else one of its own."""
        values = media_values(item, card=card, relpath=relpath, hash_algorithm=hash_algorithm, hash_value=hash_value,
                              ingest_id=ingest_id, role=role, source_id=source_id, status=status)
        if within is None:
            with self.store.write() as conn:
                return upsert(conn, production, item.path, values)
        return upsert(within, production, item.path, values)

    def mark(self, production: str, path: str, status: str) -> None:
        with self.store.write() as conn:
            update(conn, "media", {"status": status, "updated_at": now()}, "production = ? AND path = ?",
                   (production, path))
            row = conn.execute("SELECT id, kind FROM media WHERE production = ? AND path = ?",
                               (production, path)).fetchone()
            if row is not None:  # the copy beside its keys (store/keys.py) follows
                update(conn, "media_keys", {"usable": usable(row[1], status)}, "media_id = ?", (row[0],))


def upsert(conn: sqlite3.Connection, production: str, path: str, values: dict[str, Any]) -> int:
    """ingest/catalogue.py's _upsert: insert or update the row of a path, and its keys; its id."""
    existing = conn.execute("SELECT id FROM media WHERE production = ? AND path = ?", (production, path)).fetchone()
    if existing:
        media_id = int(existing[0])
        update(conn, "media", values, "id = ?", (media_id,))
        conn.execute("DELETE FROM media_keys WHERE media_id = ?", (media_id,))
    else:
        media_id = insert(conn, "media", {"production": production, "path": path,
                                          "first_seen": values["updated_at"], **values})
    for key in key_rows(media_id, production, path, values):
        insert(conn, "media_keys", key)
    return media_id

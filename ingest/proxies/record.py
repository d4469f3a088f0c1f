"""A verified proxy's two rows, in one transaction: its catalogue row (role proxy, source_id → its original, with
its lookup keys in media_keys) and its row in `proxies` (from which content, with which preset).

On a SQLite store at HEAD (the one a batch reads with sqlite3 alone, store/reading.py) they are written here in
plain SQL through the standard library's sqlite3, the driver SQLAlchemy hands the same statements to: the same
statements (ingest/catalogue.py's `_upsert`, ingest/proxies/store.py's `save`), the same values
(ingest/catalogue_rows.py), a DateTime as SQLAlchemy's SQLite dialect writes it, the same pragmas
(config/db.py: busy timeout, foreign keys). A batch then never imports SQLAlchemy (0.3-0.4 s of CPU, taken from
the encodes' cores). Any other store (PostgreSQL, a store a flow run hands over, one just created or migrated)
is written by Catalogue and ProxyStore as before. tests/ingest/proxies/test_proxy_record.py holds the two ways
equal, row for row.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from store.keys import key_rows
from store.reading import connect, unreachable


def sqlite_value(value: Any) -> Any:
    """A value as SQLAlchemy's SQLite dialect binds it: a datetime as its text (the time as given, no zone), a
    bool as 0/1 (sqlite3's own adaptation of an int), anything else as it is."""
    if isinstance(value, datetime):
        return (f"{value.year:04d}-{value.month:02d}-{value.day:02d} "
                f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}.{value.microsecond:06d}")
    return value


def _insert(conn: sqlite3.Connection, table: str, row: dict[str, Any]) -> int:
    cursor = conn.execute(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                          [sqlite_value(v) for v in row.values()])
    return int(cursor.lastrowid or 0)


def _upsert(conn: sqlite3.Connection, production: str, path: str, values: dict[str, Any]) -> int:
    """ingest/catalogue.py's _upsert: insert or update the row of a path, and its keys; its id."""
    existing = conn.execute("SELECT id FROM media WHERE production = ? AND path = ?", (production, path)).fetchone()
    if existing:
        media_id = int(existing[0])
        conn.execute(f"UPDATE media SET {', '.join(f'{k} = ?' for k in values)} WHERE id = ?",
                     [*(sqlite_value(v) for v in values.values()), media_id])
        conn.execute("DELETE FROM media_keys WHERE media_id = ?", (media_id,))
    else:
        media_id = _insert(conn, "media", {"production": production, "path": path,
                                           "first_seen": values["updated_at"], **values})
    for key in key_rows(media_id, production, path, values):
        _insert(conn, "media_keys", key)
    return media_id


def record_sqlite(db: Path, url: str, production: str, path: str, values: dict[str, Any],
                  proxy: dict[str, Any]) -> int:
    """The proxy's catalogue row (`values`: catalogue_rows.media_values) and its proxies row (`proxy`: ProxyStore.save's
    values but proxy_media_id) in one transaction of a SQLite store at HEAD; the catalogue row's id."""
    try:
        conn = connect(db)
        try:
            conn.execute("PRAGMA foreign_keys=ON")
            with conn:  # one transaction: committed at the end, rolled back on an error
                media_id = _upsert(conn, production, path, values)
                conn.execute("DELETE FROM proxies WHERE production = ? AND proxy_path = ?",
                             (production, proxy["proxy_path"]))
                _insert(conn, "proxies", {"production": production, "made_at": datetime.now(UTC), **proxy,
                                          "proxy_media_id": media_id})
            return media_id
        finally:
            conn.close()
    except sqlite3.Error as exc:
        error = unreachable(url, exc)
        if error is exc:
            raise
        raise error from exc

"""A verified proxy's two rows, in one transaction: its catalogue row (role proxy, source_id → its original, with
its lookup keys in media_keys) and its row in `proxies` (from which content, with which preset).

On a SQLite store at HEAD (the one a batch reads with sqlite3 alone, store/reading.py) they are written here in
plain SQL through the standard library's sqlite3, the driver SQLAlchemy hands the same statements to: the same
statements (ingest/catalogue.py's `_upsert`, ingest/proxies/store.py's `save`) through the ingest's own plain
writers (ingest/catalogue_sql.py's `upsert`, store/writing.py's `insert`), the same values
(ingest/catalogue_rows.py), a DateTime as SQLAlchemy's SQLite dialect writes it, the same pragmas
(config/db.py: busy timeout, foreign keys). A batch then never imports SQLAlchemy (0.3-0.4 s of CPU, taken from
the encodes' cores). Any other store (PostgreSQL, a store a flow run hands over, one just created or migrated)
is written by Catalogue and ProxyStore as before. tests/ingest/proxies/test_proxy_record.py holds the two ways
equal, row for row.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingest.catalogue_sql import upsert
from store.reading import connect, naming_unreachable
from store.writing import insert


def record_sqlite(db: Path, url: str, production: str, path: str, values: dict[str, Any],
                  proxy: dict[str, Any]) -> int:
    """The proxy's catalogue row (`values`: catalogue_rows.media_values) and its proxies row (`proxy`: ProxyStore.save's
    values but proxy_media_id) in one transaction of a SQLite store at HEAD; the catalogue row's id."""
    with naming_unreachable(url):
        conn = connect(db)
        try:
            conn.execute("PRAGMA foreign_keys=ON")
            with conn:  # one transaction: committed at the end, rolled back on an error
                media_id = upsert(conn, production, path, values)
                conn.execute("DELETE FROM proxies WHERE production = ? AND proxy_path = ?",
                             (production, proxy["proxy_path"]))
                insert(conn, "proxies", {"production": production, "made_at": datetime.now(UTC), **proxy,
                                         "proxy_media_id": media_id})
            return media_id
        finally:
            conn.close()

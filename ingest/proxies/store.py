"""Which proxies exist: one row per verified proxy, keyed by source hash and preset, beside the catalogue.

The catalogue's `media` table holds the proxy itself (role "proxy", source_id → its original); this table
says from which source content (hash) and which preset fingerprint it was made, so a second run can skip
it, and which target path belongs to which source, so two clips never share a proxy path.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, select

from store import ByKey, Store, row_of
from store.tables import proxies


@dataclass(frozen=True)
class ProxyRow(ByKey):
    """A verified proxy: from which source content, with which preset (fingerprint), where."""

    id: int
    production: str
    preset: str
    fingerprint: str
    source_path: str
    source_hash_algorithm: str
    source_hash: str
    source_media_id: int | None  # the original's row in media, when it was ingested
    proxy_path: str
    proxy_media_id: int | None
    size: int
    mtime_ns: int
    encoder: str | None
    made_at: datetime


class ProxyStore:
    def __init__(self, store: Store | str) -> None:
        self.store = Store.of(store)

    def at(self, production: str, proxy_path: str) -> ProxyRow | None:
        """The verified proxy recorded at this path, if any."""
        with self.store.read() as conn:
            row = conn.execute(select(proxies).where(
                proxies.c.production == production, proxies.c.proxy_path == proxy_path)).first()
            return row_of(ProxyRow, row) if row else None

    def owner(self, production: str, proxy_path: str) -> str | None:
        """The source path a proxy path belongs to."""
        with self.store.read() as conn:
            row = conn.execute(select(proxies.c.source_path).where(
                proxies.c.production == production, proxies.c.proxy_path == proxy_path)).first()
            return row.source_path if row else None

    def for_folder(self, production: str, preset: str, folder: str) -> list[ProxyRow]:
        """Every proxy of a preset directly inside a folder (what a card's ALE lists)."""
        prefix = folder.rstrip("/") + "/"
        with self.store.read() as conn:
            rows = conn.execute(select(proxies).where(
                proxies.c.production == production, proxies.c.preset == preset,
                proxies.c.proxy_path.startswith(prefix, autoescape=True)).order_by(proxies.c.proxy_path))
            return [row_of(ProxyRow, r) for r in rows]

    def save(self, production: str, within: Connection | None = None, **values: Any) -> None:
        """Record a verified proxy; a re-made proxy replaces the row for its path. `within`: a transaction of the
        caller's (one commit with the proxy's catalogue row), else one of its own. `made_at`: now, unless given."""
        if within is None:
            with self.store.write() as conn:
                self.save(production, conn, **values)
            return
        within.execute(delete(proxies).where(proxies.c.production == production,
                                             proxies.c.proxy_path == values["proxy_path"]))
        within.execute(proxies.insert().values(production=production, **{"made_at": datetime.now(UTC), **values}))

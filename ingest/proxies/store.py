"""Which proxies exist: one row per verified proxy, keyed by source hash and preset, beside the catalogue.

The catalogue's `media` table holds the proxy itself (role "proxy", source_id → its original); this table
says from which source content (hash) and which preset fingerprint it was made, so a second run can skip
it, and which target path belongs to which source, so two clips never share a proxy path.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    delete,
    select,
)
from sqlalchemy.exc import OperationalError

from config.db import engine_for, unreachable

metadata = MetaData()

proxies = Table(
    "proxies",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("production", String(200), nullable=False),
    Column("preset", String(200), nullable=False),
    Column("fingerprint", String(32), nullable=False),
    Column("source_path", Text, nullable=False),
    Column("source_hash_algorithm", String(20), nullable=False),
    Column("source_hash", String(128), nullable=False),
    Column("source_media_id", Integer),  # the original's row in media, when it was ingested
    Column("proxy_path", Text, nullable=False),
    Column("proxy_media_id", Integer),
    Column("size", BigInteger, nullable=False),
    Column("mtime_ns", BigInteger, nullable=False),
    Column("encoder", String(64)),
    Column("made_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("production", "proxy_path", name="uq_proxies_production_path"),
)


class ProxyStore:
    def __init__(self, url: str) -> None:
        self.engine: Engine = engine_for(url)
        try:
            metadata.create_all(self.engine)
        except OperationalError as exc:
            raise unreachable(url, exc) from exc

    def at(self, production: str, proxy_path: str) -> dict[str, Any] | None:
        """The verified proxy recorded at this path, if any."""
        with self.engine.connect() as conn:
            row = conn.execute(select(proxies).where(
                proxies.c.production == production, proxies.c.proxy_path == proxy_path)).first()
            return dict(row._mapping) if row else None

    def owner(self, production: str, proxy_path: str) -> str | None:
        """The source path a proxy path belongs to."""
        with self.engine.connect() as conn:
            row = conn.execute(select(proxies.c.source_path).where(
                proxies.c.production == production, proxies.c.proxy_path == proxy_path)).first()
            return row.source_path if row else None

    def for_folder(self, production: str, preset: str, folder: str) -> list[dict[str, Any]]:
        """Every proxy of a preset directly inside a folder (what a card's ALE lists)."""
        prefix = folder.rstrip("/") + "/"
        with self.engine.connect() as conn:
            rows = conn.execute(select(proxies).where(
                proxies.c.production == production, proxies.c.preset == preset,
                proxies.c.proxy_path.startswith(prefix, autoescape=True)).order_by(proxies.c.proxy_path))
            return [dict(r._mapping) for r in rows]

    def save(self, production: str, **values: Any) -> None:
        """Record a verified proxy; a re-made proxy replaces the row for its path."""
        with self.engine.begin() as conn:
            conn.execute(delete(proxies).where(proxies.c.production == production,
                                               proxies.c.proxy_path == values["proxy_path"]))
            conn.execute(proxies.insert().values(production=production, made_at=datetime.now(UTC), **values))

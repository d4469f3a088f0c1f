"""The rushes catalogue: every ingested file with its hash and media description, per production."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Engine,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    select,
    update,
)
from sqlalchemy.exc import OperationalError

from config.db import engine_for, unreachable
from media.model import MediaFile, MediaKind

metadata = MetaData()

ingests = Table(
    "ingests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("production", String(200), nullable=False, index=True),
    Column("source", Text, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("files", Integer, nullable=False, default=0),
    Column("new_files", Integer, nullable=False, default=0),
    Column("skipped", Integer, nullable=False, default=0),
    Column("errors", Integer, nullable=False, default=0),
    Column("warnings", Integer, nullable=False, default=0),
    Column("report_json", Text),
    Column("report_html", Text),
)

media = Table(
    "media",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("production", String(200), nullable=False),
    Column("path", Text, nullable=False),
    Column("card", Text, nullable=False),  # the card (or folder) root it came in with
    Column("relpath", Text, nullable=False),
    Column("role", String(20), nullable=False, default="original"),  # original | proxy
    Column("source_id", Integer, ForeignKey("media.id")),  # for a proxy: its original
    Column("kind", String(20), nullable=False),  # media | sidecar | unreadable
    Column("size", BigInteger, nullable=False),
    Column("mtime_ns", BigInteger, nullable=False),
    Column("hash_algorithm", String(20)),
    Column("hash", String(128)),
    Column("clip_name", String(500), index=True),
    Column("reel", String(200), index=True),
    Column("start_frames", BigInteger),
    Column("duration_frames", BigInteger),
    Column("rate", String(32)),
    Column("drop_frame", Boolean),
    Column("worst_severity", String(10)),
    Column("status", String(20), nullable=False, default="ok"),  # ok | changed | missing
    Column("media_json", Text, nullable=False),
    Column("ingest_id", Integer, ForeignKey("ingests.id")),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("production", "path", name="uq_media_production_path"),
    Index("ix_media_production_reel", "production", "reel"),
)


def now() -> datetime:
    return datetime.now(UTC)


class Catalogue:
    """Access to the catalogue tables in one database (SQLite file or server)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = engine_for(url)
        try:
            metadata.create_all(self.engine)
        except OperationalError as exc:
            raise unreachable(url, exc) from exc

    # -- ingests ---------------------------------------------------------------------------
    def start_ingest(self, production: str, source: str) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(ingests.insert().values(production=production, source=source, started_at=now()))
            return int(result.inserted_primary_key[0])

    def finish_ingest(self, ingest_id: int, **counts: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(ingests).where(ingests.c.id == ingest_id).values(finished_at=now(), **counts))

    def ingest_rows(self, production: str | None = None) -> list[dict[str, Any]]:
        query = select(ingests).order_by(ingests.c.id)
        if production:
            query = query.where(ingests.c.production == production)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    # -- media -----------------------------------------------------------------------------
    def lookup(self, production: str, path: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(media).where(media.c.production == production, media.c.path == path)).first()
            return dict(row._mapping) if row else None

    def originals_state(self, production: str) -> dict[str, tuple[int, int, str]]:
        """path -> (size, mtime_ns, status) of every original catalogued for the production."""
        query = select(media.c.path, media.c.size, media.c.mtime_ns, media.c.status).where(
            media.c.production == production, media.c.role == "original")
        with self.engine.connect() as conn:
            return {r.path: (r.size, r.mtime_ns, r.status) for r in conn.execute(query)}

    def clip_names(self, production: str, role: str = "original") -> list[tuple[str, str]]:
        query = select(media.c.clip_name, media.c.path).where(
            media.c.production == production, media.c.role == role, media.c.kind == MediaKind.MEDIA.value)
        with self.engine.connect() as conn:
            return [(r.clip_name, r.path) for r in conn.execute(query) if r.clip_name]

    def record(self, production: str, item: MediaFile, *, card: str, relpath: str, hash_algorithm: str | None,
               hash_value: str | None, ingest_id: int | None, role: str = "original",
               source_id: int | None = None, status: str = "ok") -> int:
        """Insert or update one file's row; returns its id."""
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
            "rate": f"{item.timecode_rate.numerator}/{item.timecode_rate.denominator}" if item.timecode_rate else None,
            "drop_frame": item.drop_frame,
            "worst_severity": item.worst_severity.value if item.worst_severity else None,
            "status": status,
            "media_json": item.model_dump_json(),
            "ingest_id": ingest_id,
            "updated_at": now(),
        }
        with self.engine.begin() as conn:
            existing = conn.execute(select(media.c.id).where(
                media.c.production == production, media.c.path == item.path)).first()
            if existing:
                conn.execute(update(media).where(media.c.id == existing.id).values(**values))
                return int(existing.id)
            result = conn.execute(media.insert().values(production=production, path=item.path,
                                                        first_seen=now(), **values))
            return int(result.inserted_primary_key[0])

    def mark(self, production: str, path: str, status: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(media).where(media.c.production == production, media.c.path == path)
                         .values(status=status, updated_at=now()))

    def rows(self, production: str | None = None, *, role: str | None = None) -> Iterator[dict[str, Any]]:
        query = select(media).order_by(media.c.id)
        if production:
            query = query.where(media.c.production == production)
        if role:
            query = query.where(media.c.role == role)
        with self.engine.connect() as conn:
            for r in conn.execute(query):
                yield dict(r._mapping)

    def media_files(self, production: str, *, role: str | None = "original") -> list[MediaFile]:
        """The catalogue as media models (what conform and QC read)."""
        return [MediaFile.model_validate(json.loads(r["media_json"])) for r in self.rows(production, role=role)]


def rate_of(row: dict[str, Any]) -> Fraction | None:
    return Fraction(row["rate"]) if row.get("rate") else None

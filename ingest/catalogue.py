"""The rushes catalogue: every ingested file with its hash and media description, per production."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

from sqlalchemy import select, update

from media.model import MediaFile, MediaKind
from store import Store
from store.tables import ingests, media


def now() -> datetime:
    return datetime.now(UTC)


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

    def ingest_rows(self, production: str | None = None) -> list[dict[str, Any]]:
        query = select(ingests).order_by(ingests.c.id)
        if production:
            query = query.where(ingests.c.production == production)
        with self.store.read() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    # -- media -----------------------------------------------------------------------------
    def lookup(self, production: str, path: str) -> dict[str, Any] | None:
        with self.store.read() as conn:
            row = conn.execute(select(media).where(media.c.production == production, media.c.path == path)).first()
            return dict(row._mapping) if row else None

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
        with self.store.write() as conn:
            existing = conn.execute(select(media.c.id).where(
                media.c.production == production, media.c.path == item.path)).first()
            if existing:
                conn.execute(update(media).where(media.c.id == existing.id).values(**values))
                return int(existing.id)
            result = conn.execute(media.insert().values(production=production, path=item.path,
                                                        first_seen=now(), **values))
            return int(result.inserted_primary_key[0])

    def mark(self, production: str, path: str, status: str) -> None:
        with self.store.write() as conn:
            conn.execute(update(media).where(media.c.production == production, media.c.path == path)
                         .values(status=status, updated_at=now()))

    def rows(self, production: str | None = None, *, role: str | None = None) -> Iterator[dict[str, Any]]:
        query = select(media).order_by(media.c.id)
        if production:
            query = query.where(media.c.production == production)
        if role:
            query = query.where(media.c.role == role)
        with self.store.read() as conn:
            for r in conn.execute(query):
                yield dict(r._mapping)

    def media_files(self, production: str, *, role: str | None = "original") -> list[MediaFile]:
        """The catalogue as media models (what conform and QC read)."""
        return [MediaFile.model_validate(json.loads(r["media_json"])) for r in self.rows(production, role=role)]


def rate_of(row: dict[str, Any]) -> Fraction | None:
    return Fraction(row["rate"]) if row.get("rate") else None

"""A media row's values as the catalogue writes them, without SQLAlchemy: ingest/catalogue.py's Catalogue.record
and the proxies' plain-SQL writer (ingest/proxies/record.py) build them here, so both write the same row."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from media.model import MediaFile
from media.timecode import format_rate


def now() -> datetime:
    return datetime.now(UTC)


def media_values(item: MediaFile, *, card: str, relpath: str, hash_algorithm: str | None, hash_value: str | None,
                 ingest_id: int | None, role: str = "original", source_id: int | None = None, status: str = "ok",
                 at: datetime | None = None) -> dict[str, Any]:
    """The columns of one file's row but production, path and first_seen (an insert's: its `updated_at`)."""
    start = item.start
    return {
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
        "updated_at": at or now(),
    }

"""The names an edit list may use for a catalogued file, as lookup keys: what the media_keys table holds.

One rule for both sides: conform/index.py indexes the rows it is given under these keys (by reel, by name),
and the store keeps every media row's keys in media_keys (written with the row by ingest/catalogue.py, filled
for older rows by migration 0006), so that a conform check selects in SQL only the rows whose keys an edit
list names, instead of loading the whole catalogue. Keys are upper-cased by Python (any script, not only
ASCII), so they are compared exactly in SQL; a stored key is cut to KEY_CHARS characters (the lookup cuts its
keys the same way: a longer name selects a few rows more, which matching then judges by the full names).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

# ARRI A001C003_230514_R2EC, RED A001_C002_0514XY, Sony/Canon A001C001: camera roll + clip index.
CAMERA = re.compile(r"^([A-Z]\d{3})_?(C\d{3})", re.IGNORECASE)
KEY_CHARS = 200  # media_keys.key is String(200)


def basename(name: str) -> str:
    return name.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1].strip()


def keys_for_name(name: str | None) -> list[str]:
    """A name's lookup keys: the file name and its stem, upper-cased."""
    if not name:
        return []
    base = basename(name).upper()
    if not base:
        return []
    stem = base.rsplit(".", 1)[0] if "." in base else base
    return [base] if stem == base or not stem else [base, stem]


def clip_keys(path: str, card: str | None, reel: str | None,
              clip_name: str | None) -> tuple[set[str], str | None, list[str]]:
    """A catalogued file's keys: (reel keys: its card's folder name, its reel, its camera roll; its camera
    roll + clip index; name keys: its file name and stem, its clip name and stem)."""
    file_keys = keys_for_name(path)
    reels = {basename(card).upper()} if card else set()
    if reel:
        reels.add(reel.strip().upper())
    camera = CAMERA.match(clip_name or file_keys[0] if file_keys else clip_name or "")
    camera_key = None
    if camera:
        roll, clip = camera.groups()
        reels.add(roll.upper())
        camera_key = (roll + clip).upper()
    names = list(dict.fromkeys(file_keys))
    if clip_name:
        names.extend(k for k in keys_for_name(clip_name) if k not in names)
    return reels, camera_key, names


def stored_keys(path: str, card: str | None, reel: str | None, clip_name: str | None) -> set[tuple[str, str]]:
    """Every (kind, key) of one row as media_keys holds them: kind "reel" (card, reel, camera roll) or "name"
    (camera roll + clip, file and clip names), and ("row", ""), one per row (counted against the rows)."""
    reels, camera_key, names = clip_keys(path, card, reel, clip_name)
    keys = {("reel", k[:KEY_CHARS]) for k in reels if k} | {("name", k[:KEY_CHARS]) for k in names if k}
    if camera_key:
        keys.add(("name", camera_key[:KEY_CHARS]))
    return keys | {ROW_KEY}


ROW_KEY = ("row", "")


def lookup_keys(keys: Iterable[str]) -> set[str]:
    """The keys to ask media_keys for (cut as stored)."""
    return {k[:KEY_CHARS] for k in keys if k}


def usable(kind: str | None, status: str | None) -> bool:
    """A row matching may use: a media file still there (not a sidecar, not missing)."""
    return kind == "media" and status != "missing"


def key_rows(media_id: int, production: str, path: str, row: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The media_keys rows of one media row. `row`: its columns (card, reel, clip_name, role, kind, status,
    start_frames, duration_frames, rate, drop_frame), copied beside each key so that conform narrows a name's
    rows to those that may cover an event from the index alone."""
    start, duration = row.get("start_frames"), row.get("duration_frames")
    common = {"media_id": media_id, "production": production, "original": (row.get("role") or "original") == "original",
              "usable": usable(row.get("kind"), row.get("status")), "rate": row.get("rate"),
              "drop_frame": row.get("drop_frame"), "start_frames": start,
              "end_frames": start + duration if start is not None and duration is not None else None}
    return [{**common, "kind": kind, "key": key}
            for kind, key in sorted(stored_keys(path, row.get("card"), row.get("reel"), row.get("clip_name")))]


def fill_media_keys(conn: Any, *, batch: int = 5000) -> int:
    """Write the keys of every media row that has none (migration 0006; a catalogue filled by other means).
    `conn`: a SQLAlchemy connection in a transaction. Returns how many rows got keys."""
    from sqlalchemy import BigInteger, Boolean, Integer, String, Text, column, select, table

    # The columns this needs, named here (not store/tables.py's, which describe HEAD): a migration stays valid.
    media = table("media", column("id", Integer), column("production", String), column("path", Text),
                  *(column(name, Text) for name in ("card", "reel", "clip_name", "role", "kind", "status", "rate")),
                  column("start_frames", BigInteger), column("duration_frames", BigInteger),
                  column("drop_frame", Boolean))
    media_keys = table("media_keys", column("media_id", Integer), column("production", String),
                       column("kind", String), column("key", String), column("original", Boolean),
                       column("usable", Boolean), column("rate", String), column("drop_frame", Boolean),
                       column("start_frames", BigInteger), column("end_frames", BigInteger))
    keyed = select(media_keys.c.media_id)
    query = select(media).where(media.c.id.not_in(keyed))
    rows = conn.execute(query).fetchall()
    pending: list[dict[str, Any]] = []
    for r in rows:
        pending.extend(key_rows(r.id, r.production, r.path, r._mapping))
        if len(pending) >= batch:
            conn.execute(media_keys.insert(), pending)
            pending = []
    if pending:
        conn.execute(media_keys.insert(), pending)
    return len(rows)

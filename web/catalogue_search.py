"""The catalogue on the web: cards, and clips found by reel, clip or file name and timecode
("which clip holds 14:22:10:05 on reel B007?")."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from sqlalchemy import func, or_, select

from media.timecode import Timecode, TimecodeError
from store.tables import ingests, media

LIMIT = 200
TC_SYNTAX = re.compile(r"\d{1,2}:\d{2}:\d{2}[:;.]\d{2}")


@dataclass(frozen=True)
class Query:
    card: str = ""
    text: str = ""
    reel: str = ""
    timecode: str = ""

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> Query:
        return cls(**{k: (params.get(k) or "").strip()[:200] for k in ("card", "text", "reel", "timecode")})

    @property
    def empty(self) -> bool:
        return not (self.card or self.text or self.reel or self.timecode)


@dataclass
class Result:
    rows: list[dict[str, Any]]
    truncated: bool
    problem: str | None = None  # a timecode that cannot be read


def ingest_rows(engine: Any, production: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(
            select(ingests.c.report_json, ingests.c.report_html).where(ingests.c.production == production))]


def cards(engine: Any, production: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [{"card": r.card, "files": r.files} for r in conn.execute(
            select(media.c.card, func.count().label("files"))
            .where(media.c.production == production, media.c.role == "original")
            .group_by(media.c.card).order_by(media.c.card))]


def _timecode_holds(row: dict[str, Any], text: str) -> bool | None:
    """Whether the clip's timecode range holds `text`; None when the clip has no timecode or rate."""
    if row["start_frames"] is None or not row["duration_frames"] or not row["rate"]:
        return None
    try:
        at = Timecode.parse(text, Fraction(row["rate"]), bool(row["drop_frame"])).frames
    except (TimecodeError, ValueError, ZeroDivisionError):
        return None
    return row["start_frames"] <= at < row["start_frames"] + row["duration_frames"]


def search(engine: Any, production: str, q: Query) -> Result:
    query = select(media).where(media.c.production == production, media.c.role == "original")
    if q.card:
        query = query.where(media.c.card == q.card)
    if q.reel:
        query = query.where(func.lower(media.c.reel) == q.reel.lower())
    if q.text:
        like = f"%{q.text.lower().replace('%', '').replace('_', '')}%"
        query = query.where(or_(func.lower(media.c.clip_name).like(like), func.lower(media.c.relpath).like(like)))
    problem = None
    if q.timecode:
        if not TC_SYNTAX.fullmatch(q.timecode):
            problem = f"'{q.timecode}' is not a timecode (HH:MM:SS:FF)"
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(query.order_by(media.c.card, media.c.relpath))]
    if q.timecode and problem is None:
        rows = [r for r in rows if _timecode_holds(r, q.timecode)]
    for r in rows:
        r["start_tc"] = _tc(r, r["start_frames"])
        last = (r["start_frames"] or 0) + (r["duration_frames"] or 0) - 1
        r["end_tc"] = _tc(r, last) if r["duration_frames"] else None
    return Result(rows[:LIMIT], len(rows) > LIMIT, problem)


def _tc(row: dict[str, Any], frames: int | None) -> str | None:
    if frames is None or not row["rate"]:
        return None
    try:
        return Timecode(frames, Fraction(row["rate"]), bool(row["drop_frame"])).format()
    except (TimecodeError, ValueError, ZeroDivisionError):
        return None

"""The catalogue on the web: cards, and clips found by reel, clip or file name and timecode
("which clip holds 14:22:10:05 on reel B007?")."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import Any

from ingest.catalogue import Catalogue
from media.timecode import Timecode, TimecodeError

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


@dataclass
class Result:
    rows: list[dict[str, Any]]
    truncated: bool
    problem: str | None = None  # a timecode that cannot be read


def ingest_rows(catalogue: Catalogue, production: str) -> list[dict[str, Any]]:
    return [{"report_json": r.report_json, "report_html": r.report_html} for r in catalogue.ingest_rows(production)]


def cards(catalogue: Catalogue, production: str) -> list[dict[str, Any]]:
    return [{"card": card, "files": files} for card, files in catalogue.cards(production)]


def _timecode_holds(row: dict[str, Any], text: str) -> bool | None:
    """Whether the clip's timecode range holds `text`; None when the clip has no timecode or rate."""
    if row["start_frames"] is None or not row["duration_frames"] or not row["rate"]:
        return None
    try:
        at = Timecode.parse(text, Fraction(row["rate"]), bool(row["drop_frame"])).frames
    except (TimecodeError, ValueError, ZeroDivisionError):
        return None
    return row["start_frames"] <= at < row["start_frames"] + row["duration_frames"]


def search(catalogue: Catalogue, production: str, q: Query) -> Result:
    problem = None
    if q.timecode:
        if not TC_SYNTAX.fullmatch(q.timecode):
            problem = f"'{q.timecode}' is not a timecode (HH:MM:SS:FF)"
    rows = [asdict(r) for r in catalogue.find(production, card=q.card, reel=q.reel, text=q.text)]
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

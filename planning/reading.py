"""The plan as `postprod plan status` reads it from a SQLite store at HEAD opened without SQLAlchemy.

store/reading.py opens such a store with the standard library's sqlite3 (importing SQLAlchemy is a third to a
half of the command's start-up). PlanningReader answers the read questions plan status and its money ask of
PlanningStore (planning/store.py) with the same rows: the same columns in the same order, each typed as
SQLAlchemy types it on SQLite (a Date column's text read with date.fromisoformat, a DateTime's with
datetime.fromisoformat: sqlalchemy.dialects.sqlite). tests/planning/test_plan_reading.py holds every answer
equal to PlanningStore's, and the columns named here equal to store/tables.py's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from planning.errors import PlanError
from store.reading import SqliteReader, naming_unreachable

# Each table's columns, in store/tables.py's order, with the reader of those SQLite keeps as text.
DATE, DATETIME = date.fromisoformat, datetime.fromisoformat
COLUMNS: dict[str, dict[str, Callable[[str], Any] | None]] = {
    "productions": {"id": None, "name": None, "template": None, "delivery_profile": None, "hours_per_day": None,
                    "planned_start": DATE, "created_at": DATETIME, "revision": None},
    "stages": {"id": None, "production": None, "stage": None, "state": None, "note": None, "updated_at": DATETIME,
               "label": None, "position": None, "planned_start": DATE, "planned_end": DATE,
               "planned_minutes": None, "responsible": None, "depends_on": None, "actual_start": DATE,
               "actual_end": DATE, "evidence": None, "revision": None},
    "session_reports": {"id": None, "production": None, "stage": None, "technician": None, "work_date": DATE,
                        "minutes": None, "done": None, "incidents": None, "source": None, "fingerprint": None,
                        "created_at": DATETIME, "review": None, "reviewed_by": None, "reviewed_at": DATETIME,
                        "original_minutes": None},
    "quotes": {"id": None, "production": None, "version": None, "created_at": DATETIME, "reason": None,
               "currency": None, "rates": None, "contingency_percent": None, "lines": None, "total": None},
}
COUNTED = "(review IS NULL OR review != 'rejected')"  # planning/store.py's COUNTED: a report not rejected


def _typed(table: str, row: tuple[Any, ...]) -> dict[str, Any]:
    return {name: (read(value) if read is not None and value is not None else value)
            for (name, read), value in zip(COLUMNS[table].items(), row, strict=True)}


def aware(value: datetime | None) -> datetime | None:
    """SQLite gives back naive datetimes (stored in UTC); PostgreSQL aware ones."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def stage_row(r: dict[str, Any]) -> dict[str, Any]:
    """A stages row as both stores give it: its JSON columns decoded, its time aware."""
    r["depends_on"] = json.loads(r["depends_on"]) if r["depends_on"] else []
    r["evidence"] = json.loads(r["evidence"]) if r["evidence"] else {}
    r["updated_at"] = aware(r["updated_at"])
    return r


class PlanQueries:
    """What PlanningReader and PlanningStore answer the same way over their own `production`, `productions`
    and `stage_rows`."""

    def production(self, name: str) -> dict[str, Any] | None:
        raise NotImplementedError

    def productions(self) -> list[dict[str, Any]]:
        raise NotImplementedError

    def stage_rows(self, production: str) -> list[dict[str, Any]]:
        raise NotImplementedError

    def stage_keys(self, production: str) -> list[str]:
        return [r["stage"] for r in self.stage_rows(production)]

    def require_plan(self, production: str) -> dict[str, Any]:
        prod = self.production(production)
        if prod is None or not prod["template"]:
            planned = [p["name"] for p in self.productions() if p["template"]]
            raise PlanError(f"production '{production}' has no plan; planned productions: "
                            f"{', '.join(planned) or 'none'} (make one with `postprod plan create`)")
        return prod


class PlanningReader(PlanQueries):
    """PlanningStore's reads that plan status uses, on a SqliteReader (store/reading.py)."""

    def __init__(self, reader: SqliteReader) -> None:
        self.reader = reader
        self.url = reader.url

    def _rows(self, table: str, where: str, args: tuple[Any, ...], order: str,
              limit: int | None = None) -> list[dict[str, Any]]:
        sql = (f"SELECT {', '.join(COLUMNS[table])} FROM {table}{f' WHERE {where}' if where else ''} ORDER BY {order}"
               + (f" LIMIT {int(limit)}" if limit is not None else ""))
        return [_typed(table, r) for r in self._all(sql, args)]

    def _all(self, sql: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        """The rows of one query; a database gone away is a DatabaseError naming it, as PlanningStore says."""
        with naming_unreachable(self.url):
            conn = self.reader.raw_connection()
            try:
                return conn.execute(sql, args).fetchall()
            finally:
                conn.close()

    def production(self, name: str) -> dict[str, Any] | None:
        rows = self._rows("productions", "name = ?", (name,), "id", limit=1)
        return rows[0] if rows else None

    def productions(self) -> list[dict[str, Any]]:
        return self._rows("productions", "", (), "name")

    def stage_rows(self, production: str) -> list[dict[str, Any]]:
        """The production's stages in plan order (stages the flows moved without a plan come last)."""
        return [stage_row(r) for r in
                self._rows("stages", "production = ?", (production,), "position IS NULL, position, id")]

    def reports(self, production: str, stage: str | None = None, *,
                include_rejected: bool = False) -> list[dict[str, Any]]:
        """The production's session reports, oldest first; those the coordinator rejected only when asked."""
        where, args = "production = ?", (production,)
        if not include_rejected:
            where += f" AND {COUNTED}"
        if stage is not None:
            where, args = where + " AND stage = ?", (*args, stage)
        return self._rows("session_reports", where, args, "work_date, id")

    def report_totals(self, production: str | None = None) -> dict[tuple[str, str], dict[str, Any]]:
        """Per (production, stage): minutes spent, number of reports, first and last date, incidents."""
        where, args = COUNTED, ()
        if production is not None:
            where, args = f"{where} AND production = ?", (production,)
        sql = ("SELECT production, stage, SUM(minutes), COUNT(*), MIN(work_date), MAX(work_date), COUNT(incidents) "
               f"FROM session_reports WHERE {where} GROUP BY production, stage")
        return {(r[0], r[1]): {"minutes": int(r[2] or 0), "reports": r[3],
                               "first": DATE(r[4]) if r[4] is not None else None,
                               "last": DATE(r[5]) if r[5] is not None else None, "incidents": r[6]}
                for r in self._all(sql, args)}

    def quote_row(self, production: str, version: int | None = None) -> dict[str, Any] | None:
        """A version of the production's quote (default: the latest) as its row (planning/money/quote.py)."""
        if version:
            rows = self._rows("quotes", "production = ? AND version = ?", (production, version), "id", limit=1)
        else:
            rows = self._rows("quotes", "production = ?", (production,), "version DESC", limit=1)
        return rows[0] if rows else None

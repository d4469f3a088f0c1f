"""What the `postprod plan` commands share without typer: dates, usage errors, the planning store and reader
(cli/commands/plan_group.py declares the group; cli/fast.py runs `plan status` with these alone)."""

from __future__ import annotations

import re
from datetime import date

from cli.base import settings
from config.errors import PostprodError


class UsageError(PostprodError):
    """A bad option value."""


FIRST_YEAR, LAST_YEAR = 1900, 2999


def parse_date(value: str | None, option: str) -> date:
    if value is None:
        return date.today()
    try:
        day = date.fromisoformat(value)
    except ValueError:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise UsageError(f"{option} '{value}' is not a real date (no such day or month)") from None
        raise UsageError(f"{option} '{value}' is not a date (YYYY-MM-DD)") from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:  # plans count days forward from it: year 9999 overflows
        raise UsageError(f"{option} '{value}' is outside the years a plan can use ({FIRST_YEAR} to {LAST_YEAR})")
    return day


def planning_store():  # type: ignore[no-untyped-def]
    from planning.store import PlanningStore

    return PlanningStore(settings().db_url)


def planning_reader():  # type: ignore[no-untyped-def]
    """The plan for a command that only reads it (plan status): a SQLite store at HEAD read without SQLAlchemy
    (planning/reading.py), else the PlanningStore (which creates or migrates the database as before)."""
    from store.reading import SqliteReader, open_for_reading

    opened = open_for_reading(settings().db_url)
    if isinstance(opened, SqliteReader):
        from planning.reading import PlanningReader

        return PlanningReader(opened)
    from planning.store import PlanningStore

    return PlanningStore(opened)

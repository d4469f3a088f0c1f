"""SQLite's WAL mode set on a connection, shared by the SQLAlchemy engine (config/db.py) and the stores opened
with sqlite3 alone (store/writing.py): nothing here imports SQLAlchemy."""

from __future__ import annotations

import sqlite3
import time
from typing import Protocol


class _Executes(Protocol):
    def execute(self, sql: str, /) -> sqlite3.Cursor: ...


def set_wal(conn: _Executes) -> None:
    """WAL mode, kept in the file once set. Switching to it needs the database to itself, and SQLite answers
    "locked" at once, without waiting, while other processes are opening a new database together: wait and
    try again (the mode is read first, so only the first opener ever switches)."""
    for attempt in range(300):
        try:
            if str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == 299:
                raise
            time.sleep(0.1)

"""A SQLite store keeps one connection that has read the database: its transactions then leave the WAL in place
(closing the last connection would checkpoint it into the database and remove it, at every transaction), while
what they commit is there for any other reader, and a checkpoint still completes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import text

from store.base import Store


def test_a_stores_transactions_leave_the_wal_in_place(tmp_path: Path) -> None:
    db = tmp_path / "data" / "postprod.db"
    store = Store(f"sqlite:///{db}")
    wal = db.with_name(db.name + "-wal")
    for n in range(3):
        with store.write() as conn:
            conn.execute(text("CREATE TABLE IF NOT EXISTS kept (n INTEGER)"))
            conn.execute(text("INSERT INTO kept VALUES (:n)"), {"n": n})
        assert wal.exists()  # not checkpointed and removed by the transaction's own connection closing
    other = sqlite3.connect(db)  # another process's view: every commit is there
    try:
        assert other.execute("SELECT n FROM kept ORDER BY n").fetchall() == [(0,), (1,), (2,)]
        busy, _, _ = other.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        assert busy == 0  # the kept connection holds no read transaction open: a checkpoint completes
    finally:
        other.close()
    assert wal.stat().st_size == 0

"""store/writing.py: a new SQLite store made with sqlite3 alone (store/sqlite_schema.py's statements) is the very
database SQLAlchemy's create makes (sqlite_master row for row, the version row, WAL); a store at HEAD is written
with sqlite3, anything else is left to the full Store (which migrates it or names the problem)."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from pathlib import Path

import pytest

from config.db import DatabaseError
from store import Store
from store.revision import HEAD, VERSION_TABLE
from store.sqlite_schema import SCHEMA_HEAD, STATEMENTS, statements_of
from store.writing import SqliteWriter, open_for_writing

DATA = Path(__file__).resolve().parent / "data"


def _master(db: Path) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        # By name: SQLAlchemy's create_all makes a table's indexes in no set order (a set of them).
        return [*conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"),
                *conn.execute(f"SELECT * FROM {VERSION_TABLE}"), *conn.execute("PRAGMA journal_mode")]
    finally:
        conn.close()


def test_a_new_store_made_with_sqlite3_is_the_one_sqlalchemy_makes(tmp_path: Path) -> None:
    assert SCHEMA_HEAD == HEAD, "store/sqlite_schema.py is behind HEAD: regenerate its statements"
    Store(f"sqlite:///{tmp_path / 'full.db'}")
    made = open_for_writing(f"sqlite:///{tmp_path / 'sub' / 'plain.db'}")  # its folder made too, as the engine's
    assert isinstance(made, SqliteWriter)
    assert sorted(STATEMENTS) == sorted(statements_of(str(tmp_path / "full.db"))), \
        "store/tables.py changed: regenerate store/sqlite_schema.py (python -m store.sqlite_schema DB)"
    assert _master(tmp_path / "sub" / "plain.db") == _master(tmp_path / "full.db")
    assert _master(tmp_path / "full.db")[-2:] == [(HEAD,), ("wal",)]
    # SQLAlchemy opens it as its own: at HEAD, nothing to do; and sqlite3 opens it again.
    Store(made.url)
    assert _master(tmp_path / "sub" / "plain.db") == _master(tmp_path / "full.db")
    assert isinstance(open_for_writing(made.url), SqliteWriter)


def test_stores_made_at_once_are_made_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'race.db'}"
    opened: list[object] = []
    threads = [threading.Thread(target=lambda: opened.append(open_for_writing(url))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(opened) == 4 and all(isinstance(o, SqliteWriter) for o in opened)
    Store(f"sqlite:///{tmp_path / 'full.db'}")
    assert _master(tmp_path / "race.db") == _master(tmp_path / "full.db")


def test_anything_else_is_left_to_the_full_store(tmp_path: Path) -> None:
    old = tmp_path / "old.db"  # a catalogue made by an older postprod: the full Store migrates it
    shutil.copy(DATA / "catalogue-4f2fdfd.sqlite", old)
    store = open_for_writing(f"sqlite:///{old}")
    assert isinstance(store, Store)
    assert isinstance(open_for_writing(f"sqlite:///{old}"), SqliteWriter)  # at HEAD now
    assert isinstance(open_for_writing(f"sqlite:///{tmp_path / 'opts.db'}?timeout=5"), Store)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database, " * 100)
    with pytest.raises(DatabaseError):  # named as every command names it
        open_for_writing(f"sqlite:///{junk}")
    # A SQLite file with tables of another program but none of the store's: made a store in it, as Store does.
    for name in ("foreign.db", "foreign-full.db"):
        conn = sqlite3.connect(tmp_path / name)
        conn.execute("CREATE TABLE notes (x TEXT)")
        conn.commit()
        conn.close()
    assert isinstance(open_for_writing(f"sqlite:///{tmp_path / 'foreign.db'}"), SqliteWriter)
    Store(f"sqlite:///{tmp_path / 'foreign-full.db'}")
    assert _master(tmp_path / "foreign.db") == _master(tmp_path / "foreign-full.db")


def test_a_write_that_fails_is_rolled_back(tmp_path: Path) -> None:
    writer = open_for_writing(f"sqlite:///{tmp_path / 'a.db'}")
    assert isinstance(writer, SqliteWriter)
    with pytest.raises(sqlite3.IntegrityError):
        with writer.write() as conn:
            conn.execute("INSERT INTO productions (name, created_at, revision) VALUES ('p', 'x', 1)")
            conn.execute("INSERT INTO media_keys (media_id, kind, key, production, original, usable) "
                         "VALUES (999, 'name', 'K', 'p', 1, 1)")  # no media row 999: foreign keys are on
    conn = sqlite3.connect(tmp_path / "a.db")
    assert conn.execute("SELECT COUNT(*) FROM productions").fetchone() == (0,)
    conn.close()

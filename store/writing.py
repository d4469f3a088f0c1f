"""A store opened to write an ingest's rows without SQLAlchemy where that is safe: what `postprod ingest` opens.

Importing SQLAlchemy and building its statements is most of a warm ingest's own CPU (0.3 s of a 2 GB card's
1 s). A SQLite store's driver is the standard library's sqlite3 either way (SQLAlchemy's pysqlite dialect hands
it the SQL), so the same statements with the same values (a DateTime as SQLAlchemy's SQLite dialect writes it:
`sqlite_value`) make the same rows. `open_for_writing` gives a `SqliteWriter` for a SQLite file that is at HEAD,
or that is not there yet (made here from store/sqlite_schema.py's statements, under the lock and in the one
transaction that store/schema.py's `create` uses, and stamped at HEAD); anything else (PostgreSQL, a database to
migrate, a file SQLite cannot read, an old schema) gets the full `Store`, which migrates it or names the problem.

Its writers: ingest/catalogue_sql.py (the catalogue's rows), planning/writing.py (the reception stage's move).
tests/ingest/test_ingest_sqlite_writes.py holds their rows equal to SQLAlchemy's, row for row;
tests/store/test_store_writing.py the schema it makes equal to the one SQLAlchemy makes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from config.wal import set_wal
from store.reading import SqliteReader, _at_head, connect, naming_unreachable, sqlite_file
from store.revision import HEAD, VERSION_TABLE
from store.sqlite_schema import SCHEMA_HEAD, STATEMENTS

if TYPE_CHECKING:
    from store.base import Store

# The store's own tables (a file holding any of them, or a version table, is not new: the full Store opens it).
TABLES = frozenset(s.split()[2] for s in STATEMENTS if s.startswith("CREATE TABLE "))


class SqliteWriter(SqliteReader):
    """A SQLite store at HEAD, read and written through sqlite3: `write()` is one transaction (committed at the
    end of the block, rolled back on an error) with the pragmas config/db.py's engine sets (busy timeout,
    foreign keys); a connection is kept open for the writer's life (the WAL held, as Store keeps one)."""

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        with naming_unreachable(self.url):
            conn = connect(self.path)
            try:
                conn.execute("PRAGMA foreign_keys=ON")
                with conn:
                    yield conn
            finally:
                conn.close()


def sqlite_value(value: Any) -> Any:
    """A value as SQLAlchemy's SQLite dialect binds it: a DateTime as its text (the time as given, no zone), a
    Date as YYYY-MM-DD, a bool as 0/1 (sqlite3's own adaptation of an int), anything else as it is."""
    if isinstance(value, datetime):
        return (f"{value.year:04d}-{value.month:02d}-{value.day:02d} "
                f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}.{value.microsecond:06d}")
    if isinstance(value, date):
        return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
    return value


def insert(conn: sqlite3.Connection, table: str, row: dict[str, Any]) -> int:
    """INSERT one row (its columns as given); its rowid."""
    cursor = conn.execute(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                          [sqlite_value(v) for v in row.values()])
    return int(cursor.lastrowid or 0)


def update(conn: sqlite3.Connection, table: str, values: dict[str, Any], where: str, args: tuple[Any, ...]) -> None:
    """UPDATE `table` SET the values WHERE `where` (its ? marks bound to `args`)."""
    conn.execute(f"UPDATE {table} SET {', '.join(f'{k} = ?' for k in values)} WHERE {where}",
                 [*(sqlite_value(v) for v in values.values()), *args])


def open_for_writing(url: str) -> SqliteWriter | Store:
    """The store at `url` for an ingest's writes: sqlite3 alone for a SQLite store at HEAD (made here when the
    file is not there), else the full Store."""
    path = sqlite_file(url)
    writer = _writer(url, path) if path is not None else None
    if writer is not None:
        return writer
    from store.base import Store

    return Store(url)


def _writer(url: str, path: Path) -> SqliteWriter | None:
    if SCHEMA_HEAD != HEAD:  # statements of another revision: SQLAlchemy makes the schema
        return None
    keeper = _at_head(path)
    if keeper is None:  # new (or being made by another process: _create waits for its lock, then finds it made)
        _create(path)
        keeper = _at_head(path)
    if keeper is None:
        return None
    try:
        wal = str(keeper.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal"
    except sqlite3.Error:
        wal = False
    if not wal:  # a store the engine never opened (the engine sets WAL on every connection): leave it to Store
        keeper.close()
        return None
    return SqliteWriter(url, path, keeper)


def _create(path: Path) -> bool:
    """store/schema.py's `create` on SQLite without SQLAlchemy: under the same lock file, in one transaction
    (BEGIN IMMEDIATE), every statement and the version row, when the database has none of the store's tables
    and no version table (as there). False when it is not new (another process made it meanwhile, or it is a
    store to migrate: opened as it is) or cannot be made here (the full Store names why)."""
    from config.locks import locked

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with locked(path.with_name(path.name + ".migrate-lock")):
            conn = connect(path)
            try:
                conn.isolation_level = None  # the transaction below is ours, DDL included
                set_wal(conn)
                conn.execute("PRAGMA foreign_keys=ON")
                conn.execute("BEGIN IMMEDIATE")
                present = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
                if present & {VERSION_TABLE, *TABLES}:
                    conn.execute("ROLLBACK")
                    return False
                for statement in STATEMENTS:
                    conn.execute(statement)
                conn.execute(f"INSERT INTO {VERSION_TABLE} (version_num) VALUES (?)", (HEAD,))
                conn.execute("COMMIT")
                return True
            finally:
                conn.close()
    except (sqlite3.Error, OSError):
        return False

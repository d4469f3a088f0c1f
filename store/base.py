"""A store: one database (SQLite file or server) with its schema at HEAD, shared by every domain's tables."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Row, Table
from sqlalchemy.exc import DBAPIError, OperationalError

from config.db import DatabaseError, engine_for, redact, unreachable
from store.rows import ByKey
from store.schema import ensure_schema

__all__ = ["ByKey", "Store", "open_store", "row_of"]

_keepers: dict[tuple[int, str], sqlite3.Connection] = {}  # by process (a forked child opens its own) and URL
T = TypeVar("T")


class Store:
    """One database: its engine (one per URL in the process) and its schema, migrated to HEAD when opened.

    Build it once per command or flow run and hand it to the catalogue, the proxy store and the planning
    store: `Catalogue(store)`, `ProxyStore(store)`, `PlanningStore(store)`.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            self.engine: Engine = engine_for(url)
        except OSError as exc:  # the SQLite file's folder cannot be made
            raise DatabaseError(f"cannot use the database {redact(url)}: {exc.strerror or exc}") from exc
        self._keep_open()
        try:
            ensure_schema(self.engine, url)
        except OperationalError as exc:
            raise unreachable(url, exc) from exc
        except DBAPIError as exc:
            raise DatabaseError(f"cannot use the database {redact(url)}: "
                                f"{str(exc.orig).strip().splitlines()[0]}") from exc
        _hold_wal(_keepers.get((os.getpid(), url)))

    @classmethod
    def of(cls, store: Store | str) -> Store:
        """The store itself, or one opened at a URL (for callers that hold only the settings' URL)."""
        return store if isinstance(store, Store) else cls(store)

    def _keep_open(self) -> None:
        """SQLite: hold one idle connection for the life of the process. The shared engine opens and closes a
        connection per transaction (NullPool); when the closing one is the last, SQLite checkpoints and removes
        the WAL each time, which costs more than the transaction itself."""
        db = self.engine.url.database
        if self.engine.dialect.name != "sqlite" or not db or db == ":memory:" or (os.getpid(), self.url) in _keepers:
            return
        try:
            Path(db).parent.mkdir(parents=True, exist_ok=True)
            _keepers[os.getpid(), self.url] = sqlite3.connect(db, check_same_thread=False)
        except (sqlite3.Error, OSError):
            pass  # the engine's own connection reports the problem, with the URL

    @property
    def dialect(self) -> str:
        """The database's kind: "sqlite", "postgresql"."""
        return self.engine.dialect.name

    @property
    def paramstyle(self) -> str:
        """How its DB-API driver marks parameters in plain SQL: "qmark" (?), "format" or "pyformat" (%s)."""
        return self.engine.dialect.paramstyle

    def raw_connection(self) -> Any:
        """A DB-API connection (for plain SQL, as store/reading.py's SqliteReader gives): the caller closes it."""
        return self.engine.raw_connection()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reads; a database gone away is a DatabaseError naming it."""
        try:
            with self.engine.connect() as conn:
                yield conn
        except OperationalError as exc:
            raise unreachable(self.url, exc) from exc

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One transaction, committed at the end of the block."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except OperationalError as exc:
            raise unreachable(self.url, exc) from exc

    def insert(self, table: Table) -> Any:
        """An INSERT that can say ON CONFLICT in this database's dialect (loaded here: SQLite users never pay
        for importing the PostgreSQL dialect, about a seventh of SQLAlchemy's import time)."""
        if self.engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        return insert(table)


def _hold_wal(keeper: sqlite3.Connection | None) -> None:
    """The kept connection reads the database once (at HEAD, in WAL mode by now): only a connection that has read
    it holds the WAL open; one that never read leaves every other connection's close the last one, which
    checkpoints and removes the WAL (two syncs and a file made again per transaction: 8 transactions took 0.07-0.16
    s against 0.02-0.05 s held, measured on the development VM). The read ends at once (fetched whole, no
    transaction left open), so checkpoints still complete."""
    if keeper is None:
        return
    try:
        cursor = keeper.execute("SELECT count(*) FROM sqlite_master")
        cursor.fetchall()
        cursor.close()
    except sqlite3.Error:
        pass  # as when it could not be opened: the engine's own connections report any problem


def row_of(cls: type[T], row: Row[Any]) -> T:
    """A typed row (a frozen dataclass) from a result row: its fields by name, columns it does not name left out."""
    mapping = row._mapping
    return cls(**{f.name: mapping[f.name] for f in fields(cls)})  # type: ignore[arg-type]


def open_store(url: str) -> Store:
    """The store a run builds once and hands to its steps (a step of its own, so that a flow retries a
    database that is not there yet, as it retries any step that finds it gone)."""
    return Store(url)

"""A store opened only to read it, without SQLAlchemy where that is safe: what `postprod conform` opens.

Importing SQLAlchemy is a third to a half of a light command's start-up (0.2-0.3 s of CPU). A SQLite store's
driver is the standard library's sqlite3 either way (SQLAlchemy's pysqlite dialect hands it the SQL), so a
query written in plain SQL (ingest/catalogue_read.py) gets the same rows through either. `open_for_reading`
opens the database with sqlite3 only when it is a SQLite file that is already there and at HEAD; anything
else (PostgreSQL, a new data directory, a database to migrate, a file SQLite cannot read) gets the full
`Store`, which creates, migrates or names the problem exactly as every command does.

Both answer the same few questions: `url`, `dialect` ("sqlite", "postgresql"), `paramstyle` (the DB-API's
"qmark", "format"...) and `raw_connection()`, a DB-API connection the caller closes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from store.revision import HEAD, VERSION_TABLE

if TYPE_CHECKING:
    from store.base import Store

BUSY_TIMEOUT = 30.0  # seconds, as config/db.py's engines wait on a database another process is writing


class Readable(Protocol):
    """What a read-only caller needs of a store: a SqliteReader or a Store."""

    url: str

    @property
    def dialect(self) -> str: ...

    @property
    def paramstyle(self) -> str: ...

    def raw_connection(self) -> object: ...


class SqliteReader:
    """A SQLite store at HEAD, read through the standard library's sqlite3: a connection per use, and one kept
    open for the reader's life (as Store keeps one: closing the last connection would checkpoint the WAL)."""

    dialect = "sqlite"
    paramstyle = sqlite3.paramstyle  # "qmark", as SQLAlchemy's pysqlite dialect says too

    def __init__(self, url: str, path: Path, keeper: sqlite3.Connection) -> None:
        self.url, self.path, self._keeper = url, path, keeper

    def raw_connection(self) -> sqlite3.Connection:
        return connect(self.path)


def connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, timeout=BUSY_TIMEOUT, check_same_thread=False)


def sqlite_file(url: str) -> Path | None:
    """The file of a plain SQLite URL (`sqlite:///relative.db`, `sqlite:////absolute.db`) as config/db.py reads
    it; None for anything else (another database, memory, a URL with options or escapes: SQLAlchemy reads those)."""
    if not url.startswith("sqlite:///") or any(c in url for c in "?%#"):
        return None
    path = url.removeprefix("sqlite:///")
    return Path(path) if path not in ("", ":memory:") else None


def _at_head(path: Path) -> sqlite3.Connection | None:
    """A connection to the SQLite file when it is a store at HEAD (its version row); None for a file that is
    not there, any other file, or any error (the full Store then opens it, and names the problem if any)."""
    if not path.is_file():  # (connecting would create it)
        return None
    try:
        conn = connect(path)
    except sqlite3.Error:
        return None
    try:
        if conn.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchall() == [(HEAD,)]:
            return conn
    except sqlite3.Error:
        pass
    conn.close()
    return None


def open_for_reading(url: str) -> SqliteReader | Store:
    """The store at `url` for reading: sqlite3 alone for a SQLite store at HEAD, else the full Store."""
    path = sqlite_file(url)
    keeper = _at_head(path) if path is not None else None
    if path is not None and keeper is not None:
        return SqliteReader(url, path, keeper)
    from store.base import Store

    return Store(url)


def unreachable(url: str, exc: Exception) -> Exception:
    """A database gone away (the DB-API's OperationalError, whatever the driver, or SQLAlchemy's around it) as a
    message naming it, as Store.read() says it; any other error as it is."""
    if not any(c.__name__ == "OperationalError" for c in type(exc).__mro__):
        return exc
    from config.db import DatabaseError, redact

    cause = getattr(exc, "orig", None) or exc  # SQLAlchemy's wrapper: the driver's own message
    reason = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
    return DatabaseError(f"cannot reach the database {redact(url)}: {reason}")


@contextmanager
def naming_unreachable(url: str, catch: type[Exception] = sqlite3.Error) -> Iterator[None]:
    """The block's errors of type `catch` raised as `unreachable` gives them: a database gone away as a message
    naming it (the driver's error its cause), any other as it was raised."""
    try:
        yield
    except catch as exc:
        error = unreachable(url, exc)
        if error is exc:
            raise
        raise error from exc

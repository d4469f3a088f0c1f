"""The store's schema: a cheap version check when a store is opened, the Alembic migrations when it is behind.

Every table (catalogue, proxies, planning) is changed by the migrations in store/migrations/versions, one
linear history. Opening a store reads the version row (one query, Alembic not even imported). A new database
(none of the store's tables, no version row) is made from store/tables.py in one transaction and stamped at
HEAD, without Alembic (running every migration cost about half a second, on each first ingest into a new data
directory; tests/store/test_store_created.py proves the two schemas equal on SQLite and PostgreSQL, and that a
later migration applies to a created one). Only a database behind HEAD (made by an older postprod, or by the
create_all of the stores before 0003) loads Alembic and upgrades it. Both under a lock, so that processes
opening it together make or migrate it once.

To add a migration: copy the newest file in store/migrations/versions, give it the next revision id with
`down_revision` the previous one, write `upgrade()`/`downgrade()` with `op.*` (SQLite: `op.batch_alter_table`
for changes to existing tables), describe the new columns or tables in store/tables.py exactly as the migration
makes them (new databases are created from it), and set HEAD in store/revision.py to its revision id
(tests/store checks that HEAD is the newest migration, and that the created and the migrated databases match
store/tables.py and each other: names, types, defaults, indexes and constraints).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Connection, Engine, MetaData, PrimaryKeyConstraint, String, Table, inspect, text
from sqlalchemy.exc import DBAPIError

from config.db import DatabaseError, redact
from config.locks import locked
from store.revision import HEAD, VERSION_TABLE

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

_at_head: set[str] = set()


def ensure_schema(engine: Engine, url: str) -> None:
    """Bring the database to HEAD, unless it is there already (checked once per process and URL)."""
    if url in _at_head:
        return
    revision = current_revision(engine)
    if revision != HEAD and not (revision is None and create(engine)):
        upgrade(engine, url)
    _at_head.add(url)


def current_revision(engine: Engine) -> str | None:
    """The database's version row; None before any migration ran (the version table is not there)."""
    with engine.connect() as conn:  # a database that cannot be reached raises here
        try:
            return conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
        except DBAPIError:
            return None


def version_table() -> Table:
    """The version table exactly as Alembic makes it (alembic.ddl.impl.DefaultImpl.version_table_impl)."""
    return Table(VERSION_TABLE, MetaData(), Column("version_num", String(32), nullable=False),
                 PrimaryKeyConstraint("version_num", name=f"{VERSION_TABLE}_pkc"))


def create(engine: Engine) -> bool:
    """Make a new database at HEAD from store/tables.py, in one transaction: every table, index and constraint,
    and the version row. False (nothing done) when the database is not new: it holds one of the store's tables
    or a version table (a database of an older postprod, or one another process has just made)."""
    from store.tables import metadata

    with _migration_lock(engine) as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")  # pysqlite runs DDL outside a transaction unless told
        present = set(inspect(conn).get_table_names())
        if present & {VERSION_TABLE, *metadata.tables}:
            conn.rollback()
            return False
        metadata.create_all(conn, checkfirst=False)
        stamp = version_table()
        stamp.create(conn, checkfirst=False)
        conn.execute(stamp.insert().values(version_num=HEAD))
        conn.commit()
    return True


def upgrade(engine: Engine, url: str) -> None:
    """Run the migrations the database lacks (one process at a time)."""
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(cfg)
    with _migration_lock(engine) as conn:
        current = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).get_current_revision()
        if current is not None and not _known(script, current):
            raise DatabaseError(f"the database {redact(url)} is at schema revision {current}, newer than this "
                                f"postprod knows (up to {script.get_current_head()}): upgrade postprod")
        if current != script.get_current_head():
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
        conn.commit()


def _known(script: Any, revision: str) -> bool:
    from alembic.util import CommandError

    try:
        return script.get_revision(revision) is not None
    except CommandError:
        return False


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[Connection]:
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(7007007)"))
            conn.commit()
            try:
                yield conn
            finally:
                conn.rollback()
                conn.execute(text("SELECT pg_advisory_unlock(7007007)"))
                conn.commit()
        return
    db = engine.url.database
    if engine.dialect.name == "sqlite" and db and db != ":memory:":
        with locked(Path(db).with_name(Path(db).name + ".migrate-lock")), engine.connect() as conn:
            yield conn
        return
    with engine.connect() as conn:
        yield conn

"""The one store's schema: made by the migrations, equal to store/tables.py, and upgraded in place from what
the stores before it made (the catalogue's and proxies' create_all, the planning migrations 0001-0002)."""

from __future__ import annotations

import shutil
from pathlib import Path

import db_fixtures
import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    inspect,
    select,
    text,
)

from config.db import DatabaseError
from ingest.catalogue import Catalogue
from ingest.proxies.store import ProxyStore
from media.model import MediaKind
from planning.stages import StageState
from planning.store import PlanningStore
from store import Store
from store.schema import HEAD, MIGRATIONS, VERSION_TABLE, current_revision, upgrade
from store.tables import metadata

db_url = db_fixtures.db_url  # fixtures: SQLite and PostgreSQL
pg_server = db_fixtures.pg_server

V0 = Path(__file__).parent / "data" / "catalogue-4f2fdfd.sqlite"  # made by make_v0_catalogue.py at 4f2fdfd
CATALOGUE_TABLES = ("ingests", "media", "proxies")
PLANNING_TABLES = ("productions", "stages", "stage_events", "session_reports", "digests")


def v0_catalogue_tables() -> MetaData:
    """The catalogue and proxy tables exactly as the create_all of commit 4f2fdfd made them."""
    md = MetaData()
    Table("ingests", md, Column("id", Integer, primary_key=True, autoincrement=True),
          Column("production", String(200), nullable=False, index=True), Column("source", Text, nullable=False),
          Column("started_at", DateTime(timezone=True), nullable=False), Column("finished_at", DateTime(timezone=True)),
          *[Column(n, Integer, nullable=False, default=0) for n in ("files", "new_files", "skipped", "errors", "warnings")],
          Column("report_json", Text), Column("report_html", Text))
    Table("media", md, Column("id", Integer, primary_key=True, autoincrement=True),
          Column("production", String(200), nullable=False), Column("path", Text, nullable=False),
          Column("card", Text, nullable=False), Column("relpath", Text, nullable=False),
          Column("role", String(20), nullable=False, default="original"),
          Column("source_id", Integer, ForeignKey("media.id")), Column("kind", String(20), nullable=False),
          Column("size", BigInteger, nullable=False), Column("mtime_ns", BigInteger, nullable=False),
          Column("hash_algorithm", String(20)), Column("hash", String(128)),
          Column("clip_name", String(500), index=True), Column("reel", String(200), index=True),
          Column("start_frames", BigInteger), Column("duration_frames", BigInteger), Column("rate", String(32)),
          Column("drop_frame", Boolean), Column("worst_severity", String(10)),
          Column("status", String(20), nullable=False, default="ok"), Column("media_json", Text, nullable=False),
          Column("ingest_id", Integer, ForeignKey("ingests.id")),
          Column("first_seen", DateTime(timezone=True), nullable=False),
          Column("updated_at", DateTime(timezone=True), nullable=False),
          UniqueConstraint("production", "path", name="uq_media_production_path"),
          Index("ix_media_production_reel", "production", "reel"))
    Table("proxies", md, Column("id", Integer, primary_key=True, autoincrement=True),
          Column("production", String(200), nullable=False), Column("preset", String(200), nullable=False),
          Column("fingerprint", String(32), nullable=False), Column("source_path", Text, nullable=False),
          Column("source_hash_algorithm", String(20), nullable=False), Column("source_hash", String(128), nullable=False),
          Column("source_media_id", Integer), Column("proxy_path", Text, nullable=False), Column("proxy_media_id", Integer),
          Column("size", BigInteger, nullable=False), Column("mtime_ns", BigInteger, nullable=False),
          Column("encoder", String(64)), Column("made_at", DateTime(timezone=True), nullable=False),
          UniqueConstraint("production", "proxy_path", name="uq_proxies_production_path"))
    return md


def kept(before: dict[str, list[tuple]], after: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
    """`after` restricted to the columns `before` had: later migrations may add columns, never lose a value."""
    return {name: [tuple(item for item in row if item[0] in {k for k, _ in old[0]}) if old else row
                   for row in after[name]] for name, old in before.items()}


def all_rows(url: str, tables: tuple[str, ...]) -> dict[str, list[tuple]]:
    """Every row of the tables, in id order, as the database gives them back (columns by name)."""
    engine = create_engine(url)
    md = MetaData()
    md.reflect(engine, only=list(tables))
    with engine.connect() as conn:
        rows = {name: [tuple(sorted(r._mapping.items())) for r in conn.execute(select(md.tables[name])
                                                                               .order_by(md.tables[name].c.id))]
                for name in tables}
    engine.dispose()
    return rows


def schema_drift(store: Store) -> list:
    """What store/tables.py says and the migrated database lacks or has more (nothing, when they agree)."""
    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE,
                                                     "compare_type": True, "compare_server_default": False})
        return compare_metadata(ctx, metadata)


def test_head_is_the_newest_migration() -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(cfg).get_current_head() == HEAD


def test_fresh_database_is_at_head_as_the_tables_describe(db_url: str) -> None:
    """Made from the tables (tests/store/test_store_created.py proves it equal to the migrations' database),
    and, the old way, by every migration from an empty database: both as store/tables.py describes."""
    store = Store(db_url)
    assert current_revision(store.engine) == HEAD
    assert set(CATALOGUE_TABLES + PLANNING_TABLES + ("quotes", "overrun_alerts")) <= set(
        inspect(store.engine).get_table_names())
    assert schema_drift(store) == []


def test_every_migration_from_an_empty_database_makes_the_tables(db_url: str) -> None:
    upgrade(create_engine(db_url), db_url)
    store = Store(db_url)
    assert current_revision(store.engine) == HEAD
    assert schema_drift(store) == []


def test_catalogue_written_by_4f2fdfd_opens_migrates_and_keeps_every_row(tmp_path: Path) -> None:
    db = tmp_path / "postprod.db"
    shutil.copyfile(V0, db)
    url = f"sqlite:///{db}"
    before = all_rows(url, CATALOGUE_TABLES + PLANNING_TABLES)
    assert current_revision(create_engine(url)) == "0002"  # planning migrated; catalogue and proxies by create_all
    assert [len(before[t]) for t in CATALOGUE_TABLES] == [2, 5, 2]

    store = Store(url)
    assert current_revision(store.engine) == HEAD
    assert kept(before, all_rows(url, CATALOGUE_TABLES + PLANNING_TABLES)) == before
    assert schema_drift(store) == []
    check_v0_content(store)


def check_v0_content(store: Store) -> None:
    """What make_v0_catalogue.py put in, read back through the domain stores."""
    catalogue = Catalogue(store)
    originals = {Path(r["path"]).name: r for r in catalogue.rows("test", role="original")}
    assert sorted(originals) == ["A001C001.mov", "A001C001.xml", "A001C002 été.mov"]
    assert originals["A001C001.mov"]["status"] == "changed"
    assert [m.clip_name for m in catalogue.media_files("test") if m.kind == MediaKind.MEDIA] == ["A001C001",
                                                                                   "A001C002 été"]
    proxies = list(catalogue.rows("test", role="proxy"))
    assert sorted(r["source_id"] for r in proxies) == sorted(originals[n]["id"] for n in ("A001C001.mov",
                                                                                         "A001C002 été.mov"))
    folder = str(Path(proxies[0]["path"]).parent)
    assert len(ProxyStore(store).for_folder("test", "h264-review", folder)) == 2
    planning = PlanningStore(store)
    assert planning.state("test", "rushes_reception") == StageState.IN_PROGRESS
    assert planning.reports("test")[0]["technician"] == "Zoé"
    # Migration 0006 gave every row its lookup keys (upper-cased by Python: é is É): conform finds a clip by name.
    assert catalogue.unkeyed("test") == 0
    keyed = catalogue.keyed("test")
    try:
        assert keyed.present(["A001C002 ÉTÉ", "A001C002 ÉTÉ.MOV", "A001", "NOBODY"]) >= {
            ("name", "A001C002 ÉTÉ", True), ("name", "A001C002 ÉTÉ.MOV", True), ("reel", "A001", True)}
    finally:
        keyed.close()
    # And it takes new rows after the old ones.
    new_id = catalogue.start_ingest("test", "/cards/A002")
    assert new_id == 3


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_catalogue_made_by_create_all_on_postgresql_is_upgraded_in_place(db_url: str, tmp_path: Path) -> None:
    """The 4f2fdfd database's rows in a schema made as that commit made it (create_all, planning at 0002)."""
    v0_url = f"sqlite:///{tmp_path / 'v0.db'}"
    shutil.copyfile(V0, tmp_path / "v0.db")
    old = v0_catalogue_tables()
    engine = create_engine(db_url)
    old.create_all(engine)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.connect() as conn:  # the planning store's migrations, as 4f2fdfd ran them
        from alembic import command

        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0002")
        conn.commit()
    copy_rows(v0_url, engine, old)
    before = all_rows(db_url, CATALOGUE_TABLES + PLANNING_TABLES)
    assert [len(before[t]) for t in CATALOGUE_TABLES] == [2, 5, 2] and len(before["stages"]) == 12
    engine.dispose()

    store = Store(db_url)
    assert current_revision(store.engine) == HEAD
    assert kept(before, all_rows(db_url, CATALOGUE_TABLES + PLANNING_TABLES)) == before
    assert schema_drift(store) == []
    check_v0_content(store)


def copy_rows(source_url: str, engine, old: MetaData) -> None:
    """Every row of the v0 database into the PostgreSQL schema, ids kept (sequences moved past them)."""
    source = create_engine(source_url)
    as_then = MetaData()  # the planning tables as 0002 made them (later migrations add columns)
    as_then.reflect(source, only=list(PLANNING_TABLES))
    planning = [as_then.tables[name] for name in PLANNING_TABLES]
    with source.connect() as src, engine.begin() as dst:
        for table in [*old.sorted_tables, *planning]:
            rows = [dict(r._mapping) for r in src.execute(select(table))]
            if rows:
                dst.execute(table.insert(), rows)
            dst.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                             f"(SELECT coalesce(max(id), 1) FROM {table.name}))"))
    source.dispose()


def test_database_newer_than_this_postprod_is_a_clear_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    Store(url)
    with create_engine(url).begin() as conn:
        conn.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = '9999'"))
    import store.schema

    store.schema._at_head.discard(url)
    with pytest.raises(DatabaseError, match="schema revision 9999, newer than this postprod knows"):
        Store(url)

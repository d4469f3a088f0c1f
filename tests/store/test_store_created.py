"""A new database is made from store/tables.py and stamped at HEAD (no migration runs, Alembic not loaded):
it must be the very database the migrations make, on SQLite and PostgreSQL, and take later migrations as one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import db_fixtures
import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, inspect, text

from ingest.catalogue import Catalogue
from store import Store
from store.schema import HEAD, MIGRATIONS, VERSION_TABLE, create, current_revision, upgrade

db_url = db_fixtures.db_url  # fixtures: SQLite and PostgreSQL
pg_server = db_fixtures.pg_server
ROOT = Path(__file__).resolve().parents[2]

# A migration written after HEAD, as a later postprod would ship it: a column and an index added to the
# catalogue, and a change SQLite can only make by copying the table (batch mode reflects the table as it is).
LATER = '''"""A later migration (test).

Revision ID: 9001
Revises: {head}
"""

import sqlalchemy as sa
from alembic import op

revision = "9001"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("media") as batch:
        batch.add_column(sa.Column("camera", sa.String(40), server_default="A"))
        batch.alter_column("card", existing_type=sa.Text, nullable=True)
        batch.create_index("ix_media_camera", ["camera"])
    with op.batch_alter_table("web_users") as batch:
        batch.alter_column("language", existing_type=sa.String(5), server_default="en")


def downgrade() -> None:
    with op.batch_alter_table("web_users") as batch:
        batch.alter_column("language", existing_type=sa.String(5), server_default="fr")
    with op.batch_alter_table("media") as batch:
        batch.drop_index("ix_media_camera")
        batch.alter_column("card", existing_type=sa.Text, nullable=False)
        batch.drop_column("camera")
'''


@contextmanager
def another(url: str, tmp_path: Path) -> Iterator[str]:
    """A second empty database on the same engine as `url`."""
    if url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'other.db'}"
        return
    with db_fixtures.pg_schema(url.split("?")[0]) as other:
        yield other


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in sorted(value.items()) if k != "type"} | (
            {"type": str(value["type"])} if "type" in value else {})
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def described(url: str) -> dict[str, Any]:
    """Everything the database says of its schema: per table its columns in order (type, nullability, server
    default, autoincrement), primary key, foreign keys, indexes, unique and check constraints; the version."""
    engine = create_engine(url)
    insp = inspect(engine)
    out: dict[str, Any] = {}
    for name in sorted(insp.get_table_names()):
        out[name] = {
            "columns": _plain(insp.get_columns(name)),
            "pk": _plain(insp.get_pk_constraint(name)),
            "fks": sorted(map(repr, _plain(insp.get_foreign_keys(name)))),
            "indexes": sorted(map(repr, _plain(insp.get_indexes(name)))),
            "unique": sorted(map(repr, _plain(insp.get_unique_constraints(name)))),
            "checks": sorted(map(repr, _plain(insp.get_check_constraints(name)))),
        }
    with engine.connect() as conn:
        out["version"] = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
    engine.dispose()
    return out


def migrated(url: str) -> None:
    """The database made the old way: every migration from an empty database (Alembic)."""
    upgrade(create_engine(url), url)


def test_new_database_is_created_at_head_without_alembic(db_url: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    code = ("import sys; from store import Store; Store(sys.argv[1]); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))")
    proc = subprocess.run([sys.executable, "-c", code, db_url], capture_output=True, text=True, env=env,
                          cwd=ROOT, check=True)
    assert proc.stdout.strip() == "[]"
    assert current_revision(create_engine(db_url)) == HEAD


def test_created_database_equals_the_migrated_one(db_url: str, tmp_path: Path) -> None:
    engine = create_engine(db_url)
    assert create(engine)
    with another(db_url, tmp_path) as other:
        migrated(other)
        made, expected = described(db_url), described(other)
    assert set(made) >= {"media", "media_keys", "ingests", "proxies", "stages", "web_users", VERSION_TABLE}
    assert made == expected
    assert made["version"] == [HEAD]
    assert not create(engine)  # made once: a second call finds it there and does nothing


def test_create_leaves_a_database_it_did_not_make_to_the_migrations(db_url: str) -> None:
    """A database with one of the store's tables and no version (the create_all of the stores before 0003)
    is not new: the migrations upgrade it in place, keeping its rows."""
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE stages (id INTEGER PRIMARY KEY, production VARCHAR(200), "
                          "stage VARCHAR(40), state VARCHAR(20), note TEXT, updated_at TIMESTAMP)"))
        conn.execute(text("INSERT INTO stages VALUES (1, 'p', 'grading', 'done', NULL, '2026-01-01 00:00:00')"))
    assert not create(engine)
    assert current_revision(engine) is None
    Store(db_url)
    assert current_revision(engine) == HEAD
    with engine.connect() as conn:
        assert conn.execute(text("SELECT production, stage FROM stages")).all() == [("p", "grading")]


def test_a_later_migration_applies_to_a_created_database(db_url: str, tmp_path: Path) -> None:
    scripts = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "9001_later.py").write_text(LATER.format(head=HEAD))
    cfg = Config()
    cfg.set_main_option("script_location", str(scripts))

    def to(url: str, revision: str, down: bool = False) -> None:
        engine = create_engine(url)
        with engine.connect() as conn:
            cfg.attributes["connection"] = conn
            (command.downgrade if down else command.upgrade)(cfg, revision)
            conn.commit()
        engine.dispose()

    Store(db_url)  # created at HEAD
    ingest_id = Catalogue(Store(db_url)).start_ingest("p", "/cards/A001")
    with another(db_url, tmp_path) as other:
        migrated(other)
        for url in (db_url, other):
            to(url, "9001")
        after, expected = described(db_url), described(other)
        assert after == expected
        assert after["version"] == ["9001"]
        assert [c["name"] for c in after["media"]["columns"]][-1] == "camera"
        for url in (db_url, other):
            to(url, HEAD, down=True)
        assert described(db_url) == described(other)
        assert described(db_url)["version"] == [HEAD]
    engine = create_engine(db_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT id, source FROM ingests")).all() == [(ingest_id, "/cards/A001")]
    engine.dispose()


def test_create_is_one_transaction(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Cut short half-way, creating leaves nothing behind: the next open makes the whole database."""
    from store import tables

    def half(conn: Any, checkfirst: bool) -> None:
        tables.ingests.create(conn)
        raise RuntimeError("cut short")

    engine = create_engine(db_url)
    with monkeypatch.context() as m:
        m.setattr(tables.metadata, "create_all", half)
        with pytest.raises(RuntimeError, match="cut short"):
            create(engine)
    assert inspect(engine).get_table_names() == []
    assert create(engine)
    assert described(db_url)["version"] == [HEAD]

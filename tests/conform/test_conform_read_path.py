"""`postprod conform` reads a SQLite store at HEAD with the standard library's sqlite3, without SQLAlchemy
(store/reading.py, ingest/catalogue_read.py): the same reports as through the full Store, on a catalogue made
by really ingesting clips made by ffmpeg; anything else opens the full Store, which creates, migrates or names
the problem as before. So does `postprod probe -p PRODUCTION`, which asks the catalogue what it knows of each
file: the same rows, typed as SQLAlchemy types them, and the same probe."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from test_conform_match import EDL, catalogue_ws, cws, run_cli  # noqa: F401  (the module's fixtures, used here)

import cli.commands.probe  # noqa: F401  (registers the command run_cli runs)
import store.reading
from config.db import DatabaseError
from config.settings import load_settings
from conform.check import check_conform
from ingest.catalogue import Catalogue
from ingest.catalogue_read import MEDIA_COLUMNS, CatalogueReader
from store import Store, tables
from store.reading import SqliteReader, open_for_reading, sqlite_file
from store.revision import HEAD

# Events that only a timecode can match (no reel, no name known to the catalogue): the windows' query and the
# originals by start frame; and one whose reel no production has.
BY_TIMECODE = """TITLE: TIMECODE ONLY
FCM: NON-DROP FRAME

001  AX       V     C        14:30:00:15 14:30:01:05 01:00:00:00 01:00:00:15
002  AX       V     C        10:00:10:05 10:00:11:00 01:00:00:15 01:00:01:10
003  Q777     V     C        08:00:00:00 08:00:01:00 01:00:01:10 01:00:02:10
"""


def _report(edl: Path, production: str, settings, store) -> str:  # type: ignore[no-untyped-def]
    data = check_conform(edl, production, settings, write_report=False, store=store).data
    data.pop("checked_at")
    return json.dumps(data, sort_keys=True)


def test_the_sqlite_reader_gives_the_stores_reports(cws: Path) -> None:  # noqa: F811
    settings = load_settings(cws / "postprod.toml")
    (cws / "tc.edl").write_text(BY_TIMECODE)
    reader = open_for_reading(settings.db_url)
    assert isinstance(reader, SqliteReader)  # the catalogue is there and at HEAD
    full = Store(settings.db_url)
    for edl, production in ((cws / "cut.edl", "test"), (cws / "tc.edl", "test"),
                            (cws / "cut.edl", "default"), (cws / "tc.edl", "default")):  # (the last two: the hint)
        assert _report(edl, production, settings, reader) == _report(edl, production, settings, full), (edl, production)
    found = json.loads(_report(cws / "tc.edl", "test", settings, reader))
    assert [e["matched_by"] for e in found["events"]] == ["timecode", "timecode", None]
    assert "production_hint" in _report(cws / "cut.edl", "default", settings, reader)


def test_a_catalogue_without_lookup_keys_is_read_whole_the_same_way(cws: Path, tmp_path: Path) -> None:  # noqa: F811
    settings = load_settings(cws / "postprod.toml")
    copy = tmp_path / "unkeyed.db"
    with sqlite3.connect(Path(settings.db_url.removeprefix("sqlite:///"))) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
    with sqlite3.connect(copy) as conn:
        conn.execute("DELETE FROM media_keys")  # rows written by other means than the catalogue's record()
    url = f"sqlite:///{copy}"
    reader = open_for_reading(url)
    assert isinstance(reader, SqliteReader)
    assert _report(cws / "cut.edl", "test", settings, reader) == _report(cws / "cut.edl", "test", settings, Store(url))


def test_anything_but_a_sqlite_store_at_head_opens_the_full_store(tmp_path: Path) -> None:
    new = tmp_path / "new" / "postprod.db"
    store = open_for_reading(f"sqlite:///{new}")
    assert isinstance(store, Store) and new.is_file()  # a new data directory's database: made, at HEAD
    assert isinstance(open_for_reading(f"sqlite:///{new}"), SqliteReader)  # and read without SQLAlchemy after
    newer = tmp_path / "newer.db"
    with sqlite3.connect(newer) as conn:  # made by a later postprod: the Store says so, as before
        conn.execute("CREATE TABLE planning_alembic_version (version_num VARCHAR(32) NOT NULL)")
        conn.execute("INSERT INTO planning_alembic_version VALUES ('9999')")
    with pytest.raises(DatabaseError, match="newer than this postprod knows"):
        open_for_reading(f"sqlite:///{newer}")
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database, " * 100)
    with pytest.raises(DatabaseError):
        open_for_reading(f"sqlite:///{garbage}")
    assert HEAD  # (what "at HEAD" is compared with)
    for url in ("sqlite://", "sqlite:///:memory:", "sqlite:///x.db?mode=ro", "sqlite:///a%20b.db",
                "postgresql://u:p@host/db"):
        assert sqlite_file(url) is None, url  # SQLAlchemy reads these: the full Store
    assert sqlite_file("sqlite:////abs/p.db") == Path("/abs/p.db") and sqlite_file("sqlite:///rel.db") == Path("rel.db")


def typed(row: object) -> list[tuple[str, str, str]] | None:
    if row is None:
        return None
    return [(k, type(v).__name__, repr(v)) for k, v in vars(row).items()]


def test_the_media_columns_read_are_the_table() -> None:
    assert list(MEDIA_COLUMNS) == [c.name for c in tables.media.columns]
    for c in tables.media.columns:
        read = MEDIA_COLUMNS[c.name]
        if isinstance(c.type, tables.DateTime):
            assert read is not None and read.__name__ == "fromisoformat", c.name
        elif isinstance(c.type, tables.Boolean):
            assert read is bool, c.name
        else:
            assert read is None, c.name


def test_lookup_gives_the_catalogues_rows(cws: Path) -> None:  # noqa: F811
    url = load_settings(cws / "postprod.toml").db_url
    full = Catalogue(url)
    rows = list(full.rows())
    assert len(rows) >= 7 and any(r.role == "proxy" for r in rows)
    full.mark("test", rows[0].path, "changed")
    reader = open_for_reading(url)
    assert isinstance(reader, SqliteReader)
    fast = CatalogueReader(reader)
    for r in [*rows, *full.rows()]:
        assert typed(fast.lookup(r.production, r.path)) == typed(full.lookup(r.production, r.path)), r.path
    assert fast.lookup("test", "/no/such/file") is None and fast.lookup("nobody", rows[0].path) is None
    assert fast.lookup("test", rows[0].path).first_seen == full.lookup("test", rows[0].path).first_seen
    assert fast.lookup("test", rows[0].path).status == "changed"


def test_probe_in_a_production_says_the_same_through_either(cws: Path,  # noqa: F811
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    url = load_settings(cws / "postprod.toml").db_url
    clips = sorted((cws / "cards").rglob("*.mov"))
    Catalogue(url).mark("test", os.path.abspath(clips[0]), "changed")  # an error state the catalogue keeps
    args = ("probe", *map(str, clips[:3]), "-p", "test", "--json")
    fast = run_cli(*args)
    monkeypatch.setattr(store.reading, "open_for_reading", lambda u: Store(u))  # the full store, as before
    full = run_cli(*args)
    assert (fast.exit_code, fast.stdout) == (full.exit_code, full.stdout)
    found = json.loads(fast.stdout)
    assert [f["rule"] for f in found[0]["findings"]].count("changed_after_ingest") == 1 and fast.exit_code == 1

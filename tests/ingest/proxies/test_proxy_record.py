"""A proxy's rows written in plain SQL on a SQLite store at HEAD (ingest/proxies/record.py) are the rows
SQLAlchemy writes (Catalogue, ProxyStore), column for column, inserted and replaced; and a whole batch on such a
store, its ALE included, never imports SQLAlchemy."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from test_proxy_reads import _card  # the same two-clip card

from config.settings import load_settings
from ingest.card import ingest_card
from ingest.catalogue import Catalogue
from ingest.catalogue_rows import media_values
from ingest.proxies.make import plan_batch, run_batch
from ingest.proxies.models import Writes
from ingest.proxies.reads import ProxyReads
from ingest.proxies.store import ProxyStore
from media.probe import probe_file
from store import Store
from store.reading import SqliteReader, open_for_reading, sqlite_file

ROOT = Path(__file__).resolve().parents[3]
TABLES = ("media", "media_keys", "proxies")


def _copy_store(db: Path, to: Path) -> str:
    """A second SQLite store, the same rows (sqlite3's backup: the WAL's pages too)."""
    src, dst = sqlite3.connect(db), sqlite3.connect(to)
    with dst:
        src.backup(dst)
    src.close()
    dst.close()
    return f"sqlite:///{to}"


def _dump(db: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(db)
    try:
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2, 3").fetchall() for t in TABLES}
    finally:
        conn.close()


def test_plain_rows_equal_sqlalchemy_rows(settings, workspace: Path, make_media) -> None:
    card = _card(workspace, make_media)
    ingest_card(str(card), "test", settings)  # a store at HEAD with the originals' rows
    db = sqlite_file(settings.db_url)
    assert db is not None and isinstance(open_for_reading(settings.db_url), SqliteReader)
    other_url = _copy_store(db, workspace / "other.db")
    plain, full = Writes(settings.db_url, sqlite=db), Writes(other_url)
    originals = {r.path: r for r in Catalogue(settings.db_url).rows("test")}
    source = str(card / "A001C001.mov")
    # A real proxy file (the source itself stands in: a file ffmpeg made, probed as a batch probes its proxy).
    made = probe_file(Path(source), ffmpeg=None, decode_check="none")
    at = datetime(2026, 12, 1, 11, 30, 5, 123456, tzinfo=UTC)
    writes = [  # a new row with its original, a second without one, then the first replaced (a re-made proxy)
        ("/p/A001/A001C001.mov", originals[source].id, "aa11", 1000, at),
        ("/p/A001/other clip_1%.mov", None, "bb22", 2000, at.replace(second=6)),
        ("/p/A001/A001C001.mov", originals[source].id, "cc33", 3000, at.replace(second=7, microsecond=0)),
    ]
    for path, source_id, digest, size, when in writes:
        item = made.model_copy(update={"path": path, "clip_name": "A001C001", "size": size, "mtime_ns": size * 7})
        values = media_values(item, card="/p/A001", relpath=Path(path).name, hash_algorithm="xxh128",
                              hash_value=digest, ingest_id=None, role="proxy", source_id=source_id, at=when)
        proxy = {"preset": "prores-proxy", "fingerprint": "f00d", "source_path": source,
                 "source_hash_algorithm": "xxh128", "source_hash": "5eed", "source_media_id": source_id,
                 "proxy_path": path, "size": size, "mtime_ns": size * 7, "encoder": "prores_ks", "made_at": when}
        ids = {w.record("test", path, values, proxy) for w in (plain, full)}
        assert len(ids) == 1  # the same row id either way
    assert _dump(db) == _dump(workspace / "other.db")
    replaced = Catalogue(settings.db_url).lookup("test", "/p/A001/A001C001.mov")
    assert replaced is not None and replaced.first_seen == at.replace(tzinfo=None) and replaced.hash == "cc33"
    # Read back through SQLAlchemy: the same typed rows (DateTime, Boolean) from either store.
    for path in ("/p/A001/A001C001.mov", "/p/A001/other clip_1%.mov"):
        a, b = Catalogue(settings.db_url).lookup("test", path), Catalogue(other_url).lookup("test", path)
        assert a == b and a is not None and isinstance(a.first_seen, datetime) and a.drop_frame is False
        assert ProxyStore(settings.db_url).at("test", path) == ProxyStore(other_url).at("test", path)
    # What a card's ALE lists, in plain SQL as ProxyStore.for_folder selects it (a LIKE, escaped).
    for readable in (open_for_reading(settings.db_url), Store(settings.db_url)):
        for folder in ("/p/A001", "/p/A001/", "/p", "/p/A00", "/p/A001/other clip_1%"):
            assert ProxyReads(readable).in_folder("test", "prores-proxy", folder) == \
                [(r.proxy_path, r.source_path) for r in ProxyStore(settings.db_url).for_folder("test", "prores-proxy",
                                                                                                 folder)]
    assert ProxyReads(open_for_reading(settings.db_url)).in_folder("test", "prores-proxy", "/p/A001") == \
        [("/p/A001/A001C001.mov", source), ("/p/A001/other clip_1%.mov", source)]


def _named(db: Path, table: str, leave_out: set[str]) -> list[dict[str, object]]:
    conn = sqlite3.connect(db)
    try:
        cursor = conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2, 3")
        names = [d[0] for d in cursor.description]
        return sorted(({k: v for k, v in zip(names, r, strict=True) if k not in leave_out} for r in cursor.fetchall()),
                      key=repr)
    finally:
        conn.close()


def test_a_batch_writes_the_same_rows_either_way(settings, workspace: Path, make_media) -> None:
    """A batch on a SQLite store at HEAD (plain SQL) and the same batch on a full Store (SQLAlchemy, as a flow
    run hands it) write the same rows and ALE, but what differs between two encodes of an MXF (its bytes: size,
    hash, times); a second run skips every proxy (a file replaced since it was recorded is made again)."""
    card = _card(workspace, make_media)
    ingest_card(str(card), "test", settings)
    db = sqlite_file(settings.db_url)
    assert db is not None
    other = _copy_store(db, workspace / "other.db")
    plain = run_batch(plan_batch([card], "avid-dnxhr-lb", "test", settings, out=workspace / "p"))
    ale = [Path(a).read_text() for a in plain.ale]
    full = run_batch(plan_batch([card], "avid-dnxhr-lb", "test", settings, out=workspace / "p", store=Store(other)))
    assert [c.status for c in plain.clips] == [c.status for c in full.clips] == ["made", "made"]
    assert plain.ale == full.ale and ale == [Path(a).read_text() for a in full.ale] and len(ale) == 1
    # (and the ids: two clips encode side by side, whichever ends first is recorded first)
    bytes_and_times = {"size", "mtime_ns", "hash", "media_json", "first_seen", "updated_at", "made_at", "id",
                       "media_id", "proxy_media_id"}
    for table in TABLES:
        assert _named(db, table, bytes_and_times) == _named(workspace / "other.db", table, bytes_and_times)
    assert len(_named(db, "proxies", set())) == 2
    again = run_batch(plan_batch([card], "avid-dnxhr-lb", "test", settings, out=workspace / "p", store=Store(other)))
    assert [c.status for c in again.clips] == ["skipped", "skipped"]
    # The plain store recorded the files the second batch replaced: made again, then skipped.
    for expected in ("made", "skipped"):
        again = run_batch(plan_batch([card], "avid-dnxhr-lb", "test", load_settings(workspace / "postprod.toml"),
                                     out=workspace / "p"))
        assert [c.status for c in again.clips] == [expected, expected]


_SCRIPT = """
import json, sys
from pathlib import Path
from config.settings import load_settings
from ingest.proxies.make import plan_batch, run_batch
report = run_batch(plan_batch([Path(sys.argv[2])], sys.argv[3], "test", load_settings(Path(sys.argv[1]))))
print(json.dumps({"sqlalchemy": sorted(m for m in sys.modules if m.split(".")[0] == "sqlalchemy")[:3],
                  "statuses": [c.status for c in report.clips], "ale": len(report.ale),
                  "ale_module": "ingest.proxies.ale" in sys.modules}))
"""


def _batch_in_a_process(workspace: Path, card: Path, preset: str) -> dict:
    run = subprocess.run([sys.executable, "-c", _SCRIPT, str(workspace / "postprod.toml"), str(card), preset],
                         capture_output=True, text=True, cwd=ROOT, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_a_batch_on_a_store_at_head_never_imports_sqlalchemy(settings, workspace: Path, make_media) -> None:
    card = _card(workspace, make_media)
    ingest_card(str(card), "test", settings)  # the store exists, at HEAD
    said = _batch_in_a_process(workspace, card, "avid-dnxhr-lb")
    assert said == {"sqlalchemy": [], "statuses": ["made", "made"], "ale": 1, "ale_module": True}
    rows = list(Catalogue(settings.db_url).rows("test", role="proxy"))
    assert sorted(Path(r.path).name for r in rows) == ["A001C001.mxf", "A001C002.mxf"]
    assert all(r.source_id is not None and r.hash for r in rows)


def test_a_preset_without_ales_never_loads_their_module(settings, workspace: Path, make_media) -> None:
    card = _card(workspace, make_media)
    ingest_card(str(card), "test", settings)
    said = _batch_in_a_process(workspace, card, "h264-review")
    assert said == {"sqlalchemy": [], "statuses": ["made", "made"], "ale": 0, "ale_module": False}
    assert not list((workspace / "data").rglob("*.ale"))

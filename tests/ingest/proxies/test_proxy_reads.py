"""A proxy batch reads the store in plain SQL (ingest/proxies/reads.py): the same answers as the SQLAlchemy
rows, on a really ingested card and its real proxies; and it plans and starts without importing SQLAlchemy."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import small_clip

from ingest.card import ingest_card
from ingest.catalogue import Catalogue
from ingest.proxies.make import plan_batch, run_batch
from ingest.proxies.reads import MadeRow, ProxyReads, SourceRow
from ingest.proxies.store import ProxyStore
from store import Store
from store.reading import SqliteReader, open_for_reading

ROOT = Path(__file__).resolve().parents[3]


def _card(workspace: Path, make_media) -> Path:
    card = workspace / "A001"
    card.mkdir()
    shutil.copy2(make_media("A001C001.mov", small_clip(seconds=0.6, timecode="10:00:00:00", reel="A001")),
                 card / "A001C001.mov")
    shutil.copy2(make_media("A001C002.mov", small_clip(seconds=0.4, timecode="11:00:00:00", reel="A001",
                                                       audio_channels=3)), card / "A001C002.mov")
    return card


def test_reads_equal_the_catalogue_and_proxy_store(settings, workspace: Path, make_media) -> None:
    card = _card(workspace, make_media)
    ingest_card(str(card), "test", settings)
    report = run_batch(plan_batch([card], "prores-proxy", "test", settings))
    assert [c.status for c in report.clips] == ["made", "made"]
    catalogue, proxies = Catalogue(settings.db_url), ProxyStore(settings.db_url)
    lite = open_for_reading(settings.db_url)
    assert isinstance(lite, SqliteReader)  # a store at HEAD: read with sqlite3 alone
    for readable in (lite, Store(settings.db_url)):
        reads = ProxyReads(readable)
        for clip in report.clips:
            for path in (clip.source, clip.proxy):
                assert path is not None
                row, full = reads.media("test", path), catalogue.lookup("test", path)
                assert row is not None and full is not None
                assert row == SourceRow(*(getattr(full, f) for f in SourceRow._fields))
                assert row.media == full.media
            made, full_made = reads.made_at("test", clip.proxy), proxies.at("test", clip.proxy)
            assert made is not None and full_made is not None
            assert made == MadeRow(*(getattr(full_made, f) for f in MadeRow._fields))
            assert reads.owner("test", clip.proxy) == proxies.owner("test", clip.proxy) == clip.source
        assert reads.media("test", str(card / "nothing.mov")) is None
        assert reads.media("other", report.clips[0].source) is None
        assert reads.made_at("test", report.clips[0].source) is None
        assert reads.owner("test", report.clips[0].source) is None
    # What the reads decide: a second run skips both, with the shape read back from the catalogue.
    again = run_batch(plan_batch([card], "prores-proxy", "test", settings))
    assert [c.status for c in again.clips] == ["skipped", "skipped"]
    assert [(c.audio_channels, c.width, c.height) for c in again.clips] == \
        [(c.audio_channels, c.width, c.height) for c in report.clips]


_SCRIPT = """
import json, sys
from pathlib import Path
from config.settings import load_settings
from ingest.proxies.make import make_proxy, plan_batch
import ingest.proxies.make as make
settings = load_settings(Path(sys.argv[1]))
batch = plan_batch([Path(sys.argv[2])], "h264-review", "test", settings)
seen = {}
real = batch.prefetch
def prefetch(*a, **kw):  # called as the encode starts: SQLAlchemy is imported from here on, beside it
    seen["sqlalchemy before the encode"] = "sqlalchemy" in sys.modules
    real(*a, **kw)
batch.prefetch = prefetch
result = make_proxy(batch.jobs[0], batch)
print(json.dumps({**seen, "status": result.status, "error": result.error}))
"""


def test_a_batch_plans_and_starts_its_encode_without_sqlalchemy(settings, workspace: Path, make_media) -> None:
    card = _card(workspace, make_media)
    ingest_card(str(card), "test", settings)  # the store exists, at HEAD
    run = subprocess.run([sys.executable, "-c", _SCRIPT, str(workspace / "postprod.toml"),
                          str(card / "A001C001.mov")], capture_output=True, text=True, cwd=ROOT, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    said = json.loads(run.stdout.strip().splitlines()[-1])
    assert said == {"sqlalchemy before the encode": False, "status": "made", "error": None}
    # The proxy was recorded (the write side opened beside the encode).
    [row] = list(Catalogue(settings.db_url).rows("test", role="proxy"))
    assert row["path"].endswith("h264-review/A001/A001C001.mp4")

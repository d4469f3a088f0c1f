"""A run opens its store once and hands it to every step (the ingest, the reception stage, the proxies)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import small_clip

import store.base
import store.reading
from config.settings import load_settings
from flows.ingest import run_ingest
from ingest.catalogue import Catalogue


def test_an_ingest_with_proxies_opens_one_store(workspace: Path, make_media, monkeypatch: pytest.MonkeyPatch) -> None:
    with (workspace / "postprod.toml").open("a") as fh:
        fh.write('proxy_presets = ["h264-review"]\n')
    settings = load_settings(workspace / "postprod.toml")
    card = workspace / "A001"
    card.mkdir()
    shutil.copy2(make_media("A001C001.mov", small_clip(seconds=0.4, reel="A001", audio_channels=1)),
                 card / "A001C001.mov")
    opened: list[str] = []
    real_init = store.base.Store.__init__

    def counting_init(self: store.base.Store, url: str) -> None:
        opened.append(url)
        real_init(self, url)

    real_reader = store.reading.SqliteReader.__init__  # (a SqliteWriter is one: store/writing.py)

    def counting_reader(self: store.reading.SqliteReader, url: str, *args: object) -> None:
        opened.append(url)
        real_reader(self, url, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(store.base.Store, "__init__", counting_init)
    monkeypatch.setattr(store.reading.SqliteReader, "__init__", counting_reader)
    [report] = run_ingest([str(card)], "test", settings)
    assert report.summary["new"] == 1
    assert opened == [settings.db_url]
    roles = sorted(r.role for r in Catalogue(settings.db_url).rows("test"))
    assert roles == ["original", "proxy"]  # the proxy step ran, on the same store

"""The catalogue's reads as typed rows, on SQLite and PostgreSQL: what conform's index and the web page read."""

from __future__ import annotations

from fractions import Fraction

import db_fixtures
import pytest

from ingest.catalogue import Catalogue, IndexRow, MediaRow
from media.model import MediaFile, MediaKind
from store import Store

db_url = db_fixtures.db_url  # fixtures: SQLite and PostgreSQL
pg_server = db_fixtures.pg_server

PRODUCTION = "l'été 50% _x_"  # quotes, accents and LIKE wildcards are data, never SQL


def clip(path: str, reel: str, **kw) -> MediaFile:
    return MediaFile(path=path, size=10, mtime_ns=1, clip_name=path.rsplit("/", 1)[1].split(".")[0], reel=reel,
                     timecode_rate=Fraction(30000, 1001), start_timecode="01:00:00;00", drop_frame=True,
                     duration_frames=48, **kw)


@pytest.fixture()
def catalogue(db_url: str) -> Catalogue:
    cat = Catalogue(Store(db_url))
    a = cat.record(PRODUCTION, clip("/cards/A001/A001C001.mov", "A001"), card="/cards/A001", relpath="A001C001.mov",
                   hash_algorithm="xxh128", hash_value="aa", ingest_id=None)
    cat.record(PRODUCTION, clip("/proxies/A001C001.mp4", "A001"), card="/proxies", relpath="A001C001.mp4",
               hash_algorithm=None, hash_value=None, ingest_id=None, role="proxy", source_id=a)
    cat.record(PRODUCTION, clip("/cards/B007/B007C002.mov", "B007"), card="/cards/B007", relpath="B007C002.mov",
               hash_algorithm="xxh128", hash_value="bb", ingest_id=None)
    cat.record(PRODUCTION, MediaFile(path="/cards/B007/notes.txt", kind=MediaKind.SIDECAR, size=3, mtime_ns=1),
               card="/cards/B007", relpath="notes.txt", hash_algorithm="xxh128", hash_value="cc", ingest_id=None)
    cat.record("other", clip("/cards/A001/A001C001.mov", "A001"), card="/cards/A001", relpath="A001C001.mov",
               hash_algorithm="xxh128", hash_value="aa", ingest_id=None)
    cat.mark(PRODUCTION, "/cards/B007/B007C002.mov", "missing")
    return cat


def test_index_rows_are_the_media_still_there_with_what_matching_needs(catalogue: Catalogue) -> None:
    rows = catalogue.index_rows(PRODUCTION)
    assert all(isinstance(r, IndexRow) for r in rows)
    assert [(r.path, r.role) for r in rows] == [("/cards/A001/A001C001.mov", "original"),
                                                ("/proxies/A001C001.mp4", "proxy")]
    original, proxy = rows
    assert proxy.source_id == original.id and original.hash == "aa"
    assert (original.reel, original.start_frames, original.duration_frames, original.rate, original.drop_frame) == (
        "A001", 107892, 48, "30000/1001", True)
    assert catalogue.index_rows("nobody") == []


def test_lookups_and_searches_give_typed_rows(catalogue: Catalogue) -> None:
    row = catalogue.lookup(PRODUCTION, "/cards/A001/A001C001.mov")
    assert isinstance(row, MediaRow) and row.timecode_rate == Fraction(30000, 1001)
    assert row.media.start_timecode == "01:00:00;00"
    assert catalogue.originals_per_production() == {PRODUCTION: 1, "other": 1}
    assert catalogue.cards(PRODUCTION) == [("/cards/A001", 1), ("/cards/B007", 2)]
    assert [r.relpath for r in catalogue.find(PRODUCTION, reel="b007")] == ["B007C002.mov"]  # any case
    assert [r.relpath for r in catalogue.find(PRODUCTION, text="c00")] == ["A001C001.mov", "B007C002.mov"]
    assert catalogue.find(PRODUCTION, text="%") != [] and catalogue.find(PRODUCTION, card="/cards/none") == []

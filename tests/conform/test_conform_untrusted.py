"""A clip whose copy failed verification (or changed after its ingest) is never matched silently: every
event that uses it says so, as an error (issue 14: truth is sticky, downstream too)."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import small_clip

from config.settings import load_settings
from conform.check import check_conform
from flows.ingest import run_ingest
from ingest.catalogue import Catalogue

EDL = """TITLE: UNTRUSTED
FCM: NON-DROP FRAME

001  A001     V     C        10:00:00:13 10:00:01:10 01:00:00:00 01:00:00:22
002  B001     V     C        14:30:00:13 14:30:01:10 01:00:00:22 01:00:01:19
"""


def test_an_event_on_a_copy_that_failed_verification_is_an_error(workspace: Path, make_media) -> None:
    for name, tc, reel in (("A001/A001C001.mov", "10:00:00:00", "A001"), ("B001/B001C001.mov", "14:30:00:00",
                                                                             "B001")):
        target = workspace / "cards" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(make_media(Path(name).name, small_clip(timecode=tc, reel=reel, seconds=2.0)), target)
    settings = load_settings(workspace / "postprod.toml")
    run_ingest([str(workspace / "cards" / "A001"), str(workspace / "cards" / "B001")], "test", settings)
    catalogue = Catalogue(settings.db_url)
    bad = next(r for r in catalogue.rows("test") if r.path.endswith("A001C001.mov"))
    catalogue.mark("test", bad.path, "hash_mismatch")
    edl = workspace / "cut.edl"
    edl.write_text(EDL)
    outcome = check_conform(edl, "test", settings, write_report=False)
    found = [f for e in outcome.data["events"] for f in e["findings"] if f["rule"] == "media_not_verified"]
    assert [f["event"] for f in found] == [1]
    assert found[0]["severity"] == "error" and "hash mismatch" in found[0]["message"]
    assert "A001C001.mov" in found[0]["message"] and outcome.exit_code == 1

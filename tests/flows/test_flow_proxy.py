"""The proxy flow under real Prefect, alone and inside the ingest flow (one test: one server start)."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import small_clip
from prefect.settings import PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS, temporary_settings

from flows.ingest import ingest_flow
from flows.proxy import proxy_flow
from ingest.catalogue import Catalogue
from media.probe import probe_file


def test_proxy_flow_and_proxies_inside_the_ingest_flow(workspace: Path, make_media) -> None:
    src = make_media("A001C001.mov", small_clip(seconds=1.0, timecode="10:00:00:00", reel="A001", audio_channels=3))
    card = workspace / "A001"
    card.mkdir()
    shutil.copy2(src, card / "A001C001.mov")
    config = workspace / "postprod.toml"
    config.write_text(config.read_text() + 'proxy_presets = ["h264-review"]\n')

    # The ingest flow makes the production's proxy presets for the cards it ingested. (Prefect's temporary
    # server gets 20 s to start by default: not always enough on a loaded shared machine.)
    with temporary_settings({PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS: 120}):
        ingest_flow([str(card)], "test", str(config))
    cat = Catalogue(f"sqlite:///{workspace / 'data' / 'postprod.db'}")
    original = cat.lookup("test", str(card / "A001C001.mov"))
    [proxy_row] = cat.rows("test", role="proxy")
    assert proxy_row["source_id"] == original["id"]
    assert proxy_row["path"].endswith("/h264-review/A001/A001C001.mp4")

    # The proxy flow alone, with another preset; then again: nothing to do.
    report = proxy_flow([str(card)], "avid-dnxhr-lb", "test", str(config))
    assert report["summary"]["made"] == 1 and report["ale"]
    made = probe_file(Path(report["clips"][0]["proxy"]), decode_check="none")
    assert (made.duration_frames, made.start_timecode, made.reel) == (25, "10:00:00:00", "A001")
    again = proxy_flow([str(card)], "avid-dnxhr-lb", "test", str(config))
    assert again["summary"] == {"clips": 1, "made": 0, "skipped": 1, "errors": 0, "ignored": 0}

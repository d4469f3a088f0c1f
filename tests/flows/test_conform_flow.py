"""The conform Prefect flow end to end: real Prefect, real SQLite; its result moves the conform stage."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import small_clip

from config.settings import Settings
from flows.conform import conform_flow
from ingest.catalogue import Catalogue
from media.probe import probe_file
from planning.stages import Stage, StageState
from planning.store import PlanningStore

CLEAN = """TITLE: CLEAN
001  A001     V     C        10:00:00:13 10:00:01:10 01:00:00:00 01:00:00:22
* FROM CLIP NAME: A001C001_261123_R1AB
"""
BROKEN = CLEAN + "002  Z999     V     C        09:00:00:00 09:00:01:00 01:00:00:22 01:00:01:22\n"


@pytest.fixture()
def patient_prefect():
    """A shared, loaded machine can take longer than Prefect's default 20 s to start its temporary server."""
    from prefect.settings import PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS, temporary_settings

    with temporary_settings(updates={PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS: 150}):
        yield


def test_conform_flow_moves_the_conform_stage(workspace: Path, settings: Settings, make_media,
                                              patient_prefect: None) -> None:
    clip = make_media("A001C001_261123_R1AB.mov", small_clip(timecode="10:00:00:00", reel="A001", seconds=2.0,
                                                             audio_channels=1))
    media = probe_file(clip, ffmpeg=settings.ffmpeg_exe(), decode_check="none")
    Catalogue(settings.db_url).record("test", media, card=str(clip.parent), relpath=clip.name,
                                      hash_algorithm=None, hash_value=None, ingest_id=None)
    (workspace / "clean.edl").write_text(CLEAN)
    (workspace / "broken.edl").write_text(BROKEN)
    store = PlanningStore(settings.db_url)

    clean = conform_flow(str(workspace / "clean.edl"), "test", relink=str(workspace / "clean.otio"),
                         config=str(workspace / "postprod.toml"))
    assert clean["summary"]["errors"] == 0 and clean["stage_state"] == "in_progress"
    assert store.state("test", Stage.CONFORM) is StageState.IN_PROGRESS
    assert (workspace / "clean.otio").is_file()

    broken = conform_flow(str(workspace / "broken.edl"), "test", config=str(workspace / "postprod.toml"))
    assert broken["summary"]["by_rule"]["missing_media"] == 1 and broken["stage_state"] == "blocked"
    assert store.state("test", Stage.CONFORM) is StageState.BLOCKED
    evidence = store.events("test", Stage.CONFORM)[-1]["evidence"]
    assert broken["report_json"] in evidence and Path(broken["report_json"]).is_file()

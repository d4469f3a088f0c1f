"""A small production for the web tests: two planned productions, a QC report as evidence, four users."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from conftest import small_clip

from config.settings import Settings
from planning import plan
from planning.stages import Stage, StageState
from planning.store import PlanningStore
from web.users import Role, Users

TODAY = date(2026, 11, 30)
PASSWORD = "correct horse battery"


@dataclass
class World:
    settings: Settings
    store: PlanningStore
    qc_html: Path
    other_qc_html: Path


def make_world(settings: Settings, make_media, *, with_card: bool = False) -> World:
    from argon2 import PasswordHasher

    import web.users

    web.users._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)  # real Argon2, cheap to run
    store = PlanningStore(settings.db_url)
    plan.create(store, "test", "fiction", date(2026, 11, 2))
    plan.create(store, "other", "documentary", date(2026, 11, 2))
    reports = settings.reports_dir / "qc"
    reports.mkdir(parents=True, exist_ok=True)
    qc_html = reports / "qc-master_test.html"
    qc_html.write_text("<html><body><h1>QC FAIL</h1><img alt='thumb' src='data:image/jpeg;base64,AAAA'></body></html>")
    qc_html.with_suffix(".json").write_text(json.dumps({"verdict": "fail"}))
    other_qc = reports / "qc-master_other.html"
    other_qc.write_text("<html><body>other production's QC</body></html>")
    store.set_state("test", Stage.PAD_DELIVERY, StageState.BLOCKED, note="QC fail: 4 defects",
                    evidence={"report_json": str(qc_html.with_suffix(".json"))})
    store.set_state("other", Stage.PAD_DELIVERY, StageState.BLOCKED, note="QC fail",
                    evidence={"report_html": str(other_qc)})
    users = Users(store.engine)
    users.add("coord", PASSWORD, Role.COORDINATOR, language="en")
    users.add("marie", PASSWORD, Role.TECHNICIAN, language="fr", productions=["test"])
    users.add("omar", PASSWORD, Role.TECHNICIAN, language="en", productions=["other"])
    users.add("prod", PASSWORD, Role.PRODUCER, language="en", productions=["test"])
    if with_card:
        from flows.ingest import run_ingest

        card = settings.data_path.parent / "cards" / "B007"
        card.mkdir(parents=True)
        shutil.copy(make_media("B007C003.mov", small_clip(timecode="14:22:10:00", reel="B007", seconds=1.0)),
                    card / "B007C003_261130_R2CD.mov")
        run_ingest([str(card)], "test", settings)
    return World(settings, store, qc_html, other_qc)

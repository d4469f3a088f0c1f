"""The README's first command, end to end: the demo through the real Prefect ingest flow."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from config.settings import load_settings
from ingest.catalogue import Catalogue
from planning.stages import Stage, StageState
from planning.store import PlanningStore


def postprod(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PREFECT_HOME": str(home / "prefect"), "COLUMNS": "200"}
    env.pop("POSTPROD_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "cli.main", *args], capture_output=True, text=True, env=env,
                          timeout=900, check=False)


def test_demo_runs_the_ingest_flow_and_a_rerun_does_nothing(tmp_path: Path) -> None:
    ws = tmp_path / "demo"
    first = postprod("demo", "--workspace", str(ws), home=tmp_path)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert "Traceback" not in first.stderr
    # The QC step: FAIL with its four planted defects, whichever ffmpeg runs (tests/conftest.py --ffmpeg).
    out = " ".join(first.stdout.split())
    assert "DEMO_PAD_v1.mxf: FAIL (4 error(s), 0 warning(s))" in out
    for planted in ("audio.silence: 10:00:05:00", "video.black: 10:00:03:00", "video.levels_luma: 10:00:08:00",
                    "video.gamut: 10:00:08:00"):
        assert planted in out
    settings = load_settings(ws / "postprod.toml")
    rows = list(Catalogue(settings.db_url).rows("demo"))
    by_name = {Path(r["path"]).name: r for r in rows}
    # The planted trouble is found where it was planted.
    assert by_name["A001C003_261123_R1AB.mov"]["worst_severity"] == "error"  # 23.976 in a 25 fps production
    assert by_name["B001C002_261123_K7QX.mxf"]["kind"] == "unreadable"  # truncated copy
    assert by_name["IMG_0042.MP4"]["worst_severity"] == "error"  # VFR phone clip, no timecode
    assert by_name["Rapport caméra – jour 1.doc"]["kind"] == "unreadable"  # stray non-media file
    assert by_name["261123_T001.WAV"]["reel"] == "SOUND_D01" and by_name["261123_T001.WAV"]["worst_severity"] is None
    assert ".DS_Store" not in by_name and "._B001C001_261123_K7QX.mxf" not in by_name
    # Card A came with an MHL from set: verified, and a new generation was appended.
    assert len(list((ws / "ingest" / "DAY01_A001" / "ascmhl").glob("*.mhl"))) == 2
    # The flow moved the plan: four cards were expected, four arrived.
    assert PlanningStore(settings.db_url).state("demo", Stage.RUSHES_RECEPTION) is StageState.DONE
    reports = sorted((settings.reports_dir / "ingest" / "demo").glob("*.html"))
    # Four cards ingested by the flow, and a fifth that the demo copies slowly into the watched folder.
    assert len(reports) == 5
    assert all(str(r) in first.stdout.replace("\n", "") for r in reports if "DAY02_A002" not in r.name)

    again = postprod("demo", "--workspace", str(ws), "--direct", home=tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "0 newly ingested" in again.stdout
    assert len(list(Catalogue(settings.db_url).rows("demo"))) == len(rows)
    # The web page over the demo (issue 19): the coordinator sees PAD delivery blocked and opens the QC report
    # with its thumbnails; the technician hands in a session report that reaches the plan.
    check_web_page_over_the_demo(settings)


def check_web_page_over_the_demo(settings) -> None:  # noqa: ANN001
    import re
    from datetime import date

    from starlette.testclient import TestClient

    from planning import schedule
    from web.app import create_app

    client = TestClient(create_app(settings), follow_redirects=False)

    def log_in(name: str, password: str) -> None:
        client.cookies.clear()
        token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)
        assert client.post("/login", data={"name": name, "password": password, "csrf": token}).status_code == 303

    log_in("claire", "demo-claire")
    page = client.get("/p/demo")
    pad = re.search(r'<tr class="st-(\w+)" data-stage="pad_delivery">', page.text)
    assert pad and pad.group(1) == "blocked"
    qc = re.findall(r'href="(/p/demo/files/[0-9a-f]+)" data-kind="qc"', page.text)
    assert qc and "data:image/jpeg;base64," in client.get(qc[0]).text
    log_in("marie", "demo-marie")
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/p/demo/reports/new").text).group(1)
    before = {st.stage: st.spent_hours for st in schedule.status(PlanningStore(settings.db_url), "demo",
                                                                date.today()).stages}
    form = {"csrf": token, "date": date.today().isoformat(), "stage": "grading", "hours": "3", "done": "Étalonnage"}
    assert client.post("/p/demo/reports/new", data=form).status_code == 303
    after = {st.stage: st.spent_hours for st in schedule.status(PlanningStore(settings.db_url), "demo",
                                                               date.today()).stages}
    assert after["grading"] == before["grading"] + 3
    assert client.get("/p/other").status_code == 404

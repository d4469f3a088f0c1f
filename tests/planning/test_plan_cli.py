"""`postprod plan ...` end to end, on SQLite and PostgreSQL: create, status, reports, import, mark."""

from __future__ import annotations

from pathlib import Path

import db_fixtures
import pytest
from cli_helpers import postprod, postprod_json

db_url = db_fixtures.db_url  # fixtures: SQLite and PostgreSQL
pg_server = db_fixtures.pg_server

GOOD_AND_BAD = """date;technicien;étape;heures;travail;incidents
2026-01-05;Ana;Rushes reception;6;cards A001-A003;
2026-01-06;Ana;rushes_reception;5,5;cards B001-B002;B002 copied twice
07/01/2026;Paul;offline edit;8;assembly reel 1;
2026-01-08;Paul;offline edit;-3;oops;
2026-13-08;Paul;offline edit;2;bad date;
2026-01-09;Paul;colour;2;unknown stage;
2026-01-10;;offline edit;2;no technician;
2026-01-11;Paul;offline edit;lots;not a number;
"""


@pytest.fixture()
def cli(workspace: Path, db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    monkeypatch.setenv("POSTPROD_DATABASE_URL", db_url)

    def run(*args: str) -> tuple[int, str, str]:
        code, out, err = postprod(capsys, monkeypatch, *args)
        return code, out, " ".join(err.split())  # rich wraps messages at the terminal width

    def run_json(*args: str):
        return postprod_json(capsys, monkeypatch, *args)

    run.json = run_json  # type: ignore[attr-defined]
    return run


def test_create_import_status_mark(cli, workspace: Path) -> None:
    code, data = cli.json("plan", "create", "-p", "test", "--template", "fiction", "--start", "2026-01-05",
                          "--delivery-profile", "fr-pad-hd", "-r", "grading=Studio Lumière", "--today", "2026-01-05")
    assert code == 0 and data["production"] == "test" and data["delivery_profile"] == "fr-pad-hd"
    assert [s["stage"] for s in data["stages"]][:2] == ["rushes_reception", "offline_edit"]
    grading = next(s for s in data["stages"] if s["stage"] == "grading")
    assert grading["responsible"] == "Studio Lumière" and grading["planned_hours"] == 40

    csv = workspace / "bons.csv"
    csv.write_text(GOOD_AND_BAD, encoding="utf-8")
    code, res = cli.json("plan", "import", str(csv), "-p", "test", "--today", "2026-01-12")
    assert code == 1 and res["imported"] and res["added"] == 3
    reasons = {b["line"]: b["reason"] for b in res["bad_rows"]}
    assert reasons[5] == "negative hours (-3)"
    assert "2026-13-08" in reasons[6] and "unknown stage 'colour'" in reasons[7]
    assert reasons[8] == "empty technician" and "not a number" in reasons[9]
    assert res["became_late"] == {"test": ["rushes_reception"]}  # 11.5 h of 10

    # Importing the same file again adds nothing.
    code, res = cli.json("plan", "import", str(csv), "-p", "test", "--today", "2026-01-12")
    assert res["added"] == 0 and res["already_there"] == 3

    code, st = cli.json("plan", "status", "-p", "test", "--today", "2026-01-12")
    [prod] = st["productions"]
    # The documented shape (docs/planning.md), kept stable.
    assert set(prod) == {"production", "template", "delivery_profile", "today", "planned_hours", "spent_hours",
                         "planned_end", "forecast_end", "late_by_days", "late", "blocked", "done", "stages", "money"}
    assert set(prod["stages"][0]) == {
        "stage", "label", "state", "recorded_state", "responsible", "depends_on", "planned_start", "planned_end",
        "forecast_start", "forecast_end", "actual_start", "actual_end", "planned_hours", "spent_hours", "reports",
        "last_report", "late_by_days", "hours_over", "shifted_by_days", "reasons", "note", "evidence", "updated_at"}
    stages = {s["stage"]: s for s in prod["stages"]}
    assert stages["rushes_reception"]["state"] == "late" and stages["rushes_reception"]["spent_hours"] == 11.5
    assert stages["offline_edit"]["state"] == "in_progress" and stages["offline_edit"]["actual_start"] == "2026-01-07"
    assert prod["spent_hours"] == 19.5

    code, out, _err = cli("plan", "status", "--today", "2026-01-12")
    assert code == 0 and "Rushes reception" in out and "over its hours by 1.5 h" in out

    code, data = cli.json("plan", "mark", "-p", "test", "grading", "blocked", "--reason", "VFX shots missing")
    assert code == 0 and data == {"production": "test", "stage": "grading", "state": "blocked",
                                  "reason": "VFX shots missing"}
    code, data = cli.json("plan", "report", "-p", "test", "--stage", "Offline edit", "--technician", "Paul",
                          "--hours", "7h30", "--done", "reel 2", "--date", "2026-01-12", "--today", "2026-01-12")
    assert code == 0 and data["hours"] == 7.5


def test_all_or_nothing_and_bad_files(cli, workspace: Path) -> None:
    cli("plan", "create", "-p", "test", "--start", "2026-01-05")
    csv = workspace / "bons.csv"
    csv.write_text(GOOD_AND_BAD, encoding="utf-8")
    code, res = cli.json("plan", "import", str(csv), "-p", "test", "--all-or-nothing")
    assert code == 1 and not res["imported"] and res["added"] == 0 and len(res["bad_rows"]) == 5
    code, st = cli.json("plan", "status", "-p", "test")
    assert st["productions"][0]["spent_hours"] == 0

    (workspace / "cols.csv").write_text("date,technician,hours\n2026-01-05,Ana,3\n")
    code, _out, err = cli("plan", "import", str(workspace / "cols.csv"), "-p", "test")
    assert code == 2 and "missing column(s): stage, done" in err and "Traceback" not in err

    code, _out, err = cli("plan", "import", str(workspace / "nope.csv"), "-p", "test")
    assert code == 2 and "nope.csv: file not found" in err

    code, _out, err = cli("plan", "status", "-p", "unknown")
    assert code == 2 and "production 'unknown' has no plan; planned productions: test" in err

    code, _out, err = cli("plan", "mark", "-p", "test", "nowhere", "done", "--reason", "x")
    assert code == 2 and "unknown stage 'nowhere'" in err

    code, _out, err = cli("plan", "create", "-p", "other", "--template", "feuilleton")
    assert code == 2 and "unknown plan template 'feuilleton'; available: documentary, fiction" in err


def test_unreachable_database_is_a_message(workspace: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("POSTPROD_DATABASE_URL", "postgresql+psycopg://coord:pw@127.0.0.1:1/plan?connect_timeout=3")
    code, _out, err = postprod(capsys, monkeypatch, "plan", "status")
    err = " ".join(err.split())
    assert code == 2
    assert "cannot reach the database postgresql+psycopg://coord:***@127.0.0.1:1" in err
    assert "Traceback" not in err and "pw" not in err

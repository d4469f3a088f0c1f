"""Session reports costing themselves, forecast at completion, overrun alerts once per crossing (SQLite, PG)."""

from __future__ import annotations

import datetime as dt
import email
from decimal import Decimal
from pathlib import Path

import db_fixtures
import jsonschema
import pytest
from aiosmtpd.controller import Controller
from money_helpers import check_line, make_cli
from test_plan_digest import Inbox, free_port

from cli.schemas import schema_of
from planning.money.costing import cost_reports, double_bookings
from planning.money.rates import load_rates

db_url = db_fixtures.db_url
pg_server = db_fixtures.pg_server

D = Decimal


def report(i: int, who: str, minutes: int, stage: str = "vfx", day: dt.date = dt.date(2026, 12, 9),
           production: str = "p") -> dict:
    return {"id": i, "production": production, "stage": stage, "technician": who, "work_date": day,
            "minutes": minutes, "source": f"bons.csv:{i + 1}"}


def test_a_report_costs_itself_normal_hours_then_overtime_tiers_and_the_suite() -> None:
    rates = load_rates("house")  # VFX 450.00 a day of 8 h (56.25/h); overtime +25 % for 2 h, then +50 %
    costed = cost_reports([report(1, "Inès", 7 * 60), report(2, "inès ", 4 * 60), report(3, "Malik", 8 * 60 + 20),
                           report(4, "Léa", 6 * 60, "grading"), report(5, "Hugo", 6 * 60, "grading")],
                          lambda p: rates)
    lines = [(ln.technician, ln.kind, str(ln.quantity), str(ln.unit_price), str(ln.amount)) for ln in costed.lines]
    assert lines == [
        ("Inès", "normal", "7.0000", "56.2500", "393.75"),
        ("inès ", "normal", "1.0000", "56.2500", "56.25"),  # the same person's day: 1 h left of the normal day
        ("inès ", "overtime", "2.0000", "70.3125", "140.63"),  # +25 %: 140.625 rounds half up
        ("inès ", "overtime", "1.0000", "84.3750", "84.38"),  # +50 % from the third overtime hour
        ("Malik", "normal", "8.0000", "56.2500", "450.00"),
        ("Malik", "overtime", "0.3333", "70.3125", "23.44"),  # 20 min
        ("Léa", "normal", "6.0000", "75.0000", "450.00"),  # colourist 600.00 / 8
        (None, "facility", "1.0000", "900.0000", "900.00"),  # the grading suite, once for the day
        ("Hugo", "normal", "6.0000", "75.0000", "450.00"),
    ]
    for ln in costed.lines:
        check_line(ln.to_json())
    assert costed.amount() == D("2948.45") == sum(D(x[4]) for x in lines)
    assert costed.findings == []


def test_reports_without_a_rate_are_named_and_double_bookings_found(tmp_path: Path) -> None:
    rates = load_rates("house")
    costed = cost_reports([report(1, "Ana", 60, stage="colour_science")], lambda p: rates)
    assert costed.lines == [] and costed.uncosted_minutes == {("p", "colour_science"): 60}
    assert costed.findings[0].rule == "no_rate" and "bons.csv:2" in costed.findings[0].message
    long_day = cost_reports([report(1, "Ana", 13 * 60)], lambda p: rates)
    assert [f.rule for f in long_day.findings] == ["day_too_long"]
    found = double_bookings([report(1, "Zoé", 60, production="a"), report(2, "zoé", 60, production="b"),
                             report(3, "Zoé", 60, production="a", day=dt.date(2026, 12, 10))])
    assert [f.rule for f in found] == ["double_booking"] and "a, b" in found[0].message


CSV = """date;technicien;étape;heures;travail;incidents
2026-12-07;Inès;VFX;10;compositing sq 1;
2026-12-07;Malik;VFX;8;compositing sq 2;
2026-12-08;Inès;VFX;8;compositing sq 3;plans 12-14: tracking redone
2026-12-08;Malik;Grading;6;look tests;
"""


@pytest.fixture()
def cli(workspace: Path, db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    return make_cli(monkeypatch, capsys, db_url)


@pytest.fixture()
def inbox():
    box = Inbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield box, controller.port
    controller.stop()


def test_status_spent_forecast_and_one_alert_per_crossing(cli, workspace: Path, inbox) -> None:
    box, port = inbox
    with (workspace / "postprod.toml").open("a") as fh:
        fh.write(f'\n[smtp]\nhost = "127.0.0.1"\nport = {port}\nfrom = "postprod@studio.test"\n'
                 'to = ["coordination@studio.test"]\n')
    # The fiction plan from 2026-11-02: VFX planned 2026-12-07 → 12-16 (10 days, 60 h = 3375.00).
    assert cli.json("plan", "create", "-p", "test", "--start", "2026-11-02", "--today", "2026-11-02")[0] == 0
    code, q = cli.json("plan", "quote", "-p", "test")
    vfx_quoted = sum(D(ln["amount"]) for ln in q["lines"] if ln["stage"] == "vfx")
    assert vfx_quoted == D("3375.00")
    bons = workspace / "bons.csv"
    bons.write_text(CSV, encoding="utf-8")
    code, res = cli.json("plan", "import", str(bons), "-p", "test", "--today", "2026-12-08")
    assert code == 0 and res["added"] == 4
    # VFX spent: Inès 8 h 450.00 + 2 h at +25 % 140.63; Malik 450.00; Inès 450.00 = 1490.63 in 2 of 10 days.
    assert [(a["scope"], a["forecast"], a["new"]) for a in res["overruns"]] == [("vfx", "7453.15", True)]
    assert len(box.messages) == 1  # mailed once
    message = email.message_from_bytes(box.messages[0][1])
    assert "overrun" in message["Subject"] and "7453.15 EUR" in message.get_payload()

    code, st = cli.json("plan", "status", "-p", "test", "--today", "2026-12-08")
    jsonschema.validate(st, schema_of("plan status"))
    money = st["productions"][0]["money"]
    stages = {s["stage"]: s for s in money["stages"]}
    vfx = stages["vfx"]
    assert (vfx["spent"], vfx["spent_hours"], vfx["quoted"]) == ("1490.63", "26", "3375.00")
    assert vfx["forecast"] == "7453.15" and vfx["forecast_hours"] == "130" and vfx["overrun"]
    assert stages["grading"]["spent"] == "1350.00"  # 6 h colourist 450.00 + the suite 900.00
    assert stages["mix"]["spent"] == "0.00" and stages["mix"]["forecast"] == stages["mix"]["quoted"]
    assert D(money["spent"]) == sum(D(s["spent"]) for s in money["stages"]) == D("2840.63")
    assert D(money["forecast"]) == sum(D(s["forecast"]) for s in money["stages"]) and money["other_quoted"] == "0.00"
    assert money["quoted"] == q["total"] and money["currency"] == "EUR"

    # The digest shows the alert; the same crossing is neither new nor mailed again.
    code, dg = cli.json("plan", "digest", "--today", "2026-12-08")
    assert [(a["scope"], a["new"], a["notified_to"]) for a in dg["overruns"]] == [
        ("vfx", False, "coordination@studio.test")]
    assert dg["money"]["test"]["spent"] == "2840.63" and len(box.messages) == 1
    html = Path(dg["html"]).read_text(encoding="utf-8")
    assert "Overruns to negotiate (1)" in html and "7453.15 EUR" in html

    # Negotiated: v2 raises VFX; the forecast is under it, the crossing is closed. Passing it again later
    # is a new crossing, mailed again.
    code, q2 = cli.json("plan", "quote", "-p", "test", "--set", "vfx.labour.quantity=20",
                        "--add", "misc.drives=Delivery drives;2;unit;80", "--reason", "VFX overrun agreed")
    code, st2 = cli.json("plan", "status", "-p", "test", "--today", "2026-12-08")
    money2 = st2["productions"][0]["money"]  # a line of no plan stage is forecast as quoted
    assert money2["other_quoted"] == "160.00" and money2["quote_version"] == 2
    assert D(money2["forecast"]) == sum(D(s["forecast"]) for s in money2["stages"]) + D("160.00")
    code, dg = cli.json("plan", "digest", "--today", "2026-12-08")
    assert dg["overruns"] == [] and len(box.messages) == 1
    code, q3 = cli.json("plan", "quote", "-p", "test", "--set", "vfx.labour.quantity=7.5",
                        "--reason", "back to the plan")
    code, dg = cli.json("plan", "digest", "--today", "2026-12-08")
    assert [(a["scope"], a["quote_version"]) for a in dg["overruns"]] == [("vfx", 3)]
    assert len(box.messages) == 2

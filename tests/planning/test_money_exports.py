"""The overrun statement, invoice lines and the pay export, reconciled to the cent (SQLite and PostgreSQL)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import db_fixtures
import jsonschema
import pytest
from money_helpers import check_line, csv_rows, make_cli, pdf_text

from cli.schemas import schema_of
from planning.stages import StageState
from planning.store import PlanningStore

db_url = db_fixtures.db_url
pg_server = db_fixtures.pg_server

D = Decimal

RATES = """schema_version = 1
name = "test-2026"
currency = "EUR"
extends = "house"
[technicians."Studio Lumen"]
role = "vfx_artist"
freelance = false
"""

CSV = """date;production;technicien;étape;heures;travail;incidents
2026-12-07;test;Inès;VFX;10;compositing sq 1;
2026-12-07;test;Malik;VFX;8;compositing sq 2;
2026-12-08;test;Inès;VFX;8;compositing sq 3;plans 12-14: tracking redone, unstable camera
2026-12-08;test;Studio Lumen;VFX;4;matte painting;
2026-12-08;test;Malik;Grading;6,5;look tests;
2026-12-08;other;Malik;Offline edit;3;assembly;
"""


@pytest.fixture()
def cli(workspace: Path, db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    (workspace / "rates.toml").write_text(RATES, encoding="utf-8")
    with (workspace / "postprod.toml").open("a") as fh:
        fh.write(f'rates = "{workspace / "rates.toml"}"\n')  # under [productions.test]
    return make_cli(monkeypatch, capsys, db_url)


def test_overrun_statement_invoice_and_pay_reconcile(cli, workspace: Path, db_url: str) -> None:
    for prod in ("test", "other"):
        assert cli.json("plan", "create", "-p", prod, "--start", "2026-11-02", "--today", "2026-11-02")[0] == 0
    assert cli.json("plan", "quote", "-p", "test")[0] == 0
    conform_report = workspace / "conform" / "test_v3.html"
    conform_report.parent.mkdir()
    conform_report.write_text("<html>3 events without source media</html>", encoding="utf-8")
    # The conform check blocked its stage, with its report as evidence (as flows/conform.py records it).
    PlanningStore(db_url).set_stage_state("test", "conform", StageState.BLOCKED, note="3 events without source media",
                                          evidence={"report_html": str(conform_report)})
    bons = workspace / "bons.csv"
    bons.write_text(CSV, encoding="utf-8")
    code, res = cli.json("plan", "import", str(bons), "--today", "2026-12-08")
    assert code == 0 and res["added"] == 6

    # Malik on two productions the same day is a finding of both (plan status), and of the pay export below.
    code, status = cli.json("plan", "status", "--today", "2026-12-08")
    for prod in status["productions"]:
        assert [f["rule"] for f in prod["money"]["findings"]] == ["double_booking"]

    # The overrun statement.
    code, st = cli.json("plan", "overrun", "-p", "test", "--today", "2026-12-08")
    assert code == 0
    jsonschema.validate(st, schema_of("plan overrun"))
    assert st["overrun_stages"] == ["vfx"]
    assert sum(D(r["amount"]) for r in st["spent_by"]) == D(st["spent"])
    assert sum(D(s["spent"]) for s in st["stages"]) == D(st["spent"])
    lumen = next(r for r in st["spent_by"] if r["who"] == "Studio Lumen")
    assert lumen["amount"] == "225.00"  # 4 h at 56.25: a company's hours still cost, it is only not on the pay export
    assert [i["incident"] for i in st["incidents"]] == ["plans 12-14: tracking redone, unstable camera"]
    conform = next(e for e in st["evidence"] if e["stage"] == "conform")
    assert conform["state"] == "blocked" and conform_report.as_uri() in conform["reports"]
    [extra] = st["proposed"]
    assert extra["key"] == "vfx.additional" and extra["unit"] == "h"
    check_line(extra)
    assert st["proposed_total"] == extra["amount"]
    assert D(st["proposed_quote_total"]) == D(st["quoted"]) + D(extra["amount"])
    pdf = pdf_text(Path(st["files"]["pdf"]))
    assert st["spent"] in pdf and st["forecast"] in pdf and "test_v3.html" in pdf
    html = Path(st["files"]["html"]).read_text(encoding="utf-8")
    assert "Proposed additional lines" in html and extra["amount"] in html
    assert f'<a href="{conform_report.as_uri()}">test_v3.html</a>' in html  # the evidence, one click away

    # Invoice lines: the period's session reports, to the cent; two halves add up to the whole.
    code, inv = cli.json("plan", "invoice", "-p", "test", "--from", "2026-12-01", "--to", "2026-12-31")
    assert code == 0
    jsonschema.validate(inv, schema_of("plan invoice"))
    assert sum(check_line(ln) for ln in inv["lines"]) == D(inv["total"]) == D(st["spent"])
    assert sum(D(s["amount"]) for s in inv["by_stage"]) == D(inv["total"])
    rows = csv_rows(Path(inv["files"]["csv"]))
    assert rows[-1]["label"] == "Total" and rows[-1]["amount (EUR)"] == inv["total"]
    assert sum(D(r["amount (EUR)"]) for r in rows[:-1]) == D(inv["total"])
    assert inv["total"] in pdf_text(Path(inv["files"]["pdf"]))
    halves = [cli.json("plan", "invoice", "-p", "test", "--from", a, "--to", b)[1]["total"]
              for a, b in (("2026-12-01", "2026-12-07"), ("2026-12-08", "2026-12-31"))]
    assert D(halves[0]) + D(halves[1]) == D(inv["total"])
    code, _o, err = cli("plan", "invoice", "-p", "test", "--from", "2026-12-31", "--to", "2026-12-01")
    assert code == 2 and "before" in err

    # The pay export: freelance technicians only; Malik on two productions the same day is a finding.
    code, pay = cli.json("plan", "pay", "--month", "2026-12")
    assert code == 1
    jsonschema.validate(pay, schema_of("plan pay"))
    assert pay["not_freelance"] == ["Studio Lumen"]
    rows = {(r["technician"], r["production"]): r for r in pay["rows"]}
    assert set(rows) == {("Inès", "test"), ("Malik", "test"), ("Malik", "other")}
    ines = rows[("Inès", "test")]
    assert (ines["days_worked"], ines["normal_hours"], ines["overtime_hours"], ines["overtime_hours_25pct"],
            ines["total_hours"]) == (2, "16", "2", "2", "18")
    malik = rows[("Malik", "test")]  # 8 h VFX on the 7th; 6.5 h grading on the 8th
    assert (malik["days_worked"], malik["normal_hours"], malik["overtime_hours"]) == (2, "14.50", "0")
    # Every hour of the month's session reports is in it, but the company's 4 h.
    assert sum(D(r["total_hours"]) for r in pay["rows"]) == D("10") + 8 + 8 + D("6.5") + 3
    assert all(D(r["normal_hours"]) + D(r["overtime_hours"]) == D(r["total_hours"]) for r in pay["rows"])
    assert [f["rule"] for f in pay["findings"]] == ["double_booking"]
    assert "Malik" in pay["findings"][0]["message"] and "other, test" in pay["findings"][0]["message"]
    csv = csv_rows(Path(pay["files"]["csv"]))
    assert list(csv[0]) == ["month", "technician", "production", "days_worked", "normal_hours", "overtime_hours",
                            "overtime_hours_25pct", "total_hours", "dates"]
    assert {r["technician"] for r in csv} == {"Inès", "Malik"}
    code, _o, err = cli("plan", "pay", "--month", "2026-13")
    assert code == 2 and "YYYY-MM" in err

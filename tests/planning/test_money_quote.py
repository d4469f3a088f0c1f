"""Rates as data, exact money, and the versioned quote (HTML, PDF, CSV, JSON) on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import db_fixtures
import jsonschema
import pytest
from money_helpers import check_line, csv_rows, make_cli, pdf_text

from cli.schemas import schema_of
from config.errors import ConfigError
from planning.money.amounts import cents, total
from planning.money.rates import load_rates

db_url = db_fixtures.db_url
pg_server = db_fixtures.pg_server


@pytest.fixture()
def cli(workspace: Path, db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    return make_cli(monkeypatch, capsys, db_url)


def test_rounding_rule_is_half_up_to_the_cent_on_decimals_only() -> None:
    assert cents(Decimal("2.675")) == Decimal("2.68")  # a float 2.675 is 2.67499...: Decimal only
    assert cents(Decimal("0.005")) == Decimal("0.01") and cents(Decimal("-0.005")) == Decimal("-0.01")
    assert total([Decimal("0.10"), Decimal("0.20")]) == Decimal("0.30")
    with pytest.raises(TypeError):
        cents(2.675)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not rounded"):
        total([Decimal("0.333")])


def test_house_rates_and_their_lookups() -> None:
    rates = load_rates("house")
    assert rates.currency == "EUR" and rates.data.normal_day_hours == 8
    day, hour, whose = rates.rate("vfx", "Anyone")
    assert day == Decimal("450.00") and hour is None and whose == "VFX compositor"
    assert rates.hourly(day, hour) == Decimal("56.25")
    assert rates.facility_of("grading")[1].day == Decimal("900.00") and rates.facility_of("vfx") is None


@pytest.mark.parametrize(("body", "field", "reason"), [
    ('[roles.editor]\nday = "380.123"\n', "roles.editor.day", "2 decimal places"),
    ('[roles.new_role]\nlabel = "x"\n', "roles.new_role", "needs `day`, `hour` or both"),
    ('[stages.vfx]\nrole = "nobody"\n', "stages.vfx.role", "unknown role 'nobody'"),
    ('[rolez.x]\nday = 1\n', "rolez", "unknown field"),
    ('[overtime]\ntiers = [{from_hour = 1, premium_percent = 25}]\n', "overtime", "from_hour = 0"),
    ('[technicians."Inès"]\nfreelance = true\n', "technicians.Inès", "needs a role or a rate"),
])
def test_a_bad_rates_file_names_the_file_and_the_field(tmp_path: Path, body: str, field: str | None,
                                                       reason: str) -> None:
    path = tmp_path / "rates.toml"
    path.write_text(f'schema_version = 1\nname = "prod"\ncurrency = "EUR"\nextends = "house"\n{body}',
                    encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_rates(path)
    assert info.value.path == str(path) and reason in str(info.value)
    if field:
        assert info.value.field == field


def test_a_production_file_extends_the_house_one(tmp_path: Path) -> None:
    path = tmp_path / "prod.toml"
    path.write_text('schema_version = 1\nname = "prod"\ncurrency = "EUR"\nextends = "house"\n'
                    '[roles.vfx_artist]\nhour = "60.00"\n[technicians."Zoé"]\nday = "500"\nfreelance = false\n',
                    encoding="utf-8")
    rates = load_rates(path)
    assert rates.rate("vfx")[:2] == (Decimal("450.00"), Decimal("60.00"))  # merged, not replaced
    assert rates.rate("vfx", "zoé")[0] == Decimal("500") and not rates.freelance("Zoé")
    assert rates.rate("mix")[0] == Decimal("560.00")
    bad = tmp_path / "bad.toml"
    bad.write_text('schema_version = 2\nname = "x"\ncurrency = "EUR"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="schema_version"):
        load_rates(bad)


def test_quote_from_the_plan_versioned_and_reconciled(cli, workspace: Path) -> None:
    code, _ = cli.json("plan", "create", "-p", "test", "--start", "2026-11-02", "--today", "2026-11-02")
    assert code == 0
    code, q1 = cli.json("plan", "quote", "-p", "test")
    assert code == 0 and q1["version"] == 1 and q1["made"] and q1["currency"] == "EUR"
    jsonschema.validate(q1, schema_of("plan quote"))
    lines = {ln["key"]: ln for ln in q1["lines"]}
    # VFX: 60 planned hours = 7.5 days of 8 h at 450.00; grading books its suite 5 days at 900.00.
    assert (lines["vfx.labour"]["quantity"], lines["vfx.labour"]["amount"]) == ("7.50", "3375.00")
    assert (lines["grading.facility"]["quantity"], lines["grading.facility"]["amount"]) == ("5", "4500.00")
    subtotal = sum((check_line(ln) for ln in q1["lines"]), Decimal(0))
    assert Decimal(q1["subtotal"]) == subtotal
    assert Decimal(q1["contingency"]) == cents(subtotal * Decimal("0.10"))
    assert Decimal(q1["total"]) == subtotal + Decimal(q1["contingency"])

    # Every format says the same total, to the cent.
    files = {k: Path(v) for k, v in q1["files"].items()}
    rows = csv_rows(files["csv"])
    assert sum(Decimal(r["amount (EUR)"]) for r in rows if r["line"] and r["line"] != "contingency") == subtotal
    assert rows[-1]["label"] == "Total" and rows[-1]["amount (EUR)"] == q1["total"]
    assert q1["total"] in files["html"].read_text(encoding="utf-8")
    assert q1["total"] in pdf_text(files["pdf"]) and "Quote v1" in pdf_text(files["pdf"])

    # A negotiation: v2, with its reason; v1 is kept as it was.
    code, _o, err = cli("plan", "quote", "-p", "test", "--set", "vfx.labour.quantity=10")
    assert code == 2 and "needs --reason" in err
    code, q2 = cli.json("plan", "quote", "-p", "test", "--set", "vfx.labour.quantity=10", "--add",
                        "vfx.extra_shots=Three more shots;3;day;450", "--drop", "titles.labour",
                        "--contingency", "5", "--reason", "director asks for three more shots")
    jsonschema.validate(q2, schema_of("plan quote"))
    assert code == 0 and q2["version"] == 2 and q2["reason"] == "director asks for three more shots"
    lines2 = {ln["key"]: ln for ln in q2["lines"]}
    assert lines2["vfx.labour"]["amount"] == "4500.00" and lines2["vfx.labour"]["hours"] == "80"
    assert lines2["vfx.extra_shots"]["amount"] == "1350.00" and "titles.labour" not in lines2
    subtotal2 = sum((check_line(ln) for ln in q2["lines"]), Decimal(0))
    assert Decimal(q2["total"]) == subtotal2 + cents(subtotal2 * Decimal("0.05"))
    assert [v["version"] for v in q2["versions"]] == [1, 2]
    code, again = cli.json("plan", "quote", "-p", "test", "--version", "1")
    assert code == 0 and not again["made"] and again["total"] == q1["total"] and again["lines"] == q1["lines"]
    code, latest = cli.json("plan", "quote", "-p", "test")
    assert latest["version"] == 2 and not latest["made"]

    code, _o, err = cli("plan", "quote", "-p", "test", "--set", "nope.quantity=1", "--reason", "x")
    assert code == 2 and "no line" not in err and "LINE.quantity" in err
    code, _o, err = cli("plan", "quote", "-p", "test", "--set", "vfx.labour.quantity=-1", "--reason", "x")
    assert code == 2 and "positive" in err
    code, _o, err = cli("plan", "quote", "-p", "nothing")
    assert code == 2 and "has no plan" in err

    # The plan priced afresh: v3 has v1's lines, and keeps the negotiated contingency.
    code, q3 = cli.json("plan", "quote", "-p", "test", "--from-plan", "--reason", "re-planned")
    assert code == 0 and q3["version"] == 3 and q3["lines"] == q1["lines"] and q3["contingency_percent"] == "5"
    assert q3["subtotal"] == q1["subtotal"]


def test_a_bad_production_rates_file_is_one_message(cli, workspace: Path) -> None:
    bad = workspace / "bad-rates.toml"
    bad.write_text('schema_version = 1\nname = "x"\ncurrency = "euro"\n', encoding="utf-8")
    with (workspace / "postprod.toml").open("a") as fh:
        fh.write(f'rates = "{bad}"\n')  # under [productions.test]
    assert cli.json("plan", "create", "-p", "test", "--start", "2026-11-02")[0] == 0
    code, out, err = cli("plan", "quote", "-p", "test")
    assert code == 2 and out == "" and "Traceback" not in err
    assert str(bad) in err and "field 'currency'" in err

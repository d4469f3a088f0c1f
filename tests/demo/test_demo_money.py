"""The demo's money step on its own (without the ingest): quote, costs, VFX overrun and its alert, the overrun
statement, invoice lines and pay export; a re-run makes nothing twice."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from config.settings import load_settings
from demo.money import money_step
from demo.plan import demo_plan
from demo.run import DemoContext
from planning.money import quote as qt
from planning.money.alerts import open_alerts
from planning.money.service import check
from planning.store import PlanningStore


def test_demo_money_step(tmp_path: Path) -> None:
    config = tmp_path / "postprod.toml"
    config.write_text('data_dir = "data"\n\n[productions.demo]\ndelivery_profile = "fr-pad-hd"\n', encoding="utf-8")
    said: list[str] = []
    ctx = DemoContext(workspace=tmp_path, config=config, reports=[], direct=True, say=lambda t: said.append(str(t)))
    demo_plan(ctx)
    money_step(ctx)
    text = "\n".join(said)
    settings = load_settings(config)
    store = PlanningStore(settings.db_url)
    assert [v["version"] for v in qt.versions(store, "demo")] == [1]
    assert "OVERRUN ALERT (new): demo / VFX" in text
    [alert] = open_alerts(store, "demo")
    assert alert.scope == "vfx"
    money_dir = settings.reports_dir / "money" / "demo"
    for pattern in ("quote-v1.html", "quote-v1.pdf", "overrun-*.html", "overrun-*.pdf", "invoice-*.csv"):
        found = list(money_dir.glob(pattern))
        assert found and str(found[0]) in text, pattern
    assert list((settings.reports_dir / "money").glob("pay-*-demo.csv"))
    pm = check(store, settings, date.today(), productions=["demo"], notify=False).money["demo"]
    vfx = next(s for s in pm.stages if s.stage == "vfx")
    # 74 h of VFX: 72 h normal at 56.25 and 2 h overtime at 70.3125 = 4050.00 + 140.63.
    assert vfx.spent == Decimal("4190.63") and vfx.overrun
    assert f"{pm.spent} EUR" in text and "(= spent, to the cent)" in text

    said.clear()
    demo_plan(ctx)
    money_step(ctx)
    assert "OVERRUN ALERT: demo / VFX" in "\n".join(said) and "(new)" not in "\n".join(said)
    assert [v["version"] for v in qt.versions(store, "demo")] == [1] and len(open_alerts(store, "demo")) == 1

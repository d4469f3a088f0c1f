"""The demo's money step: a quote for the demo production, session reports costing themselves, VFX overrunning
its quote with its alert, the overrun statement, the invoice lines and the pay export, paths printed."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from cli.text import escape
from config.settings import load_settings
from planning import schedule
from planning.money import quote as qt
from planning.money import statement
from planning.money.amounts import plain
from planning.money.documents import quote_doc
from planning.money.exports import invoice, pay_export
from planning.money.rates import production_rates, rates_resolver
from planning.money.service import MoneyCheck, check
from planning.store import PlanningStore

if TYPE_CHECKING:
    from demo.context import DemoContext


def escaped(say: Any) -> Any:
    """The demo prints with rich: names and paths are text, not markup."""
    return lambda text: say(escape(text))


def money_dir(settings: Any) -> Any:
    return settings.reports_dir / "money" / "demo"


def demo_quote(store: PlanningStore, settings: Any, say: Any) -> None:
    """v1 of the demo's quote, from its plan and the house rates (made once; a re-run shows it again)."""
    say = escaped(say)
    current = qt.load(store, "demo")
    if current is None:
        made, _missing = qt.from_plan(store, "demo", production_rates(settings, "demo"),
                                      settings.money.contingency_percent)
        current = qt.save(store, made)
    files = quote_doc(current, qt.versions(store, "demo")).write(money_dir(settings) / f"quote-v{current.version}")
    say(f"   quote v{current.version}: {current.total} {current.currency} ({len(current.lines)} lines + "
        f"{current.contingency_percent:g} % contingency): {files['html']}  {files['pdf']}")


def demo_costs(store: PlanningStore, settings: Any, today: date, say: Any) -> MoneyCheck:
    """Cost the session reports, forecast each stage, record the overrun crossings (the digest shows them)."""
    say = escaped(say)
    money = check(store, settings, today, productions=["demo"], notify=settings.smtp is not None)
    pm = money.money["demo"]
    cur = pm.currency
    for s in pm.stages:
        if s.spent:
            say(f"   {s.label}: {plain(s.spent_hours)} h cost {s.spent} {cur} (quoted {s.quoted} {cur}); forecast at "
                f"completion {s.forecast} {cur} ({s.basis})")
    for a in money.alerts:
        say(f"   OVERRUN ALERT{' (new)' if a.new else ''}: {a.text()}")
    return money


def money_step(ctx: DemoContext) -> None:
    """Money: the overrun statement for the producer, the invoice lines and the pay export."""
    say = escaped(ctx.say)
    settings = load_settings(ctx.config)
    store = PlanningStore(settings.db_url)
    today = date.today()
    money = check(store, settings, today, productions=["demo"], notify=False)
    pm = money.money["demo"]
    st = statement.build(pm, schedule.status(store, "demo", today), store.reports("demo"))
    files = statement.document(st).write(money_dir(settings) / f"overrun-{today.isoformat()}")
    say(f"   overrun statement: spent {pm.spent} {pm.currency}, forecast {pm.forecast} {pm.currency} against "
        f"{pm.quoted} {pm.currency} quoted; proposed additional lines {st.proposed_total} {pm.currency}")
    say(f"   overrun statement (for the producer): {files['html']}  {files['pdf']}")
    rates_for = rates_resolver(settings)
    start = store.production("demo")["planned_start"]
    inv = invoice(store, "demo", start, today, rates_for)
    files = inv.document().write(money_dir(settings) / f"invoice-{start}_{today}")
    agrees = "= spent, to the cent" if inv.total == pm.spent else f"spent is {pm.spent}: they differ"
    say(f"   invoice lines {start} → {today}: {len(inv.lines)} lines, {inv.total} {inv.currency} "
        f"({agrees}): {files['csv']}  {files['pdf']}")
    months = sorted({r["work_date"].strftime("%Y-%m") for r in store.reports("demo")})
    for month in months[-2:]:
        pay = pay_export(store, month, rates_for, "demo")
        files = pay.document().write(settings.reports_dir / "money" / f"pay-{month}-demo")
        say(f"   pay export {month}: {len(pay.rows)} row(s) (freelance technician × production), "
            f"{len(pay.findings)} finding(s): {files['csv']}")

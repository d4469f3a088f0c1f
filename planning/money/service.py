"""What the commands and the digest ask of the money side: every planned production's money, its alerts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from planning import schedule
from planning.money.actuals import ProductionMoney, production_money
from planning.money.costing import cost_reports, double_bookings
from planning.money.rates import rates_resolver
from planning.schedule import ProductionStatus

if TYPE_CHECKING:  # plan status reads money through planning/reading.py's PlanningReader too (no SQLAlchemy)
    from planning.money import alerts as al
    from planning.reading import PlanningReader
    from planning.store import PlanningStore


@dataclass
class MoneyCheck:
    money: dict[str, ProductionMoney] = field(default_factory=dict)
    alerts: list[al.Alert] = field(default_factory=list)  # open ones, new ones marked
    sent_to: list[str] = field(default_factory=list)
    send_error: str | None = None

    @property
    def new(self) -> list[al.Alert]:
        return [a for a in self.alerts if a.new]


def money_of(store: PlanningStore | PlanningReader, statuses: list[ProductionStatus],
             settings: Any) -> dict[str, ProductionMoney]:
    rates_for = rates_resolver(settings)
    threshold = settings.money.overrun_threshold_percent
    result = {}
    reports = {p["name"]: store.reports(p["name"]) for p in store.productions() if p["template"]}
    everyone = [r for rows in reports.values() for r in rows]
    for st in statuses:
        if not st.template:
            continue
        costed = cost_reports(reports.get(st.production, []), rates_for)
        pm = production_money(store, st, rates_for, threshold, costed)
        pm.findings = double_bookings(everyone, st.production)
        result[st.production] = pm
    return result


def check(store: PlanningStore, settings: Any, today: date, *, productions: list[str] | None = None,
          notify: bool = True, now: datetime | None = None) -> MoneyCheck:
    """Money and overrun crossings of the planned productions (or some); mails the alerts not yet sent
    when [smtp] is set (a failure is kept in `send_error`: they are sent next time)."""
    from planning.money import alerts as al

    if productions is None:
        statuses = [s for s in schedule.all_statuses(store, today) if s.template]
    else:
        statuses = [schedule.status(store, p, today) for p in productions]
    result = MoneyCheck(money=money_of(store, statuses, settings))
    for pm in result.money.values():
        result.alerts += al.check(store, pm, now)
    pending = al.unsent(result.alerts)
    if notify and pending and settings.smtp is not None:
        from config.mail import SendError

        try:
            result.sent_to = al.mail(pending, settings.smtp)
            al.mark_notified(store, pending, result.sent_to)
        except SendError as exc:
            result.send_error = f"overrun alert not sent (it will be tried again): {exc}"
    return result

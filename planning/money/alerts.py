"""Overrun alerts: a forecast passing the quote by the threshold is recorded once per crossing, shown in the
digest and sent by e-mail once; when the forecast falls back under, the crossing is closed, and a later
crossing is a new one. A new quote version (an overrun negotiated) starts afresh."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update

from planning.money.actuals import ProductionMoney, over_percent
from planning.store import PlanningStore
from store.tables import overrun_alerts


@dataclass
class Alert:
    id: int
    production: str
    scope: str  # a stage key, or "*": the production
    label: str
    quote_version: int
    crossed_at: datetime
    quoted: Decimal
    forecast: Decimal
    threshold_percent: Decimal
    currency: str
    notified_to: str | None
    new: bool = False

    @property
    def over_percent(self) -> Decimal | None:
        return over_percent(self.forecast, self.quoted)

    def text(self) -> str:
        what = "the production" if self.scope == "*" else self.label
        return (f"{self.production} / {what}: forecast {self.forecast} {self.currency} passes the quote "
                f"(v{self.quote_version}: {self.quoted} {self.currency}) by {self.over_percent} % "
                f"(threshold {self.threshold_percent:f} %), since {self.crossed_at:%Y-%m-%d}")

    def to_json(self) -> dict[str, Any]:
        return {"production": self.production, "scope": self.scope, "label": self.label,
                "quote_version": self.quote_version, "crossed_at": self.crossed_at.isoformat(),
                "quoted": f"{self.quoted:f}", "forecast": f"{self.forecast:f}",
                "over_percent": f"{self.over_percent:f}" if self.over_percent is not None else None,
                "threshold_percent": f"{self.threshold_percent:f}", "currency": self.currency,
                "new": self.new, "notified_to": self.notified_to}


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def check(store: PlanningStore, pm: ProductionMoney, now: datetime | None = None) -> list[Alert]:
    """Record the crossings of one production; returns its open alerts (the new ones with `new`)."""
    if pm.quote is None:
        return []
    now = now or datetime.now(UTC)
    labels = {s.stage: s.label for s in pm.stages} | {"*": "the production"}
    current = {scope: (quoted, forecast) for scope, quoted, forecast in pm.overruns()}
    new_ids: set[int] = set()
    with store._write(pm.production) as conn:
        rows = conn.execute(select(overrun_alerts).where(
            overrun_alerts.c.production == pm.production, overrun_alerts.c.cleared_at.is_(None))).all()
        open_scopes = {}
        for r in rows:
            if r.quote_version != pm.quote.version or r.scope not in current:
                conn.execute(update(overrun_alerts).where(overrun_alerts.c.id == r.id).values(cleared_at=now))
            else:
                open_scopes[r.scope] = r.id
                quoted, forecast = current[r.scope]
                conn.execute(update(overrun_alerts).where(overrun_alerts.c.id == r.id).values(
                    quoted=str(quoted), forecast=str(forecast)))
        for scope, (quoted, forecast) in current.items():
            if scope not in open_scopes:
                res = conn.execute(overrun_alerts.insert().values(
                    production=pm.production, scope=scope, quote_version=pm.quote.version, crossed_at=now,
                    quoted=str(quoted), forecast=str(forecast), threshold_percent=str(pm.threshold_percent)))
                new_ids.add(res.inserted_primary_key[0])
    alerts = open_alerts(store, pm.production, labels, pm.currency)
    for a in alerts:
        a.new = a.id in new_ids
    return alerts


def open_alerts(store: PlanningStore, production: str, labels: dict[str, str] | None = None,
                currency: str = "") -> list[Alert]:
    with store._read() as conn:
        rows = conn.execute(select(overrun_alerts).where(
            overrun_alerts.c.production == production, overrun_alerts.c.cleared_at.is_(None))
            .order_by(overrun_alerts.c.id)).all()
    return [Alert(id=r.id, production=r.production, scope=r.scope, label=(labels or {}).get(r.scope, r.scope),
                  quote_version=r.quote_version, crossed_at=_aware(r.crossed_at), quoted=Decimal(r.quoted),
                  forecast=Decimal(r.forecast), threshold_percent=Decimal(r.threshold_percent), currency=currency,
                  notified_to=r.notified_to) for r in rows]


def mark_notified(store: PlanningStore, alerts: list[Alert], recipients: list[str]) -> None:
    for a in alerts:
        with store._write(a.production) as conn:
            conn.execute(update(overrun_alerts).where(overrun_alerts.c.id == a.id).values(
                notified_to=", ".join(recipients)))
        a.notified_to = ", ".join(recipients)


def unsent(alerts: list[Alert]) -> list[Alert]:
    return [a for a in alerts if not a.notified_to]


def mail(alerts: list[Alert], smtp: Any) -> list[str]:
    """One e-mail for these alerts (the [smtp] settings); returns the recipients that accepted it."""
    from config.mail import send_mail

    n = len(alerts)
    productions = ", ".join(sorted({a.production for a in alerts}))
    subject = f"postprod: {n} overrun{'s' if n > 1 else ''} to negotiate ({productions})"
    text = "\n".join([subject, "", *[a.text() for a in alerts], "",
                      "The overrun statement for the producer: postprod plan overrun -p PRODUCTION"]) + "\n"
    return send_mail(smtp, subject, text)

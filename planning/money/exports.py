"""The client's invoice lines per production and period, and the freelance technicians' hours per month
for a payroll tool (days and hours, normal and overtime; postprod does not compute pay slips)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from planning.money.amounts import plain, price, total
from planning.money.costing import CostLine, Finding, cost_reports, double_bookings, hours_of
from planning.money.document import Document, Section
from planning.money.rates import Rates
from planning.store import COUNTED, PlanningStore, session_reports


def reports_between(store: PlanningStore, start: date, end: date, production: str | None = None) -> list[dict]:
    query = select(session_reports).where(session_reports.c.work_date >= start, session_reports.c.work_date <= end,
                                          COUNTED)
    if production is not None:
        query = query.where(session_reports.c.production == production)
    with store._read() as conn:
        return [dict(r._mapping) for r in conn.execute(query.order_by(session_reports.c.work_date,
                                                                      session_reports.c.id))]


@dataclass
class Invoice:
    production: str
    start: date
    end: date
    currency: str
    lines: list[CostLine]
    findings: list[Finding] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return total(ln.amount for ln in self.lines)

    def by_stage(self) -> list[tuple[str, Decimal]]:
        stages = list(dict.fromkeys(ln.stage for ln in self.lines))
        return [(s, total(ln.amount for ln in self.lines if ln.stage == s)) for s in stages]

    def to_json(self) -> dict[str, Any]:
        return {"production": self.production, "from": self.start.isoformat(), "to": self.end.isoformat(),
                "currency": self.currency, "lines": [ln.to_json() for ln in self.lines],
                "by_stage": [{"stage": s, "amount": f"{a:f}"} for s, a in self.by_stage()],
                "total": f"{self.total:f}", "findings": [f.to_json() for f in self.findings]}

    def document(self) -> Document:
        cur = self.currency
        rows = [[ln.work_date.isoformat(), ln.stage, ln.technician or "suite", ln.label, plain(ln.quantity), ln.unit,
                 price(ln.unit_price), f"{ln.amount:f}", ln.source or ""] for ln in self.lines]
        lines = Section(f"Invoice lines ({cur})", ["date", "stage", "who", "label", "quantity", "unit",
                                                   f"unit price ({cur})", f"amount ({cur})", "session report"],
                        rows, [["", "", "", "Total", "", "", "", f"{self.total:f}", ""]], numeric={4, 6, 7})
        stages = Section(f"By stage ({cur})", ["stage", f"amount ({cur})"],
                         [[s, f"{a:f}"] for s, a in self.by_stage()], [["Total", f"{self.total:f}"]], numeric={1})
        return Document(
            title=f"Invoice lines — {self.production}",
            subtitle=f"Post-production work from {self.start.isoformat()} to {self.end.isoformat()}",
            meta=[("Production", self.production), ("Period", f"{self.start} → {self.end}"), ("Currency", cur),
                  ("Total", f"{self.total} {cur}")],
            alerts=[f.message for f in self.findings], sections=[lines, stages],
            notes=["One line per session report and kind (normal hours, overtime, suite day): amount = quantity × "
                   "unit price rounded half up to the cent; the totals are sums of the lines, so they equal the "
                   "costs of the session reports of the period."])


def invoice(store: PlanningStore, production: str, start: date, end: date,
            rates_for: Callable[[str], Rates]) -> Invoice:
    """The costed session reports of a production in a period (the days of the period, both included).
    Costs are computed on the production's whole reports, so that a day's overtime is the same in any period."""
    costed = cost_reports(store.reports(production), rates_for)
    lines = [ln for ln in costed.lines if start <= ln.work_date <= end]
    findings = [f for f in costed.findings if f.rule == "no_rate"]
    return Invoice(production, start, end, rates_for(production).currency, lines, findings)


def month_bounds(month: str) -> tuple[date, date]:
    first = date.fromisoformat(f"{month}-01")
    return first, (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


@dataclass
class PayExport:
    month: str
    rows: list[dict[str, Any]]
    premiums: list[Decimal]
    findings: list[Finding]
    left_out: list[str]  # technicians not freelance

    def to_json(self) -> dict[str, Any]:
        return {"month": self.month, "premiums": [f"{p:f}" for p in self.premiums], "rows": self.rows,
                "findings": [f.to_json() for f in self.findings], "not_freelance": self.left_out}

    def columns(self) -> list[str]:
        return ["month", "technician", "production", "days_worked", "normal_hours", "overtime_hours",
                *[f"overtime_hours_{p:f}pct" for p in self.premiums], "total_hours", "dates"]

    def document(self) -> Document:
        cols = self.columns()
        table = Section("Freelance technicians: days and hours", cols,
                        [[str(r[c]) if not isinstance(r[c], list) else " ".join(r[c]) for c in cols]
                         for r in self.rows], numeric={3, 4, 5, *range(6, 7 + len(self.premiums))})
        return Document(
            title=f"Pay export — {self.month}", subtitle="Days and hours worked by the freelance technicians "
            "(intermittents), per production, for the payroll tool: no pay slip is computed here",
            meta=[("Month", self.month), ("Rows", str(len(self.rows))),
                  ("Not freelance (left out)", ", ".join(self.left_out) or "none")],
            alerts=[f.message for f in self.findings], sections=[table],
            notes=["Normal hours fill each day's normal length (rates: normal_day_hours) first; the rest is "
                   "overtime, by premium tier. Hours are decimal hours ('7.5' is 7 h 30)."])


def pay_export(store: PlanningStore, month: str, rates_for: Callable[[str], Rates],
               production: str | None = None) -> PayExport:
    start, end = month_bounds(month)
    everyone = reports_between(store, start, end)
    reports = [r for r in everyone if production is None or r["production"] == production]
    costed = cost_reports(reports, rates_for)
    premiums = sorted({p for normal, over in costed.splits.values() for _, p in over})
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    left_out: set[str] = set()
    for r in reports:
        who = r["technician"].strip()
        if not rates_for(r["production"]).freelance(who):
            left_out.add(who)
            continue
        normal, over = costed.splits[r["id"]]
        row = rows.setdefault((who.casefold(), r["production"]), {
            "technician": who, "production": r["production"], "dates": set(), "normal": 0,
            "over": {p: 0 for p in premiums}})
        row["dates"].add(r["work_date"])
        row["normal"] += normal
        for minutes, p in over:
            row["over"][p] += minutes
    out = []
    for (_, _), row in sorted(rows.items()):
        over_total = sum(row["over"].values())
        out.append({"month": month, "technician": row["technician"], "production": row["production"],
                    "days_worked": len(row["dates"]), "normal_hours": plain(hours_of(row["normal"])),
                    "overtime_hours": plain(hours_of(over_total)),
                    **{f"overtime_hours_{p:f}pct": plain(hours_of(m)) for p, m in row["over"].items()},
                    "total_hours": plain(hours_of(row["normal"] + over_total)),
                    "dates": [d.isoformat() for d in sorted(row["dates"])]})
    findings = double_bookings(everyone) + [f for f in costed.findings if f.rule == "day_too_long"]
    return PayExport(month, out, premiums, findings, sorted(left_out))

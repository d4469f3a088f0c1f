"""Every session report costs itself: the technician's rate, overtime past the normal day, the suite booked.

Rules (docs/money.md):
- the normal day and overtime are counted per technician, production and day: the day's reports in the order
  they were stored fill the normal day first; the hours past it are overtime, by tier of the rates file;
- normal hours cost the hourly base (the hourly rate, else day rate / normal day); overtime hours the hourly
  base plus the tier's premium;
- a stage that books a suite (rates: stages.KEY.facility) costs one suite day per day with reports on it;
- every line: amount = quantity x unit price, rounded half up to the cent (quantities to 4 decimals, unit
  prices to 4 decimals); a report with no rate is not costed and says so in a finding.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from planning.money.amounts import cents, plain, price, total
from planning.money.rates import Rates

Q4 = Decimal("0.0001")


def q4(value: Decimal) -> Decimal:
    return value.quantize(Q4, rounding=ROUND_HALF_UP)


def hours_of(minutes: int) -> Decimal:
    return q4(Decimal(minutes) / 60)


@dataclass(frozen=True)
class CostLine:
    production: str
    stage: str
    technician: str | None  # None for a suite
    work_date: date
    kind: str  # normal | overtime | facility
    label: str
    quantity: Decimal
    unit: str  # h | day
    unit_price: Decimal
    amount: Decimal
    currency: str
    report_id: int | None
    source: str | None
    minutes: int = 0  # technician minutes of this line (0 for a suite)

    def to_json(self) -> dict[str, Any]:
        return {"production": self.production, "stage": self.stage, "technician": self.technician,
                "date": self.work_date.isoformat(), "kind": self.kind, "label": self.label,
                "quantity": plain(self.quantity), "unit": self.unit, "unit_price": price(self.unit_price),
                "amount": str(self.amount), "currency": self.currency, "report_id": self.report_id,
                "source": self.source}


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"rule": self.rule, "severity": self.severity, "message": self.message}


@dataclass
class Costed:
    lines: list[CostLine] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    uncosted_minutes: dict[tuple[str, str], int] = field(default_factory=dict)  # (production, stage) -> minutes
    # report id -> (normal minutes, [(overtime minutes, premium %)]): what the pay export counts
    splits: dict[int, tuple[int, list[tuple[int, Decimal]]]] = field(default_factory=dict)

    def amount(self, production: str | None = None, stage: str | None = None) -> Decimal:
        return total(ln.amount for ln in self.lines
                     if (production is None or ln.production == production) and (stage is None or ln.stage == stage))


def line(rates: Rates, report: dict[str, Any], kind: str, label: str, quantity: Decimal, unit: str,
         unit_price: Decimal, minutes: int = 0, technician: str | None = None) -> CostLine:
    quantity, unit_price = q4(quantity), q4(unit_price)
    return CostLine(production=report["production"], stage=report["stage"], technician=technician,
                    work_date=report["work_date"], kind=kind, label=label, quantity=quantity, unit=unit,
                    unit_price=unit_price, amount=cents(quantity * unit_price), currency=rates.currency,
                    report_id=report.get("id"), source=report.get("source"), minutes=minutes)


def _overtime(rates: Rates, before: int, minutes: int) -> list[tuple[int, Decimal]]:
    """Split `minutes` of overtime, `before` already worked past the normal day, into (minutes, premium %)."""
    tiers = rates.data.overtime.tiers
    parts: list[tuple[int, Decimal]] = []
    start, end = before, before + minutes
    for i, tier in enumerate(tiers):
        lo = int(tier.from_hour * 60)
        hi = int(tiers[i + 1].from_hour * 60) if i + 1 < len(tiers) else end
        a, b = max(start, lo), min(end, hi)
        if b > a:
            parts.append((b - a, tier.premium_percent))
    return parts


def cost_reports(reports: list[dict[str, Any]], rates_for: Callable[[str], Rates]) -> Costed:
    """Cost session reports (store rows, any productions), in the order they were stored."""
    out = Costed()
    worked: dict[tuple[str, str, date], int] = {}
    booked: set[tuple[str, str, date]] = set()
    for r in sorted(reports, key=lambda r: (r["work_date"], r.get("id") or 0)):
        rates = rates_for(r["production"])
        who = r["technician"]
        day_key = (r["production"], who.strip().casefold(), r["work_date"])
        before = worked.get(day_key, 0)
        worked[day_key] = before + r["minutes"]
        normal = max(0, min(r["minutes"], rates.normal_minutes - before))
        overtime = _overtime(rates, max(0, before - rates.normal_minutes), r["minutes"] - normal)
        out.splits[r.get("id") or 0] = (normal, overtime)
        if worked[day_key] > rates.data.max_day_hours * 60 and before <= rates.data.max_day_hours * 60:
            out.findings.append(Finding("day_too_long", "warning", (
                f"{who} worked {hours_of(worked[day_key]):g} h on {r['work_date']} for {r['production']}: more "
                f"than the {rates.data.max_day_hours:g} h a day of rates '{rates.name}'")))
        rate = rates.rate(r["stage"], who)
        if rate is None:
            key = (r["production"], r["stage"])
            out.uncosted_minutes[key] = out.uncosted_minutes.get(key, 0) + r["minutes"]
            out.findings.append(Finding("no_rate", "error", (
                f"{r['production']} / {r['stage']}: {who} on {r['work_date']} ({hours_of(r['minutes']):g} h, "
                f"{r.get('source') or 'report #' + str(r.get('id'))}) is not costed: no rate for this technician "
                f"and no role for stage '{r['stage']}' in rates '{rates.name}' ({rates.path})")))
            continue
        day, hour, whose = rate
        base = rates.hourly(day, hour)
        if normal:
            out.lines.append(line(rates, r, "normal", f"{whose}, normal hours", hours_of(normal), "h", base,
                                  normal, who))
        for minutes, premium in overtime:
            out.lines.append(line(rates, r, "overtime", f"{whose}, overtime +{premium:g} %", hours_of(minutes),
                                  "h", base * (1 + premium / 100), minutes, who))
        suite = rates.facility_of(r["stage"])
        if suite is not None and (r["production"], suite[0], r["work_date"]) not in booked:
            booked.add((r["production"], suite[0], r["work_date"]))
            out.lines.append(line(rates, r, "facility", suite[1].label or suite[0], Decimal(1), "day",
                                  suite[1].day))
    return out


def double_bookings(reports: list[dict[str, Any]], production: str | None = None) -> list[Finding]:
    """A technician with session reports on two productions the same day (those involving `production`)."""
    seen: dict[tuple[str, date], dict[str, str]] = {}
    for r in reports:
        key = (r["technician"].strip().casefold(), r["work_date"])
        seen.setdefault(key, {})[r["production"]] = r["technician"]
    findings = []
    for (_, day), prods in sorted(seen.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        if len(prods) > 1 and (production is None or production in prods):
            who = next(iter(prods.values()))
            findings.append(Finding("double_booking", "warning",
                                    f"{who} has session reports on {len(prods)} productions on {day}: "
                                    f"{', '.join(sorted(prods))}"))
    return findings

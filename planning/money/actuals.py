"""Quoted, spent and forecast at completion, per stage and per production, in hours and in money.

Rules (docs/money.md):
- spent: the session reports costed at the rates (planning/money/costing.py), suites included;
- forecast at completion of a stage:
  - done: what was spent;
  - with reports, not done: the burn so far carried to the end of its planned duration, i.e. spent divided
    by the fraction of its planned days elapsed (day 3 of 10 with 72 h spent: 240 h). Equivalently: spent
    plus the remaining planned work corrected by the burn (spent / planned so far). Past its planned end:
    spent (and the stage is late: the digest says so);
  - no reports yet: its planned hours priced at the rates (the plan as the quote prices it);
- a stage overruns when its forecast passes its quoted amount (its lines of the current quote) by more
  than the threshold; the production when the sum of the forecasts passes the quote's total (contingency
  included) by more than the threshold.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from planning.money.amounts import ZERO, cents, plain, total
from planning.money.costing import Costed, Finding, cost_reports, hours_of, q4
from planning.money.quote import Quote, from_plan, load
from planning.money.rates import Rates
from planning.schedule import ProductionStatus, StageStatus
from planning.stages import StageState

if TYPE_CHECKING:
    from planning.reading import PlanningReader
    from planning.store import PlanningStore


def over_percent(forecast: Decimal, quoted: Decimal | None) -> Decimal | None:
    if not quoted:
        return None
    return ((forecast - quoted) * 100 / quoted).quantize(Decimal("0.1"))


@dataclass
class StageMoney:
    stage: str
    label: str
    quoted: Decimal | None
    quoted_hours: Decimal | None
    spent: Decimal
    spent_hours: Decimal
    forecast: Decimal
    forecast_hours: Decimal
    basis: str  # how the forecast was made
    overrun: bool = False
    uncosted_hours: Decimal = ZERO

    @property
    def over_percent(self) -> Decimal | None:
        return over_percent(self.forecast, self.quoted)

    def to_json(self) -> dict[str, Any]:
        s, h = _s, _h
        return {"stage": self.stage, "label": self.label, "quoted": s(self.quoted),
                "quoted_hours": h(self.quoted_hours), "spent": s(self.spent), "spent_hours": h(self.spent_hours),
                "forecast": s(self.forecast), "forecast_hours": h(self.forecast_hours),
                "over_percent": s(self.over_percent), "overrun": self.overrun, "basis": self.basis,
                "uncosted_hours": h(self.uncosted_hours)}


@dataclass
class ProductionMoney:
    production: str
    currency: str
    today: date
    threshold_percent: Decimal
    quote: Quote | None
    stages: list[StageMoney]
    costed: Costed
    findings: list[Finding] = field(default_factory=list)
    other_quoted: Decimal = ZERO  # quote lines of no plan stage (an added `misc.drives` line): forecast as quoted

    @property
    def quoted(self) -> Decimal | None:
        return self.quote.total if self.quote else None

    @property
    def spent(self) -> Decimal:
        return total(s.spent for s in self.stages)

    @property
    def forecast(self) -> Decimal:
        return total(s.forecast for s in self.stages) + self.other_quoted

    @property
    def overrun(self) -> bool:
        return _over(self.forecast, self.quoted, self.threshold_percent)

    def overruns(self) -> list[tuple[str, Decimal, Decimal]]:
        """(scope, quoted, forecast) of what passes the quote by the threshold: '*' is the production."""
        found = [(s.stage, s.quoted, s.forecast) for s in self.stages if s.overrun and s.quoted is not None]
        if self.overrun and self.quoted is not None:
            found.append(("*", self.quoted, self.forecast))
        return found  # type: ignore[return-value]

    def to_json(self) -> dict[str, Any]:
        return {"currency": self.currency, "quote_version": self.quote.version if self.quote else None,
                "quoted": f"{self.quoted:f}" if self.quoted is not None else None,
                "spent": f"{self.spent:f}", "forecast": f"{self.forecast:f}",
                "other_quoted": f"{self.other_quoted:f}",
                "over_percent": _s(over_percent(self.forecast, self.quoted)), "overrun": self.overrun,
                "threshold_percent": f"{self.threshold_percent:f}",
                "spent_hours": _h(sum((s.spent_hours for s in self.stages), ZERO)),
                "forecast_hours": _h(sum((s.forecast_hours for s in self.stages), ZERO)),
                "stages": [s.to_json() for s in self.stages],
                "findings": [f.to_json() for f in [*self.costed.findings, *self.findings]]}


def _s(v: Decimal | None) -> str | None:
    return None if v is None else f"{v:f}"


def _h(v: Decimal | None) -> str | None:
    return None if v is None else plain(v)


def _over(forecast: Decimal, quoted: Decimal | None, threshold: Decimal) -> bool:
    return bool(quoted) and forecast > quoted * (1 + threshold / 100)  # type: ignore[operator]


def elapsed_fraction(st: StageStatus, today: date) -> Decimal | None:
    """The fraction of a stage's planned duration elapsed on `today` (from its actual start), in (0, 1]."""
    if st.planned_start is None or st.planned_end is None:
        return None
    planned_days = (st.planned_end - st.planned_start).days + 1
    start = st.actual_start or st.planned_start
    elapsed = min(max((today - start).days + 1, 1), planned_days)
    return Decimal(elapsed) / Decimal(planned_days)


def stage_money(st: StageStatus, today: date, costed: Costed, production: str, quote: Quote | None,
                planned: dict[str, tuple[Decimal, Decimal]], threshold: Decimal) -> StageMoney:
    spent = costed.amount(production, st.stage)
    spent_minutes = sum(ln.minutes for ln in costed.lines if ln.production == production and ln.stage == st.stage)
    uncosted = costed.uncosted_minutes.get((production, st.stage), 0)
    spent_hours = hours_of(spent_minutes + uncosted)
    plan_amount, plan_hours = planned.get(st.stage, (ZERO, Decimal(str(st.planned_hours or 0))))
    if st.recorded_state == StageState.DONE:
        forecast, forecast_hours, basis = spent, spent_hours, "done: spent"
    elif st.reports:
        frac = elapsed_fraction(st, today)
        if frac is None:
            forecast, forecast_hours = max(spent, plan_amount), max(spent_hours, plan_hours)
            basis = "no planned dates: the larger of spent and planned"
        else:
            forecast, forecast_hours = cents(spent / frac), q4(spent_hours / frac)
            basis = (f"burn so far carried to its end ({frac * 100:.0f} % of its planned days elapsed)" if frac < 1
                     else "past its planned end: spent so far")
    else:
        forecast, forecast_hours, basis = plan_amount, plan_hours, "not started: planned work at the rates"
    quoted = quote.stage_amount(st.stage) if quote and any(ln.stage == st.stage for ln in quote.lines) else None
    quoted_hours = quote.stage_hours(st.stage) if quoted is not None and quote else None
    return StageMoney(stage=st.stage, label=st.label, quoted=quoted, quoted_hours=quoted_hours, spent=spent,
                      spent_hours=spent_hours, forecast=forecast, forecast_hours=forecast_hours, basis=basis,
                      overrun=_over(forecast, quoted, threshold), uncosted_hours=hours_of(uncosted))


def production_money(store: PlanningStore | PlanningReader, status: ProductionStatus, rates_for: Callable[[str], Rates],
                     threshold: Decimal, costed: Costed | None = None) -> ProductionMoney:
    """Quoted, spent and forecast of one production on its status's day."""
    name = status.production
    rates = rates_for(name)
    if costed is None:
        costed = cost_reports(store.reports(name), rates_for)
    quote = load(store, name)
    priced, _missing = from_plan(store, name, rates, Decimal(0)) if store.production(name) and \
        store.production(name).get("template") else (None, [])
    planned: dict[str, tuple[Decimal, Decimal]] = {}
    for ln in priced.lines if priced else []:
        amount, hours = planned.get(ln.stage or "", (ZERO, ZERO))
        planned[ln.stage or ""] = (amount + ln.amount, hours + (ln.hours or ZERO))
    stages = [stage_money(st, status.today, costed, name, quote, planned, threshold) for st in status.stages]
    keys = {st.stage for st in status.stages}
    other = total(ln.amount for ln in quote.lines if ln.stage not in keys) if quote else ZERO
    return ProductionMoney(production=name, currency=rates.currency, today=status.today,
                           threshold_percent=threshold, quote=quote, stages=stages, costed=costed, other_quoted=other)

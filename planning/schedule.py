"""Plan against actual: hours spent per stage, lateness, and the dates that shift downstream (pure functions).

The rules (docs/planning.md):
- spent hours are the sum of the stage's session reports;
- a stage not done is late when today is past its planned end, or its spent hours exceed its planned hours;
- its forecast end: the planned end, pushed by the overrun (ceil(hours over / hours per day) days), and
  never before today while it is not done; a done stage ends on the day it was marked done;
- a stage starts the day after the latest forecast end of what it depends on (plus the template's lag, kept
  from the plan): when that is later than planned, its dates shift by that many days (re-planned dates);
- `late by` is forecast end minus planned end, in calendar days.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from planning.stages import StageState


@dataclass
class StageStatus:
    stage: str
    label: str
    state: StageState  # effective: planned / in_progress / done / late / blocked
    recorded_state: StageState
    responsible: str | None
    depends_on: list[str]
    planned_start: date | None
    planned_end: date | None
    forecast_start: date | None
    forecast_end: date | None
    actual_start: date | None
    actual_end: date | None
    planned_hours: float | None
    spent_hours: float
    reports: int
    last_report: date | None
    late_by_days: int
    hours_over: float
    shifted_by_days: int
    reasons: list[str] = field(default_factory=list)
    note: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    updated_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["state"] = self.state.value
        data["recorded_state"] = self.recorded_state.value
        for key in ("planned_start", "planned_end", "forecast_start", "forecast_end", "actual_start", "actual_end",
                    "last_report"):
            data[key] = data[key].isoformat() if data[key] else None
        data["updated_at"] = self.updated_at.isoformat() if self.updated_at else None
        return data


@dataclass
class ProductionStatus:
    production: str
    template: str | None
    delivery_profile: str | None
    today: date
    stages: list[StageStatus]

    @property
    def planned_hours(self) -> float:
        return round(sum(s.planned_hours or 0 for s in self.stages), 2)

    @property
    def spent_hours(self) -> float:
        return round(sum(s.spent_hours for s in self.stages), 2)

    @property
    def planned_end(self) -> date | None:
        ends = [s.planned_end for s in self.stages if s.planned_end]
        return max(ends) if ends else None

    @property
    def forecast_end(self) -> date | None:
        ends = [s.forecast_end for s in self.stages if s.forecast_end]
        return max(ends) if ends else None

    @property
    def late_by_days(self) -> int:
        if self.planned_end and self.forecast_end:
            return max(0, (self.forecast_end - self.planned_end).days)
        return 0

    def count(self, state: StageState) -> int:
        return sum(1 for s in self.stages if s.state == state)

    def to_json(self) -> dict[str, Any]:
        return {
            "production": self.production,
            "template": self.template,
            "delivery_profile": self.delivery_profile,
            "today": self.today.isoformat(),
            "planned_hours": self.planned_hours,
            "spent_hours": self.spent_hours,
            "planned_end": self.planned_end.isoformat() if self.planned_end else None,
            "forecast_end": self.forecast_end.isoformat() if self.forecast_end else None,
            "late_by_days": self.late_by_days,
            "late": self.count(StageState.LATE),
            "blocked": self.count(StageState.BLOCKED),
            "done": self.count(StageState.DONE),
            "stages": [s.to_json() for s in self.stages],
        }


def _shift(deps: list[StageStatus], p_start: date | None) -> tuple[int, StageStatus | None]:
    """How many days a stage's dependencies push it, and which one: the latest forecast end against what the
    plan assumed, less the slack the plan left after it (its planned gap beyond the tightest dependency's)."""
    shift, culprit = 0, None
    gaps = {d.stage: (p_start - d.planned_end).days for d in deps if p_start and d.planned_end}
    tightest = min(gaps.values()) if gaps else 0
    for d in deps:
        if d.stage in gaps and d.forecast_end and d.planned_end and d.forecast_end > d.planned_end:
            delay = (d.forecast_end - d.planned_end).days - (gaps[d.stage] - tightest)
            if delay > shift:
                shift, culprit = delay, d
    return shift, culprit


def _judge(recorded: StageState, today: date, p_end: date | None, f_end: date | None, spent: float,
           planned_hours: float | None, hours_over: float) -> tuple[StageState, list[str]]:
    """A stage not done is late when today is past its planned end or its hours are over; the reasons say why."""
    reasons: list[str] = []
    if recorded not in (StageState.DONE, StageState.BLOCKED):
        if p_end is not None and today > p_end:
            reasons.append(f"past its end date ({p_end.isoformat()}) by {(today - p_end).days} day(s)")
        if hours_over > 0:
            reasons.append(f"over its hours by {hours_over:g} h ({spent:g} of {planned_hours:g} h)")
        return (StageState.LATE if reasons else recorded), reasons
    if recorded == StageState.DONE and p_end and f_end and f_end > p_end:
        reasons.append(f"finished {(f_end - p_end).days} day(s) after its planned end")
    return recorded, reasons


def compute(production: dict[str, Any], rows: list[dict[str, Any]], totals: dict[str, dict[str, Any]],
            today: date) -> ProductionStatus:
    """The production's status on a day, from its stage rows, its report totals per stage, and the day."""
    hours_per_day = float(production.get("hours_per_day") or 8)
    by_key = {r["stage"]: r for r in rows}
    result: dict[str, StageStatus] = {}

    def visit(key: str, trail: tuple[str, ...] = ()) -> StageStatus:
        if key in result:
            return result[key]
        r = by_key[key]
        recorded = StageState(r["state"])
        tot = totals.get(key, {})
        spent = round(tot.get("minutes", 0) / 60, 2)
        planned_hours = round(r["planned_minutes"] / 60, 2) if r.get("planned_minutes") is not None else None
        p_start, p_end = r.get("planned_start"), r.get("planned_end")
        hours_over = round(spent - planned_hours, 2) if planned_hours is not None and spent > planned_hours else 0.0

        # What it waits for: the latest forecast end of its dependencies, against what the plan assumed.
        # A dependency's delay shifts this stage less the slack the plan left after it (its planned gap
        # beyond the tightest dependency's).
        deps = [visit(dep, (*trail, key)) for dep in r.get("depends_on") or [] if dep in by_key and dep not in trail]
        shift, culprit = _shift(deps, p_start)
        f_start = p_start + timedelta(days=shift) if p_start else None
        f_end = p_end + timedelta(days=shift) if p_end else None
        if recorded == StageState.DONE:
            f_end = r.get("actual_end") or tot.get("last") or f_end
        elif p_end is not None:
            if hours_over > 0:
                f_end = max(f_end or p_end, p_end + timedelta(days=math.ceil(hours_over / hours_per_day)))
            f_end = max(f_end, today)
        started = [d for d in (r.get("actual_start"), tot.get("first")) if d]
        actual_start = min(started) if started and recorded != StageState.PLANNED else None
        if f_start and actual_start:
            f_start = min(f_start, actual_start)
        if f_start and f_end and f_end < f_start:
            f_start = f_end

        state, reasons = _judge(recorded, today, p_end, f_end, spent, planned_hours, hours_over)
        if culprit is not None:
            reasons.append(f"re-planned: waits for {culprit.label}, shifted by {shift} day(s)")
        if recorded == StageState.BLOCKED and r.get("note"):
            reasons.insert(0, f"blocked: {r['note']}")
        late_by = max(0, (f_end - p_end).days) if f_end and p_end else 0
        st = StageStatus(
            stage=key, label=r.get("label") or key, state=state, recorded_state=recorded,
            responsible=r.get("responsible"), depends_on=list(r.get("depends_on") or []),
            planned_start=p_start, planned_end=p_end, forecast_start=f_start, forecast_end=f_end,
            actual_start=actual_start, actual_end=r.get("actual_end"), planned_hours=planned_hours,
            spent_hours=spent, reports=tot.get("reports", 0), last_report=tot.get("last"), late_by_days=late_by,
            hours_over=hours_over, shifted_by_days=shift, reasons=reasons, note=r.get("note"),
            evidence=r.get("evidence") or {}, updated_at=r.get("updated_at"))
        result[key] = st
        return st

    for r in rows:
        visit(r["stage"])
    return ProductionStatus(production=production["name"], template=production.get("template"),
                            delivery_profile=production.get("delivery_profile"), today=today,
                            stages=[result[r["stage"]] for r in rows])


def status(store: Any, production: str, today: date) -> ProductionStatus:
    """Read one production from the store and compute its status."""
    prod = store.production(production) or {"name": production}
    totals = {stage: t for (p, stage), t in store.report_totals(production).items()}
    return compute(prod, store.stage_rows(production), totals, today)


def all_statuses(store: Any, today: date) -> list[ProductionStatus]:
    totals_all = store.report_totals()
    out = []
    for prod in store.productions():
        totals = {stage: t for (p, stage), t in totals_all.items() if p == prod["name"]}
        out.append(compute(prod, store.stage_rows(prod["name"]), totals, today))
    return out

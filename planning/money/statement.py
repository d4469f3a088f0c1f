"""The overrun statement for the producer: what was quoted, what has been spent and by whom, why (session
reports and incidents, blocked and late stages with their reports as evidence, late rushes), the forecast,
and the proposed additional lines."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from planning.digest import evidence_links
from planning.money.actuals import ProductionMoney, StageMoney, over_percent
from planning.money.amounts import ZERO, cents, plain, price, total
from planning.money.costing import hours_of, q4
from planning.money.document import Document, Section
from planning.money.quote import QuoteLine
from planning.schedule import ProductionStatus
from planning.stages import Stage, StageState


@dataclass
class Statement:
    money: ProductionMoney
    status: ProductionStatus
    spent_by: list[dict[str, Any]] = field(default_factory=list)
    incidents: list[dict[str, Any]] = field(default_factory=list)
    evidence: list[dict[str, Any]] = field(default_factory=list)
    proposed: list[QuoteLine] = field(default_factory=list)

    @property
    def proposed_total(self) -> Decimal:
        return total(ln.amount for ln in self.proposed)

    def to_json(self) -> dict[str, Any]:
        pm = self.money
        return {"production": pm.production, "today": pm.today.isoformat(), "currency": pm.currency,
                "quote_version": pm.quote.version if pm.quote else None,
                "quoted": f"{pm.quoted:f}" if pm.quoted is not None else None, "spent": f"{pm.spent:f}",
                "forecast": f"{pm.forecast:f}", "over_percent": _s(over_percent(pm.forecast, pm.quoted)),
                "overrun": pm.overrun, "overrun_stages": [s.stage for s in pm.stages if s.overrun],
                "stages": [s.to_json() for s in pm.stages], "spent_by": self.spent_by,
                "incidents": self.incidents, "evidence": self.evidence,
                "proposed": [ln.to_json() for ln in self.proposed], "proposed_total": f"{self.proposed_total:f}",
                "proposed_quote_total": f"{(pm.quoted or ZERO) + self.proposed_total:f}"}


def _s(v: Decimal | None) -> str | None:
    return None if v is None else f"{v:f}"


def build(pm: ProductionMoney, status: ProductionStatus, reports: list[dict[str, Any]]) -> Statement:
    st = Statement(money=pm, status=status)
    by: dict[tuple[str, str], dict[str, Any]] = {}
    for ln in pm.costed.lines:
        who = ln.technician or ln.label
        row = by.setdefault((ln.stage, who.strip().casefold()), {
            "stage": ln.stage, "who": who, "normal_minutes": 0, "overtime_minutes": 0, "days": set(),
            "amounts": []})
        row["normal_minutes" if ln.kind == "normal" else "overtime_minutes"] += ln.minutes
        row["days"].add(ln.work_date)
        row["amounts"].append(ln.amount)
    st.spent_by = [{"stage": r["stage"], "who": r["who"], "days": len(r["days"]),
                    "normal_hours": plain(hours_of(r["normal_minutes"])),
                    "overtime_hours": plain(hours_of(r["overtime_minutes"])), "amount": f"{total(r['amounts']):f}"}
                   for r in sorted(by.values(), key=lambda r: (r["stage"], r["who"]))]
    st.incidents = [{"date": r["work_date"].isoformat(), "stage": r["stage"], "technician": r["technician"],
                     "incident": r["incidents"], "source": r["source"]} for r in reports if r.get("incidents")]
    for s in status.stages:
        late_rushes = s.stage == Stage.RUSHES_RECEPTION and (s.state == StageState.LATE or s.late_by_days > 0)
        if s.state in (StageState.LATE, StageState.BLOCKED) or late_rushes:
            st.evidence.append({"stage": s.stage, "label": s.label, "state": s.state.value,
                                "late_rushes": late_rushes, "why": s.reasons or ([s.note] if s.note else []),
                                "reports": [link.href or link.text for link in evidence_links(s.evidence)]})
    st.proposed = [line for s in pm.stages if s.overrun and (line := proposed_line(s)) is not None]
    return st


def proposed_line(s: StageMoney) -> QuoteLine | None:
    """The work to completion past the quote, at the stage's cost per hour so far (overtime and suite in it)."""
    extra = (s.forecast - (s.quoted or ZERO))
    if extra <= 0:
        return None
    if s.quoted_hours is not None and s.spent_hours > 0 and s.forecast_hours > s.quoted_hours:
        hours = q4(s.forecast_hours - s.quoted_hours)
        return QuoteLine.priced(f"{s.stage}.additional", s.stage, "extra",
                                f"{s.label}: additional work to completion", hours, "h",
                                s.spent / s.spent_hours, hours,
                                note=f"forecast {plain(s.forecast_hours)} h against {plain(s.quoted_hours)} h quoted")
    return QuoteLine.priced(f"{s.stage}.additional", s.stage, "extra", f"{s.label}: additional work to completion",
                            Decimal(1), "lump", cents(extra), None, note=f"forecast {s.forecast} against {s.quoted}")


def document(st: Statement) -> Document:
    pm, cur = st.money, st.money.currency
    stage_rows = [[s.label, _m(s.quoted), _m(s.spent), plain(s.spent_hours), _m(s.forecast), plain(s.forecast_hours),
                   f"{s.over_percent:+f} %" if s.over_percent is not None else "", "OVERRUN" if s.overrun else "",
                   s.basis] for s in pm.stages if s.quoted is not None or s.spent]
    quote = pm.quote
    totals = []
    if quote is not None:
        totals = [["Quoted work (subtotal)", f"{quote.subtotal:f}", "", "", "", "", "", "", ""],
                  [f"Contingency {quote.contingency_percent:f} %", f"{quote.contingency:f}", "", "", "", "", "", "",
                   ""]]
    totals.append(["Production", _m(pm.quoted), f"{pm.spent:f}", "", f"{pm.forecast:f}", "",
                   f"{over_percent(pm.forecast, pm.quoted):+f} %" if pm.quoted else "",
                   "OVERRUN" if pm.overrun else "", "sum of all stages"])
    stages = Section(f"Quoted, spent and forecast at completion ({cur})",
                     ["stage", f"quoted ({cur})", f"spent ({cur})", "spent h", f"forecast ({cur})", "forecast h",
                      "vs quote", "", "forecast basis"], stage_rows, totals, numeric={1, 2, 3, 4, 5, 6})
    spent_by = Section(f"Spent, by whom ({cur})", ["stage", "who", "days", "normal h", "overtime h",
                                                    f"amount ({cur})"],
                       [[r["stage"], r["who"], str(r["days"]), r["normal_hours"], r["overtime_hours"], r["amount"]]
                        for r in st.spent_by], [["", "Total spent", "", "", "", f"{pm.spent:f}"]],
                       numeric={2, 3, 4, 5})
    why = Section("Why: incidents in the session reports", ["date", "stage", "technician", "incident", "report"],
                  [[i["date"], i["stage"], i["technician"], i["incident"], i["source"] or ""] for i in st.incidents])
    evidence = Section("Why: late and blocked stages, with their reports as evidence",
                       ["stage", "state", "why", "evidence"],
                       [[e["label"] + (" (late rushes)" if e["late_rushes"] else ""), e["state"], "; ".join(e["why"]),
                         ", ".join(e["reports"])] for e in st.evidence])
    proposed = Section(f"Proposed additional lines ({cur})", ["line", "label", "quantity", "unit",
                                                              f"unit price ({cur})", f"amount ({cur})", "note"],
                       [[ln.key, ln.label, plain(ln.quantity), ln.unit, price(ln.unit_price), f"{ln.amount:f}",
                         ln.note or ""] for ln in st.proposed],
                       [["", "Total of the additional lines", "", "", "", f"{st.proposed_total:f}", ""],
                        ["", f"Quote v{quote.version if quote else '?'} total with them", "", "", "",
                         f"{(pm.quoted or ZERO) + st.proposed_total:f}", ""]], numeric={2, 4, 5})
    alerts = [f"{s.label}: forecast {s.forecast} {cur} passes its quoted {s.quoted} {cur} by {s.over_percent} %"
              for s in pm.stages if s.overrun]
    if pm.overrun:
        alerts.append(f"The production: forecast {pm.forecast} {cur} passes the quote's {pm.quoted} {cur}")
    accept = [f"postprod plan quote -p '{pm.production}' --reason 'overrun agreed' "
              + " ".join(f"--add '{ln.key}={ln.label};{plain(ln.quantity)};{ln.unit};{price(ln.unit_price)}'"
                         for ln in st.proposed)] if st.proposed else []
    return Document(
        title=f"Overrun statement — {pm.production}",
        subtitle=f"Post-production costs against the quote on {pm.today.isoformat()}",
        meta=[("Production", pm.production),
              ("Quote", f"v{quote.version} of {quote.created_at:%Y-%m-%d} ({quote.reason}): {quote.total} {cur}"
               if quote else "none"),
              ("Spent to date", f"{pm.spent} {cur}"), ("Forecast at completion", f"{pm.forecast} {cur}"),
              ("Alert threshold", f"{pm.threshold_percent:f} % over the quote")],
        alerts=alerts or ["No forecast passes its quote by the threshold."],
        sections=[stages, spent_by, why, evidence, proposed],
        notes=["Spent: the session reports costed at the production's rates (normal hours, overtime premiums, "
               "suite days); amounts rounded half up to the cent per line, totals are sums of the lines. "
               "Forecast: a stage done = spent; in progress = spent carried over its planned duration at its burn "
               "so far; not started = its planned work at the rates.",
               *[f"To accept the additional lines as the next quote version: {a}" for a in accept]])


def _m(v: Decimal | None) -> str:
    return "" if v is None else f"{v:f}"

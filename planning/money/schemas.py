"""The JSON shapes of the money commands (docs/json.md, docs/schema/): amounts are decimal strings."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class QuoteLineJson(Closed):
    key: str
    stage: str | None
    kind: str
    label: str
    quantity: str
    unit: str
    unit_price: str
    amount: str
    hours: str | None
    note: str | None


class QuoteVersionJson(Closed):
    version: int
    created_at: str
    reason: str
    total: str
    currency: str


class QuoteJson(Closed):
    production: str
    version: int
    created_at: str
    reason: str
    currency: str
    rates: str
    contingency_percent: str
    lines: list[QuoteLineJson]
    subtotal: str
    contingency: str
    total: str
    made: bool
    versions: list[QuoteVersionJson]
    not_priced: list[str]
    files: dict[str, str]


class FindingJson(Closed):
    rule: str
    severity: str
    message: str


class StageMoneyJson(Closed):
    stage: str
    label: str
    quoted: str | None
    quoted_hours: str | None
    spent: str
    spent_hours: str
    forecast: str
    forecast_hours: str
    over_percent: str | None
    overrun: bool
    basis: str
    uncosted_hours: str


class SpentByJson(Closed):
    stage: str
    who: str
    days: int
    normal_hours: str
    overtime_hours: str
    amount: str


class IncidentJson(Closed):
    date: str
    stage: str
    technician: str
    incident: str
    source: str | None


class EvidenceJson(Closed):
    stage: str
    label: str
    state: str
    late_rushes: bool
    why: list[str]
    reports: list[str]


class OverrunJson(Closed):
    production: str
    today: str
    currency: str
    quote_version: int | None
    quoted: str | None
    spent: str
    forecast: str
    over_percent: str | None
    overrun: bool
    overrun_stages: list[str]
    stages: list[StageMoneyJson]
    spent_by: list[SpentByJson]
    incidents: list[IncidentJson]
    evidence: list[EvidenceJson]
    proposed: list[QuoteLineJson]
    proposed_total: str
    proposed_quote_total: str
    files: dict[str, str]


class CostLineJson(Closed):
    production: str
    stage: str
    technician: str | None
    date: str
    kind: str
    label: str
    quantity: str
    unit: str
    unit_price: str
    amount: str
    currency: str
    report_id: int | None
    source: str | None


class StageAmountJson(Closed):
    stage: str
    amount: str


class InvoiceJson(Closed):
    production: str
    from_: str = Field(alias="from")
    to: str
    currency: str
    lines: list[CostLineJson]
    by_stage: list[StageAmountJson]
    total: str
    findings: list[FindingJson]
    files: dict[str, str]


class PayJson(Closed):
    month: str
    premiums: list[str]
    rows: list[dict[str, str | int | list[str]]]  # month, technician, production, days_worked, normal_hours,
    # overtime_hours, overtime_hours_<premium>pct (one per premium), total_hours, dates
    findings: list[FindingJson]
    not_freelance: list[str]
    files: dict[str, str]


class ProductionMoneyJson(Closed):
    currency: str
    quote_version: int | None
    quoted: str | None
    spent: str
    forecast: str
    other_quoted: str
    over_percent: str | None
    overrun: bool
    threshold_percent: str
    spent_hours: str
    forecast_hours: str
    stages: list[StageMoneyJson]
    findings: list[FindingJson]


class Open(BaseModel):
    """The plan's own fields (docs/planning.md) are listed, and more may be added."""

    model_config = ConfigDict(extra="allow")


class StageStatusJson(Open):
    stage: str
    label: str
    state: str
    recorded_state: str
    planned_hours: float | None
    spent_hours: float


class ProductionStatusJson(Open):
    production: str
    template: str | None
    planned_hours: float
    spent_hours: float
    stages: list[StageStatusJson]
    money: ProductionMoneyJson | None


class PlanStatusJson(Closed):
    today: str
    productions: list[ProductionStatusJson]

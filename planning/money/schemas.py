"""The JSON shapes of the money commands (docs/json.md, docs/schema/): amounts are decimal strings."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


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

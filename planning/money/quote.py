"""The quote (devis): priced from the plan and the rates, adjusted line by line, versioned (all kept).

Each line: amount = quantity x unit price, rounded half up to the cent; subtotal = sum of the lines;
contingency = subtotal x percent, rounded the same way; total = subtotal + contingency.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from planning.errors import PlanError
from planning.money.amounts import cents, plain, price, total
from planning.money.costing import q4
from planning.money.rates import Rates

if TYPE_CHECKING:  # (the store's SQLAlchemy loads where a quote is saved or read through it, not before)
    from planning.reading import PlanningReader
    from planning.store import PlanningStore

KEY = re.compile(r"^[a-z0-9_]+\.[a-z0-9_]+$")


@dataclass(frozen=True)
class QuoteLine:
    key: str  # "vfx.labour", "grading.facility", "vfx.extra_shots"
    stage: str | None
    kind: str  # labour | facility | extra
    label: str
    quantity: Decimal
    unit: str  # day | h | lump
    unit_price: Decimal
    amount: Decimal
    hours: Decimal | None = None  # technician hours this line pays for (labour lines)
    note: str | None = None

    @staticmethod
    def priced(key: str, stage: str | None, kind: str, label: str, quantity: Decimal, unit: str,
               unit_price: Decimal, hours: Decimal | None = None, note: str | None = None) -> QuoteLine:
        quantity, unit_price = q4(quantity), q4(unit_price)
        return QuoteLine(key, stage, kind, label, quantity, unit, unit_price, cents(quantity * unit_price),
                         q4(hours) if hours is not None else None, note)

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "stage": self.stage, "kind": self.kind, "label": self.label,
                "quantity": plain(self.quantity), "unit": self.unit, "unit_price": price(self.unit_price),
                "amount": str(self.amount), "hours": plain(self.hours) if self.hours is not None else None,
                "note": self.note}

    @staticmethod
    def from_json(d: dict[str, Any]) -> QuoteLine:
        return QuoteLine(d["key"], d["stage"], d["kind"], d["label"], Decimal(d["quantity"]), d["unit"],
                         Decimal(d["unit_price"]), Decimal(d["amount"]),
                         Decimal(d["hours"]) if d.get("hours") is not None else None, d.get("note"))


@dataclass
class Quote:
    production: str
    version: int
    created_at: datetime
    reason: str
    currency: str
    rates: str
    contingency_percent: Decimal
    lines: list[QuoteLine] = field(default_factory=list)

    @property
    def subtotal(self) -> Decimal:
        return total(ln.amount for ln in self.lines)

    @property
    def contingency(self) -> Decimal:
        return cents(self.subtotal * self.contingency_percent / 100)

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.contingency

    def stage_amount(self, stage: str) -> Decimal:
        return total(ln.amount for ln in self.lines if ln.stage == stage)

    def stage_hours(self, stage: str) -> Decimal:
        return sum((ln.hours or Decimal(0) for ln in self.lines if ln.stage == stage), Decimal(0))

    def to_json(self) -> dict[str, Any]:
        return {"production": self.production, "version": self.version, "created_at": self.created_at.isoformat(),
                "reason": self.reason, "currency": self.currency, "rates": self.rates,
                "contingency_percent": str(self.contingency_percent),
                "lines": [ln.to_json() for ln in self.lines], "subtotal": str(self.subtotal),
                "contingency": str(self.contingency), "total": str(self.total)}


def from_plan(store: PlanningStore | PlanningReader, production: str, rates: Rates, contingency_percent: Decimal,
              reason: str = "first quote, from the plan") -> tuple[Quote, list[str]]:
    """Price every planned stage: its planned hours at its role's rate, its suite's days; and what is missing."""
    store.require_plan(production)
    lines: list[QuoteLine] = []
    missing: list[str] = []
    normal_h = rates.data.normal_day_hours
    for row in store.stage_rows(production):
        minutes = row.get("planned_minutes")
        if not minutes:
            continue
        key, label = row["stage"], row["label"] or row["stage"]
        hours = Decimal(minutes) / 60
        rate = rates.rate(key)
        if rate is None:
            missing.append(f"stage '{key}' has no role in rates '{rates.name}' ({rates.path}): not priced")
            continue
        day, hour, whose = rate
        if day is not None:
            lines.append(QuoteLine.priced(f"{key}.labour", key, "labour", f"{label}: {whose}", hours / normal_h,
                                          "day", day, hours))
        else:
            lines.append(QuoteLine.priced(f"{key}.labour", key, "labour", f"{label}: {whose}", hours, "h",
                                          hour, hours))  # type: ignore[arg-type]
        suite = rates.facility_of(key)
        if suite is not None:
            days = Decimal(math.ceil(hours / normal_h))
            lines.append(QuoteLine.priced(f"{key}.facility", key, "facility", f"{label}: {suite[1].label or suite[0]}",
                                          days, "day", suite[1].day))
    quote = Quote(production=production, version=1, created_at=datetime.now(UTC), reason=reason,
                  currency=rates.currency, rates=f"{rates.name} ({rates.path})",
                  contingency_percent=contingency_percent, lines=lines)
    return quote, missing


class QuoteError(PlanError):
    """A quote request that cannot be done (no quote yet, unknown line, bad value)."""


def adjust(quote: Quote, *, sets: list[str], adds: list[str], drops: list[str],
           contingency_percent: Decimal | None) -> Quote:
    """A changed copy: `--set KEY.quantity=12` / `KEY.unit_price=450` / `KEY.label=...`, `--add
    'KEY=LABEL;QUANTITY;UNIT;UNIT_PRICE'` (KEY is stage.name), `--drop KEY`."""
    lines = {ln.key: ln for ln in quote.lines}
    for key in drops:
        if key not in lines:
            raise QuoteError(f"--drop: no line '{key}'; lines: {', '.join(lines)}")
        del lines[key]
    for item in sets:
        target, sep, value = item.partition("=")
        key, _, attr = target.rpartition(".")
        if not sep or key not in lines or attr not in ("quantity", "unit_price", "label", "note"):
            raise QuoteError(f"--set '{item}' is not LINE.quantity|unit_price|label|note=VALUE with a line of: "
                             f"{', '.join(lines)}")
        ln = lines[key]
        if attr in ("label", "note"):
            lines[key] = replace(ln, **{attr: value})
            continue
        number = _decimal(value, f"--set {target}")
        qty, price = (number, ln.unit_price) if attr == "quantity" else (ln.quantity, number)
        hours = ln.hours * number / ln.quantity if attr == "quantity" and ln.hours and ln.quantity else ln.hours
        lines[key] = QuoteLine.priced(ln.key, ln.stage, ln.kind, ln.label, qty, ln.unit, price, hours, ln.note)
    for item in adds:
        key, sep, rest = item.partition("=")
        parts = rest.split(";")
        if not sep or not KEY.match(key) or len(parts) != 4 or key in lines:
            raise QuoteError(f"--add '{item}' is not a new KEY=LABEL;QUANTITY;UNIT;UNIT_PRICE (KEY: stage.name)")
        label, qty, unit, price = (p.strip() for p in parts)
        stage = key.split(".")[0]
        quantity = _decimal(qty, f"--add {key} quantity")
        hours = quantity if unit == "h" else None
        lines[key] = QuoteLine.priced(key, stage, "extra", label, quantity, unit,
                                      _decimal(price, f"--add {key} unit price"), hours)
    return replace(quote, lines=list(lines.values()),
                   contingency_percent=quote.contingency_percent if contingency_percent is None
                   else contingency_percent)


def _decimal(value: str, what: str) -> Decimal:
    try:
        number = Decimal(value.strip().replace(",", "."))
    except InvalidOperation:
        raise QuoteError(f"{what}: '{value}' is not a number") from None
    if not number.is_finite() or number < 0:
        raise QuoteError(f"{what}: '{value}' must be a positive number")
    return number


def revise(store: PlanningStore, production: str, current: Quote | None, rates: Callable[[], Rates],
           default_contingency: Decimal, *, afresh: bool, reason: str | None, sets: list[str], adds: list[str],
           drops: list[str], contingency_percent: Decimal | None) -> tuple[Quote, list[str]]:
    """Make and store the next version: v1 from the plan, or the latest (or the plan priced afresh) changed;
    every version after the first needs a reason. Returns it and the stages that could not be priced."""
    missing: list[str] = []
    if current is not None and not (reason or "").strip():
        raise QuoteError(f"a new version of the quote of '{production}' needs --reason (v{current.version} "
                         "is kept)")
    if current is None or afresh:
        base, missing = from_plan(store, production, rates(), default_contingency)
        if current is not None:
            base.contingency_percent = current.contingency_percent
    else:
        base = current
    if reason and reason.strip():
        base.reason = reason.strip()
    changed = adjust(base, sets=sets, adds=adds, drops=drops, contingency_percent=contingency_percent)
    return save(store, changed), missing


# --- the store ----------------------------------------------------------------------------------------------

def save(store: PlanningStore, quote: Quote) -> Quote:
    """Store the quote as the production's next version (earlier versions are kept)."""
    from sqlalchemy import func, select

    from store.tables import quotes

    with store._write(quote.production) as conn:
        last = conn.execute(select(func.max(quotes.c.version)).where(
            quotes.c.production == quote.production)).scalar()
        quote = replace(quote, version=(last or 0) + 1, created_at=datetime.now(UTC))
        conn.execute(quotes.insert().values(
            production=quote.production, version=quote.version, created_at=quote.created_at, reason=quote.reason,
            currency=quote.currency, rates=quote.rates, contingency_percent=str(quote.contingency_percent),
            lines=json.dumps([ln.to_json() for ln in quote.lines]), total=str(quote.total)))
    return quote


def load(store: PlanningStore | PlanningReader, production: str, version: int | None = None) -> Quote | None:
    """A version of the production's quote (default: the latest); None when it has none."""
    from planning.reading import PlanningReader

    row = store.quote_row(production, version) if isinstance(store, PlanningReader) else \
        _quote_row(store, production, version)
    if row is None:
        return None
    created = row["created_at"] if row["created_at"].tzinfo else row["created_at"].replace(tzinfo=UTC)
    return Quote(production=row["production"], version=row["version"], created_at=created, reason=row["reason"],
                 currency=row["currency"], rates=row["rates"], contingency_percent=Decimal(row["contingency_percent"]),
                 lines=[QuoteLine.from_json(d) for d in json.loads(row["lines"])])


def _quote_row(store: PlanningStore, production: str, version: int | None) -> dict[str, Any] | None:
    from sqlalchemy import select

    from store.tables import quotes

    query = select(quotes).where(quotes.c.production == production)
    query = query.where(quotes.c.version == version) if version else query.order_by(quotes.c.version.desc())
    with store._read() as conn:
        row = conn.execute(query.limit(1)).first()
    return dict(row._mapping) if row is not None else None


def versions(store: PlanningStore, production: str) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from store.tables import quotes

    with store._read() as conn:
        rows = conn.execute(select(quotes.c.version, quotes.c.created_at, quotes.c.reason, quotes.c.total,
                                   quotes.c.currency).where(quotes.c.production == production)
                            .order_by(quotes.c.version)).all()
    return [{"version": r.version, "created_at": (r.created_at if r.created_at.tzinfo
                                                  else r.created_at.replace(tzinfo=UTC)).isoformat(),
             "reason": r.reason, "total": r.total, "currency": r.currency} for r in rows]

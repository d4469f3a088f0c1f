"""The quote as a document (HTML, PDF, CSV): every line, the subtotal, contingency and total."""

from __future__ import annotations

from decimal import Decimal

from planning.money.amounts import percent, plain, price
from planning.money.document import Document, Section
from planning.money.quote import Quote


def num(value: Decimal) -> str:
    """A decimal as printed in every document and CSV: plain digits, '.' for the point, no grouping."""
    return f"{value:f}"


qty = plain


def quote_doc(q: Quote, versions: list[dict[str, str]]) -> Document:
    cur = q.currency
    rows = [[ln.key, ln.label, qty(ln.quantity), ln.unit, price(ln.unit_price), num(ln.amount), ln.note or ""]
            for ln in q.lines]
    totals = [["", "Subtotal", "", "", "", num(q.subtotal), ""],
              ["contingency", f"Contingency {percent(q.contingency_percent)} of the subtotal", "", "", "",
               num(q.contingency), ""],
              ["", "Total", "", "", "", num(q.total), ""]]
    lines = Section(f"Lines ({cur})", ["line", "label", "quantity", "unit", f"unit price ({cur})",
                                       f"amount ({cur})", "note"], rows, totals, numeric={2, 4, 5})
    history = Section("Versions", ["version", "date", "reason", f"total ({cur})"],
                      [[f"v{v['version']}", v["created_at"][:10], v["reason"], v["total"]] for v in versions],
                      numeric={3})
    return Document(
        title=f"Quote v{q.version} — {q.production}",
        subtitle=f"Post-production quote (devis), {q.created_at:%Y-%m-%d}: {q.reason}",
        meta=[("Production", q.production), ("Version", f"v{q.version} of {len(versions) or 1}"),
              ("Date", q.created_at.strftime("%Y-%m-%d %H:%M UTC")), ("Currency", cur), ("Rates", q.rates),
              ("Total", f"{num(q.total)} {cur}")],
        sections=[lines, history],
        notes=["Each line: amount = quantity × unit price, rounded half up to the cent; the subtotal is the sum "
               "of the lines; contingency = subtotal × its percentage, rounded the same way; total = subtotal + "
               "contingency. Labour lines: the stage's planned hours at its role's day rate (days of "
               "the rates' normal day); suite lines: one day per started normal day of planned hours."])

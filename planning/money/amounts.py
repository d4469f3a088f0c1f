"""Exact money: Decimal only, one rounding rule.

The rule (docs/money.md): every line of every document is rounded once, to the cent, half up
(ROUND_HALF_UP: 0.005 -> 0.01); totals and subtotals are sums of rounded lines, never rounded again.
So a total always equals the sum of the lines printed above it, to the cent.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def cents(value: Decimal) -> Decimal:
    """A line's amount, rounded to the cent, half up."""
    if not isinstance(value, Decimal):
        raise TypeError(f"money must be a Decimal, not {type(value).__name__}")
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def total(amounts: Iterable[Decimal]) -> Decimal:
    """The sum of rounded lines (each must already be to the cent: a total never rounds)."""
    result = ZERO
    for a in amounts:
        if a != cents(a):
            raise ValueError(f"{a} is not rounded to the cent: round the line before adding it")
        result += a
    return result


def hours(minutes: int) -> Decimal:
    """Whole minutes as exact hours (to the hundredth where a minute count needs more: 7 min = 0.1167 h)."""
    return (Decimal(minutes) / 60).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP).normalize() \
        if minutes % 60 else Decimal(minutes // 60)


def show(amount: Decimal, currency: str) -> str:
    """'12 345.67 EUR': a space between thousands, the currency on every amount."""
    sign = "-" if amount < 0 else ""
    whole, _, frac = f"{abs(cents(amount)):.2f}".partition(".")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    return f"{sign}{' '.join(groups)}.{frac} {currency}"


def percent(value: Decimal) -> str:
    return f"{value.normalize():f} %"


def plain(value: Decimal) -> str:
    """A quantity or unit price as written in JSON, CSV and documents: no exponent, no useless zeros past the
    cent ('10', '1.25', '56.25', '47.5000' -> '47.50', '52.3333')."""
    if value == cents(value):
        return f"{cents(value):f}" if value != value.to_integral() else f"{value.to_integral():f}"
    return f"{value.normalize():f}"


def price(value: Decimal) -> str:
    """A unit price: to the cent when it is one ('300.00', '56.25'), else its 4 decimals ('57.1429')."""
    return f"{cents(value):f}" if value == cents(value) else f"{value.normalize():f}"

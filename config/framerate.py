"""Frame rates as exact rationals: read ("25", "30000/1001", "29.97"), written ("30000/1001", "29.97").

Pure, and at the bottom: settings and specs read rates with it, and the media layer's timecode builds on it.
"""

from __future__ import annotations

from fractions import Fraction

# The broadcast rates, exact. A float like 29.97 is only ever a label for 30000/1001.
KNOWN_RATES: dict[str, Fraction] = {
    "23.976": Fraction(24000, 1001),
    "23.98": Fraction(24000, 1001),
    "24": Fraction(24),
    "25": Fraction(25),
    "29.97": Fraction(30000, 1001),
    "30": Fraction(30),
    "47.952": Fraction(48000, 1001),
    "48": Fraction(48),
    "50": Fraction(50),
    "59.94": Fraction(60000, 1001),
    "60": Fraction(60),
}


class TimecodeError(ValueError):
    """A timecode or frame rate that cannot be read."""


def parse_rate(value: str | float | Fraction) -> Fraction:
    """Read a frame rate as an exact rational: "25", "25/1", "30000/1001", "29.97", 23.976."""
    if isinstance(value, Fraction):
        rate = value
    elif isinstance(value, int):
        rate = Fraction(value)
    else:
        text = str(value).strip()
        if "/" in text:
            num, _, den = text.partition("/")
            try:
                rate = Fraction(int(num), int(den))
            except (ValueError, ZeroDivisionError) as exc:
                raise TimecodeError(f"not a frame rate: {value!r}") from exc
        else:
            try:
                number = float(text)
            except ValueError as exc:
                raise TimecodeError(f"not a frame rate: {value!r}") from exc
            rate = rate_from_float(number)
    if rate <= 0:
        raise TimecodeError(f"frame rate must be positive: {value!r}")
    return rate


def rate_from_float(number: float) -> Fraction:
    """Map a measured or printed rate (29.970, 23.976) onto the exact broadcast rate it stands for."""
    for exact in KNOWN_RATES.values():
        if abs(float(exact) - number) < 0.0015:
            return exact
    frac = Fraction(number).limit_denominator(1001)
    return frac


def format_rate(rate: Fraction) -> str:
    """The exact form, "30000/1001": what JSON, specs and ffmpeg read back without loss."""
    return f"{rate.numerator}/{rate.denominator}"


def format_fps(rate: Fraction) -> str:
    """The label people read, three decimals at most: "25", "29.97", "23.976"."""
    return f"{float(rate):.3f}".rstrip("0").rstrip(".")

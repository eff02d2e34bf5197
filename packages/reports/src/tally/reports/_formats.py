"""How the report writes a figure: one function per kind of number, the same in every report.

The API answers with full-precision numbers; the PDF rounds them here, always the same way
(half away from zero, via `Decimal`, so 0.125 shows as 0.13 on every machine), so a test or a
reader can format the API's value and find it in the PDF's text. A missing figure (null: a ratio
whose denominator is zero, a catch-weight article's Qn) is an en dash, never 0.

    count(12345)        "12345"       packs, no grouping: the API's integer as it is
    kg(1234.56)         "1234.6"      kilograms, 0.1 kg
    grams(100.04)       "100.0"       grams, 0.1 g (weights are exact to 0.1 g)
    percent(0.8531)     "85.3 %"      a fraction 0..1 as a percentage, 0.1 %
    money(12.345)       "12.35"       the tenant's currency, 0.01
    hours(5400.0)       "1.50 h"      seconds as hours, 0.01 h
    share(3, 200)       "1.5 %"       a count out of a total, 0.1 % (– when the total is 0)
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

NONE = "–"


def _fixed(value: float, places: int) -> str:
    # repr gives the shortest decimal that is the float, so 0.125 rounds as 0.125, not as the
    # binary 0.12499999...
    quantum = Decimal(1).scaleb(-places)
    rounded = Decimal(repr(value)).quantize(quantum, rounding=ROUND_HALF_UP)
    # -0.04 kg shows as 0.0, not -0.0
    return str(rounded.copy_abs() if rounded.is_zero() else rounded)


def count(value: int | None) -> str:
    return NONE if value is None else str(value)


def kg(value: float | None) -> str:
    return NONE if value is None else _fixed(value, 1)


def grams(value: float | None) -> str:
    return NONE if value is None else _fixed(value, 1)


def percent(fraction: float | None) -> str:
    return NONE if fraction is None else f"{_fixed(fraction * 100, 1)} %"


def money(value: float | None) -> str:
    return NONE if value is None else _fixed(value, 2)


def hours(seconds: float | None) -> str:
    return NONE if seconds is None else f"{_fixed(seconds / 3600, 2)} h"


def share(part: int, total: int) -> str:
    return NONE if total == 0 else percent(part / total)


def clock(instant: datetime) -> str:
    """A local time of day with its offset (the autumn night's two 02:00 hours differ)."""
    offset = instant.strftime("%z")
    return f"{instant:%H:%M} {offset[:3]}:{offset[3:]}" if offset else f"{instant:%H:%M}"

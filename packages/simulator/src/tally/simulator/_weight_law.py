"""The EU average-quantity system (the ℮ mark): tolerable negative error and the T1/T2 limits.

TNE by nominal quantity Qn (DOMAIN.md, "Weight law"): 5–50 g → 9 % of Qn; 50–100 g → 4.5 g;
100–200 g → 4.5 %; 200–300 g → 9 g; 300–500 g → 3 %; 500–1000 g → 15 g; 1–10 kg → 1.5 %.
Percentages are rounded up to the next 0.1 g. T1 = Qn − TNE, T2 = Qn − 2·TNE.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# (upper bound of Qn in g, TNE as a fraction of Qn or None, TNE in g or None); the table is
# continuous at its bounds, so which side a bound belongs to does not change the result.
_TABLE: tuple[tuple[float, float | None, float | None], ...] = (
    (50.0, 0.09, None),
    (100.0, None, 4.5),
    (200.0, 0.045, None),
    (300.0, None, 9.0),
    (500.0, 0.03, None),
    (1000.0, None, 15.0),
    (10_000.0, 0.015, None),
)
_SMALLEST_G = 5.0


@dataclass(frozen=True, slots=True)
class WeightLimits:
    """The limits for one nominal quantity, all in grams."""

    nominal_g: float
    tne_g: float
    t1_g: float
    t2_g: float


def tne_g(nominal_g: float) -> float:
    """The tolerable negative error for a nominal quantity between 5 g and 10 kg."""
    if not _SMALLEST_G <= nominal_g <= _TABLE[-1][0]:
        raise ValueError(f"nominal quantity {nominal_g} g is outside the ℮ table (5 g to 10 kg)")
    for upper, fraction, grams in _TABLE:
        if nominal_g <= upper:
            if grams is not None:
                return grams
            assert fraction is not None
            # Round away float noise first (200 × 0.045 is 9.000000000000002), then round up.
            tenths = round(nominal_g * fraction * 10, 6)
            return math.ceil(tenths) / 10
    raise AssertionError("unreachable: the range check covers the table")


def limits(nominal_g: float) -> WeightLimits:
    """TNE, T1 and T2 for a nominal quantity."""
    tne = tne_g(nominal_g)
    return WeightLimits(
        nominal_g=nominal_g,
        tne_g=tne,
        t1_g=round(nominal_g - tne, 1),
        t2_g=round(nominal_g - 2 * tne, 1),
    )

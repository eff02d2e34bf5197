"""The fleet's two shift plans, as the sites of a plant keep them in the registry."""

from __future__ import annotations

from tally.calendar import Break, Cleaning, Shift, ShiftPlan

_HALF_TIME = (Break(after_minutes=240, minutes=30),)

THREE_SHIFTS = ShiftPlan(
    name="3x8",
    shifts=(
        Shift(name="early", start="06:00", hours=8, breaks=_HALF_TIME),
        Shift(name="late", start="14:00", hours=8, breaks=_HALF_TIME),
        # The night shift's break is taken by the cleaning window at 03:30.
        Shift(name="night", start="22:00", hours=8),
    ),
    cleaning=(Cleaning(start="03:30", minutes=90),),
)

TWO_SHIFTS_AND_CLEANING = ShiftPlan(
    name="2x8+cleaning",
    shifts=(
        Shift(name="early", start="06:00", hours=8, breaks=_HALF_TIME),
        Shift(name="late", start="14:00", hours=8, breaks=_HALF_TIME),
    ),
    cleaning=(Cleaning(start="22:00", minutes=180),),
)

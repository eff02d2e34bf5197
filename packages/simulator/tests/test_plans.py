"""The fleet's two shift plans paint the days the timeline follows."""

from __future__ import annotations

from datetime import date, time

from tally.calendar import SiteCalendar, WindowKind
from tally.simulator._plans import THREE_SHIFTS, TWO_SHIFTS_AND_CLEANING


def test_two_shifts_then_cleaning_then_nothing() -> None:
    calendar = SiteCalendar("Europe/Berlin", time(6), TWO_SHIFTS_AND_CLEANING)
    windows = calendar.windows(date(2025, 6, 1))
    assert [(w.kind, w.shift, w.opens_shift) for w in windows] == [
        (WindowKind.SHIFT, "early", True),
        (WindowKind.BREAK, "early", False),
        (WindowKind.SHIFT, "early", False),
        (WindowKind.SHIFT, "late", True),
        (WindowKind.BREAK, "late", False),
        (WindowKind.SHIFT, "late", False),
        (WindowKind.CLEANING, None, False),
        (WindowKind.OFF, None, False),
    ]
    cleaning = windows[6]
    assert cleaning.end - cleaning.start == 3 * 3600
    assert calendar.day_plan(date(2025, 6, 1)).planned_seconds == 15 * 3600


def test_three_shifts_clean_inside_the_night_shift() -> None:
    calendar = SiteCalendar("America/Chicago", time(6), THREE_SHIFTS)
    windows = calendar.windows(date(2025, 6, 1))
    assert WindowKind.OFF not in {w.kind for w in windows}
    night = [w for w in windows if w.shift == "night"]
    assert night[0].opens_shift
    assert [w.kind for w in night] == [WindowKind.SHIFT, WindowKind.CLEANING, WindowKind.SHIFT]
    assert calendar.day_plan(date(2025, 6, 1)).planned_seconds == (7.5 + 7.5 + 6.5) * 3600

"""The calendar's front door, pinned."""

from __future__ import annotations

import tally.calendar


def test_the_calendar_exports_exactly_its_public_names() -> None:
    assert tally.calendar.__all__ == [
        "Break",
        "CalendarError",
        "Cleaning",
        "DayPlan",
        "LocalHour",
        "PlanError",
        "ProductionDay",
        "Shift",
        "ShiftPlan",
        "ShiftSpan",
        "SiteCalendar",
        "Weekday",
        "Window",
        "WindowKind",
    ]
    for name in tally.calendar.__all__:
        assert getattr(tally.calendar, name) is not None

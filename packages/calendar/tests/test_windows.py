"""Painting a day: cleaning over a break over a shift, contiguous windows, shifts by name, and
shifts across the DST change lasting 7 or 9 hours of wall-clock time."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time

from tally.calendar import Break, Cleaning, Shift, ShiftPlan, SiteCalendar, WindowKind

HALF_TIME = (Break(after_minutes=240, minutes=30),)
THREE_SHIFTS = ShiftPlan(
    name="3x8",
    shifts=(
        Shift(name="early", start="06:00", hours=8, breaks=HALF_TIME),
        Shift(name="late", start="14:00", hours=8, breaks=HALF_TIME),
        Shift(name="night", start="22:00", hours=8, breaks=HALF_TIME),
    ),
    cleaning=(Cleaning(start="01:45", minutes=90),),
)
TWO_SHIFTS = ShiftPlan(
    shifts=THREE_SHIFTS.shifts[:2], cleaning=(Cleaning(start="22:00", minutes=180),)
)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> int:
    return int(datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp())


def test_two_shifts_then_cleaning_then_nothing() -> None:
    calendar = SiteCalendar("Europe/Berlin", time(6), TWO_SHIFTS)
    windows = calendar.windows(date(2025, 6, 2))
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
    # Kempten is at +02:00 in June: the day starts 04:00 UTC, cleaning 20:00–23:00 UTC.
    assert [w.start for w in windows] == [
        utc(2025, 6, 2, 4),
        utc(2025, 6, 2, 8),
        utc(2025, 6, 2, 8, 30),
        utc(2025, 6, 2, 12),
        utc(2025, 6, 2, 16),
        utc(2025, 6, 2, 16, 30),
        utc(2025, 6, 2, 20),
        utc(2025, 6, 2, 23),
    ]
    assert windows[-1].end == utc(2025, 6, 3, 4)


def test_cleaning_wins_over_a_break_which_wins_over_a_shift() -> None:
    # The night shift's break (02:00–02:30) lies inside cleaning (01:45–03:15).
    calendar = SiteCalendar("Europe/Berlin", time(6), THREE_SHIFTS)
    night = [w for w in calendar.windows(date(2025, 6, 2)) if w.shift == "night"]
    assert [(w.kind, w.start, w.end) for w in night] == [
        (WindowKind.SHIFT, utc(2025, 6, 2, 20), utc(2025, 6, 2, 23, 45)),
        (WindowKind.CLEANING, utc(2025, 6, 2, 23, 45), utc(2025, 6, 3, 1, 15)),
        (WindowKind.SHIFT, utc(2025, 6, 3, 1, 15), utc(2025, 6, 3, 4)),
    ]
    assert [w.kind for w in calendar.windows(date(2025, 6, 2))].count(WindowKind.OFF) == 0


def test_windows_cover_every_day_exactly() -> None:
    for plan, zone in itertools.product((THREE_SHIFTS, TWO_SHIFTS), ("Europe/Berlin", "UTC")):
        calendar = SiteCalendar(zone, time(6), plan)
        for name in (date(2025, 3, 29), date(2025, 3, 30), date(2025, 10, 25), date(2025, 6, 1)):
            day, windows = calendar.day(name), calendar.windows(name)
            assert windows[0].start == day.start
            assert windows[-1].end == day.end
            assert all(a.end == b.start for a, b in itertools.pairwise(windows))
            assert all(w.start < w.end for w in windows)


def test_shifts_carry_their_planned_seconds() -> None:
    calendar = SiteCalendar("Europe/Berlin", time(6), THREE_SHIFTS)
    shifts = calendar.shifts(date(2025, 6, 2))
    assert [(s.name, s.end - s.start) for s in shifts] == [
        ("early", 8 * 3600),
        ("late", 8 * 3600),
        ("night", 8 * 3600),
    ]
    # The night loses 90 min of cleaning (its break lies inside it); the others their break.
    assert [s.planned_seconds for s in shifts] == [27_000, 27_000, 23_400]


def test_a_night_shift_across_the_autumn_change_lasts_nine_hours() -> None:
    calendar = SiteCalendar("Europe/Berlin", time(6), THREE_SHIFTS)
    night = calendar.shifts(date(2025, 10, 25))[2]
    assert (night.start, night.end) == (utc(2025, 10, 25, 20), utc(2025, 10, 26, 5))
    # 01:45 to 03:15 wall clock across the repeated hour: 2.5 h of cleaning.
    assert night.planned_seconds == 9 * 3600 - 150 * 60
    # The extra hour of the night went to cleaning: the day plans as much as any other.
    assert calendar.day_plan(date(2025, 10, 25)).planned_seconds == 2 * 27_000 + 23_400


def test_a_break_inside_the_spring_gap_takes_no_time() -> None:
    plan = ShiftPlan(
        shifts=(Shift(name="night", start="22:00", hours=8, breaks=HALF_TIME),),
    )
    calendar = SiteCalendar("Europe/Berlin", time(6), plan)
    night = calendar.shifts(date(2025, 3, 29))[0]
    assert night.end - night.start == 7 * 3600
    assert night.planned_seconds == 7 * 3600  # the break, 02:00–02:30, does not exist
    assert {w.kind for w in calendar.windows(date(2025, 3, 29))} == {
        WindowKind.OFF,
        WindowKind.SHIFT,
    }

"""Planned seconds over any span, shifts of instants, days off and plans that change."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from tally.calendar import (
    Break,
    Cleaning,
    PlanError,
    Shift,
    ShiftPlan,
    SiteCalendar,
    Weekday,
    WindowKind,
)

HALF_TIME = (Break(after_minutes=240, minutes=30),)
PLAN = ShiftPlan(
    shifts=(
        Shift(name="early", start="06:00", hours=8, breaks=HALF_TIME),
        Shift(name="late", start="14:00", hours=8, breaks=HALF_TIME),
        Shift(name="night", start="22:00", hours=8),
    ),
    cleaning=(Cleaning(start="03:30", minutes=90),),
    days_off=(Weekday.SUNDAY,),
)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> int:
    return int(datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp())


# The planned intervals of Monday 2 June 2025 in Kempten (+02:00), written out by hand, with
# Tuesday's first hours; Sunday 1 June has none.
PLANNED_2_JUNE = [
    (utc(2025, 6, 2, 4), utc(2025, 6, 2, 8)),
    (utc(2025, 6, 2, 8, 30), utc(2025, 6, 2, 12)),
    (utc(2025, 6, 2, 12), utc(2025, 6, 2, 16)),
    (utc(2025, 6, 2, 16, 30), utc(2025, 6, 2, 20)),
    (utc(2025, 6, 2, 20), utc(2025, 6, 3, 1, 30)),
    (utc(2025, 6, 3, 3), utc(2025, 6, 3, 4)),
    (utc(2025, 6, 3, 4), utc(2025, 6, 3, 8)),
]


def reference(start: int, end: int) -> int:
    return sum(max(0, min(end, b) - max(start, a)) for a, b in PLANNED_2_JUNE)


def test_planned_seconds_of_every_minute_match_the_plan_written_out() -> None:
    calendar = SiteCalendar("Europe/Berlin", time(6), PLAN)
    day = calendar.day(date(2025, 6, 2))
    minutes = range(day.start - 3600, day.end + 3600, 60)
    assert [calendar.planned_seconds(m, m + 60) for m in minutes] == [
        reference(m, m + 60) for m in minutes
    ]
    assert calendar.planned_seconds(day.start, day.end) == 21.5 * 3600
    # Odd bounds, fractions and spans that cross the day's edges.
    for a, b in [(day.start - 7200, day.start + 61), (utc(2025, 6, 2, 7, 59, 30), day.end + 99)]:
        assert calendar.planned_seconds(a, b) == reference(a, b)
    assert calendar.planned_seconds(day.start + 0.5, day.start + 2) == 1.5


def test_planned_seconds_across_days_add_up_and_skip_sunday() -> None:
    calendar = SiteCalendar("Europe/Berlin", time(6), PLAN)
    saturday, sunday = calendar.day(date(2025, 6, 7)), calendar.day(date(2025, 6, 8))
    assert calendar.planned_seconds(sunday.start, sunday.end) == 0
    assert calendar.windows(sunday.date) == (calendar.window_at(sunday.start),)
    assert calendar.window_at(sunday.start).kind is WindowKind.OFF
    week = calendar.planned_seconds(utc(2025, 6, 2, 4), utc(2025, 6, 9, 4))
    assert week == 6 * 21.5 * 3600
    assert calendar.planned_seconds(saturday.start, sunday.end) == 21.5 * 3600


def test_the_shift_of_an_instant() -> None:
    calendar = SiteCalendar("Europe/Berlin", time(6), PLAN)
    night = calendar.shift_at(utc(2025, 6, 3, 2))  # 04:00 on Tuesday, during cleaning
    assert night is not None
    assert (night.name, night.start) == ("night", utc(2025, 6, 2, 20))
    assert calendar.day_of(utc(2025, 6, 3, 2)).date == date(2025, 6, 2)
    early = calendar.shift_at(utc(2025, 6, 2, 8, 15))  # in the break
    assert early is not None
    assert early.name == "early"
    assert calendar.shift_at(utc(2025, 6, 8, 10)) is None  # Sunday


def test_a_plan_changes_from_a_production_day_on() -> None:
    two = ShiftPlan(shifts=PLAN.shifts[:2])
    calendar = SiteCalendar(
        "Europe/Berlin", time(6), {date(2025, 6, 4): PLAN, date(2025, 6, 1): two}
    )
    assert calendar.plan_of(date(2025, 5, 31)) is None
    assert calendar.plan_of(date(2025, 6, 3)) is two
    assert calendar.plan_of(date(2025, 6, 4)) is PLAN
    days = [calendar.day(date(2025, 5, 31) + timedelta(n)) for n in range(5)]
    assert [calendar.planned_seconds(d.start, d.end) / 3600 for d in days] == [
        0,
        15,
        15,
        15,
        21.5,
    ]


def test_a_plan_that_does_not_fit_the_day_start_is_refused() -> None:
    with pytest.raises(PlanError, match="runs past the start of the next production day"):
        SiteCalendar("Europe/Berlin", time(5), PLAN)
    with pytest.raises(KeyError):
        SiteCalendar("Europe/Kempten", time(6), PLAN)


def test_local_hours_of_the_long_autumn_day() -> None:
    calendar = SiteCalendar("Europe/Berlin", time(6), PLAN)
    hours = calendar.hours(date(2025, 10, 25))
    assert len(hours) == 25
    assert [h.label for h in hours[20:22]] == ["2025-10-26T02:00+02:00", "2025-10-26T02:00+01:00"]
    assert calendar.local_hour(hours[21].start + 10) == hours[21]

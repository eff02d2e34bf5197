"""Shift plans check themselves: a plan that exists paints a day; a bad one names its field."""

from __future__ import annotations

from datetime import date, time

import msgspec
import pytest

from tally.calendar import Break, Cleaning, PlanError, Shift, ShiftPlan, Weekday

EARLY = Shift(name="early", start="06:00", hours=8, breaks=(Break(after_minutes=240, minutes=30),))
LATE = Shift(name="late", start="14:00", hours=8)
NIGHT = Shift(name="night", start="22:00", hours=8)


def decode(text: str) -> ShiftPlan:
    return msgspec.json.decode(text.encode(), type=ShiftPlan)


def test_a_plan_round_trips_through_json() -> None:
    plan = ShiftPlan(
        name="3x8",
        shifts=(EARLY, LATE, NIGHT),
        cleaning=(Cleaning(start="03:30", minutes=90),),
        days_off=(Weekday.SUNDAY,),
        dates_off=(date(2025, 12, 25),),
    )
    encoded = msgspec.json.encode(plan)
    assert msgspec.json.decode(encoded, type=ShiftPlan) == plan
    assert b'"start":"06:00"' in encoded
    assert b'"days_off":["sunday"]' in encoded


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '{"shifts": [{"name": "a", "start": "06:00", "hours": 8},'
            ' {"name": "b", "start": "13:00", "hours": 8}]}',
            "shifts[0] and shifts[1] overlap on the 24-hour clock",
        ),
        (
            # Overlap across midnight: 22:00 + 9 h reaches 07:00 the next morning.
            '{"shifts": [{"name": "a", "start": "06:00", "hours": 8},'
            ' {"name": "n", "start": "22:00", "hours": 9}]}',
            "shifts[0] and shifts[1] overlap",
        ),
        (
            '{"shifts": [{"name": "a", "start": "06:00", "hours": 8,'
            ' "breaks": [{"after_minutes": 460, "minutes": 30}]}]}',
            "breaks[0] (460 + 30 min) ends after its shift 'a' (480 min): move it earlier or "
            "shorten it - at `$.shifts[0]`",
        ),
        (
            '{"shifts": [{"name": "a", "start": "06:00", "hours": 8, "breaks":'
            ' [{"after_minutes": 120, "minutes": 30}, {"after_minutes": 140, "minutes": 10}]}]}',
            "breaks[1] (after 140 min) overlaps an earlier break",
        ),
        ('{"shifts": [{"name": "a", "start": "06:00", "hours": 7.51}]}', "whole minutes"),
        ('{"shifts": [{"name": "a", "start": "06:00", "hours": 25}]}', "`$.shifts[0].hours`"),
        ('{"shifts": [{"name": "a", "start": "6:00", "hours": 8}]}', "`$.shifts[0].start`"),
        ('{"shifts": [{"name": "a", "start": "24:00", "hours": 8}]}', "`$.shifts[0].start`"),
        (
            '{"shifts": [{"name": "a", "start": "06:00", "hours": 8},'
            ' {"name": "a", "start": "14:00", "hours": 8}]}',
            "shifts[1].name = 'a' is used twice",
        ),
        (
            '{"cleaning": [{"start": "22:00", "minutes": 180}, {"start": "00:30", "minutes": 60}]}',
            "cleaning[0] and cleaning[1] overlap",
        ),
        ('{"cleaning": [{"start": "22:00", "minutes": 0}]}', "`$.cleaning[0].minutes`"),
        ('{"days_off": ["sunday", "sunday"]}', "days_off[1] = sunday is listed twice"),
        ('{"days_off": ["sonntag"]}', "`$.days_off[0]`"),
        ('{"shift": []}', "unknown field `shift`"),
        # JSONB holds no NUL: a plan that could not be stored is refused before it gets there.
        ('{"name": "nights \\u0000"}', "`$.name`"),
    ],
)
def test_a_bad_plan_names_its_field(text: str, message: str) -> None:
    with pytest.raises(msgspec.ValidationError) as raised:
        decode(text)
    assert message in str(raised.value)


def test_building_a_bad_plan_in_code_raises_plan_error() -> None:
    with pytest.raises(PlanError, match="overlap"):
        ShiftPlan(shifts=(EARLY, Shift(name="x", start="13:59", hours=1)))
    with pytest.raises(ValueError, match="ends after its shift"):
        Shift(name="x", start="06:00", hours=1, breaks=(Break(after_minutes=31, minutes=30),))


def test_shifts_that_touch_do_not_overlap() -> None:
    plan = ShiftPlan(shifts=(EARLY, LATE, NIGHT))
    assert [s.minutes for s in plan.shifts] == [480, 480, 480]
    assert [s.start_minute for s in plan.shifts] == [360, 840, 1320]


def test_a_window_may_not_run_past_the_day_start() -> None:
    plan = ShiftPlan(shifts=(NIGHT,), cleaning=(Cleaning(start="05:00", minutes=90),))
    plan.check_day_start(time(7))  # the night shift ends 06:00, cleaning 06:30: both fit
    with pytest.raises(PlanError, match=r"shifts\[0\] \(22:00 for 480 min\) runs past .* 05:00"):
        plan.check_day_start(time(5))
    with pytest.raises(PlanError, match=r"cleaning\[0\] \(05:00 for 90 min\) runs past .* 06:00"):
        plan.check_day_start(time(6))
    with pytest.raises(PlanError, match="whole minute"):
        plan.check_day_start(time(6, 0, 30))


def test_days_off_by_weekday_and_date() -> None:
    plan = ShiftPlan(shifts=(EARLY,), days_off=(Weekday.SATURDAY,), dates_off=(date(2025, 6, 9),))
    assert plan.has_production(date(2025, 6, 6))  # a Friday
    assert not plan.has_production(date(2025, 6, 7))  # a Saturday
    assert not plan.has_production(date(2025, 6, 9))  # Whit Monday, by date
    assert Weekday.of(date(2025, 6, 8)) is Weekday.SUNDAY

"""Production days: 23, 24 or 25 hours, named by the date they start on; a day start in the
gap or the fold follows the rule of the wall time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from tally.calendar import SiteCalendar


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> int:
    return int(datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp())


def test_days_across_dst_last_23_or_25_hours() -> None:
    berlin = SiteCalendar("Europe/Berlin", time(6), None)
    assert berlin.day(date(2025, 3, 29)).seconds == 23 * 3600
    assert berlin.day(date(2025, 10, 25)).seconds == 25 * 3600
    assert berlin.day(date(2025, 6, 1)).seconds == 24 * 3600
    chicago = SiteCalendar("America/Chicago", time(6), None)
    assert chicago.day(date(2025, 11, 1)).seconds == 25 * 3600
    assert chicago.day(date(2025, 11, 1)).start == utc(2025, 11, 1, 11)


def test_an_instant_before_the_day_start_belongs_to_the_day_before() -> None:
    calendar = SiteCalendar("Europe/Berlin", time(6), None)
    day = calendar.day(date(2025, 6, 2))
    assert day.start == utc(2025, 6, 2, 4)
    assert calendar.day_of(day.start).date == date(2025, 6, 2)
    assert calendar.day_of(day.start - 0.5).date == date(2025, 6, 1)
    assert calendar.day_of(day.end - 1).date == date(2025, 6, 2)


def test_a_day_start_in_the_spring_gap_is_the_first_instant_after_it() -> None:
    calendar = SiteCalendar("Europe/Berlin", time(2, 30), None)
    day = calendar.day(date(2025, 3, 30))
    assert day.start == utc(2025, 3, 30, 1)  # 03:00 CEST
    # The lost hour falls half into each day: 02:30 CET to 03:00 CEST, 03:00 CEST to 02:30 CEST.
    assert calendar.day(date(2025, 3, 29)).seconds == 23.5 * 3600
    assert day.seconds == 23.5 * 3600


def test_a_day_start_in_the_autumn_fold_is_the_first_of_the_two() -> None:
    calendar = SiteCalendar("Europe/Berlin", time(2, 30), None)
    day = calendar.day(date(2025, 10, 26))
    assert day.start == utc(2025, 10, 26, 0, 30)
    assert day.seconds == 25 * 3600
    # The second 02:10 of that night comes after the first 02:30: it is already the 26th.
    assert calendar.day_of(utc(2025, 10, 26, 1, 10)).date == date(2025, 10, 26)
    assert calendar.day_of(utc(2025, 10, 26, 0, 10)).date == date(2025, 10, 25)


def test_days_overlapping_a_span() -> None:
    calendar = SiteCalendar("America/Chicago", time(6), None)
    names = [d.date for d in calendar.days(utc(2025, 6, 2, 10), utc(2025, 6, 4, 11))]
    assert names == [date(2025, 6, 1), date(2025, 6, 2), date(2025, 6, 3)]
    assert list(calendar.days(utc(2025, 6, 2), utc(2025, 6, 2))) == []

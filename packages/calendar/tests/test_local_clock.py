"""Wall times in the DST gap and fold, and local hours told apart by their UTC offset."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from tally.calendar._local_clock import LocalClock


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> int:
    return int(datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp())


def test_a_wall_time_in_the_spring_gap_is_the_first_instant_after_it() -> None:
    berlin = LocalClock("Europe/Berlin")
    # 30 March 2025: 02:00 CET jumps to 03:00 CEST at 01:00 UTC.
    assert berlin.instant(datetime(2025, 3, 30, 2, 30)) == utc(2025, 3, 30, 1)
    assert berlin.instant(datetime(2025, 3, 30, 2, 0)) == utc(2025, 3, 30, 1)
    assert berlin.instant(datetime(2025, 3, 30, 3, 0)) == utc(2025, 3, 30, 1)
    assert berlin.instant(datetime(2025, 3, 30, 1, 59)) == utc(2025, 3, 30, 0, 59)
    chicago = LocalClock("America/Chicago")
    assert chicago.instant(datetime(2025, 3, 9, 2, 15)) == utc(2025, 3, 9, 8)


def test_a_wall_time_in_the_autumn_fold_is_the_first_of_the_two() -> None:
    berlin = LocalClock("Europe/Berlin")
    # 26 October 2025: 02:00–03:00 happens twice, first at +02:00 (00:00–01:00 UTC).
    assert berlin.instant(datetime(2025, 10, 26, 2, 30)) == utc(2025, 10, 26, 0, 30)
    assert berlin.instant(datetime(2025, 10, 26, 3, 0)) == utc(2025, 10, 26, 2)


def test_the_autumn_night_has_two_local_two_oclock_hours() -> None:
    berlin = LocalClock("Europe/Berlin")
    first = berlin.hour(utc(2025, 10, 26, 0, 40))
    second = berlin.hour(utc(2025, 10, 26, 1, 40))
    assert (first.start, first.end) == (utc(2025, 10, 26, 0), utc(2025, 10, 26, 1))
    assert (second.start, second.end) == (utc(2025, 10, 26, 1), utc(2025, 10, 26, 2))
    assert first.local == second.local == datetime(2025, 10, 26, 2)
    assert (first.label, second.label) == ("2025-10-26T02:00+02:00", "2025-10-26T02:00+01:00")


def test_the_spring_night_has_no_local_two_oclock_hour() -> None:
    berlin = LocalClock("Europe/Berlin")
    before = berlin.hour(utc(2025, 3, 30, 0, 59, 59))
    after = berlin.hour(utc(2025, 3, 30, 1))
    assert before.label == "2025-03-30T01:00+01:00"
    assert after.label == "2025-03-30T03:00+02:00"
    assert before.end == after.start


def test_an_hour_of_a_half_hour_zone_starts_at_half_past_utc() -> None:
    hour = LocalClock("Asia/Kolkata").hour(utc(2025, 6, 2, 10, 45) + 0.25)
    assert (hour.start, hour.end) == (utc(2025, 6, 2, 10, 30), utc(2025, 6, 2, 11, 30))
    assert hour.label == "2025-06-02T16:00+05:30"


@pytest.mark.parametrize(
    ("zone", "day"),
    [
        ("Europe/Berlin", datetime(2025, 10, 25, 12, tzinfo=UTC)),
        ("Europe/Berlin", datetime(2025, 3, 29, 12, tzinfo=UTC)),
        ("America/Chicago", datetime(2025, 11, 1, 18, tzinfo=UTC)),
        # Lord Howe Island moves its clocks by half an hour: one local hour is 30 minutes long.
        ("Australia/Lord_Howe", datetime(2025, 4, 5, 6, tzinfo=UTC)),
        ("Australia/Lord_Howe", datetime(2025, 10, 4, 6, tzinfo=UTC)),
        ("Asia/Kathmandu", datetime(2025, 6, 1, tzinfo=UTC)),
    ],
)
def test_local_hours_tile_time_without_gaps_or_overlaps(zone: str, day: datetime) -> None:
    clock = LocalClock(zone)
    start = int(day.timestamp())
    hours = []
    t = start
    while t < start + 2 * 86_400:
        hour = clock.hour(t)
        hours.append(hour)
        t = hour.end
    assert all(a.end == b.start for a, b in itertools.pairwise(hours))
    assert all(0 < h.end - h.start <= 3600 for h in hours)
    for hour in hours:
        # Every instant of an hour has the hour's offset and its local clock hour.
        for t in (hour.start, (hour.start + hour.end) // 2, hour.end - 1):
            assert clock.offset_minutes(t) == hour.utc_offset_minutes
            assert clock.wall(t).date() == hour.local.date()
            assert clock.wall(t).hour == hour.local.hour
            assert clock.hour(t) == hour
    labels = [h.label for h in hours]
    assert len(labels) == len(set(labels))

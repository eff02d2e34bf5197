"""When slots fall due: every period, and at a local time of a zone across daylight saving."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from tally.sdk import (
    ContractError,
    NoSettings,
    Schedule,
    ScheduledRun,
    Service,
    Slot,
    daily_at,
    every,
)

BERLIN = "Europe/Berlin"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_every_falls_due_at_multiples_of_its_period_in_every_process_alike() -> None:
    slots = every(timedelta(minutes=15)).between(utc(2026, 1, 5, 10, 0), utc(2026, 1, 5, 11, 0))
    # The window is (since, until]: 10:00 belongs to the window before.
    assert [s.due for s in slots] == [utc(2026, 1, 5, 10, m) for m in (15, 30, 45)] + [
        utc(2026, 1, 5, 11, 0)
    ]
    assert slots[0].key == "2026-01-05T10:15:00+00:00"
    assert slots[0].value == slots[0].due
    shifted = every(timedelta(hours=1), offset=timedelta(minutes=5), key="job/")
    assert [s.key for s in shifted.between(utc(2026, 1, 5, 10, 0), utc(2026, 1, 5, 12, 0))] == [
        "job/2026-01-05T10:05:00+00:00",
        "job/2026-01-05T11:05:00+00:00",
    ]


def test_daily_at_follows_the_local_clock_across_both_changes() -> None:
    at_six = daily_at(time(6), BERLIN)
    spring = at_six.between(utc(2026, 3, 27, 12), utc(2026, 3, 31, 12))
    # 06:00 CET is 05:00 UTC; from 29 March 06:00 CEST is 04:00 UTC.
    assert [(s.value, s.due) for s in spring] == [
        (date(2026, 3, 28), utc(2026, 3, 28, 5)),
        (date(2026, 3, 29), utc(2026, 3, 29, 4)),
        (date(2026, 3, 30), utc(2026, 3, 30, 4)),
        (date(2026, 3, 31), utc(2026, 3, 31, 4)),
    ]
    # So the production day of 28 March (06:00 to 06:00) is 23 hours long, of 24 October 25.
    assert spring[1].due - spring[0].due == timedelta(hours=23)
    autumn = at_six.between(utc(2026, 10, 24, 0), utc(2026, 10, 26, 12))
    assert [s.due for s in autumn] == [
        utc(2026, 10, 24, 4),
        utc(2026, 10, 25, 5),
        utc(2026, 10, 26, 5),
    ]
    assert autumn[1].due - autumn[0].due == timedelta(hours=25)
    assert [s.key for s in autumn] == ["2026-10-24", "2026-10-25", "2026-10-26"]


def test_a_time_the_clocks_skip_falls_due_later_and_one_they_repeat_falls_due_once() -> None:
    half_past_two = daily_at(time(2, 30), BERLIN, key="site-1/")
    # 29 March 2026: 02:00 CET jumps to 03:00 CEST; "02:30" is 03:30 CEST, 01:30 UTC.
    (skipped,) = half_past_two.between(utc(2026, 3, 29, 0), utc(2026, 3, 29, 12))
    assert skipped.due == utc(2026, 3, 29, 1, 30)
    assert skipped.key == "site-1/2026-03-29"
    # 25 October 2026: 03:00 CEST goes back to 02:00 CET; 02:30 comes twice, runs at the first.
    (repeated,) = half_past_two.between(utc(2026, 10, 24, 23), utc(2026, 10, 25, 12))
    assert repeated.due == utc(2026, 10, 25, 0, 30)


def test_a_window_holds_each_slot_once_however_it_is_cut() -> None:
    at_six = daily_at(time(6), "America/New_York")
    start = utc(2026, 3, 1)
    cuts = [start + timedelta(hours=7 * n) for n in range(24 * 5)]
    pieces = [s.key for a, b in itertools.pairwise(cuts) for s in at_six.between(a, b)]
    whole = [s.key for s in at_six.between(cuts[0], cuts[-1])]
    assert pieces == whole
    assert len(whole) == len(set(whole)) == 35


def test_wrong_declarations_are_refused_when_declared() -> None:
    with pytest.raises(ContractError, match="IANA"):
        daily_at(time(6), "Europe/Atlantis")
    with pytest.raises(ContractError, match="without a zone"):
        daily_at(time(6, tzinfo=UTC), BERLIN)
    with pytest.raises(ContractError, match="period must be > 0"):
        every(timedelta(0))
    with pytest.raises(ContractError, match="needs a time zone"):
        Slot("k", datetime(2026, 1, 1), None)


async def noop(deps: object, run: ScheduledRun[Any]) -> None:
    return None


def test_a_schedule_that_runs_once_across_processes_needs_the_database() -> None:
    schedule = Schedule("tick", noop, every(timedelta(seconds=1)))
    with pytest.raises(ContractError, match="needs the database"):
        Service(name="plain", settings=NoSettings, deps=_deps, schedules=[schedule])
    each = Schedule("tick", noop, every(timedelta(seconds=1)), each_process=True)
    assert Service(name="plain", settings=NoSettings, deps=_deps, schedules=[each]).schedules
    with pytest.raises(ContractError, match="schedule name twice"):
        Service(name="plain", settings=NoSettings, deps=_deps, schedules=[each, each])


def test_a_schedule_without_its_own_look_back_takes_its_sources() -> None:
    hourly = Schedule("h", noop, every(timedelta(hours=1)))
    assert hourly.window == timedelta(hours=1)
    daily = Schedule("d", noop, daily_at(time(6), BERLIN))
    assert daily.window == timedelta(days=7)
    assert Schedule("d", noop, daily_at(time(6), BERLIN), look_back=timedelta(days=30)).window == (
        timedelta(days=30)
    )


def _deps(runtime: object, settings: NoSettings) -> Any:
    raise AssertionError("never built: these services are only declared")

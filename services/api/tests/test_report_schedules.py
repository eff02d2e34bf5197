"""When a site's production days close: at the day's end (the site's day start, local time)
plus the grace, 23 or 25 hours apart across DST, each day once."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from tally.accounts import Accounts
from tally.api.admin import ApiDeps
from tally.api.report_production import Reports
from tally.api.report_schedules import SiteDayKey, closing_days, closing_slots, recheck_days
from tally.calendar import SiteCalendar
from tally.registry import Registry
from tally.reports.testing import DayBook
from tally.sdk import Database, ScheduledRun, Secret, Slot

BERLIN = SiteCalendar("Europe/Berlin", time(6), None)
GRACE = timedelta(minutes=30)


def test_each_day_closes_at_its_end_plus_the_grace_across_the_autumn_change() -> None:
    since = datetime(2026, 10, 23, 12, tzinfo=UTC)
    until = datetime(2026, 10, 27, 12, tzinfo=UTC)
    slots = closing_slots("t1", "plant-1", BERLIN, GRACE, since, until)
    assert [(s.value.day, s.due) for s in slots] == [
        # The clocks go back in the night to 2026-10-25: the day of 10-24 lasts 25 hours and
        # ends at 06:00 CET, 05:00 UTC.
        (date(2026, 10, 23), datetime(2026, 10, 24, 4, 30, tzinfo=UTC)),
        (date(2026, 10, 24), datetime(2026, 10, 25, 5, 30, tzinfo=UTC)),
        (date(2026, 10, 25), datetime(2026, 10, 26, 5, 30, tzinfo=UTC)),
        (date(2026, 10, 26), datetime(2026, 10, 27, 5, 30, tzinfo=UTC)),
    ]
    assert slots[0].key == "t1/plant-1/2026-10-23"
    assert slots[0].value == SiteDayKey("t1", "plant-1", date(2026, 10, 23))


def test_a_window_holds_only_the_days_that_close_in_it() -> None:
    due = datetime(2026, 3, 3, 5, 30, tzinfo=UTC)  # 2026-03-02 closes: 06:00 CET + 30 min
    assert closing_slots("t", "s", BERLIN, GRACE, due, due + timedelta(hours=23)) == []
    [slot] = closing_slots("t", "s", BERLIN, GRACE, due - timedelta(seconds=1), due)
    assert slot.value.day == date(2026, 3, 2)
    # A later day start and a longer grace move it.
    late = SiteCalendar("America/New_York", time(22), None)
    [slot] = closing_slots("t", "s", late, timedelta(hours=2), due, due + timedelta(days=1))
    assert slot.value.day == date(2026, 3, 2)
    assert slot.due == datetime(2026, 3, 4, 5, 0, tzinfo=UTC)  # 22:00 EST + 2 h


async def test_an_api_whose_report_schedules_are_off_produces_no_days() -> None:
    # A database never connected: asking it anything would fail the test.
    reports = Reports(database=Database.__new__(Database), days=DayBook(), scheduled=False)
    deps = ApiDeps(
        registry=Registry.__new__(Registry), admin_token=Secret("x" * 24), max_body_bytes=1,
        accounts=Accounts.__new__(Accounts), reports=reports,
    )  # fmt: skip
    now = datetime.now(UTC)
    assert await closing_days(deps, now - timedelta(days=7), now) == []
    await recheck_days(deps, ScheduledRun(Slot("now", now, now), 1))

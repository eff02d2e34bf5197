"""A site's calendar: its zone, its production day start and its shift plan (which may change
from a given production day on), answering what the figures ask of time.

Painted days are cached, so asking "planned seconds in [a, b)" for every minute of a day costs
two binary searches per minute after the first question about that day.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator, Mapping
from datetime import date, time, timedelta

from tally.calendar._days import ProductionDay, ProductionDays
from tally.calendar._local_clock import LocalClock, LocalHour
from tally.calendar._plan import ShiftPlan
from tally.calendar._windows import DayPlan, ShiftSpan, Window, paint

# Painted days kept per calendar: a rollup over a month of one site stays within it.
CACHED_DAYS = 64


class SiteCalendar:
    """Production days, planned windows and local hours of one site.

    `plan` is the site's shift plan, or its plans by the production day each takes effect
    (a day before the first has no plan: no planned time). Every plan must fit the day start
    (`ShiftPlan.check_day_start`); `PlanError` says which does not. `ZoneInfoNotFoundError`
    (a `KeyError`) is raised for an unknown zone.
    """

    __slots__ = ("_days", "_effective", "_painted", "_plans", "clock", "timezone")

    def __init__(
        self,
        timezone: str,
        day_start: time,
        plan: ShiftPlan | Mapping[date, ShiftPlan] | None,
    ) -> None:
        plans = {date.min: plan} if isinstance(plan, ShiftPlan) else dict(plan or {})
        for each in plans.values():
            each.check_day_start(day_start)
        self.timezone = timezone
        self.clock = LocalClock(timezone)
        self._days = ProductionDays(self.clock, day_start)
        self._effective = sorted(plans)
        self._plans = plans
        self._painted: dict[date, DayPlan] = {}

    @property
    def day_start(self) -> time:
        """The local time at which every production day starts."""
        return self._days.day_start

    def day(self, name: date) -> ProductionDay:
        """The production day named `name` (the local date it starts on)."""
        return self._days.span(name)

    def day_of(self, t: float) -> ProductionDay:
        """The production day holding instant t."""
        return self._days.of(t)

    def days(self, start: float, end: float) -> Iterator[ProductionDay]:
        """The production days overlapping [start, end), in order."""
        if end <= start:
            return
        day = self.day_of(start)
        while day.start < end:
            yield day
            day = self.day(day.date + timedelta(1))

    def plan_of(self, name: date) -> ShiftPlan | None:
        """The shift plan in effect on the production day named `name`."""
        index = bisect_right(self._effective, name) - 1
        return self._plans[self._effective[index]] if index >= 0 else None

    def day_plan(self, name: date) -> DayPlan:
        """The painted plan of the production day named `name` (cached)."""
        painted = self._painted.get(name)
        if painted is None:
            if len(self._painted) >= CACHED_DAYS:
                self._painted.clear()
            painted = paint(self._days, self.day(name), self.plan_of(name))
            self._painted[name] = painted
        return painted

    def windows(self, name: date) -> tuple[Window, ...]:
        """The planned windows of a production day: contiguous, covering it exactly."""
        return self.day_plan(name).windows

    def shifts(self, name: date) -> tuple[ShiftSpan, ...]:
        """The shifts of a production day in order, with their planned seconds."""
        return self.day_plan(name).shifts

    def shift_at(self, t: float) -> ShiftSpan | None:
        """The shift whose span holds instant t (None outside every shift)."""
        return self.day_plan(self.day_of(t).date).shift_at(t)

    def window_at(self, t: float) -> Window:
        """The planned window holding instant t."""
        return self.day_plan(self.day_of(t).date).window_at(t)

    def planned_seconds(self, start: float, end: float) -> float:
        """Planned production seconds in [start, end): whole when the bounds are."""
        total: float = 0
        for day in self.days(start, end):
            total += self.day_plan(day.date).planned_between(start, end)
        return total

    def local_hour(self, t: float) -> LocalHour:
        """The local clock hour holding instant t (the ℮ lot), told apart by its UTC offset."""
        return self.clock.hour(t)

    def hours(self, name: date) -> list[LocalHour]:
        """The local hours overlapping a production day, in order."""
        day = self.day(name)
        hours = []
        t = day.start
        while t < day.end:
            hour = self.clock.hour(t)
            hours.append(hour)
            t = hour.end
        return hours

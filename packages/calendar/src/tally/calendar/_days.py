"""Production days: from the day start local time on local date D to the day start on D + 1,
named D, in the site's zone — 23, 24 or 25 hours long."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from tally.calendar._local_clock import LocalClock


@dataclass(frozen=True, slots=True)
class ProductionDay:
    """One production day [start, end) in epoch seconds, named by the local date it starts on."""

    date: date
    start: int
    end: int

    @property
    def seconds(self) -> int:
        """Its length: 86,400 s, or 3,600 s less or more across a DST change."""
        return self.end - self.start


class ProductionDays:
    """Maps dates and instants to a site's production days; remembers the last day asked for."""

    __slots__ = ("_last", "clock", "day_start")

    def __init__(self, clock: LocalClock, day_start: time) -> None:
        self.clock = clock
        self.day_start = day_start
        self._last = ProductionDay(date.min, 0, 0)

    def wall(self, day: date, minutes: int = 0) -> datetime:
        """The naive wall time `minutes` of wall-clock time after the day start of `day`."""
        return datetime.combine(day, self.day_start) + timedelta(minutes=minutes)

    def span(self, day: date) -> ProductionDay:
        """The production day named `day`."""
        last = self._last
        if last.date == day:
            return last
        clock = self.clock
        start = clock.instant(self.wall(day))
        end = clock.instant(self.wall(day + timedelta(1)))
        return ProductionDay(day, start, end)

    def of(self, t: float) -> ProductionDay:
        """The production day holding instant t."""
        last = self._last
        if last.start <= t < last.end:
            return last
        # The local date is the day's name or the next day's; near a fold or a gap the day
        # start's wall time alone cannot tell, the day's instants can.
        guess = self.clock.wall(t).date()
        span = self.span(guess)
        if t < span.start:
            span = self.span(guess - timedelta(1))
        elif t >= span.end:
            span = self.span(guess + timedelta(1))
        self._last = span
        return span

"""A site's calendar in true time: production days and the planned windows of each day.

Everything is computed from local wall-clock times through zoneinfo, so a production day across
a daylight-saving change lasts 23 or 25 hours, and a night shift across it 7 or 9.
Times are integer seconds since the Unix epoch.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from tally.simulator._fleet import SiteSpec


class WindowKind(enum.Enum):
    """What the plan says a stretch of time is for."""

    OFF = 0
    SHIFT = 1
    BREAK = 2
    CLEANING = 3


@dataclass(frozen=True, slots=True)
class Window:
    """A planned stretch [start, end). `shift` names the shift it belongs to (breaks too);
    `opens_shift` is set on the window that starts that shift."""

    start: int
    end: int
    kind: WindowKind
    shift: str | None = None
    opens_shift: bool = False


@dataclass(frozen=True, slots=True)
class DaySpan:
    """One production day [start, end), named by the local date it starts on."""

    day: date
    start: int
    end: int


class ProductionDays:
    """Maps instants to the site's production day; remembers the last day for the common case
    of asking about increasing times."""

    __slots__ = ("_last", "_start", "_zone")

    def __init__(self, site: SiteSpec) -> None:
        self._zone = ZoneInfo(site.timezone)
        self._start = site.production_day_start
        self._last = DaySpan(date.min, 0, 0)

    def at(self, day: date, wall: time, minutes: float = 0.0) -> int:
        """Epoch seconds of a local wall-clock time, `minutes` of wall time after it."""
        local = datetime.combine(day, wall) + timedelta(minutes=minutes)
        return int(local.replace(tzinfo=self._zone).timestamp())

    def span(self, day: date) -> DaySpan:
        """The production day that starts on this local date."""
        return DaySpan(day, self.at(day, self._start), self.at(day + timedelta(1), self._start))

    def of(self, t: float) -> DaySpan:
        """The production day holding instant t."""
        last = self._last
        if last.start <= t < last.end:
            return last
        local = datetime.fromtimestamp(t, self._zone)
        day = local.date() if local.time() >= self._start else local.date() - timedelta(1)
        self._last = self.span(day)
        return self._last


# Later kinds win where planned windows overlap: cleaning over a break over a shift.
_PRIORITY = (WindowKind.OFF, WindowKind.SHIFT, WindowKind.BREAK, WindowKind.CLEANING)


def day_windows(site: SiteSpec, days: ProductionDays, day: date) -> list[Window]:
    """The plan of one production day, as contiguous windows covering it exactly."""
    span = days.span(day)
    model = site.shift_model
    planned: list[Window] = []
    for shift in model.shifts:
        on = day if shift.start >= site.production_day_start else day + timedelta(1)
        start = days.at(on, shift.start)
        planned.append(
            Window(start, days.at(on, shift.start, shift.hours * 60), WindowKind.SHIFT, shift.name)
        )
        for pause in shift.breaks:
            planned.append(
                Window(
                    days.at(on, shift.start, pause.after_minutes),
                    days.at(on, shift.start, pause.after_minutes + pause.minutes),
                    WindowKind.BREAK,
                    shift.name,
                )
            )
    on = day if model.cleaning_start >= site.production_day_start else day + timedelta(1)
    planned.append(
        Window(
            days.at(on, model.cleaning_start),
            days.at(on, model.cleaning_start, model.cleaning_minutes),
            WindowKind.CLEANING,
        )
    )
    return _paint(span, planned)


def _paint(span: DaySpan, planned: list[Window]) -> list[Window]:
    cuts = {span.start, span.end}
    for window in planned:
        cuts.update(t for t in (window.start, window.end) if span.start < t < span.end)
    shift_starts = {w.start for w in planned if w.kind is WindowKind.SHIFT}
    bounds = sorted(cuts)
    painted: list[Window] = []
    for start, end in pairwise(bounds):
        top = Window(start, end, WindowKind.OFF)
        for window in planned:
            covers = window.start <= start and end <= window.end
            if covers and _PRIORITY.index(window.kind) > _PRIORITY.index(top.kind):
                top = window
        kind, shift = top.kind, top.shift
        opens = kind is WindowKind.SHIFT and start in shift_starts
        previous = painted[-1] if painted else None
        if previous and previous.kind is kind and previous.shift == shift and not opens:
            painted[-1] = Window(previous.start, end, kind, shift, previous.opens_shift)
        else:
            painted.append(Window(start, end, kind, shift, opens))
    return painted

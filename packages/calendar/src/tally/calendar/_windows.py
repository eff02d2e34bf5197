"""The planned windows of one production day: the plan painted onto the day's instants.

Each shift, break and cleaning window becomes an interval of instants (wall-clock start and end,
each resolved by the gap/fold rule of `LocalClock.instant`); where they overlap, cleaning wins
over a break and a break over a shift; what nothing covers is off. The result is contiguous and
covers the day exactly. Planned time is the seconds of the shift windows that remain.
"""

from __future__ import annotations

import enum
from bisect import bisect_right
from dataclasses import dataclass
from itertools import accumulate, pairwise

from tally.calendar._days import ProductionDay, ProductionDays
from tally.calendar._plan import MINUTES_PER_DAY, ShiftPlan


class WindowKind(enum.Enum):
    """What the plan says a stretch of time is for; a higher value wins where windows overlap."""

    OFF = 0
    SHIFT = 1
    BREAK = 2
    CLEANING = 3


@dataclass(frozen=True, slots=True)
class Window:
    """A planned stretch [start, end) in epoch seconds. `shift` names the shift whose span holds
    it (for a cleaning window inside a shift, too); `opens_shift` is set on the shift window that
    starts its shift."""

    start: int
    end: int
    kind: WindowKind
    shift: str | None = None
    opens_shift: bool = False

    @property
    def planned(self) -> bool:
        """Whether its seconds are planned production time."""
        return self.kind is WindowKind.SHIFT


@dataclass(frozen=True, slots=True)
class ShiftSpan:
    """One shift on one production day: its span [start, end) and the planned seconds in it
    (the span minus its breaks and any cleaning inside it)."""

    name: str
    start: int
    end: int
    planned_seconds: int


class DayPlan:
    """The painted plan of one production day, with prefix sums for fast planned-time sums."""

    __slots__ = ("_before", "_starts", "day", "planned_seconds", "shifts", "windows")

    def __init__(
        self, day: ProductionDay, windows: tuple[Window, ...], shifts: tuple[ShiftSpan, ...]
    ) -> None:
        self.day = day
        self.windows = windows
        self.shifts = shifts
        self._starts = [w.start for w in windows]
        planned = [w.end - w.start if w.planned else 0 for w in windows]
        self._before = [0, *accumulate(planned)]
        self.planned_seconds = self._before[-1]

    def planned_until(self, t: float) -> float:
        """Planned seconds from the day's start to t (t clipped to the day)."""
        day = self.day
        if t <= day.start:
            return 0
        if t >= day.end:
            return self.planned_seconds
        index = bisect_right(self._starts, t) - 1
        window = self.windows[index]
        inside = t - window.start if window.planned else 0
        return self._before[index] + inside

    def planned_between(self, start: float, end: float) -> float:
        """Planned seconds in [start, end) (clipped to the day)."""
        if end <= start:
            return 0
        return self.planned_until(end) - self.planned_until(start)

    def window_at(self, t: float) -> Window:
        """The window holding instant t, which must lie in the day."""
        day = self.day
        if not day.start <= t < day.end:
            raise ValueError(f"{t} is not in production day {day.date} [{day.start}, {day.end})")
        return self.windows[bisect_right(self._starts, t) - 1]

    def shift_at(self, t: float) -> ShiftSpan | None:
        """The shift whose span holds instant t, None outside every shift."""
        for shift in self.shifts:
            if shift.start <= t < shift.end:
                return shift
        return None


@dataclass(frozen=True, slots=True)
class _Planned:
    start: int
    end: int
    kind: WindowKind
    shift: str | None


def paint(days: ProductionDays, day: ProductionDay, plan: ShiftPlan | None) -> DayPlan:
    """The plan of production day `day` (no plan, or a day off: the whole day is off)."""
    planned = _planned(days, day, plan) if plan and plan.has_production(day.date) else []
    windows = _paint(day, planned)
    shift_windows = [w for w in planned if w.kind is WindowKind.SHIFT]
    shifts = tuple(
        ShiftSpan(
            w.shift or "",
            w.start,
            w.end,
            sum(p.end - p.start for p in windows if p.planned and p.shift == w.shift),
        )
        for w in sorted(shift_windows, key=lambda w: w.start)
    )
    return DayPlan(day, windows, shifts)


def _planned(days: ProductionDays, day: ProductionDay, plan: ShiftPlan) -> list[_Planned]:
    start = days.day_start.hour * 60 + days.day_start.minute

    def at(minutes: int) -> int:
        return days.clock.instant(days.wall(day.date, minutes))

    planned = []
    for shift in plan.shifts:
        offset = (shift.start_minute - start) % MINUTES_PER_DAY
        planned.append(
            _Planned(at(offset), at(offset + shift.minutes), WindowKind.SHIFT, shift.name)
        )
        for pause in shift.breaks:
            begin = offset + pause.after_minutes
            planned.append(
                _Planned(at(begin), at(begin + pause.minutes), WindowKind.BREAK, shift.name)
            )
    for cleaning in plan.cleaning:
        offset = (cleaning.start_minute - start) % MINUTES_PER_DAY
        planned.append(
            _Planned(at(offset), at(offset + cleaning.minutes), WindowKind.CLEANING, None)
        )
    return planned


def _paint(day: ProductionDay, planned: list[_Planned]) -> tuple[Window, ...]:
    cuts = {day.start, day.end}
    for window in planned:
        cuts.update(t for t in (window.start, window.end) if day.start < t < day.end)
    shift_starts = {w.start for w in planned if w.kind is WindowKind.SHIFT}
    painted: list[Window] = []
    for start, end in pairwise(sorted(cuts)):
        covering = [w for w in planned if w.start <= start and end <= w.end]
        kind, shift = WindowKind.OFF, None
        for window in covering:
            if window.kind.value > kind.value:
                kind = window.kind
            if window.kind is not WindowKind.CLEANING and shift is None:
                shift = window.shift
        opens = kind is WindowKind.SHIFT and start in shift_starts
        previous = painted[-1] if painted else None
        if previous and previous.kind is kind and previous.shift == shift and not opens:
            painted[-1] = Window(previous.start, end, kind, shift, previous.opens_shift)
        else:
            painted.append(Window(start, end, kind, shift, opens))
    return tuple(painted)

"""A site's shift plan: shifts with breaks, cleaning windows and days without production, in
local wall-clock time. Plans are msgspec Structs stored as JSON in the registry; every rule is
checked when a plan is built or decoded, so a plan that exists is a plan that paints a day.

Rules a plan keeps on its own: shift names are unique; shifts do not overlap one another on the
24-hour clock; a shift's breaks lie inside it and do not overlap; cleaning windows do not overlap
one another (they may overlap shifts and breaks: cleaning wins). Times are "HH:MM", lengths whole
minutes (a shift's `hours` too: 7.5 is fine, 7.51 is not). One rule needs the site's production
day start as well — no shift and no cleaning window may run across it — and is checked by
`ShiftPlan.check_day_start` (the calendar of a site calls it).
"""

from __future__ import annotations

import enum
from datetime import date, time
from typing import Annotated

import msgspec

from tally.calendar._errors import PlanError

MINUTES_PER_DAY = 1440

LocalTime = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
        description="local wall-clock time HH:MM",
        examples=["06:00", "22:30"],
    ),
]
# Shift names travel in `shift_start` context events, whose names follow the contracts' alphabet.
ShiftName = Annotated[
    str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:/-]+$")
]
Minutes = Annotated[int, msgspec.Meta(ge=1, le=MINUTES_PER_DAY)]


class Weekday(enum.StrEnum):
    """A day of the week, as production days are named (`date.weekday()` is its index)."""

    MONDAY = "monday"
    TUESDAY = "tuesday"
    WEDNESDAY = "wednesday"
    THURSDAY = "thursday"
    FRIDAY = "friday"
    SATURDAY = "saturday"
    SUNDAY = "sunday"

    @classmethod
    def of(cls, day: date) -> Weekday:
        """The weekday of a date."""
        return _WEEKDAYS[day.weekday()]


_WEEKDAYS = tuple(Weekday)


class Break(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A planned break, `after_minutes` of wall-clock time after its shift starts."""

    after_minutes: Annotated[int, msgspec.Meta(ge=0, le=MINUTES_PER_DAY - 1)]
    minutes: Minutes


class Shift(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One shift: it starts at `start` local time on every production day that has production
    and lasts `hours` of wall-clock time (an 8 h night shift across a DST change lasts 7 or 9 h).
    """

    name: ShiftName
    start: LocalTime
    hours: Annotated[float, msgspec.Meta(gt=0, le=24)]
    breaks: tuple[Break, ...] = ()

    def __post_init__(self) -> None:
        minutes = self.hours * 60
        if abs(minutes - round(minutes)) > 1e-6:
            raise PlanError(
                f"hours = {self.hours}: a shift lasts whole minutes (e.g. 7.5 or 8), "
                f"not {minutes:g} minutes"
            )
        length = round(minutes)
        previous_end = -1
        for index, pause in sorted(enumerate(self.breaks), key=lambda item: item[1].after_minutes):
            end = pause.after_minutes + pause.minutes
            if end > length:
                raise PlanError(
                    f"breaks[{index}] ({pause.after_minutes} + {pause.minutes} min) ends after "
                    f"its shift {self.name!r} ({length} min): move it earlier or shorten it"
                )
            if pause.after_minutes < previous_end:
                raise PlanError(
                    f"breaks[{index}] (after {pause.after_minutes} min) overlaps an earlier break "
                    f"of shift {self.name!r}: breaks of a shift must not overlap"
                )
            previous_end = end

    @property
    def minutes(self) -> int:
        """The shift's length in wall-clock minutes."""
        return round(self.hours * 60)

    @property
    def start_minute(self) -> int:
        """Minutes after local midnight at which the shift starts."""
        return _minute_of(self.start)


class Cleaning(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A planned cleaning window, daily on production days; it wins over shifts and breaks."""

    start: LocalTime
    minutes: Minutes

    @property
    def start_minute(self) -> int:
        """Minutes after local midnight at which cleaning starts."""
        return _minute_of(self.start)


class ShiftPlan(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """When a site plans to produce: shifts, cleaning windows, and production days without
    production (by weekday, and by date — both name the production day)."""

    # A label stored in JSONB, which holds no NUL and no lone surrogate (the pattern is
    # tally.sdk's STORABLE_TEXT; the calendar does without the SDK).
    name: Annotated[str, msgspec.Meta(max_length=64, pattern=r"^[^\x00\ud800-\udfff]*$")] = ""
    shifts: tuple[Shift, ...] = ()
    cleaning: tuple[Cleaning, ...] = ()
    days_off: tuple[Weekday, ...] = ()
    dates_off: tuple[date, ...] = ()

    def __post_init__(self) -> None:
        names = [shift.name for shift in self.shifts]
        for index, name in enumerate(names):
            if name in names[:index]:
                raise PlanError(f"shifts[{index}].name = {name!r} is used twice: name it apart")
        _no_overlap("shifts", [(s.start_minute, s.minutes) for s in self.shifts])
        _no_overlap("cleaning", [(c.start_minute, c.minutes) for c in self.cleaning])
        _unique("days_off", self.days_off)
        _unique("dates_off", self.dates_off)

    def has_production(self, day: date) -> bool:
        """Whether the production day named `day` has production (not a day off)."""
        return Weekday.of(day) not in self.days_off and day not in self.dates_off

    def check_day_start(self, day_start: time) -> None:
        """Raise `PlanError` unless every shift and cleaning window fits in a production day
        that starts at `day_start` (a window belongs to the day it starts in and may not run
        into the next one)."""
        if day_start.second or day_start.microsecond:
            raise PlanError(f"day_start = {day_start}: a production day starts on a whole minute")
        first = day_start.hour * 60 + day_start.minute
        windows = [("shifts", s.start, s.start_minute, s.minutes) for s in self.shifts]
        windows += [("cleaning", c.start, c.start_minute, c.minutes) for c in self.cleaning]
        seen: dict[str, int] = {}
        for field, start, minute, length in windows:
            index = seen[field] = seen.get(field, -1) + 1
            if (minute - first) % MINUTES_PER_DAY + length > MINUTES_PER_DAY:
                raise PlanError(
                    f"{field}[{index}] ({start} for {length} min) runs past the start of the "
                    f"next production day at {day_start:%H:%M}: end it by then, or move the "
                    "site's day start"
                )


def _minute_of(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def _no_overlap(field: str, windows: list[tuple[int, int]]) -> None:
    """Windows (start minute, length) on the 24-hour clock must not overlap."""
    for i, (start_i, length_i) in enumerate(windows):
        for j in range(i + 1, len(windows)):
            start_j, length_j = windows[j]
            after = (start_j - start_i) % MINUTES_PER_DAY
            if after < length_i or (MINUTES_PER_DAY - after) % MINUTES_PER_DAY < length_j:
                raise PlanError(
                    f"{field}[{i}] and {field}[{j}] overlap on the 24-hour clock: "
                    f"{field} must not overlap one another"
                )


def _unique(field: str, values: tuple[object, ...]) -> None:
    for index, value in enumerate(values):
        if value in values[:index]:
            raise PlanError(f"{field}[{index}] = {value!s} is listed twice")

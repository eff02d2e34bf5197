"""Local wall-clock time of an IANA zone, as instants: where a wall time falls, and the local
hour an instant lies in.

Instants are seconds since the Unix epoch. A wall time that does not exist (in the spring gap)
means the first instant after the gap; one that exists twice (in the autumn fold) means the first
of the two. A local hour is told apart by its UTC offset, so the autumn night has two 01:00 hours
(in Europe/Berlin: two 02:00 hours) and the spring night none for the skipped hour.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

_HOUR = 3600


@dataclass(frozen=True, slots=True)
class LocalHour:
    """One local clock hour [start, end) in epoch seconds: `local` is its naive local start and
    `utc_offset_minutes` the offset it is told apart by. Usually 3600 s long; shorter where an
    offset change falls inside it (a zone that shifts by half an hour)."""

    start: int
    end: int
    local: datetime
    utc_offset_minutes: int

    @property
    def label(self) -> str:
        """ISO 8601 with the offset, e.g. "2025-10-26T02:00+01:00"."""
        sign = "-" if self.utc_offset_minutes < 0 else "+"
        hours, minutes = divmod(abs(self.utc_offset_minutes), 60)
        return f"{self.local:%Y-%m-%dT%H:%M}{sign}{hours:02d}:{minutes:02d}"


class LocalClock:
    """Wall-clock times of one zone as instants, and instants as local hours. Remembers the last
    hour asked for, which is the common case of asking about increasing times."""

    __slots__ = ("_last_hour", "zone")

    def __init__(self, timezone: str) -> None:
        self.zone = ZoneInfo(timezone)
        self._last_hour = LocalHour(0, 0, datetime.min, 0)

    def instant(self, wall: datetime) -> int:
        """The instant of a naive local wall time (gap: the first instant after it; fold: the
        first of the two)."""
        zone = self.zone
        first = int(wall.replace(tzinfo=zone, fold=0).timestamp())
        if self.wall(first) == wall:
            return first
        # In a gap fold=0 reads the wall time with the offset before the change, which lands
        # past the gap; fold=1 with the offset after, which lands before it. The gap's end lies
        # between: the first instant whose wall time is later than the one asked for.
        low = int(wall.replace(tzinfo=zone, fold=1).timestamp())
        high = first
        while high - low > 1:
            middle = (low + high) // 2
            if self.wall(middle) > wall:
                high = middle
            else:
                low = middle
        return high

    def wall(self, t: float) -> datetime:
        """The naive local wall time of an instant."""
        return datetime.fromtimestamp(t, self.zone).replace(tzinfo=None)

    def offset_minutes(self, t: float) -> int:
        """The zone's UTC offset at an instant, in minutes."""
        offset = datetime.fromtimestamp(t, UTC).astimezone(self.zone).utcoffset()
        assert offset is not None  # a ZoneInfo always knows its offset
        return int(offset.total_seconds()) // 60

    def hour(self, t: float) -> LocalHour:
        """The local hour holding instant t."""
        last = self._last_hour
        if last.start <= t < last.end:
            return last
        second = math.floor(t)
        local = datetime.fromtimestamp(second, self.zone)
        offset = self.offset_minutes(second)
        floor = second - local.minute * 60 - local.second
        start = floor
        if self.offset_minutes(floor) != offset:
            start = self._change_after(floor, second)
        end = floor + _HOUR
        if self.offset_minutes(end - 1) != offset:
            end = self._change_after(second, end - 1)
        self._last_hour = hour = LocalHour(start, end, self.wall(start), offset)
        return hour

    def _change_after(self, low: int, high: int) -> int:
        """The first instant in (low, high] whose offset differs from low's (one change
        between them at most, as within any hour)."""
        before = self.offset_minutes(low)
        while high - low > 1:
            middle = (low + high) // 2
            if self.offset_minutes(middle) == before:
                low = middle
            else:
                high = middle
        return high

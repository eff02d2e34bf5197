"""The time ranges the figures endpoints take: [from, to) checked against what one request may
span, in the site's local time when sent without an offset.

A range is bounded per bucket size so that no request reads more than a few thousand rollup
rows: a minute's figures come from the busiest table there is. Pages (`limit`, `next`) cut
what a bounded range still holds into answers of a reasonable size.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from tally.api.figure_paths import Bucket
from tally.sdk import Rejected, invalid

# What one request may span, per bucket size (the 422 names it).
LONGEST = {
    Bucket.MINUTE: timedelta(days=2),
    Bucket.HOUR: timedelta(days=93),
    Bucket.SHIFT: timedelta(days=366),
    Bucket.DAY: timedelta(days=3 * 366),
}
# Hour-lots of an article: a month of them at most (hundreds of lots per day across lines).
LONGEST_LOTS = timedelta(days=31)
# The dates a request may name: far enough from datetime's own limits (years 1 and 9999) that
# a day's or a range's arithmetic (time zones, defaults, pages) cannot overflow into a 500.
EARLIEST = date(2, 1, 1)
LATEST = date(9998, 12, 31)


@dataclass(frozen=True, slots=True)
class Range:
    """[start, end) as aware datetimes."""

    start: datetime
    end: datetime


def local(at: datetime, timezone: str) -> datetime:
    """`at` as given when it has an offset, else read as the site's local wall time."""
    if at.tzinfo is not None:
        return at
    # fold=0: an ambiguous autumn wall time means the first of the two, as the calendar does.
    return at.replace(tzinfo=ZoneInfo(timezone))


def bounded(
    start: datetime | None,
    end: datetime | None,
    timezone: str,
    longest: timedelta,
    what: str,
    default: Range,
) -> Range:
    """The range, or a 422 naming `from` or `to` and the longest span allowed for `what`.
    Neither given: `default`; one of them: a range as long as `default` from or to it."""
    if start is not None:
        in_calendar(start.date(), "from", start.isoformat())
    if end is not None:
        in_calendar(end.date(), "to", end.isoformat())
    length = default.end - default.start
    if start is None and end is None:
        return default
    if start is None:
        last = local(end, timezone) if end is not None else default.end
        return Range(last - length, last)
    first = local(start, timezone)
    if end is None:
        return Range(first, first + length)
    last = local(end, timezone)
    if last <= first:
        raise invalid(
            f"'to' ({last.isoformat()}) must come after 'from' ({first.isoformat()})",
            "to",
            end.isoformat(),
        )
    if last - first > longest:
        raise too_long(end, longest, what)
    return Range(first, last)


def too_long(end: datetime, longest: timedelta, what: str) -> Rejected:
    """422 naming `to`, and the longest span allowed."""
    return invalid(
        f"{what} spans at most {longest.days} days per request; ask for a shorter range (or a "
        "larger bucket), or page through it",
        "to",
        end.isoformat(),
    )


def in_calendar(day: date, field: str, value: str) -> None:
    """A 422 naming `field` when `day` lies outside [EARLIEST, LATEST]."""
    if not EARLIEST <= day <= LATEST:
        raise invalid(
            f"{field!r} ({value}) lies outside the dates this API reckons with "
            f"({EARLIEST.isoformat()} to {LATEST.isoformat()}); send a date within them",
            field,
            value,
        )

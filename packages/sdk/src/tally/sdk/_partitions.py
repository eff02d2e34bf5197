"""The day partitions of every table declared with `tally_declare_partitioned`.

Raw data, consumers' ledgers and whatever else a migration declares (db/migrations/0007) are
kept in daily partitions on UTC days: `tally_ensure_partitions` makes them (for every declared
table at once), `tally_expire_datapoints` drops whole days past every tenant's retention and
trims the shorter ones. `DayPartitions` calls both and remembers, per process, the days it has
made, so a batch of a day already there costs no round trip::

    partitions = DayPartitions(database)
    await partitions.ensure(utc_days([m.ts for m in messages]))   # before the batch's transaction
    await partitions.expire(today)                                # on a schedule

A day is made in a transaction of its own, before the work that needs it: partition DDL in a
consumer's transaction would hold the creators' lock until that transaction commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

import msgspec

from tally.sdk._database import Database, Tx
from tally.sdk._queries import query

# tally_ensure_partitions refuses more than this at once.
_LONGEST_SPAN = timedelta(days=366)


class Partitions(msgspec.Struct, frozen=True):
    partitions: int


@query(Partitions, "SELECT tally_ensure_partitions($1, $2) AS partitions")
def ensure_partitions(first: date, last: date) -> None: ...


@query(Partitions, "SELECT tally_expire_datapoints($1) AS partitions")
def expire_datapoints(today: date) -> None: ...


def utc_days(times: Iterable[datetime]) -> set[date]:
    """The UTC days of `times` (timezone-aware): the partitions rows of those times need."""
    days = set()
    for ts in times:
        offset = ts.utcoffset()
        days.add((ts - offset).date() if offset else ts.date())
    return days


class DayPartitions:
    """Creates day partitions ahead and on demand, and expires old ones; one per process."""

    def __init__(self, database: Database) -> None:
        self._database = database
        # UTC days whose partitions exist; bounded by the days of data seen, not by messages.
        self._made: set[date] = set()

    async def ensure(self, days: Iterable[date]) -> None:
        """Make sure every declared table has a partition for each of `days`."""
        missing = set(days) - self._made
        if not missing:
            return
        first, last = min(missing), max(missing)
        # One call makes the whole span: the days between are cheap and usually needed soon. A
        # span past the function's limit (a replay from long ago) is made day by day instead.
        spans = (
            [(first, last)] if last - first <= _LONGEST_SPAN else [(d, d) for d in sorted(missing)]
        )
        for start, end in spans:

            async def make(tx: Tx, start: date = start, end: date = end) -> int:
                return (await tx.fetch_one(ensure_partitions(start, end))).partitions

            await self._database.transaction(make)
            self._made.update(start + timedelta(days=n) for n in range((end - start).days + 1))

    async def expire(self, today: date) -> int:
        """Drop the days past every tenant's retention; return how many partitions went."""

        async def expire(tx: Tx) -> int:
            return (await tx.fetch_one(expire_datapoints(today))).partitions

        dropped = await self._database.transaction(expire)
        if dropped:
            self.forget()
        return dropped

    def forget(self) -> None:
        """Forget which days exist: after an expiry here, or when a write found a day missing
        (another process expired it), so the next `ensure` makes it again."""
        self._made.clear()

"""Recompute a tenant's figures from the raw rows: `tally rollup rebuild`.

The same `recompute` the rollup runs, over each machine's production days [first, last] of its
site, one day per transaction; it replaces whole buckets, so it gives exactly the rows the
rollup keeps, and may run while the rollup does (both take the same per-machine and per-line
locks).
"""

from __future__ import annotations

from datetime import date, timedelta

from tally.figures._recompute import Touched, calendar_of, recompute
from tally.registry import load_snapshot
from tally.sdk import Database, DayPartitions, Tx


async def rebuild(database: Database, tenant: str, first: date, last: date) -> int:
    """Recompute every machine's production days [first, last]; returns machine-days done."""
    snapshot = await load_snapshot(database, tenant)
    await DayPartitions(database).ensure(
        {first + timedelta(days=n) for n in range(-2, (last - first).days + 3)}
    )
    done = 0
    for machine in sorted(snapshot.machines):
        calendar = calendar_of(snapshot, machine)
        if calendar is None:
            continue
        for n in range((last - first).days + 1):
            day = calendar.day(first + timedelta(days=n))
            touched = Touched(tenant=tenant, machine=machine, start=day.start, end=day.end)

            async def work(tx: Tx, touched: Touched = touched) -> int:
                return len(await recompute(tx, snapshot, touched))

            done += await database.transaction(work, tenant=tenant, max_retries=5) > 0
    return done

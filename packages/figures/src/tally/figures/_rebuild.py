"""Recompute a tenant's figures from the raw rows, day by day: `tally rollup rebuild`.

The same `recompute` the rollup runs, over every machine of the tenant and every production day
of its site in [first, last]; it replaces whole buckets, so it gives exactly the rows the rollup
keeps, and may run while the rollup does (both take the same per-machine and per-line locks).
"""

from __future__ import annotations

import math
from datetime import date, timedelta

from tally.figures._recompute import NEIGHBOUR_SECONDS, Touched, recompute
from tally.registry import load_snapshot
from tally.sdk import Database, DayPartitions, Tx


async def rebuild(database: Database, tenant: str, first: date, last: date) -> int:
    """Recompute every machine's production days [first, last]; returns machine-days done."""
    snapshot = await load_snapshot(database, tenant)
    partitions = DayPartitions(database)
    await partitions.ensure({first + timedelta(days=n) for n in range(-1, (last - first).days + 2)})
    done = 0
    for machine in sorted(snapshot.machines):
        members = snapshot.memberships(machine, -math.inf, math.inf)
        site_line = snapshot.line(members[-1].line) if members else None
        if site_line is None:
            continue
        calendar = site_line.site.calendar
        for n in range((last - first).days + 1):
            day = calendar.day(first + timedelta(days=n))
            # Inside the day by more than the neighbour margin: exactly this day is recomputed.
            margin = NEIGHBOUR_SECONDS
            touched = Touched(
                tenant=tenant, machine=machine, start=day.start + margin, end=day.end - margin
            )

            async def work(tx: Tx, touched: Touched = touched) -> None:
                await recompute(tx, snapshot, touched)

            await database.transaction(work, tenant=tenant, max_retries=5)
            done += 1
    return done

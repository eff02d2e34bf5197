"""The rollup: recompute the buckets each stored range touched, from the raw rows.

The recorder publishes a STORED notice per machine after each commit. A batch of notices is
merged per machine into one range, and each machine's range is recomputed in a transaction of
its own (tally.figures.recompute replaces whole buckets): a redelivered or repeated notice, or
notices in any order, leave the same rows, so the batch is simply acknowledged after its
transactions commit. A crash before that redelivers the batch; nothing is ever half-written.

The machines of a batch are recomputed `CONCURRENT_MACHINES` at a time: a recomputation mostly
waits on PostgreSQL, and the per-machine and per-line locks it takes (sorted, so never in a
deadlock) keep two transactions off the same machine's or line's rows. While a backlog exists
the consumer's batches are large, so a busy machine is recomputed once per batch, not per
recorder commit.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from prometheus_client import Counter, Histogram

from tally.contracts import STORED, Stored
from tally.figures import Touched, recompute
from tally.registry import RegistrySnapshot, SnapshotCache
from tally.sdk import (
    Consumer,
    Database,
    DatabaseRuntime,
    DayPartitions,
    Envelope,
    NoSettings,
    Service,
    Tx,
)

_log = logging.getLogger("tally.rollup")


@dataclass(frozen=True)
class RollupDeps:
    database: Database
    partitions: DayPartitions
    registry: SnapshotCache
    recomputed: Counter
    seconds: Histogram


def merged(notices: Sequence[Stored]) -> list[Touched]:
    """One range per tenant and machine: the union of what the notices covered."""
    spans: dict[tuple[str, str], tuple[float, float]] = {}
    for notice in notices:
        key = (notice.tenant, notice.machine)
        first, last = notice.first, notice.last
        if key in spans:
            first, last = min(first, spans[key][0]), max(last, spans[key][1])
        spans[key] = (first, last)
    return [
        Touched(tenant=tenant, machine=machine, start=first, end=last)
        for (tenant, machine), (first, last) in sorted(spans.items())
    ]


# Machines recomputed at once, each in a transaction (and a pooled connection) of its own;
# below the SDK's pool of 10 connections.
CONCURRENT_MACHINES = 4


async def recompute_batch(deps: RollupDeps, batch: Sequence[Envelope[Stored]]) -> None:
    """Recompute every machine the batch touched; the SDK acks the batch after this returns."""
    ranges = merged([envelope.message for envelope in batch])
    if not ranges:
        return
    # Their production days (and their stops' margins) reach up to a day either side in UTC.
    await deps.partitions.ensure(
        set().union(*(utc_days_around(t.start - 2 * 86400, t.end + 2 * 86400) for t in ranges))
    )
    waiting = list(reversed(ranges))

    async def worker() -> None:
        while waiting:
            await recompute_machine(deps, waiting.pop())

    await asyncio.gather(*(worker() for _ in range(min(CONCURRENT_MACHINES, len(ranges)))))


async def recompute_machine(deps: RollupDeps, touched: Touched) -> None:
    snapshot = await deps.registry.of(touched.tenant)
    started = time.perf_counter()

    async def work(tx: Tx, snapshot: RegistrySnapshot = snapshot) -> int:
        return len(await recompute(tx, snapshot, touched))

    days = await deps.database.transaction(work, tenant=touched.tenant, max_retries=5)
    deps.recomputed.labels(touched.tenant).inc(days)
    deps.seconds.observe(time.perf_counter() - started)


def utc_days_around(start: float, end: float) -> set[date]:
    """Every UTC day from `start`'s to `end`'s."""
    first = datetime.fromtimestamp(start, UTC).date()
    last = datetime.fromtimestamp(end, UTC).date()
    return {first + timedelta(days=n) for n in range((last - first).days + 1)}


@asynccontextmanager
async def rollup_deps(runtime: DatabaseRuntime, settings: NoSettings) -> AsyncIterator[RollupDeps]:
    registry = runtime.metrics.registry
    yield RollupDeps(
        database=runtime.database,
        partitions=DayPartitions(runtime.database),
        registry=SnapshotCache(runtime.database),
        recomputed=Counter(
            "tally_rollup_machine_days_recomputed",
            "Machine production days recomputed from raw rows",
            ["tenant"],
            registry=registry,
        ),
        seconds=Histogram(
            "tally_rollup_recompute_seconds",
            "Seconds to recompute one machine's touched days",
            registry=registry,
        ),
    )


service = Service(
    name="rollup",
    settings=NoSettings,
    deps=rollup_deps,
    consumers=[
        # Large batches over a second: notices of one machine are merged, so a busy machine's
        # day is recomputed once per batch, not once per recorder commit.
        Consumer("rollup", STORED, recompute_batch, batch_size=1000, max_wait=1.0),
    ],
    uses_database=True,
    database_role="tally_rollup",
    default_port=8083,
)

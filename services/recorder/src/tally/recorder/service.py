"""The recorder: every telemetry message into the raw tables, exactly once.

One transaction per batch: the message identities go into the ledger (a duplicate conflicts and
is skipped), the new messages' signals go in with COPY, then commit, then ack. A crash anywhere
before the commit leaves nothing behind and the batch is redelivered; a crash after it only
causes a redelivery whose identities are already in the ledger.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
from prometheus_client import Counter

from tally.contracts import STORED, TELEMETRY, Telemetry
from tally.recorder.queries import TELEMETRY_LEDGER
from tally.recorder.rows import days_touched, stored_notices, table_rows
from tally.recorder.settings import RecorderSettings
from tally.sdk import (
    Broker,
    Consumer,
    Database,
    DatabaseRuntime,
    DayPartitions,
    Envelope,
    Schedule,
    ScheduledRun,
    Service,
    Slot,
    Tx,
    by_tenant,
    every,
)

_log = logging.getLogger("tally.recorder")


@dataclass(frozen=True)
class RecorderDeps:
    database: Database
    broker: Broker
    partitions: DayPartitions
    settings: RecorderSettings
    stored: Counter
    rows: Counter
    duplicates: Counter


async def record_batch(deps: RecorderDeps, batch: Sequence[Envelope[Telemetry]]) -> None:
    """Store a batch in one transaction; the SDK acks it after this returns."""
    messages = [envelope.message for envelope in batch]
    await deps.partitions.ensure(days_touched(messages))
    # A batch mixes tenants: each tenant's messages are claimed and written as that tenant's.
    tenants = {t: [e.message for e in envelopes] for t, envelopes in by_tenant(batch).items()}

    async def write(tx: Tx) -> dict[str, tuple[int, int]]:
        return {
            tenant: await _write_tenant(tx, tenant, theirs) for tenant, theirs in tenants.items()
        }

    try:
        stored = await deps.database.transaction(write, max_retries=5)
    except asyncpg.CheckViolationError:
        # "No partition for the row": another process expired a day this one had made (a
        # replay older than every retention). Made again when the batch comes back.
        deps.partitions.forget()
        raise
    # After the commit, before the ack: what each machine's messages covered, duplicates
    # included (a batch redelivered after a crash between commit and publish must still tell
    # the rollup; a repeated notice only repeats an idempotent recomputation).
    for notice in stored_notices(messages):
        await deps.broker.publish(STORED, notice)
    for tenant, (messages_stored, rows) in stored.items():
        deps.stored.labels(tenant).inc(messages_stored)
        deps.rows.labels(tenant).inc(rows)
        deps.duplicates.labels(tenant).inc(len(tenants[tenant]) - messages_stored)


async def _write_tenant(tx: Tx, tenant: str, messages: list[Telemetry]) -> tuple[int, int]:
    """Ledger first: only messages whose identity is new get their signals stored.

    No tenant scope is set: tally_ingest bypasses row-level security (COPY needs that)."""
    new = await TELEMETRY_LEDGER.claim(tx, tenant, messages)
    rows = table_rows(new)
    for copy, records in rows.copies():
        await tx.copy_records(copy, records)
    return len(new), rows.count


async def maintain(deps: RecorderDeps, run: ScheduledRun[datetime]) -> None:
    """Make the partitions of the days ahead before they come, and expire old data."""
    today = datetime.now(UTC).date()
    ahead = range(-1, deps.settings.partitions_ahead_days + 1)
    await deps.partitions.ensure({today + timedelta(days=n) for n in ahead})
    dropped = await deps.partitions.expire(today)
    if dropped:
        _log.info("expired %d partitions", dropped)


async def maintenance_slots(
    deps: RecorderDeps, since: datetime, until: datetime
) -> list[Slot[datetime]]:
    """Every `maintenance_seconds`; after downtime only the latest missed run, not each."""
    period = timedelta(seconds=deps.settings.maintenance_seconds)
    return every(period).between(since, until)[-1:]


@asynccontextmanager
async def recorder_deps(
    runtime: DatabaseRuntime, settings: RecorderSettings
) -> AsyncIterator[RecorderDeps]:
    registry = runtime.metrics.registry
    yield RecorderDeps(
        database=runtime.database,
        broker=runtime.broker,
        partitions=DayPartitions(runtime.database),
        settings=settings,
        stored=Counter(
            "tally_recorder_messages_stored",
            "Telemetry messages stored",
            ["tenant"],
            registry=registry,
        ),
        rows=Counter(
            "tally_recorder_datapoints_stored",
            "Signals stored as rows of the raw tables",
            ["tenant"],
            registry=registry,
        ),
        duplicates=Counter(
            "tally_recorder_duplicates_dropped",
            "Telemetry messages already stored",
            ["tenant"],
            registry=registry,
        ),
    )


service = Service(
    name="recorder",
    settings=RecorderSettings,
    deps=recorder_deps,
    consumers=[
        # 500 messages (~10k rows) per transaction amortises the commit; two batches in
        # flight keep the database busy while the next batch is fetched and decoded.
        Consumer("recorder", TELEMETRY, record_batch, batch_size=500, max_wait=0.25, concurrency=2),
    ],
    # Once across all recorder processes: partitions ahead, and expiry.
    schedules=[Schedule("maintenance", maintain, maintenance_slots)],
    publishes=[STORED],
    uses_database=True,
    database_role="tally_ingest",
    default_port=8081,
)

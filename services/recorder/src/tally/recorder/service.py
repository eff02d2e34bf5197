"""The recorder: every telemetry message into the raw tables, exactly once.

One transaction per batch: the message identities go into the ledger (a duplicate conflicts and
is skipped), the new messages' signals go in with COPY, then commit, then ack. A crash anywhere
before the commit leaves nothing behind and the batch is redelivered; a crash after it only
causes a redelivery whose identities are already in the ledger.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from prometheus_client import Counter

from tally.contracts import TELEMETRY, Telemetry
from tally.recorder.queries import ensure_partitions, expire_datapoints, ledger_entries
from tally.recorder.rows import days_touched, table_rows
from tally.recorder.settings import RecorderSettings
from tally.sdk import Consumer, Database, Envelope, Runtime, Service, Tx

_log = logging.getLogger("tally.recorder")
_LONGEST_SPAN = timedelta(days=366)


@dataclass(frozen=True)
class RecorderDeps:
    database: Database
    settings: RecorderSettings
    stored: Counter
    rows: Counter
    duplicates: Counter
    # UTC days whose partitions exist; bounded by the days of data seen, not by messages.
    partitioned: set[date] = field(default_factory=set)


async def record_batch(deps: RecorderDeps, batch: Sequence[Envelope[Telemetry]]) -> None:
    """Store a batch in one transaction; the SDK acks it after this returns."""
    messages = [envelope.message for envelope in batch]
    await _ensure_partitions(deps, days_touched(messages))
    received: dict[str, int] = {}
    by_tenant: dict[str, dict[str, Telemetry]] = {}
    for message in messages:
        received[message.tenant] = received.get(message.tenant, 0) + 1
        # The same identity twice in one batch is stored once.
        by_tenant.setdefault(message.tenant, {})[message.identity] = message

    async def write(tx: Tx) -> dict[str, tuple[int, int]]:
        return {
            tenant: await _write_tenant(tx, tenant, list(unique.values()))
            for tenant, unique in by_tenant.items()
        }

    stored = await deps.database.transaction(write, max_retries=5)
    for tenant, (messages_stored, rows) in stored.items():
        deps.stored.labels(tenant).inc(messages_stored)
        deps.rows.labels(tenant).inc(rows)
        deps.duplicates.labels(tenant).inc(received[tenant] - messages_stored)


async def _write_tenant(tx: Tx, tenant: str, messages: list[Telemetry]) -> tuple[int, int]:
    """Ledger first: only messages whose identity is new get their signals stored.

    No tenant scope is set: tally_ingest bypasses row-level security (COPY needs that)."""
    new = await tx.fetch(ledger_entries(tenant, messages))
    fresh = {(n.machine, n.boot_id, n.seq) for n in new}
    to_store = [m for m in messages if (m.machine, m.boot_id, m.seq) in fresh]
    rows = table_rows(to_store)
    for copy, records in rows.copies():
        await tx.copy_records(copy, records)
    return len(to_store), rows.count


async def _ensure_partitions(deps: RecorderDeps, days: set[date]) -> None:
    missing = days - deps.partitioned
    if not missing:
        return
    first, last = min(missing), max(missing)
    # One call creates the whole span: the days between are cheap and usually needed soon. A
    # span past the function's limit (a replay from long ago) is created day by day instead.
    spans = [(first, last)] if last - first <= _LONGEST_SPAN else [(d, d) for d in sorted(missing)]
    for start, end in spans:
        await deps.database.transaction(_create_partitions(start, end))
        deps.partitioned.update(start + timedelta(days=n) for n in range((end - start).days + 1))


def _create_partitions(first: date, last: date) -> Callable[[Tx], Awaitable[int]]:
    async def create(tx: Tx) -> int:
        return (await tx.fetch_one(ensure_partitions(first, last))).partitions

    return create


async def _maintain(deps: RecorderDeps) -> None:
    """Create tomorrow's partitions before tomorrow, and expire old data, periodically."""
    while True:
        today = datetime.now(UTC).date()
        try:
            ahead = range(-1, deps.settings.partitions_ahead_days + 1)
            await _ensure_partitions(deps, {today + timedelta(days=n) for n in ahead})
            dropped = await deps.database.transaction(_expire_before(today))
            if dropped:
                _log.info("expired %d partitions", dropped)
                # Forget what was dropped: a late message for such a day re-creates it.
                deps.partitioned.clear()
        except Exception:
            _log.exception("maintenance failed; trying again next round")
        await asyncio.sleep(deps.settings.maintenance_seconds)


def _expire_before(today: date) -> Callable[[Tx], Awaitable[int]]:
    async def expire(tx: Tx) -> int:
        return (await tx.fetch_one(expire_datapoints(today))).partitions

    return expire


@contextlib.asynccontextmanager
async def recorder_deps(
    runtime: Runtime, settings: RecorderSettings
) -> AsyncIterator[RecorderDeps]:
    assert runtime.database is not None, "the recorder declares uses_database"
    deps = RecorderDeps(
        database=runtime.database,
        settings=settings,
        stored=Counter(
            "tally_recorder_messages_stored",
            "Telemetry messages stored",
            ["tenant"],
            registry=runtime.metrics.registry,
        ),
        rows=Counter(
            "tally_recorder_datapoints_stored",
            "Signals stored as rows of the raw tables",
            ["tenant"],
            registry=runtime.metrics.registry,
        ),
        duplicates=Counter(
            "tally_recorder_duplicates_dropped",
            "Telemetry messages already stored",
            ["tenant"],
            registry=runtime.metrics.registry,
        ),
    )
    maintenance = asyncio.create_task(_maintain(deps))
    try:
        yield deps
    finally:
        maintenance.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await maintenance


service = Service(
    name="recorder",
    settings=RecorderSettings,
    deps=recorder_deps,
    consumers=[
        # 500 messages (~10k rows) per transaction amortises the commit; two batches in
        # flight keep the database busy while the next batch is fetched and decoded.
        Consumer("recorder", TELEMETRY, record_batch, batch_size=500, max_wait=0.25, concurrency=2),
    ],
    uses_database=True,
    database_role="tally_ingest",
    default_port=8081,
)

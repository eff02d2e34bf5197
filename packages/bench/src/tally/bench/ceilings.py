"""The hardware's ceilings for the recorder's job, measured with the corpus itself.

COPY: the recorder's own rows (`tally.recorder.rows.table_rows`, in its batch shape: 500
messages per transaction, one COPY per tenant and table) into unindexed twins of the raw tables
(`CREATE TABLE … (LIKE …)` in a scratch schema, dropped afterwards), from one connection and
from two sharing the batches. The rows are built before the clock starts: this is what
PostgreSQL can take, not what Python can make.

JetStream: the corpus published with acknowledgements (400 in flight, each with its message id,
as the gateway publishes), then pull-consumed by a fresh durable consumer in batches of 500 with
an ack per message, as every consumer here does.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import FetchTimeoutError

from tally.bench.context import STALL_SECONDS, Bench
from tally.bench.measure import Ratio, Run, Series, StageResult
from tally.bench.meter import measure
from tally.contracts import Telemetry
from tally.recorder.rows import RAW_TABLES, table_rows

SCRATCH = "tally_bench_scratch"
BATCH = 500  # the recorder consumer's batch_size
Batch = list[tuple[str, list[Any], tuple[str, ...]]]


def copy_batches(messages: list[Telemetry]) -> list[Batch]:
    """Per 500 messages: each tenant's COPYs (table, rows, columns), as the recorder makes them."""
    batches: list[Batch] = []
    for start in range(0, len(messages), BATCH):
        tenants: dict[str, list[Telemetry]] = {}
        for message in messages[start : start + BATCH]:
            tenants.setdefault(message.tenant, []).append(message)
        batch: Batch = []
        for tenant_messages in tenants.values():
            for copy, records in table_rows(tenant_messages).copies():
                batch.append((copy.table, records, tuple(copy.columns)))
        batches.append(batch)
    return batches


async def make_twins(url: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(f"CREATE SCHEMA IF NOT EXISTS {SCRATCH}")
        for copy in RAW_TABLES:
            await connection.execute(
                f"CREATE TABLE IF NOT EXISTS {SCRATCH}.{copy.table} (LIKE public.{copy.table})"
            )
    finally:
        await connection.close()


async def drop_twins(url: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(f"DROP SCHEMA IF EXISTS {SCRATCH} CASCADE")
    finally:
        await connection.close()


async def copy_run(bench: Bench, batches: list[Batch], connections: int) -> Run:
    """Every batch in one transaction, spread over `connections` connections."""
    opened = [await asyncpg.connect(bench.database_url) for _ in range(connections)]
    try:
        tables = ", ".join(f"{SCRATCH}.{copy.table}" for copy in RAW_TABLES)
        await opened[0].execute(f"TRUNCATE {tables}")
        queue = list(reversed(batches))

        async def worker(connection: asyncpg.Connection[asyncpg.Record]) -> None:
            while queue:
                batch = queue.pop()
                async with connection.transaction():
                    for table, records, columns in batch:
                        await connection.copy_records_to_table(
                            table, schema_name=SCRATCH, records=records, columns=columns
                        )

        rows = sum(len(records) for batch in batches for _, records, _ in batch)
        async with measure(bench.groups()) as usage:
            started = time.perf_counter()
            await asyncio.gather(*(worker(c) for c in opened))
            seconds = time.perf_counter() - started
    finally:
        for connection in opened:
            await connection.close()
    return Run(rows, seconds, usage.cpu_seconds, usage.peak_rss_mib)


async def consume_run(bench: Bench, durable: str) -> Run:
    """Pull-consume the whole stream with a fresh consumer, acking each message."""
    expected = len(bench.corpus.wire)
    subscription = await bench.js.pull_subscribe(
        "telemetry.>",
        durable=durable,
        stream="TELEMETRY",
        config=ConsumerConfig(
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=60,
            max_ack_pending=4 * BATCH,
        ),
    )
    done = datapoints = 0
    async with measure(bench.groups()) as usage:
        started = time.perf_counter()
        since = time.monotonic()
        while done < expected:
            try:
                batch = await subscription.fetch(BATCH, timeout=1.0)
            except (FetchTimeoutError, TimeoutError):
                if time.monotonic() - since > STALL_SECONDS:
                    raise RuntimeError(f"consumed {done} of {expected} messages, no more") from None
                continue
            since = time.monotonic()
            for msg in batch:
                await msg.ack()
            done += len(batch)
        await bench.client.flush()
        seconds = time.perf_counter() - started
    await subscription.unsubscribe()
    datapoints = bench.corpus.datapoints
    return Run(datapoints, seconds, usage.cpu_seconds, usage.peak_rss_mib)


async def copy_stage(bench: Bench) -> StageResult:
    result = StageResult(
        "copy_ceiling",
        "COPY ceiling: the recorder's rows into unindexed twins of the raw tables",
    )
    one = Series("copy_1", "COPY, 1 connection")
    two = Series("copy_2", "COPY, 2 connections")
    batches = copy_batches(bench.corpus.messages)
    await make_twins(bench.database_url)
    try:
        for _ in range(bench.options.repeats):
            one.runs.append(await copy_run(bench, batches, 1))
            two.runs.append(await copy_run(bench, batches, 2))
    finally:
        await drop_twins(bench.database_url)
    result.series += [one, two]
    result.ratios.append(Ratio(two, one))
    result.notes.append(
        f"{len(batches)} transactions of up to {BATCH} messages; CPU is PostgreSQL's and "
        "nats-server's (idle here); the benchmark's own process is the client and not counted."
    )
    return result


async def jetstream_stage(bench: Bench) -> StageResult:
    result = StageResult("jetstream_ceiling", "JetStream ceiling: publish with acks, pull-consume")
    publish = Series("js_publish", "publish with acks (400 in flight)")
    consume = Series("js_consume", "pull-consume, batches of 500, ack each")
    for turn in range(bench.options.repeats):
        await bench.fresh_stream()
        async with measure(bench.groups()) as usage:
            run = await bench.publish(bench.corpus.wire)
        publish.runs.append(Run(run.datapoints, run.seconds, usage.cpu_seconds))
        consume.runs.append(await consume_run(bench, f"bench_ceiling_{turn}"))
    result.series += [publish, consume]
    result.ratios.append(Ratio(consume, publish))
    result.notes.append(
        "Datapoints/s counts each message's signals; CPU is nats-server's and PostgreSQL's "
        "(idle), not the client's."
    )
    return result

"""Gateway and recorder throughput, each as a ratio to a ceiling measured in the same run.

    uv run python benchmarks/pipeline_throughput.py [--quick]

Servers: NATS JetStream and PostgreSQL with fsync on (embedded, fast=False), or the ones named
by TALLY_NATS_URL / TALLY_OWNER_DATABASE_URL (then the run publishes into that server's TELEMETRY
stream and runs its "recorder" durable consumer: give it a server of its own). The gateway and
the recorder run as real processes with one worker each; this process is the client.

Gateway: datapoints/s accepted by POST /v1/telemetry (JSON uploads of 50 messages × 20
signals, 8 uploads in flight, every machine with its own token; tenants' rate limits set out
of the way), against the ceiling of this same client publishing the same messages straight to
JetStream (NatsBroker.publish, 400 in flight, as many as the gateway has in flight), which is
what the gateway does after authenticating and validating. Ratio = gateway / ceiling: the
price of HTTP, auth, decoding and validation, and of the extra hop. Raw and gateway phases
alternate twice, so the machine's noise falls on both.

Recorder: the stream then holds every message published above; the recorder starts and works
through that backlog. Rows stored per second (its own metric, from the first stored message
to the last, or to the time budget) against two ceilings measured right after it on the same
database, from one connection, with the same rows in the recorder's batch shape (500 messages,
one transaction a batch, one COPY per tenant and table):
  - copy_unindexed: COPY into unindexed copies of the raw tables (benchmark 1's ceiling);
  - recorder_sql: the recorder's own SQL (ledger INSERT … ON CONFLICT, then COPY into the real,
    indexed tables) without the broker and the service runtime.
recorder / copy_unindexed is the whole price of storing (ledger, indexes, broker, decoding);
recorder / recorder_sql is the price of the broker and runtime alone (it can exceed 1: the
recorder keeps two batches in flight).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks._common import (
    Deadline,
    machine_info,
    print_table,
    service_environment,
    write_results,
)
from benchmarks._fleet import SIGNALS_PER_MESSAGE, TelemetrySource, machine_message
from tally.contracts import TELEMETRY, TELEMETRY_STREAM, Telemetry, Upload
from tally.recorder.queries import TELEMETRY_LEDGER
from tally.recorder.rows import RAW_TABLES, table_rows
from tally.registry import Line, Machine, MachineKind, Registry, Site, Tenant
from tally.sdk import Database, NatsBroker
from tally.supervisor import ServiceProcess, ServiceProcesses, scrape, total

TENANTS = 3
MACHINES_PER_TENANT = 8
UPLOAD_MESSAGES = 50
UPLOADS_IN_FLIGHT = 8
RAW_IN_FLIGHT = UPLOAD_MESSAGES * UPLOADS_IN_FLIGHT
RECORDER_BATCH = 500  # the recorder consumer's batch_size
STORED_ROWS = "tally_recorder_datapoints_stored_total"


@dataclass(frozen=True)
class Rate:
    phase: str
    messages: int
    seconds: float

    @property
    def datapoints_per_s(self) -> float:
        return self.messages * SIGNALS_PER_MESSAGE / self.seconds


# --- the gateway against raw JetStream publishes --------------------------------------------


async def provision(url: str, source: TelemetrySource) -> dict[tuple[str, str], str]:
    """Tenants (rate limits out of the way), one site and line each, machines and tokens."""
    tokens: dict[tuple[str, str], str] = {}
    async with await Database.connect(url, max_size=2, switch_role=True) as database:
        registry = Registry(database)
        for tenant in source.tenants:
            await registry.put_tenant(Tenant(tenant=tenant, name=tenant, rate_per_second=10**9))
            await registry.put_site(
                Site(tenant=tenant, site="s1", name="plant", timezone="Europe/Berlin")
            )
            await registry.put_line(Line(tenant=tenant, line="l1", site="s1", name="line 1"))
        for position, (tenant, machine) in enumerate(source.machines):
            await registry.put_machine(
                Machine(
                    tenant=tenant,
                    machine=machine,
                    line="l1",
                    kind=MachineKind.OTHER,
                    position=position % 100,
                )
            )
            tokens[(tenant, machine)] = await registry.issue_token(tenant, machine)
    return tokens


async def for_a_while(seconds: float, workers: int, step: Callable[[], Awaitable[int]]) -> Rate:
    """Run `workers` loops of `step` (which returns messages done) until time is up."""
    end = time.perf_counter() + seconds
    done = 0

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < end:
            finished = await step()  # not `done += await …`: that reads `done` before awaiting
            done += finished

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    return Rate("", done, time.perf_counter() - started)


async def raw_publishes(broker: NatsBroker, source: TelemetrySource, seconds: float) -> Rate:
    async def step() -> int:
        await broker.publish(TELEMETRY, source.next())
        return 1

    rate = await for_a_while(seconds, RAW_IN_FLIGHT, step)
    return Rate("raw JetStream publish (ceiling)", rate.messages, rate.seconds)


async def gateway_uploads(
    client: httpx.AsyncClient,
    gateway: ServiceProcess,
    source: TelemetrySource,
    tokens: dict[tuple[str, str], str],
    seconds: float,
) -> Rate:
    # Each upload is one machine's: the source is round robin over machines, so take every
    # machine's next UPLOAD_MESSAGES messages and split them per machine.
    pending: list[tuple[str, bytes]] = []
    encode = msgspec.json.Encoder().encode

    def refill() -> None:
        per_machine: dict[tuple[str, str], list[Telemetry]] = {}
        for message in source.batch(UPLOAD_MESSAGES * len(source.machines)):
            per_machine.setdefault((message.tenant, message.machine), []).append(message)
        for key, messages in per_machine.items():
            body = encode(Upload(messages=[machine_message(m) for m in messages]))
            pending.append((tokens[key], body))

    async def step() -> int:
        if not pending:
            refill()
        token, body = pending.pop()
        response = await client.post(
            f"{gateway.url}/v1/telemetry",
            content=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        if response.status_code != 200:
            raise RuntimeError(f"gateway answered {response.status_code}: {response.text}")
        accepted: int = response.json()["accepted"]
        return accepted

    rate = await for_a_while(seconds, UPLOADS_IN_FLIGHT, step)
    return Rate("gateway POST /v1/telemetry", rate.messages, rate.seconds)


# --- the recorder against COPY -------------------------------------------------------------


async def recorder_backlog(
    recorder: ServiceProcess, tenants: list[str], backlog_rows: int, budget: float
) -> Rate:
    """Rows/s while the recorder works through the backlog: first stored to last (or budget)."""
    async with httpx.AsyncClient(timeout=5.0) as client:

        async def rows() -> int:
            samples = await scrape(client, recorder.ops_url)
            return int(sum(total(samples, STORED_ROWS, tenant=t) for t in tenants))

        waiting = Deadline(60)
        while (first := await rows()) == 0:
            if waiting.passed or recorder.process.poll() is not None:
                raise RuntimeError(f"the recorder stored nothing; see {recorder.log}")
            await asyncio.sleep(0.02)
        started = time.perf_counter()
        deadline = Deadline(budget)
        now = first
        while now < backlog_rows and not deadline.passed:
            await asyncio.sleep(0.1)
            now = await rows()
        seconds = time.perf_counter() - started
    return Rate("recorder (catching up a backlog)", (now - first) // SIGNALS_PER_MESSAGE, seconds)


async def copy_ceiling(
    connection: asyncpg.Connection[asyncpg.Record],
    source: TelemetrySource,
    seconds: float,
    *,
    recorder_sql: bool,
) -> Rate:
    """The same rows in the recorder's batch shape: one transaction per 500 messages."""
    suffix = "" if recorder_sql else "_unindexed"
    done = 0
    elapsed = 0.0
    while elapsed < seconds:
        batch = source.batch(RECORDER_BATCH)
        by_tenant: dict[str, list[Telemetry]] = {}
        for message in batch:
            by_tenant.setdefault(message.tenant, []).append(message)
        started = time.perf_counter()
        async with connection.transaction():
            for tenant, messages in by_tenant.items():
                if recorder_sql:
                    # The recorder's own ledger statement, so the benchmark measures what runs.
                    ledger = TELEMETRY_LEDGER.statement(tenant, messages)
                    await connection.fetch(ledger.query.sql, *ledger.args)
                for copy, records in table_rows(messages).copies():
                    await connection.copy_records_to_table(
                        copy.table + suffix, records=records, columns=copy.columns
                    )
        elapsed += time.perf_counter() - started
        done += len(batch)
    name = "recorder's SQL, no broker" if recorder_sql else "COPY, unindexed tables (ceiling)"
    return Rate(name, done, elapsed)


async def unindexed_copies(connection: asyncpg.Connection[asyncpg.Record]) -> None:
    """Partitioned, unindexed twins of the raw tables, with the recorder's days."""
    today = datetime.now(UTC).date()
    for table in (copy.table for copy in RAW_TABLES):
        await connection.execute(
            f"CREATE TABLE {table}_unindexed (LIKE {table}) PARTITION BY RANGE (ts)"
        )
        for n in (-1, 0, 1):
            day = today + timedelta(days=n)
            await connection.execute(
                f"CREATE TABLE {table}_unindexed_{day:%Y%m%d} PARTITION OF {table}_unindexed "
                f"FOR VALUES FROM ('{day}') TO ('{day + timedelta(days=1)}')"
            )


# --- the run -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    gateway: list[Rate]
    raw: list[Rate]
    recorder: Rate
    copy_unindexed: Rate
    recorder_sql: Rate


async def run(phase_seconds: float) -> tuple[dict[str, object], Outcome]:
    info = machine_info()
    async with service_environment("tally_bench_pipe", fast=False, client_name="bench-pipe") as env:
        outcome = await measure(env.database_url, env.broker, env.processes, phase_seconds)
    setup: dict[str, object] = {
        "signals_per_message": SIGNALS_PER_MESSAGE,
        "tenants": TENANTS,
        "machines": TENANTS * MACHINES_PER_TENANT,
        "upload_messages": UPLOAD_MESSAGES,
        "uploads_in_flight": UPLOADS_IN_FLIGHT,
        "raw_publishes_in_flight": RAW_IN_FLIGHT,
        "phase_seconds": phase_seconds,
        "gateway_workers": 1,
        "recorder_workers": 1,
    }
    return env.header("pipeline_throughput", info, setup), outcome


async def measure(
    url: str, broker: NatsBroker, processes: ServiceProcesses, phase_seconds: float
) -> Outcome:
    source = TelemetrySource(
        tenants=TENANTS, machines_per_tenant=MACHINES_PER_TENANT, prefix="pipe"
    )
    tokens = await provision(url, source)
    await broker.ensure_stream(TELEMETRY_STREAM)
    gateway = processes.start("gateway")
    await processes.wait_ready(gateway)
    raw: list[Rate] = []
    through_gateway: list[Rate] = []
    async with httpx.AsyncClient(timeout=30.0) as client:
        # Warm-up: token caches, connections, JIT-less but still: first requests are slower.
        await gateway_uploads(client, gateway, source, tokens, 1.0)
        await raw_publishes(broker, source, 1.0)
        for _ in range(2):
            raw.append(await raw_publishes(broker, source, phase_seconds))
            print(f"  {raw[-1].phase}: {raw[-1].datapoints_per_s:,.0f} datapoints/s")
            through_gateway.append(
                await gateway_uploads(client, gateway, source, tokens, phase_seconds)
            )
            print(f"  {through_gateway[-1].phase}: {through_gateway[-1].datapoints_per_s:,.0f}")
    gateway.process.terminate()
    gateway.process.wait(30)

    backlog_rows = source.produced * SIGNALS_PER_MESSAGE
    print(f"  recorder: working through {source.produced:,} messages …")
    recorder = processes.start("recorder")
    await processes.wait_ready(recorder)
    recorded = await recorder_backlog(recorder, source.tenants, backlog_rows, 4 * phase_seconds)
    print(f"  {recorded.phase}: {recorded.datapoints_per_s:,.0f} rows/s")
    recorder.process.terminate()
    recorder.process.wait(30)

    connection = await asyncpg.connect(url)
    try:
        await unindexed_copies(connection)
        ceiling_source = TelemetrySource(
            tenants=TENANTS, machines_per_tenant=MACHINES_PER_TENANT, prefix="copy"
        )
        unindexed = await copy_ceiling(
            connection, ceiling_source, 2 * phase_seconds, recorder_sql=False
        )
        sql = await copy_ceiling(connection, ceiling_source, 2 * phase_seconds, recorder_sql=True)
    finally:
        await connection.close()
    return Outcome(through_gateway, raw, recorded, unindexed, sql)


def summary(outcome: Outcome) -> dict[str, object]:
    raw = sum(r.messages for r in outcome.raw) / sum(r.seconds for r in outcome.raw)
    gateway = sum(r.messages for r in outcome.gateway) / sum(r.seconds for r in outcome.gateway)
    recorder = outcome.recorder.datapoints_per_s
    return {
        "raw_publish_datapoints_per_s": round(raw * SIGNALS_PER_MESSAGE),
        "gateway_datapoints_per_s": round(gateway * SIGNALS_PER_MESSAGE),
        "gateway_ratio_to_raw_publish": round(gateway / raw, 3),
        "recorder_rows_per_s": round(recorder),
        "copy_unindexed_rows_per_s": round(outcome.copy_unindexed.datapoints_per_s),
        "recorder_sql_rows_per_s": round(outcome.recorder_sql.datapoints_per_s),
        "recorder_ratio_to_copy_unindexed": round(
            recorder / outcome.copy_unindexed.datapoints_per_s, 3
        ),
        "recorder_ratio_to_recorder_sql": round(
            recorder / outcome.recorder_sql.datapoints_per_s, 3
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 s phases instead of 8 s")
    args = parser.parse_args()
    started = time.monotonic()
    header, outcome = asyncio.run(run(3.0 if args.quick else 8.0))
    results = summary(outcome)
    header.update(
        {
            "quick": args.quick,
            "wall_seconds": round(time.monotonic() - started, 1),
            "phases": [
                {**asdict(r), "datapoints_per_s": round(r.datapoints_per_s)}
                for r in [
                    *outcome.raw,
                    *outcome.gateway,
                    outcome.recorder,
                    outcome.copy_unindexed,
                    outcome.recorder_sql,
                ]
            ],
            **results,
        }
    )
    print()
    print_table(
        ["measured", "datapoints/s", "ceiling", "ceiling datapoints/s", "ratio"],
        [
            (
                "gateway (1 worker)",
                results["gateway_datapoints_per_s"],
                "raw JetStream publish",
                results["raw_publish_datapoints_per_s"],
                results["gateway_ratio_to_raw_publish"],
            ),
            (
                "recorder (1 worker)",
                results["recorder_rows_per_s"],
                "COPY, unindexed",
                results["copy_unindexed_rows_per_s"],
                results["recorder_ratio_to_copy_unindexed"],
            ),
            (
                "recorder (1 worker)",
                results["recorder_rows_per_s"],
                "recorder's SQL, no broker",
                results["recorder_sql_rows_per_s"],
                results["recorder_ratio_to_recorder_sql"],
            ),
        ],
    )
    print(f"\nwritten to {write_results('pipeline_throughput', header, quick=args.quick)}")


if __name__ == "__main__":
    main()

"""What every stage gets: the options, the servers and their processes, a migrated database of
the run's own, the corpus, the services, and the few operations stages share (a fresh stream,
empty raw tables, a backlog published, counting what is stored)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import asyncpg
import nats
from nats.aio.client import Client
from nats.js import JetStreamContext

from tally.bench.corpus import Corpus, Wire
from tally.bench.measure import Run
from tally.bench.profiles import profiled
from tally.contracts import TELEMETRY_STREAM
from tally.recorder.rows import RAW_TABLES
from tally.sdk import NatsBroker
from tally.supervisor import ServiceProcess, ServiceProcesses

LEDGER = "telemetry_messages"
# A drain that stores nothing new for this long is stuck (a message dead-lettered, a service
# wedged): the stage fails instead of waiting for ever.
STALL_SECONDS = 120.0
# Publishes in flight when filling a backlog or measuring raw publish: as many as the gateway
# has in flight for 8 uploads of 50 messages.
PUBLISH_IN_FLIGHT = 400


@dataclass(frozen=True)
class BenchOptions:
    quick: bool
    # Turns of each alternation (A, B, A, B …).
    repeats: int
    soak_seconds: float
    workers: int
    # Simulated days of the fleet in the corpus.
    corpus_days: float
    nats_url: str | None
    postgres_url: str | None
    results_dir: Path
    migrations: Path
    # Stage keys to run (None: all); py-spy profiles of the services when set.
    only: tuple[str, ...] | None = None
    profile_dir: Path | None = None


@dataclass
class Bench:
    options: BenchOptions
    database_url: str
    nats_url: str
    corpus: Corpus
    processes: ServiceProcesses
    broker: NatsBroker
    client: Client
    js: JetStreamContext
    server_pids: dict[str, list[int]]
    # Figures one stage hands to a later one (the end-to-end maximum rate, for the soak).
    facts: dict[str, float] = field(default_factory=dict)

    def groups(self, *services: ServiceProcess, **others: list[int]) -> dict[str, list[int]]:
        """Process groups to measure: the given services, the servers, any others."""
        groups = {service.name: [service.process.pid] for service in services}
        return {**groups, **self.server_pids, **others}

    def profile(self, label: str, pid: int, turn: int) -> AbstractAsyncContextManager[None]:
        """py-spy on `pid` during the first turn, when profiles were asked for."""
        folder = self.options.profile_dir if turn == 0 else None
        return profiled(folder, label, pid)

    async def fresh_stream(self) -> None:
        """The TELEMETRY stream new and empty (no consumers but the recorder's, no
        de-duplication memory), so every turn publishes the same corpus anew."""
        with contextlib.suppress(nats.js.errors.NotFoundError):
            await self.js.delete_stream(TELEMETRY_STREAM.name)
        await self.broker.ensure_stream(TELEMETRY_STREAM)

    async def empty_tables(self) -> None:
        """No stored message: the ledger and the raw tables emptied (as the owner)."""
        tables = ", ".join([LEDGER, *(copy.table for copy in RAW_TABLES)])
        connection = await asyncpg.connect(self.database_url)
        try:
            await connection.execute(f"TRUNCATE {tables}")
        finally:
            await connection.close()

    async def ensure_partitions(self) -> None:
        """The day partitions the corpus needs, made ahead so no contender pays for them."""
        days = {m.ts.date() for m in self.corpus.messages}
        first, last = min(days) - timedelta(days=1), max(days) + timedelta(days=1)
        connection = await asyncpg.connect(self.database_url)
        try:
            await connection.execute("SELECT tally_ensure_partitions($1, $2)", first, last)
        finally:
            await connection.close()

    async def publish(self, wire: list[Wire], in_flight: int = PUBLISH_IN_FLIGHT) -> Run:
        """Publish with acknowledgements (and the message id, as the gateway does)."""
        queue = list(reversed(wire))

        async def worker() -> None:
            while queue:
                message = queue.pop()
                await self.js.publish(
                    message.subject, message.data, headers={"Nats-Msg-Id": message.msg_id}
                )

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(min(in_flight, len(wire)))))
        return Run(sum(w.datapoints for w in wire), time.perf_counter() - started)

    async def stored(self) -> int:
        """Messages in the ledger: stored by whoever did the recorder's job."""
        connection = await asyncpg.connect(self.database_url)
        try:
            return int(await connection.fetchval(f"SELECT count(*) FROM {LEDGER}"))
        finally:
            await connection.close()

    async def stored_span(self) -> tuple[float, float, int] | None:
        """From the ledger, the same way for every contender: the wall-clock start of the first
        and of the last transaction that stored messages (`received_at` is `now()`, the
        transaction's start), and the datapoints stored by the transactions before the last.
        None when one transaction stored everything."""
        connection = await asyncpg.connect(self.database_url)
        try:
            row = await connection.fetchrow(
                f"SELECT extract(epoch FROM min(received_at))::float8 AS first, "
                f"extract(epoch FROM max(received_at))::float8 AS last, "
                f"(SELECT coalesce(sum(signals), 0) FROM {LEDGER} WHERE received_at < "
                f"(SELECT max(received_at) FROM {LEDGER}))::bigint AS datapoints FROM {LEDGER}"
            )
        finally:
            await connection.close()
        if row is None or row["first"] is None or row["last"] <= row["first"]:
            return None
        return float(row["first"]), float(row["last"]), int(row["datapoints"])

    async def stop(self, service: ServiceProcess) -> None:
        """SIGTERM (it drains), then wait without blocking the event loop."""
        service.process.terminate()
        while True:
            if service.process.poll() is not None:
                break
            await asyncio.sleep(0.05)
        self.processes.running.pop(service.name, None)


async def connect_nats(url: str) -> tuple[Client, JetStreamContext]:
    client = await nats.connect(url, name="tally-bench")
    return client, client.jetstream(timeout=30)

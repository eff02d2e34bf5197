"""Fixtures of the fault suite: servers of its own (it restarts and kills them), and one
`FaultRun` per scenario on a database of its own.

Not the session's `nats_url`/`database_url` servers: other tests use those, and these get
killed. This PostgreSQL runs with `synchronous_commit` on, as in production (a commit the
recorder acknowledged must survive the kill -9 of the postmaster), and `fsync` off, which only
an operating-system crash could notice.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import secrets
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from tally.sdk import DEAD_LETTER_STREAM, NatsBroker, Stream, StreamLimits, migrate
from tally.sdk.embedded import EmbeddedNats, EmbeddedPostgres
from tally.simulator import build_fleet, provision
from tally.supervisor import ServiceProcesses
from tests.conftest import ROOT, SEED, fresh_telemetry

from .load import Machine
from .report import REPORT, ScenarioReport
from .scenario import FaultRun

TENANTS = 2
# The same machine ids in both tenants (see load.py).
MACHINES = ("l1-slicer", "l1-thermoformer", "l1-checkweigher")
ACK_WAIT_SECONDS = 5.0
# The services' defaults: one replica, 1 GiB.
STREAM_LIMITS = StreamLimits(replicas=1, max_bytes=1024**3)


@dataclass(frozen=True)
class FaultServers:
    postgres: EmbeddedPostgres
    nats: EmbeddedNats
    # A database at head that each scenario's database copies (CREATE DATABASE … TEMPLATE, a
    # file copy instead of every migration); nobody connects to it.
    template: str


@pytest.fixture(scope="session")
def fault_servers() -> Iterator[FaultServers]:
    # Not under tmp_path, for the reason the SDK's pytest plugin gives.
    folder = tempfile.TemporaryDirectory(prefix="tally-faults-", ignore_cleanup_errors=True)
    with (
        folder,
        EmbeddedPostgres(Path(folder.name)) as postgres,
        EmbeddedNats(Path(folder.name)) as nats,
    ):
        statements = ("ALTER SYSTEM SET fsync = off", "SELECT pg_reload_conf()")
        asyncio.run(_execute(postgres.url, *statements))
        template = "tally_faults_template"
        asyncio.run(_execute(postgres.url, f'CREATE DATABASE "{template}"'))
        asyncio.run(migrate(_database_url(postgres.url, template), ROOT / "db" / "migrations"))
        yield FaultServers(postgres, nats, template)


@pytest.fixture
def fault_report(request: pytest.FixtureRequest) -> ScenarioReport:
    """The session's reconciliation table, for this scenario's line."""
    return ScenarioReport(request.config.stash[REPORT], inspect.getdoc(request.function) or "")


@pytest.fixture
async def fault_run(
    fault_servers: FaultServers, fault_report: ScenarioReport, tmp_path: Path
) -> AsyncIterator[FaultRun]:
    """A scenario on the fault suite's own NATS and PostgreSQL."""
    async with open_fault_run(fault_servers, fault_servers.nats.url, fault_report, tmp_path) as run:
        yield run


@contextlib.asynccontextmanager
async def open_fault_run(
    servers: FaultServers,
    nats_url: str,
    report: ScenarioReport,
    folder: Path,
    limits: StreamLimits = STREAM_LIMITS,
) -> AsyncIterator[FaultRun]:
    """A migrated, provisioned database of its own on the fault suite's PostgreSQL (a copy of
    its template), the TELEMETRY stream of `nats_url` emptied, services that declare the
    streams with `limits` and stop at the end, and the load of two tenants."""
    assert limits.max_bytes is not None, "the services' setting has no 'unbounded'"
    name = f"tally_faults_{secrets.token_hex(4)}"
    server_url = servers.postgres.url
    await _execute(server_url, f'CREATE DATABASE "{name}" TEMPLATE "{servers.template}"')
    database_url = _database_url(server_url, name)
    try:
        tokens = await provision(build_fleet(SEED, tenants=TENANTS), database_url)
        await fresh_telemetry(nats_url, limits)
        await _declare(nats_url, DEAD_LETTER_STREAM, limits)
        machines = [
            Machine(tenant, machine, token)
            for (tenant, machine), token in tokens.items()
            if machine in MACHINES
        ]
        services = ServiceProcesses(
            env={
                "TALLY_NATS_URL": nats_url,
                "TALLY_LOG_LEVEL": "warning",
                # What a killed recorder held comes back after this, not the declared 30 s.
                "TALLY_CONSUMERS_ACK_WAIT_SECONDS": str(ACK_WAIT_SECONDS),
                "TALLY_STREAM_REPLICAS": str(limits.replicas),
                "TALLY_STREAM_MAX_BYTES": str(limits.max_bytes),
            },
            log_dir=folder / "logs",
            owner_database_url=database_url,
        )
        try:
            yield FaultRun(database_url, nats_url, services, machines, report)
        finally:
            services.stop_all()
    finally:
        await _execute(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _database_url(server_url: str, name: str) -> str:
    return urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))


async def _declare(nats_url: str, stream: Stream, limits: StreamLimits) -> None:
    """Declare `stream` before the services do: two services creating a replicated stream at
    the same moment can leave one without an answer (a 5 s timeout at start-up)."""
    broker = await NatsBroker.connect(nats_url, limits=limits)
    try:
        await broker.ensure_stream(stream)
    finally:
        await broker.close()


async def _execute(url: str, *statements: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()

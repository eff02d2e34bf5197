"""Fixtures of the gateway's tests: a migrated database, registered machines, and gateways
started on a real HTTP port against the in-memory or the real broker."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
import httpx
import msgspec
import pytest

from tally.contracts import TELEMETRY_STREAM, Counter, Gauge, MachineMessage, Telemetry, Upload
from tally.gateway.service import GatewayDeps, service
from tally.gateway.settings import GatewaySettings
from tally.sdk import (
    Broker,
    Database,
    MemoryBroker,
    ServiceHost,
    StoredMessage,
    token_hash,
)
from tally.sdk.testing import LoginUrl


@dataclass(frozen=True)
class Machine:
    """A registered machine and the token it authenticates with."""

    tenant: str
    machine: str
    token: str


@dataclass
class Gateway:
    """A running gateway and a client for it."""

    host: ServiceHost[GatewaySettings, GatewayDeps]
    broker: Broker
    client: httpx.AsyncClient

    async def post(
        self,
        machine: Machine | None,
        body: bytes,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        sent = {"Content-Type": content_type, **(headers or {})}
        if machine is not None:
            sent["Authorization"] = f"Bearer {machine.token}"
        return await self.client.post("/v1/telemetry", content=body, headers=sent)

    async def stored(self, tenant: str) -> list[StoredMessage]:
        """What the telemetry stream holds for `tenant` (tests share one NATS server)."""
        return await self.broker.browse(TELEMETRY_STREAM, f"telemetry.{tenant}.>")


StartGateway = Callable[..., Awaitable[Gateway]]
Register = Callable[..., Awaitable[Machine]]


@pytest.fixture
async def database(migrated_database_url: str, login_url: LoginUrl) -> AsyncIterator[Database]:
    # Logs in as the gateway's own role, as the service does.
    role = service.database_role
    db = await Database.connect(
        login_url(migrated_database_url, role), role=role, application_name="gateway"
    )
    yield db
    await db.close()


@pytest.fixture
async def register(migrated_database_url: str) -> Register:
    """Registers a machine of a tenant of its own (tests share the database)."""

    async def register_machine(
        *, rate_per_second: int = 20_000, tenant: str | None = None, revoked: bool = False
    ) -> Machine:
        found = Machine(tenant or f"t{secrets.token_hex(5)}", "slicer-1", secrets.token_hex(16))
        token_sha256 = token_hash(found.token)
        conn = await asyncpg.connect(migrated_database_url)  # the owner: row-level security is moot
        try:
            await conn.execute(
                "INSERT INTO tenants (tenant, name, rate_per_second) VALUES ($1, $1, $2)"
                " ON CONFLICT DO NOTHING",
                found.tenant,
                rate_per_second,
            )
            await conn.execute(
                "INSERT INTO sites (tenant, site, name, timezone) VALUES ($1, 'p1', 'P1', "
                "'Europe/Berlin') ON CONFLICT DO NOTHING",
                found.tenant,
            )
            await conn.execute(
                "INSERT INTO lines (tenant, line, site, name) VALUES ($1, 'l1', 'p1', 'L1')"
                " ON CONFLICT DO NOTHING",
                found.tenant,
            )
            await conn.execute(
                "INSERT INTO machines (tenant, machine, line, kind) VALUES ($1, $2, 'l1', "
                "'slicer') ON CONFLICT DO NOTHING",
                found.tenant,
                found.machine,
            )
            await conn.execute(
                "INSERT INTO machine_tokens (token_sha256, tenant, machine, revoked_at) "
                "VALUES ($1, $2, $3, CASE WHEN $4 THEN now() END)",
                token_sha256,
                found.tenant,
                found.machine,
                revoked,
            )
        finally:
            await conn.close()
        return found

    return register_machine


@pytest.fixture
async def start_gateway(database: Database) -> AsyncIterator[StartGateway]:
    """Starts gateways; all are stopped after the test."""
    started: list[Gateway] = []

    async def start(
        broker: Broker | None = None,
        settings: GatewaySettings | None = None,
        tokens_from: Database | None = None,
    ) -> Gateway:
        broker = broker or MemoryBroker()
        host = ServiceHost(
            service,
            settings or GatewaySettings(),
            broker=broker,
            database=tokens_from or database,
        )
        await host.start()
        client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{host.port}", timeout=20.0)
        gateway = Gateway(host, broker, client)
        started.append(gateway)
        return gateway

    yield start
    for gateway in started:
        await gateway.client.aclose()
        await gateway.host.stop()


def message(seq: int, *, ts: datetime | None = None, boot_id: str = "boot-1") -> MachineMessage:
    ts = ts or datetime.now(UTC)
    return MachineMessage(
        boot_id=boot_id,
        seq=seq,
        ts=ts,
        signals=[
            Counter(name="packs_total", value=1000 + seq),
            Gauge(name="speed", value=118.5, unit="ppm"),
        ],
    )


def upload_json(*seqs: int) -> bytes:
    return msgspec.json.encode(Upload(messages=[message(seq) for seq in seqs]))


def telemetry_of(stored: StoredMessage) -> Telemetry:
    return msgspec.json.decode(stored.data, type=Telemetry)

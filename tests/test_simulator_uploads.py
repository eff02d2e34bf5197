"""The simulator's uploads against a real gateway: too large for one request, or over the
tenant's rate — either way every message is stored exactly once and the sender keeps going."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from tally.contracts import TELEMETRY_STREAM, Counter, MachineMessage, Signal, Upload
from tally.gateway.service import GatewayDeps
from tally.gateway.service import service as gateway_service
from tally.gateway.settings import GatewaySettings
from tally.registry import Registry, Tenant
from tally.sdk import Database, MemoryBroker, ServiceHost
from tally.sdk.testing import LoginUrl
from tally.simulator import Fleet, HttpSender, MachineSpec, Tokens, build_fleet, provision

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Running:
    fleet: Fleet
    tokens: Tokens
    broker: MemoryBroker
    host: ServiceHost[GatewaySettings, GatewayDeps]
    database: Database

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.host.port}"

    async def stored(self) -> list[str]:
        """The identity of every message the broker holds, as often as it holds it."""
        stored = await self.broker.browse(TELEMETRY_STREAM, "telemetry.>")
        return [m.headers["Nats-Msg-Id"] for m in stored]


@pytest.fixture
async def gateway(fresh_database_url: str, login_url: LoginUrl) -> AsyncIterator[Running]:
    fleet = build_fleet(3, tenants=1)
    tokens = await provision(fleet, fresh_database_url)
    role = gateway_service.database_role
    database = await Database.connect(login_url(fresh_database_url, role), role=role, max_size=2)
    broker = MemoryBroker()
    # A small body limit, so that a modest upload is too large for one request.
    host = ServiceHost(
        gateway_service, GatewaySettings(max_body_bytes=20_000), broker=broker, database=database
    )
    await host.start()
    try:
        yield Running(fleet, tokens, broker, host, database)
    finally:
        await host.stop()
        await broker.close()
        await database.close()


def upload(messages: int, signals: int, boot_id: str = "b1") -> Upload:
    ts = datetime.now(UTC) - timedelta(minutes=1)
    batch: list[Signal] = [Counter(name=f"c{n}", value=n) for n in range(signals)]
    return Upload(
        messages=[
            MachineMessage(boot_id=boot_id, seq=seq, ts=ts, signals=batch)
            for seq in range(messages)
        ]
    )


async def test_an_upload_over_the_gateways_body_limit_is_cut_and_stored_once(
    gateway: Running,
) -> None:
    placement = next(p for p in gateway.fleet.placements() if p.machine.type == "checkweigher")
    # The sender believes the default limit (1 MiB) and learns the gateway's from its 413.
    async with HttpSender(gateway.url, gateway.tokens) as sender:
        result = await sender.send(placement.tenant.id, placement.machine, upload(300, 20))

    assert (result.accepted, result.duplicates) == (300, 0)
    stored = await gateway.stored()
    prefix = f"{placement.tenant.id}.{placement.machine.id}.b1"
    assert sorted(stored) == sorted(f"{prefix}.{seq}" for seq in range(300))
    assert sender.max_body_bytes == 20_000


@pytest.mark.slow
async def test_over_the_tenants_rate_the_sender_waits_as_told_and_delivers_everything(
    gateway: Running, fresh_database_url: str
) -> None:
    tenant = gateway.fleet.tenants[0]
    # The budget is set as an administrator would: the owner's URL, as tally_app.
    async with await Database.connect(fresh_database_url, max_size=1, switch_role=True) as owner:
        await Registry(owner).put_tenant(
            Tenant(tenant=tenant.id, name=tenant.name, rate_per_second=400)
        )
    machines: list[MachineSpec] = [p.machine for p in gateway.fleet.placements()][:6]
    async with HttpSender(gateway.url, gateway.tokens) as sender:
        # 6 × 400 datapoints at 400 per second (with a 2 s burst): most are told to wait.
        results = await asyncio.gather(
            *(sender.send(tenant.id, machine, upload(20, 20, boot_id="r")) for machine in machines)
        )

    assert sum(r.accepted for r in results) == 120
    assert sum(r.retries for r in results) > 0  # 429s were answered and waited out
    stored = await gateway.stored()
    assert len(stored) == len(set(stored)) == 120

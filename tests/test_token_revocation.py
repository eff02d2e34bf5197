"""Revoking a machine's tokens — with `tally admin` or over the api — reaches every gateway at
once: the next upload is refused, although each gateway would trust its cache for an hour."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import msgspec
import pytest

from tally.api.service import service as api_service
from tally.api.settings import ApiSettings
from tally.cli.__main__ import main as tally
from tally.contracts import Counter, MachineMessage, Upload
from tally.gateway.service import service as gateway_service
from tally.gateway.settings import GatewaySettings
from tally.registry import Line, Machine, MachineKind, Registry, Site, Tenant
from tally.sdk import Database, MemoryBroker, Secret, ServiceHost
from tally.sdk.testing import LoginUrl, eventually

pytestmark = pytest.mark.integration

ADMIN_TOKEN = "revocation-test-admin-" + "x" * 16
TENANT, MACHINE = "acme", "l1-cw"


@dataclass(frozen=True)
class Gateways:
    """Two gateways, each with its own pool and listener, and a client for each."""

    clients: list[httpx.AsyncClient]
    token: str


@pytest.fixture
async def gateways(fresh_database_url: str, login_url: LoginUrl) -> AsyncIterator[Gateways]:
    # The registry is written as an administrator would: the owner's URL, as tally_app.
    owner = await Database.connect(fresh_database_url, max_size=2, switch_role=True)
    async with owner as database:
        registry = Registry(database)
        await registry.put_tenant(Tenant(tenant=TENANT, name="Acme"))
        await registry.put_site(Site(tenant=TENANT, site="p1", name="P", timezone="Europe/Berlin"))
        await registry.put_line(Line(tenant=TENANT, line="l1", site="p1", name="L1"))
        kind = MachineKind.CHECKWEIGHER
        await registry.put_machine(Machine(tenant=TENANT, machine=MACHINE, line="l1", kind=kind))
        token = await registry.issue_token(TENANT, MACHINE)
    role = gateway_service.database_role
    databases = [
        await Database.connect(login_url(fresh_database_url, role), role=role, max_size=2)
        for _ in range(2)
    ]
    # Entries that would live an hour: only the database's announcement can end them.
    settings = GatewaySettings(token_ttl_seconds=3600)
    hosts = [
        ServiceHost(gateway_service, settings, broker=MemoryBroker(), database=database)
        for database in databases
    ]
    for host in hosts:
        await host.start()
    clients = [httpx.AsyncClient(base_url=f"http://127.0.0.1:{h.port}") for h in hosts]
    try:
        yield Gateways(clients, token)
    finally:
        for client in clients:
            await client.aclose()
        for host in hosts:
            await host.stop()
        for database in databases:
            await database.close()


def answers(client: httpx.AsyncClient, token: str, status: int) -> Callable[[], Awaitable[bool]]:
    """Whether the gateway answers a new upload with `status` now."""
    seqs = itertools.count()

    async def check() -> bool:
        message = MachineMessage(
            boot_id="b1",
            seq=next(seqs),
            ts=datetime.now(UTC),
            signals=[Counter(name="packs_total", value=1)],
        )
        response = await client.post(
            "/v1/telemetry",
            content=msgspec.json.encode(Upload(messages=[message])),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        return response.status_code == status

    return check


async def refused_everywhere(gateways: Gateways) -> None:
    for client in gateways.clients:
        await eventually(answers(client, gateways.token, 401), seconds=30)


async def test_revoked_over_the_api(
    gateways: Gateways, fresh_database_url: str, login_url: LoginUrl
) -> None:
    for client in gateways.clients:
        assert await answers(client, gateways.token, 200)()
    role = api_service.database_role
    database = await Database.connect(login_url(fresh_database_url, role), role=role, max_size=2)
    api = ServiceHost(
        api_service,
        ApiSettings(admin_token=Secret(ADMIN_TOKEN)),
        broker=MemoryBroker(),
        database=database,
    )
    await api.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api.port}") as admin:
            revoked = await admin.delete(
                f"/v1/admin/tenants/{TENANT}/machines/{MACHINE}/tokens",
                headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            )
        assert revoked.status_code == 204, revoked.text
        await refused_everywhere(gateways)
    finally:
        await api.stop()
        await database.close()


async def test_revoked_with_tally_admin(
    gateways: Gateways,
    fresh_database_url: str,
    nats_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for client in gateways.clients:
        assert await answers(client, gateways.token, 200)()
    monkeypatch.setenv("TALLY_OWNER_DATABASE_URL", fresh_database_url)
    monkeypatch.delenv("TALLY_DATABASE_URL", raising=False)
    monkeypatch.setenv("TALLY_NATS_URL", nats_url)
    monkeypatch.setenv("TALLY_STATE_DIR", str(tmp_path))

    def revoke() -> object:
        with pytest.raises(SystemExit) as exited:
            tally(["admin", "token", "revoke", TENANT, MACHINE])
        return exited.value.code

    assert await asyncio.to_thread(revoke) in (0, None)
    await refused_everywhere(gateways)

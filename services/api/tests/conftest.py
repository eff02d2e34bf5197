"""Fixtures of the API's tests: a migrated database, and the API hosted on a real HTTP port."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from tally.api.admin import ApiDeps
from tally.api.service import service
from tally.api.settings import ApiSettings
from tally.sdk import Database, MemoryBroker, Secret, ServiceHost
from tally.sdk.testing import LoginUrl

ADMIN_TOKEN = "test-admin-token-" + "x" * 16


@dataclass(frozen=True)
class Api:
    """A running API and a client for it that sends the administrators' token."""

    host: ServiceHost[ApiSettings, ApiDeps]
    client: httpx.AsyncClient


@pytest.fixture
async def api(migrated_database_url: str, login_url: LoginUrl) -> AsyncIterator[Api]:
    # Logs in as the api's role, as the service does: row-level security applies.
    role = service.database_role
    database = await Database.connect(login_url(migrated_database_url, role), role=role, max_size=4)
    host = ServiceHost(
        service,
        ApiSettings(admin_token=Secret(ADMIN_TOKEN)),
        broker=MemoryBroker(),
        database=database,
    )
    await host.start()
    client = httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{host.port}",
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        timeout=10.0,
    )
    try:
        yield Api(host, client)
    finally:
        await client.aclose()
        await host.stop()
        await database.close()


@pytest.fixture
def tenant() -> str:
    """A tenant id of the test's own (tests share the database)."""
    return f"t{secrets.token_hex(5)}"

"""Login limits hold across workers: failures counted by several processes' pools at once add
up in PostgreSQL, and a lock set by one is seen by all."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import asyncpg
import pytest

from tally.accounts import Accounts, LoginLimited, LoginLimits, LoginRefused, Role
from tally.sdk import Database
from tally.sdk.testing import LoginUrl

pytestmark = pytest.mark.integration

PASSWORD = "correct horse battery staple"


@pytest.fixture
async def workers(fresh_database_url: str, login_url: LoginUrl) -> AsyncIterator[list[Accounts]]:
    """Two api workers: two pools, logged in as tally_app."""
    url = login_url(fresh_database_url, "tally_app")
    databases = [await Database.connect(url, role="tally_app", max_size=4) for _ in range(2)]
    limits = LoginLimits(per_user=6, per_address=1000)
    try:
        yield [Accounts(database, limits=limits) for database in databases]
    finally:
        for database in databases:
            await database.close()


async def _refusal(accounts: Accounts, tenant: str, password: str) -> str:
    try:
        await accounts.login(tenant, "ana@example.com", password, "10.0.0.1")
    except LoginRefused:
        return "refused"
    except LoginLimited:
        return "limited"
    return "logged in"


async def test_concurrent_failures_on_two_workers_all_count(
    workers: list[Accounts], fresh_database_url: str
) -> None:
    tenant = f"t{secrets.token_hex(4)}"
    owner = await asyncpg.connect(fresh_database_url)
    try:
        await owner.execute("INSERT INTO tenants (tenant, name) VALUES ($1, $1)", tenant)
    finally:
        await owner.close()
    first, second = workers
    await first.add_user(tenant, "ana@example.com", "Ana", Role.ADMIN, PASSWORD)

    outcomes = await asyncio.gather(
        *(_refusal(workers[n % 2], tenant, f"guess number {n}") for n in range(6))
    )
    assert outcomes == ["refused"] * 6
    # The sixth failure, on whichever worker, locked the user for both.
    assert await _refusal(first, tenant, PASSWORD) == "limited"
    assert await _refusal(second, tenant, PASSWORD) == "limited"

"""Writing the registry against a real database: tokens are issued, replaced and revoked."""

from __future__ import annotations

import secrets

import asyncpg
import pytest

from tally.registry import (
    Line,
    Machine,
    MachineKind,
    Registry,
    RegistryError,
    Site,
    Tenant,
)
from tally.sdk import token_hash

pytestmark = pytest.mark.integration

AUTHENTICATE = "SELECT tenant, machine FROM tally_authenticate($1)"


async def a_machine(registry: Registry) -> tuple[str, str]:
    """A machine of a tenant of the test's own (tests share the database)."""
    tenant = f"t{secrets.token_hex(5)}"
    await registry.put_tenant(Tenant(tenant=tenant, name="Test tenant"))
    await registry.put_site(Site(tenant=tenant, site="s1", name="Site", timezone="Europe/Berlin"))
    await registry.put_line(Line(tenant=tenant, line="l1", site="s1", name="Line 1"))
    kind = MachineKind.CHECKWEIGHER
    await registry.put_machine(Machine(tenant=tenant, machine="l1-cw", line="l1", kind=kind))
    return tenant, "l1-cw"


async def live(migrated_url: str, *tokens: str) -> list[bool]:
    """Whether the gateway would accept each token (asked through the same function)."""
    conn = await asyncpg.connect(migrated_url)
    try:
        return [await conn.fetchrow(AUTHENTICATE, token_hash(t)) is not None for t in tokens]
    finally:
        await conn.close()


async def test_a_new_token_revokes_the_earlier_ones(registry: Registry, migrated_url: str) -> None:
    tenant, machine = await a_machine(registry)
    first = await registry.issue_token(tenant, machine)
    second = await registry.issue_token(tenant, machine)
    assert await live(migrated_url, first, second) == [False, True]


async def test_revoke_tokens_leaves_the_machine_without_a_live_token(
    registry: Registry, migrated_url: str
) -> None:
    tenant, machine = await a_machine(registry)
    token = await registry.issue_token(tenant, machine)
    await registry.revoke_tokens(tenant, machine)
    await registry.revoke_tokens(tenant, machine)  # nothing left to revoke: harmless
    assert await live(migrated_url, token) == [False]
    assert [row.machine for row in await registry.machines(tenant)] == [machine]


async def test_an_unknown_timezone_is_refused_naming_it(registry: Registry) -> None:
    site = Site(tenant="nobody", site="s1", name="Site", timezone="Europe/Kempten")
    with pytest.raises(RegistryError, match="'Europe/Kempten' is not an IANA zone"):
        await registry.put_site(site)

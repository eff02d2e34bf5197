"""Machine tokens: a cache that spares the database, and revocations that reach it."""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import pytest

from services.gateway.tests.conftest import (
    Gateway,
    Machine,
    Register,
    StartGateway,
    telemetry_of,
    upload_json,
)
from tally.gateway.auth import MachineTokens, TokensUnavailable
from tally.gateway.queries import MachineIdentity
from tally.gateway.service import service
from tally.gateway.settings import GatewaySettings
from tally.sdk import Database, TransactionFailed, token_hash
from tally.sdk.testing import LoginUrl, TcpProxy, eventually

SLICER = MachineIdentity("acme", "slicer-1", 100)


class FakeRegistry:
    """Knows one token (until revoked); counts the lookups that reach it; can be away."""

    def __init__(self, known: str = "good") -> None:
        self.known: bytes | None = digest(known)
        self.lookups = 0
        self.away = False
        self.release = asyncio.Event()
        self.release.set()

    async def lookup(self, token_sha256: bytes) -> MachineIdentity | None:
        self.lookups += 1
        answer = SLICER if token_sha256 == self.known else None  # the row as read now
        await self.release.wait()
        if self.away:
            raise TransactionFailed("transaction work gave up after 4 attempt(s)")
        return answer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def digest(token: str) -> bytes:
    return token_hash(token)


def tokens(
    registry: FakeRegistry, clock: Clock, max_entries: int = 100, timeout: float = 5.0
) -> MachineTokens:
    return MachineTokens(
        registry.lookup,
        ttl=30.0,
        unknown_ttl=5.0,
        max_stale=600.0,
        max_entries=max_entries,
        timeout=timeout,
        quiet=1.0,
        clock=clock,
    )


async def test_a_known_token_is_looked_up_once_per_ttl() -> None:
    registry, clock = FakeRegistry(), Clock()
    cache = tokens(registry, clock)

    assert await cache.identify(digest("good")) == SLICER
    clock.now += 29
    assert await cache.identify(digest("good")) == SLICER
    assert registry.lookups == 1
    clock.now += 2
    assert await cache.identify(digest("good")) == SLICER
    assert registry.lookups == 2


async def test_an_unknown_token_is_remembered_briefly() -> None:
    registry, clock = FakeRegistry(), Clock()
    cache = tokens(registry, clock)

    for _ in range(100):
        assert await cache.identify(digest("bad")) is None
    assert registry.lookups == 1
    clock.now += 6
    assert await cache.identify(digest("bad")) is None
    assert registry.lookups == 2


async def test_concurrent_requests_with_one_token_share_a_lookup() -> None:
    registry, clock = FakeRegistry(), Clock()
    registry.release.clear()
    cache = tokens(registry, clock)

    waiting = [asyncio.create_task(cache.identify(digest("good"))) for _ in range(50)]
    await asyncio.sleep(0.01)  # the scenario: all fifty are asking while the lookup hangs
    registry.release.set()

    assert await asyncio.gather(*waiting) == [SLICER] * 50
    assert registry.lookups == 1


async def test_the_cache_is_bounded() -> None:
    registry, clock = FakeRegistry(), Clock()
    cache = tokens(registry, clock, max_entries=3)
    await cache.identify(digest("good"))
    for n in range(3):
        await cache.identify(digest(f"bad-{n}"))

    await cache.identify(digest("good"))  # evicted as the oldest entry

    assert registry.lookups == 5


async def test_a_known_token_is_served_stale_while_the_database_is_away_up_to_max_stale() -> None:
    registry, clock = FakeRegistry(), Clock()
    cache = tokens(registry, clock)
    assert await cache.identify(digest("good")) == SLICER
    registry.away = True
    clock.now += 31  # expired: the database is asked, and does not answer

    assert await cache.identify(digest("good")) == SLICER
    clock.now += 600 - 31  # confirmed exactly max_stale ago
    assert await cache.identify(digest("good")) == SLICER
    clock.now += 1
    with pytest.raises(TokensUnavailable, match="more than 600 s"):
        await cache.identify(digest("good"))


async def test_tokens_the_cache_cannot_vouch_for_are_unavailable_not_unknown() -> None:
    registry, clock = FakeRegistry(), Clock()
    cache = tokens(registry, clock)
    assert await cache.identify(digest("bad")) is None
    registry.away = True
    clock.now += 6

    # Known to be unknown a moment ago, but a token issued since would look the same.
    with pytest.raises(TokensUnavailable):
        await cache.identify(digest("bad"))
    clock.now += 1
    with pytest.raises(TokensUnavailable):
        await cache.identify(digest("never-seen"))


async def test_after_a_failed_lookup_the_database_is_left_alone_for_a_moment() -> None:
    registry, clock = FakeRegistry(), Clock()
    cache = tokens(registry, clock)
    registry.away = True
    with pytest.raises(TokensUnavailable):
        await cache.identify(digest("good"))
    registry.away = False

    with pytest.raises(TokensUnavailable):
        await cache.identify(digest("good"))
    assert registry.lookups == 1
    clock.now += 1
    assert await cache.identify(digest("good")) == SLICER  # a failure is never cached
    assert registry.lookups == 2


async def test_a_lookup_slower_than_the_timeout_counts_as_the_database_away() -> None:
    registry, clock = FakeRegistry(), Clock()
    cache = tokens(registry, clock, timeout=0.05)
    assert await cache.identify(digest("good")) == SLICER
    clock.now += 31
    registry.release.clear()  # the database hangs

    assert await cache.identify(digest("good")) == SLICER
    with pytest.raises(TokensUnavailable):
        await cache.identify(digest("never-seen"))


async def test_an_announced_change_drops_the_entry_at_once_and_it_is_never_served_stale() -> None:
    registry, clock = FakeRegistry(), Clock()
    cache = tokens(registry, clock)
    assert await cache.identify(digest("good")) == SLICER
    registry.known = None  # revoked

    cache.changed(digest("good").hex())

    assert await cache.identify(digest("good")) is None
    cache.changed(digest("good").hex())
    registry.away = True
    with pytest.raises(TokensUnavailable):
        await cache.identify(digest("good"))


async def test_an_answer_given_before_an_announced_change_is_not_kept() -> None:
    registry, clock = FakeRegistry(), Clock()
    cache = tokens(registry, clock)
    registry.release.clear()
    asked = asyncio.create_task(cache.identify(digest("good")))
    await asyncio.sleep(0.01)  # the lookup has read the row: still valid

    registry.known = None
    cache.changed(digest("good").hex())
    registry.release.set()

    assert await asked == SLICER  # asked before the revocation was known
    assert await cache.identify(digest("good")) is None
    assert registry.lookups == 2


async def test_after_listening_again_every_entry_is_checked_but_kept_for_stale_answers() -> None:
    registry, clock = FakeRegistry(), Clock()
    cache = tokens(registry, clock)
    assert await cache.identify(digest("good")) == SLICER

    cache.reverify_all()
    assert await cache.identify(digest("good")) == SLICER
    assert registry.lookups == 2
    cache.reverify_all()
    registry.away = True
    assert await cache.identify(digest("good")) == SLICER
    assert registry.lookups == 3


@pytest.mark.parametrize("payload", ["*", "not hex", "abcd"])
async def test_every_token_changed_or_a_garbled_announcement_empties_the_cache(
    payload: str,
) -> None:
    registry, clock = FakeRegistry(), Clock()
    cache = tokens(registry, clock)
    assert await cache.identify(digest("good")) == SLICER

    cache.changed(payload)

    registry.away = True
    with pytest.raises(TokensUnavailable):
        await cache.identify(digest("good"))


# End to end: a gateway on real HTTP and a real PostgreSQL, reached through a proxy a test can
# cut (an outage, as the gateway sees it) without stopping the session's server.


@pytest.fixture
async def proxied(
    migrated_database_url: str, login_url: LoginUrl
) -> AsyncIterator[tuple[TcpProxy, Database]]:
    """A database reached through a proxy, and a pool (and listener) opened through it, logged
    in as the gateway's role."""
    async with TcpProxy.to(migrated_database_url) as proxy:
        role = service.database_role
        database = await Database.connect(login_url(proxy.url, role), role=role)
        try:
            yield proxy, database
        finally:
            await proxy.restore()  # a pool closes quickly only when it can say goodbye
            await database.close()


def answers(gateway: Gateway, machine: Machine, status: int) -> Callable[[], Awaitable[bool]]:
    """Whether the gateway answers a new upload of `machine` with `status` now."""
    seqs = itertools.count(1000)

    async def check() -> bool:
        response = await gateway.post(machine, upload_json(next(seqs)))
        return response.status_code == status

    return check


async def change_tenant(database_url: str, tenant: str, statement: str) -> None:
    """Run `statement` for a tenant as an administrator would: straight in the database."""
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(statement, tenant)
    finally:
        await connection.close()


@pytest.mark.integration
async def test_known_machines_upload_through_a_database_outage_and_unknown_ones_get_503(
    proxied: tuple[TcpProxy, Database],
    start_gateway: StartGateway,
    register: Register,
    caplog: pytest.LogCaptureFixture,
) -> None:
    proxy, database = proxied
    known, unverified = await register(), await register()
    # Entries expire at once: every upload below needs the database, or the stale answer.
    gateway = await start_gateway(
        settings=GatewaySettings(token_ttl_seconds=0.001), tokens_from=database
    )
    assert (await gateway.post(known, upload_json(1))).status_code == 200

    await proxy.cut()
    with caplog.at_level(logging.DEBUG, logger="tally.gateway"):
        during = [(await gateway.post(known, upload_json(seq))).status_code for seq in range(2, 7)]
        refused = [await gateway.post(unverified, upload_json(seq)) for seq in range(1, 21)]

    assert during == [200] * 5
    assert [r.status_code for r in refused] == [503] * 20
    assert refused[0].headers["Retry-After"] == "2"
    assert "cannot be checked" in refused[0].json()["detail"]
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("tally.gateway") and r.levelno >= logging.WARNING
    ]
    # One line for the stale answers, one for the refusals; their repeats are counted.
    assert len(warnings) == 2, warnings
    await proxy.restore()
    await eventually(answers(gateway, unverified, 200), seconds=30)
    stored = await gateway.stored(known.tenant)
    assert [telemetry_of(m).seq for m in stored] == [1, 2, 3, 4, 5, 6]


REVOCATIONS = {
    "revoked": "UPDATE machine_tokens SET revoked_at = now() WHERE tenant = $1",
    "token deleted": "DELETE FROM machine_tokens WHERE tenant = $1",
    "machine removed": "DELETE FROM machines WHERE tenant = $1",
    "tenant removed": "DELETE FROM tenants WHERE tenant = $1",
}


@pytest.fixture
async def named_database(
    migrated_database_url: str, login_url: LoginUrl
) -> AsyncIterator[tuple[str, Database]]:
    """A second pool, with an application name of its own (its listener's: NAME-listen)."""
    name = f"gw-{secrets.token_hex(4)}"
    role = service.database_role
    database = await Database.connect(
        login_url(migrated_database_url, role), role=role, application_name=name
    )
    yield name, database
    await database.close()


@pytest.mark.integration
@pytest.mark.parametrize("how", list(REVOCATIONS))
async def test_a_revocation_reaches_every_gateway_at_once(
    named_database: tuple[str, Database],
    start_gateway: StartGateway,
    register: Register,
    migrated_database_url: str,
    how: str,
) -> None:
    machine = await register()
    # Only the database's announcement can end these entries: they would live for an hour.
    settings = GatewaySettings(token_ttl_seconds=3600)
    gateways = [
        await start_gateway(settings=settings),
        await start_gateway(settings=settings, tokens_from=named_database[1]),
    ]
    for gateway in gateways:
        assert (await gateway.post(machine, upload_json(1))).status_code == 200

    await change_tenant(migrated_database_url, machine.tenant, REVOCATIONS[how])

    for gateway in gateways:
        await eventually(answers(gateway, machine, 401), seconds=30)


@pytest.mark.integration
async def test_a_killed_listener_listens_again_and_revocations_still_apply(
    named_database: tuple[str, Database],
    start_gateway: StartGateway,
    register: Register,
    migrated_database_url: str,
) -> None:
    name, database = named_database
    machine = await register()
    gateway = await start_gateway(
        settings=GatewaySettings(token_ttl_seconds=3600), tokens_from=database
    )
    assert (await gateway.post(machine, upload_json(1))).status_code == 200
    connection = await asyncpg.connect(migrated_database_url)
    try:
        await eventually(lambda: listeners(connection, name), seconds=30)
        # Killed and revoked at once: the revocation may well go unheard.
        await connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
            f"{name}-listen",
        )
        await connection.execute(REVOCATIONS["revoked"], machine.tenant)
        await eventually(answers(gateway, machine, 401), seconds=30)
        await eventually(lambda: listeners(connection, name), seconds=30)
    finally:
        await connection.close()


async def listeners(connection: asyncpg.Connection[asyncpg.Record], name: str) -> bool:
    count: int = await connection.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", f"{name}-listen"
    )
    return count == 1


@pytest.mark.integration
async def test_revocations_missed_while_cut_off_apply_once_the_gateway_listens_again(
    proxied: tuple[TcpProxy, Database],
    start_gateway: StartGateway,
    register: Register,
    migrated_database_url: str,
) -> None:
    proxy, database = proxied
    machine = await register()
    gateway = await start_gateway(
        settings=GatewaySettings(token_ttl_seconds=3600), tokens_from=database
    )
    assert (await gateway.post(machine, upload_json(1))).status_code == 200

    await proxy.cut()
    # Straight in the database: the gateway cannot hear of it.
    await change_tenant(migrated_database_url, machine.tenant, REVOCATIONS["revoked"])
    # Cut off, the gateway goes by what it knew: availability first (see auth.py).
    assert (await gateway.post(machine, upload_json(2))).status_code == 200
    await proxy.restore()

    await eventually(answers(gateway, machine, 401), seconds=30)


@pytest.mark.integration
async def test_a_changed_tenant_rate_applies_at_once(
    start_gateway: StartGateway, register: Register, migrated_database_url: str
) -> None:
    machine = await register(rate_per_second=20_000)
    gateway = await start_gateway(settings=GatewaySettings(token_ttl_seconds=3600))
    assert (await gateway.post(machine, upload_json(1))).status_code == 200

    await change_tenant(
        migrated_database_url,
        machine.tenant,
        "UPDATE tenants SET rate_per_second = 1 WHERE tenant = $1",
    )

    await eventually(answers(gateway, machine, 429), seconds=30)

"""Machine tokens: the header's shape, and a cache that spares the database."""

from __future__ import annotations

import asyncio
import hashlib

import pytest

from tally.gateway.auth import MachineTokens, authenticate
from tally.gateway.queries import MachineIdentity
from tally.sdk import Rejected

SLICER = MachineIdentity("acme", "slicer-1", 100)


class FakeRegistry:
    """Knows one token; counts the lookups that reach it."""

    def __init__(self, known: str = "good") -> None:
        self.known = hashlib.sha256(known.encode()).digest()
        self.lookups = 0
        self.release = asyncio.Event()
        self.release.set()

    async def lookup(self, token_sha256: bytes) -> MachineIdentity | None:
        self.lookups += 1
        await self.release.wait()
        return SLICER if token_sha256 == self.known else None


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def tokens(registry: FakeRegistry, clock: Clock, max_entries: int = 100) -> MachineTokens:
    return MachineTokens(
        registry.lookup, ttl=30.0, unknown_ttl=5.0, max_entries=max_entries, clock=clock
    )


async def test_a_known_token_is_looked_up_once_per_ttl() -> None:
    registry, clock = FakeRegistry(), Clock()
    cache = tokens(registry, clock)

    assert await cache.identify("good") == SLICER
    clock.now += 29
    assert await cache.identify("good") == SLICER
    assert registry.lookups == 1
    clock.now += 2
    assert await cache.identify("good") == SLICER
    assert registry.lookups == 2


async def test_an_unknown_token_is_remembered_briefly() -> None:
    registry, clock = FakeRegistry(), Clock()
    cache = tokens(registry, clock)

    for _ in range(100):
        assert await cache.identify("bad") is None
    assert registry.lookups == 1
    clock.now += 6
    assert await cache.identify("bad") is None
    assert registry.lookups == 2


async def test_concurrent_requests_with_one_token_share_a_lookup() -> None:
    registry, clock = FakeRegistry(), Clock()
    registry.release.clear()
    cache = tokens(registry, clock)

    waiting = [asyncio.create_task(cache.identify("good")) for _ in range(50)]
    await asyncio.sleep(0.01)
    registry.release.set()

    assert await asyncio.gather(*waiting) == [SLICER] * 50
    assert registry.lookups == 1


async def test_the_cache_is_bounded() -> None:
    registry, clock = FakeRegistry(), Clock()
    cache = tokens(registry, clock, max_entries=3)
    await cache.identify("good")
    for n in range(3):
        await cache.identify(f"bad-{n}")

    await cache.identify("good")  # evicted as the oldest entry

    assert registry.lookups == 5


async def test_a_failed_lookup_is_not_cached() -> None:
    calls = 0

    async def flaky(_: bytes) -> MachineIdentity | None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OSError("database away")
        return SLICER

    cache = MachineTokens(flaky, ttl=30.0, unknown_ttl=5.0, max_entries=10)

    with pytest.raises(OSError, match="database away"):
        await cache.identify("good")
    assert await cache.identify("good") == SLICER


@pytest.mark.parametrize(
    "header", [None, "", "Bearer", "Bearer   ", "Basic Z29vZA==", "Bearer " + "x" * 600]
)
async def test_headers_without_a_usable_bearer_token_are_401(header: str | None) -> None:
    registry = FakeRegistry()

    with pytest.raises(Rejected) as refused:
        await authenticate(tokens(registry, Clock()), header)

    assert refused.value.status == 401
    assert refused.value.headers == {"WWW-Authenticate": "Bearer"}
    assert registry.lookups == 0


async def test_the_scheme_is_case_insensitive() -> None:
    assert await authenticate(tokens(FakeRegistry(), Clock()), "bearer good") == SLICER

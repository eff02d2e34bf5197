"""Fixtures of the SDK's tests: one broker of each kind for the behaviour suite."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tally.sdk import Broker, MemoryBroker, NatsBroker


@pytest.fixture(params=["memory", "nats"])
async def broker(request: pytest.FixtureRequest) -> AsyncIterator[Broker]:
    """The same behaviour test runs against the in-memory broker and real JetStream."""
    if request.param == "memory":
        memory = MemoryBroker()
        yield memory
        await memory.close()
        return
    nats_url: str = request.getfixturevalue("nats_url")
    real = await NatsBroker.connect(nats_url)
    yield real
    await real.close()

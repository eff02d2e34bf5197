"""Running: determinism, pacing that never reaches into the future, backfill, stopping."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from tally.contracts import Upload
from tally.simulator import (
    GatewayRejected,
    MachineSpec,
    MemorySender,
    SendResult,
    Simulation,
    build_fleet,
)

FLEET = build_fleet(3, tenants=3, lines_per_site=1)
NOW = datetime(2025, 7, 1, 12, tzinfo=UTC)


async def backfill(seed: int, hours: float = 6) -> tuple[list[bytes], bytes]:
    simulation = Simulation.backfill(
        FLEET, seed=seed, days=hours / 24, now=NOW, tenants=["iberpack"]
    )
    sender = MemorySender()
    await simulation.run(sender)
    encoded = [msgspec.json.encode(sent.upload) for sent in sender.uploads]
    return encoded, simulation.truth.to_json()


async def test_same_seed_same_messages_and_truth() -> None:
    first, second, other = await backfill(1), await backfill(1), await backfill(2)
    assert first == second
    assert first[0] != other[0]


async def test_backfill_is_historical_and_complete() -> None:
    simulation = Simulation.backfill(FLEET, seed=4, days=0.25, now=NOW, tenants=["nordslice"])
    sender = MemorySender()
    stats = await simulation.run(sender)
    messages = sender.messages()
    assert messages
    assert all(m.historical for m in messages)
    assert max(m.ts for m in messages) <= NOW + timedelta(seconds=10)
    assert stats["nordslice"].unsent == 0
    assert stats["nordslice"].messages_sent == len(messages)
    assert simulation.truth.end - simulation.truth.start == 6 * 3600


async def test_accelerated_never_stamps_the_future() -> None:
    simulation = Simulation(FLEET, seed=5, speed=3600.0, tenants=["alpenwerk"], tick_seconds=0.05)
    sender = MemorySender()
    started = time.time()
    await simulation.run(sender, until_wall=0.6)
    span = simulation.truth.end - simulation.truth.start
    assert span > 1000  # about 36 simulated minutes per 0.6 s
    assert simulation.truth.start < started - 2000
    for sent in sender.uploads:
        for message in sent.upload.messages:
            assert message.ts.timestamp() <= sent.received_at
            for signal in message.signals:
                if signal.ts is not None:
                    assert signal.ts.timestamp() <= sent.received_at
    assert not any(m.historical for m in sender.messages() if m.seq < 5)


async def test_stop_ends_the_run_and_counts_what_could_not_go() -> None:
    class Stuck:
        async def send(self, tenant: str, machine: MachineSpec, upload: Upload) -> SendResult:
            await asyncio.sleep(3600)
            raise AssertionError("never answers")

    stop = asyncio.Event()
    simulation = Simulation(
        FLEET,
        seed=6,
        start=NOW - timedelta(hours=2),
        speed=7200.0,
        tenants=["alpenwerk"],
        tick_seconds=0.01,
        drain_timeout=0.2,
    )
    asyncio.get_running_loop().call_later(0.3, stop.set)
    stats = await asyncio.wait_for(simulation.run(Stuck(), stop=stop), 5)
    assert stats["alpenwerk"].messages_sent == 0
    assert stats["alpenwerk"].unsent > 0


async def test_a_rejected_upload_stops_the_run() -> None:
    class Refusing:
        async def send(self, tenant: str, machine: MachineSpec, upload: Upload) -> SendResult:
            raise GatewayRejected(tenant, machine.id, 422, "bad")

    simulation = Simulation.backfill(FLEET, seed=7, days=0.1, now=NOW, tenants=["alpenwerk"])
    with pytest.raises(GatewayRejected, match="422"):
        await simulation.run(Refusing())


def test_unknown_tenant_is_named() -> None:
    with pytest.raises(ValueError, match="nobody"):
        Simulation(FLEET, seed=1, tenants=["nobody"])


def test_backfill_needs_a_start() -> None:
    with pytest.raises(ValueError, match="start"):
        Simulation(FLEET, seed=1, speed=float("inf"))

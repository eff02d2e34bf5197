"""The recorder's memory does not grow with the number of messages it has stored.

The recorder runs in this process (ServiceHost) on the real NATS JetStream and PostgreSQL, so
tracemalloc sees every Python allocation it makes: deterministic, unlike RSS, and no clock is
involved. Round 1 warms everything up (connection pool, prepared statements, partitions,
metric labels, the broker's buffers); what is still allocated after round 3 that was not after
round 1 is what the messages in between left behind. The speed and the RSS of the real process
are measured in benchmarks/ (recorder_memory.py), not asserted here.
"""

from __future__ import annotations

import gc
import secrets
import tracemalloc
from datetime import UTC, datetime, timedelta

import pytest

from tally.contracts import (
    TELEMETRY,
    TELEMETRY_STREAM,
    Counter,
    Gauge,
    Signal,
    State,
    StateModel,
    Telemetry,
    Weighing,
)
from tally.recorder.service import RecorderDeps, service
from tally.recorder.settings import RecorderSettings
from tally.sdk import Database, NatsBroker, ServiceHost
from tally.sdk.testing import LoginUrl, eventually

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROUNDS = 3
MESSAGES_PER_ROUND = 2_000
TENANTS = 4
MACHINES_PER_TENANT = 5
# What rounds 2 and 3 may leave allocated, per message they stored. Noise of the allocator and
# free lists, which does not scale with messages: measured on a 2-core VM between -37 and +48
# KiB over 8000 messages (4 runs, quiet), and up to +102 KiB over 4000 on a loaded one (26 bytes
# a message). Keeping just the identity string of every message (an injected leak) measured
# 151 bytes a message; a stored row or a decoded 20-signal message would be KiBs. 80 is three
# times the worst noise, half the smallest leak. 2000 messages a round, not more: under
# tracemalloc the recorder is slow, and the property needs no more (a leak grows with them).
MAX_BYTES_PER_MESSAGE = 80


def telemetry(tenant: str, machine: str, boot: str, seq: int, ts: datetime) -> Telemetry:
    """A message of 20 signals, as a packaging line sends it."""
    signals: list[Signal] = [Counter(name=f"counter_{k}", value=seq * (k + 1)) for k in range(5)]
    signals += [Gauge(name=f"gauge_{k}", value=seq % 97 + k / 10, unit="°C") for k in range(10)]
    signals += [
        Weighing(
            ts=ts + timedelta(milliseconds=k), article="salami-100", net_g=101.5, accepted=True
        )
        for k in range(4)
    ]
    signals.append(State(name="EXECUTE", model=StateModel.PACKML))
    return Telemetry(tenant=tenant, machine=machine, boot_id=boot, seq=seq, ts=ts, signals=signals)


class Fleet:
    """Messages of several tenants and machines; every identity new, device time rising."""

    def __init__(self) -> None:
        run = secrets.token_hex(4)
        self.tenants = [f"mem-{run}-{n}" for n in range(TENANTS)]
        self.machines = [(t, f"m{n}") for t in self.tenants for n in range(MACHINES_PER_TENANT)]
        self.boot = f"boot-{run}"
        self.sent = 0
        self.start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)

    def round(self, n: int) -> list[Telemetry]:
        messages = []
        for _ in range(n):
            tenant, machine = self.machines[self.sent % len(self.machines)]
            ts = self.start + timedelta(milliseconds=10 * self.sent)
            messages.append(telemetry(tenant, machine, self.boot, self.sent, ts))
            self.sent += 1
        return messages


def stored(deps: RecorderDeps, tenants: list[str]) -> int:
    return sum(int(deps.stored.labels(t)._value.get()) for t in tenants)


async def test_the_recorders_memory_does_not_grow_with_the_messages_it_stores(
    fresh_database_url: str, nats_url: str, login_url: LoginUrl
) -> None:
    broker = await NatsBroker.connect(nats_url, name="test-recorder-memory")
    role = service.database_role
    database = await Database.connect(login_url(fresh_database_url, role), role=role)
    host = ServiceHost(service, RecorderSettings(), broker=broker, database=database)
    fleet = Fleet()
    traced: list[int] = []
    try:
        await broker.ensure_stream(TELEMETRY_STREAM)
        await host.start()
        deps = host.deps
        assert deps is not None
        tracemalloc.start()
        for _ in range(ROUNDS):
            for message in fleet.round(MESSAGES_PER_ROUND):
                await broker.publish(TELEMETRY, message)
            # Also drains whatever earlier tests left in the shared stream for "recorder".
            await eventually(lambda: stored(deps, fleet.tenants) >= fleet.sent, seconds=45)
            gc.collect()
            traced.append(tracemalloc.get_traced_memory()[0])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        await host.stop()
        await database.close()
        await broker.close()

    assert stored(deps, fleet.tenants) == fleet.sent
    messages_after_warm_up = (ROUNDS - 1) * MESSAGES_PER_ROUND
    growth = traced[-1] - traced[0]
    assert growth < MAX_BYTES_PER_MESSAGE * messages_after_warm_up, (
        f"traced memory grew by {growth / 1024:.0f} KiB over {messages_after_warm_up} messages "
        f"after warm-up ({growth / messages_after_warm_up:.0f} bytes a message); "
        f"after each round: {[f'{t / 1024:.0f} KiB' for t in traced]}, peak {peak / 1024:.0f} KiB"
    )

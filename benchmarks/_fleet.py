"""Synthetic telemetry for the pipeline benchmarks: many tenants and machines, 20 signals a
message (5 counters, 10 gauges, 4 weighings, 1 state), every identity unique, times rising.

Deterministic for a seed, except the boot ids, which are new per run so repeated runs against
the same NATS server are never dropped as duplicates.
"""

from __future__ import annotations

import asyncio
import random
import secrets
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta

from tally.contracts import (
    Counter,
    Gauge,
    MachineMessage,
    Signal,
    State,
    StateModel,
    Telemetry,
    Weighing,
)

SIGNALS_PER_MESSAGE = 20
COUNTERS = ("packs_total", "packs_good", "rejects_total", "cycles_total", "film_used_mm")
GAUGES = (
    ("speed_ppm", "1/min"),
    ("knife_temp", "°C"),
    ("sealing_temp", "°C"),
    ("vacuum", "mbar"),
    ("gas_o2", "%"),
    ("gas_co2", "%"),
    ("film_left", "m"),
    ("motor_current", "A"),
    ("belt_speed", "m/s"),
    ("ambient_temp", "°C"),
)
STATES = ("EXECUTE", "IDLE", "HELD", "STOPPED")
# Device time advances this much per message of the whole fleet: 100k messages span ~17 min.
STEP = timedelta(milliseconds=10)


class TelemetrySource:
    """Messages of `tenants` × `machines_per_tenant` machines, round robin, device time rising
    from an hour ago."""

    def __init__(
        self, *, tenants: int, machines_per_tenant: int, prefix: str = "bench", seed: int = 7
    ) -> None:
        self._rng = random.Random(seed)
        run = secrets.token_hex(3)
        self.tenants = [f"{prefix}-{run}-t{n}" for n in range(tenants)]
        self.machines = [
            (tenant, f"m{n:03d}") for tenant in self.tenants for n in range(machines_per_tenant)
        ]
        self._boot = {m: f"boot-{run}-{i}" for i, m in enumerate(self.machines)}
        self._seq = dict.fromkeys(self.machines, 0)
        self._count = 0
        self._start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)

    def next(self) -> Telemetry:
        tenant, machine = self.machines[self._count % len(self.machines)]
        ts = self._start + self._count * STEP
        self._count += 1
        self._seq[(tenant, machine)] += 1
        seq = self._seq[(tenant, machine)]
        return Telemetry(
            tenant=tenant,
            machine=machine,
            boot_id=self._boot[(tenant, machine)],
            seq=seq,
            ts=ts,
            signals=self._signals(seq, ts),
        )

    def batch(self, n: int) -> list[Telemetry]:
        return [self.next() for _ in range(n)]

    @property
    def produced(self) -> int:
        return self._count

    def _signals(self, seq: int, ts: datetime) -> list[Signal]:
        rng = self._rng
        signals: list[Signal] = [
            Counter(name=name, value=seq * (k + 1) + rng.randrange(3))
            for k, name in enumerate(COUNTERS)
        ]
        signals += [
            Gauge(name=name, value=round(rng.uniform(0, 200), 2), unit=unit)
            for name, unit in GAUGES
        ]
        signals += [
            Weighing(
                ts=ts + timedelta(milliseconds=2 * k),
                article="salami-100",
                net_g=round(rng.gauss(101.5, 0.8), 1),
                accepted=rng.random() > 0.02,
            )
            for k in range(4)
        ]
        signals.append(State(name=STATES[seq % len(STATES)], model=StateModel.PACKML))
        assert len(signals) == SIGNALS_PER_MESSAGE
        return signals


def machine_message(message: Telemetry) -> MachineMessage:
    """The message as its machine uploads it (no tenant, no machine: the token says those)."""
    return MachineMessage(
        boot_id=message.boot_id, seq=message.seq, ts=message.ts, signals=message.signals
    )


async def bounded(calls: Sequence[Callable[[], Awaitable[object]]], concurrency: int) -> None:
    """Run the calls with at most `concurrency` in flight."""
    queue = list(reversed(calls))

    async def worker() -> None:
        while queue:
            await queue.pop()()

    await asyncio.gather(*(worker() for _ in range(min(concurrency, len(calls)))))

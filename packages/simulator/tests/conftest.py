"""Fixtures of the simulator's tests: one accelerated 26-hour run of alpenwerk (two sites, one
line each), shared by the whole session — generating it once keeps the suite fast."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from tally.simulator import MemorySender, Simulation, build_fleet

# Spans the night Europe/Berlin springs forward (30 March 2025), so one production day has 23 h.
START = datetime(2025, 3, 29, 20, tzinfo=UTC)
SPAN = timedelta(hours=26)
SEED = 11


class FakeClock:
    """A wall clock that moves `step` seconds every time it is read."""

    def __init__(self, now: datetime, step: float) -> None:
        self.now = now.timestamp()
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


@pytest.fixture(scope="session")
def day_run() -> tuple[Simulation, MemorySender]:
    """alpenwerk (two sites, one line each) for 26 hours, accelerated on a fake clock."""
    fleet = build_fleet(SEED, tenants=3, lines_per_site=1)
    clock = FakeClock(START + timedelta(days=30), step=1.0)
    simulation = Simulation(
        fleet,
        seed=SEED,
        start=START,
        speed=3600.0,
        tenants=["alpenwerk"],
        tick_seconds=0.0,
        clock=clock,
    )
    sender = MemorySender(clock=clock)
    asyncio.run(simulation.run(sender, until_sim=START + SPAN))
    return simulation, sender


# The night Europe (Kempten, Zaragoza) falls back: production day 25 October 2025 has 25 hours;
# in Green Bay it is an ordinary day. Prices rise mid-run.
DST_START = datetime(2025, 10, 25, 3, tzinfo=UTC)
DST_END = datetime(2025, 10, 26, 12, 30, tzinfo=UTC)
REPRICED_AT = datetime(2025, 10, 26, tzinfo=UTC)
DST_SEED = 5


@pytest.fixture(scope="session")
def dst_run() -> tuple[Simulation, MemorySender]:
    """alpenwerk (Kempten, Green Bay) and nordslice over the autumn DST night, as a backfill."""
    fleet = build_fleet(DST_SEED, tenants=2, lines_per_site=1, repriced_at=REPRICED_AT)
    simulation = Simulation.backfill(
        fleet,
        seed=DST_SEED,
        days=(DST_END - DST_START) / timedelta(days=1),
        now=DST_END,
    )
    sender = MemorySender()
    asyncio.run(simulation.run(sender))
    return simulation, sender

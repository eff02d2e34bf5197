"""Running a fleet: pacing simulated time against the wall clock and delivering uploads.

Simulated time is `start + wall elapsed × speed`, and never later than the real now minus a
line's largest clock skew — the gateway refuses timestamps from the future, so an accelerated
run starts in the past and catches up with now at its planned end. `speed=math.inf` is a
backfill: it generates as fast as it can up to `until_sim` (default: now) and flags every message
historical. One asyncio task drives each line; `max_in_flight` bounds concurrent uploads.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Callable, Collection
from datetime import UTC, datetime, timedelta

from tally.simulator._fleet import Fleet
from tally.simulator._line import Line
from tally.simulator._senders import Sender
from tally.simulator._stats import TenantStats
from tally.simulator._transport import Outgoing, TransportProfile, as_upload, uploads
from tally.simulator._truth import Truth

# Generate at most this much simulated time before sending, so memory stays small in backfills.
CHUNK_SECONDS = 1800


class Simulation:
    """A seeded run of (part of) a fleet; see the module docstring for pacing."""

    def __init__(
        self,
        fleet: Fleet,
        *,
        seed: int,
        start: datetime | None = None,
        speed: float = 1.0,
        tenants: Collection[str] | None = None,
        profile: TransportProfile | None = None,
        max_in_flight: int = 8,
        tick_seconds: float = 0.5,
        drain_timeout: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not speed > 0:
            raise ValueError(f"speed must be positive, got {speed}")
        if math.isinf(speed) and start is None:
            raise ValueError("a backfill (speed=inf) needs a start; see Simulation.backfill")
        known = {tenant.id for tenant in fleet.tenants}
        unknown = set(tenants or ()) - known
        if unknown:
            raise ValueError(f"unknown tenants {sorted(unknown)}; the fleet has {sorted(known)}")
        self.fleet = fleet
        self.seed = seed
        self.speed = speed
        self._start = start
        self._tenants = set(tenants) if tenants is not None else known
        self._profile = profile or TransportProfile()
        self._max_in_flight = max_in_flight
        self._tick = tick_seconds
        self._drain_timeout = drain_timeout
        self._clock = clock
        self._truth: Truth | None = None
        self._default_end: datetime | None = None
        self._stats = {tenant: TenantStats() for tenant in sorted(self._tenants)}

    @classmethod
    def backfill(
        cls,
        fleet: Fleet,
        *,
        seed: int,
        days: float,
        now: datetime | None = None,
        tenants: Collection[str] | None = None,
        profile: TransportProfile | None = None,
    ) -> Simulation:
        """A run over the `days` before `now`, as fast as possible, flagged historical."""
        end = now or datetime.now(UTC)
        simulation = cls(
            fleet,
            seed=seed,
            start=end - timedelta(days=days),
            speed=math.inf,
            tenants=tenants,
            profile=profile,
        )
        simulation._default_end = end
        return simulation

    @property
    def truth(self) -> Truth:
        """The ground truth generated so far (available once `run` has started)."""
        if self._truth is None:
            raise RuntimeError("no truth yet: the simulation has not run")
        return self._truth

    @property
    def stats(self) -> dict[str, TenantStats]:
        """Per-tenant sending statistics, `unsent` up to date."""
        if self._truth is not None:
            for tenant, stats in self._stats.items():
                stats.unsent = self._truth.generated(tenant) - stats.messages_sent
        return self._stats

    async def run(
        self,
        sender: Sender,
        *,
        until_wall: float | None = None,
        until_sim: datetime | None = None,
        stop: asyncio.Event | None = None,
    ) -> dict[str, TenantStats]:
        """Generate and send until `until_wall` seconds have passed, simulated time reaches
        `until_sim`, or `stop` is set — whichever comes first — then send what is left (for at
        most `drain_timeout` seconds). Returns the stats; raises `GatewayRejected` at once."""
        if self._truth is not None:
            raise RuntimeError("a Simulation runs once; make a new one")
        wall0 = self._clock()
        start = self._start.timestamp() if self._start else wall0
        if self._start is None and until_wall is not None:
            start = wall0 - (self.speed - 1) * until_wall
        until_sim = until_sim or self._default_end
        end = until_sim.timestamp() if until_sim else (wall0 if math.isinf(self.speed) else None)
        pace = _Pace(self._clock, start, wall0, self.speed, end)
        self._truth = truth = Truth(self.seed, int(start))
        lines = self._lines(int(start), truth)
        halt = asyncio.Event()
        in_flight = asyncio.Semaphore(self._max_in_flight)
        tasks: list[asyncio.Task[None]] = []
        watcher = asyncio.create_task(self._watch(halt, stop, until_wall, tasks))
        try:
            async with asyncio.TaskGroup() as group:
                for line in lines:
                    drive = self._drive(line, sender, pace, halt, in_flight)
                    tasks.append(group.create_task(drive))
        except ExceptionGroup as errors:
            raise _first(errors) from errors
        finally:
            watcher.cancel()
        return self.stats

    def _lines(self, start: int, truth: Truth) -> list[Line]:
        historical = math.isinf(self.speed)
        return [
            Line(
                tenant,
                site,
                line,
                seed=self.seed,
                start=start,
                truth=truth,
                profile=self._profile,
                historical=historical,
            )
            for tenant in self.fleet.tenants
            if tenant.id in self._tenants
            for site in tenant.sites
            for line in site.lines
        ]

    async def _watch(
        self,
        halt: asyncio.Event,
        stop: asyncio.Event | None,
        until_wall: float | None,
        tasks: list[asyncio.Task[None]],
    ) -> None:
        # Lines stop generating once halted, then drain; a line stuck retrying an unreachable
        # gateway is cancelled after the drain timeout and its messages count as unsent.
        stopped = asyncio.create_task((stop or asyncio.Event()).wait())
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(stopped), until_wall)
        finally:
            stopped.cancel()
        halt.set()
        await asyncio.sleep(self._drain_timeout)
        for task in tasks:
            task.cancel()

    async def _drive(
        self,
        line: Line,
        sender: Sender,
        pace: _Pace,
        halt: asyncio.Event,
        in_flight: asyncio.Semaphore,
    ) -> None:
        while not halt.is_set():
            target = pace.target(line.max_skew)
            while line.t < target and not halt.is_set():
                until = min(target, line.t + CHUNK_SECONDS)
                line.advance(until)
                self.truth.end = max(self.truth.end, line.t)
                await self._send(line, sender, [link.due(until) for link in line.links], in_flight)
                await asyncio.sleep(0)
            if pace.end is not None and line.t >= int(pace.end):
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(halt.wait(), self._tick)
        line.finish()
        drain = self._send(line, sender, [link.drain() for link in line.links], in_flight)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(drain, self._drain_timeout)

    async def _send(
        self,
        line: Line,
        sender: Sender,
        queues: list[list[Outgoing]],
        in_flight: asyncio.Semaphore,
    ) -> None:
        # Machines send in parallel; one machine's uploads go in order.
        async def machine_uploads(index: int, queue: list[Outgoing]) -> None:
            machine = line.spec.machines[index]
            stats = self._stats[line.tenant.id]
            for batch in uploads(queue, self._profile.max_messages_per_upload):
                async with in_flight:
                    result = await sender.send(line.tenant.id, machine, as_upload(batch))
                stats.uploads += 1
                stats.messages_sent += len(batch)
                stats.datapoints_sent += sum(len(item.message.signals) for item in batch)
                stats.duplicates_sent += sum(item.duplicate for item in batch)
                stats.accepted += result.accepted
                stats.duplicates += result.duplicates
                stats.retries += result.retries

        # A TaskGroup, not gather: when one upload is rejected, the others are cancelled.
        async with asyncio.TaskGroup() as group:
            for index, queue in enumerate(queues):
                if queue:
                    group.create_task(machine_uploads(index, queue))


def _first(errors: BaseExceptionGroup[Exception]) -> Exception:
    """The first underlying error of (nested) task groups: callers catch `GatewayRejected`,
    not a group."""
    error = errors.exceptions[0]
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    return error


class _Pace:
    """Simulated now: wall-clock elapsed × speed after start, capped by the real now and the end."""

    def __init__(
        self,
        clock: Callable[[], float],
        start: float,
        wall0: float,
        speed: float,
        end: float | None,
    ) -> None:
        self._clock = clock
        self._start = start
        self._wall0 = wall0
        self._speed = speed
        self.end = end

    def target(self, skew: int) -> int:
        """How far a line whose clocks run up to `skew` s fast may generate now."""
        now = self._clock()
        paced = now if math.isinf(self._speed) else self._start + (now - self._wall0) * self._speed
        sim = min(paced, now - skew)
        if self.end is not None:
            sim = min(sim, self.end)
        return int(sim)

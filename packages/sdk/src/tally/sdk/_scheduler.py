"""Running a declared schedule: ask for the slots due, claim each, run its job, and sleep.

Every `tick` (or sooner, when a slot falls due sooner) the loop asks the schedule for the slots
due in its look-back window and runs those not yet done, oldest first, one at a time:

- **Once across processes** (services with a database): a slot is claimed in PostgreSQL before
  it runs (`tally.sdk._schedule_claims`): with `--workers N` or several replicas each slot runs
  in one process. The claim is a lease, renewed while the job runs; a process that dies lets
  its slot go when the lease runs out, and another runs it. So a job runs at least once per
  slot, and twice only when a run outlived its lease without word or died after its work and
  before the mark: jobs must be idempotent, or mark the slot done in their own transaction
  (`ScheduledRun.finish(tx)`), which makes that transaction's effects happen once.
- **Caught up**: after a restart or an outage, slots that fell due within the look-back and
  have not run are run. Runs due long before (past the look-back, by a margin) are pruned and
  their slots settled for good.
- **Failures** are logged (one line per kind and window) and the slot is tried again at the
  next tick, by whichever process claims it first, for as long as it is within the look-back.
- **Stop**: no new slot starts; the running job may finish within the service's drain time.
- **Each process** (`each_process=True`, and services without a database): every process runs
  every slot that falls due while it runs, remembering nothing; missed slots are not caught up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta
from typing import Generic, TypeVar

from tally.sdk._errors import ClaimLost
from tally.sdk._log_limiter import LogLimiter
from tally.sdk._logs import log_context
from tally.sdk._metrics import ServiceMetrics
from tally.sdk._schedule_claims import Claim, Claims
from tally.sdk._schedules import Schedule, ScheduledRun, Slot

D = TypeVar("D")
V = TypeVar("V")

_log = logging.getLogger("tally.sdk.schedule")
# Runs this long past the look-back are pruned, once an hour; until then an operator can see them.
_KEEP_RUNS = timedelta(days=30)
_PRUNE_EVERY = timedelta(hours=1)
_RELEASE_SECONDS = 5.0


def utc_now() -> datetime:
    return datetime.now(UTC)


class ScheduleLoop(Generic[D, V]):
    """Drives one `Schedule` until asked to stop. `claims` is None for a schedule that runs in
    each process."""

    def __init__(
        self,
        schedule: Schedule[D, V],
        deps: D,
        claims: Claims | None,
        metrics: ServiceMetrics,
    ) -> None:
        self.schedule = schedule
        self._deps = deps
        self._claims = claims
        self._metrics = metrics
        self._clock = utc_now
        self._repeats = LogLimiter(_log)
        # Each process only: the slots done here, and those that failed so far, by key (with
        # their due time, to forget them past the look-back).
        self._done: dict[str, datetime] = {}
        self._failed: dict[str, tuple[datetime, int]] = {}
        self._pruned: datetime | None = None
        self.running = False

    async def run(self, stopping: asyncio.Event) -> None:
        """Run due slots until `stopping` is set; a job under way then finishes."""
        self.running = True
        started = self._clock()
        try:
            while not stopping.is_set():
                wake = await self._tick(stopping, started)
                delay = (wake - self._clock()).total_seconds()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), max(delay, 0.0))
        finally:
            self.running = False
            self._repeats.flush()

    async def _tick(self, stopping: asyncio.Event, started: datetime) -> datetime:
        """Run what is due; return when to look again."""
        schedule = self.schedule
        now = self._clock()
        try:
            since = await self._since(now, started)
            due = await schedule.when(self._deps, since, now)
            for slot in sorted(due, key=lambda s: (s.due, s.key)):
                if stopping.is_set():
                    break
                await self._run(slot)
            self._metrics.schedule_checks.labels(schedule.name).inc()
            now = self._clock()
            await self._prune(now)
            upcoming = await schedule.when(self._deps, now, now + schedule.tick)
        except Exception as error:
            self._repeats.error(
                ("tick", schedule.name, type(error).__name__),
                "schedule %s: cannot find or claim its due slots; trying again in %s: %r",
                schedule.name,
                schedule.tick,
                error,
                exc_info=True,
            )
            return self._clock() + schedule.tick
        return min([s.due for s in upcoming], default=now + schedule.tick)

    async def _since(self, now: datetime, started: datetime) -> datetime:
        since = now - self.schedule.window
        if self._claims is None:
            # Nothing remembered: only what falls due while this process runs.
            return max(since, started)
        horizon = await self._claims.horizon(self.schedule.name)
        return since if horizon is None else max(since, horizon)

    async def _run(self, slot: Slot[V]) -> None:
        if self._claims is None:
            await self._run_here(slot)
            return
        claim = await self._claims.claim(
            self.schedule.name, slot.key, slot.due, self.schedule.lease
        )
        if claim is None:
            return  # done, or under way in another process
        run = ScheduledRun(slot, claim.attempt, claim.finish_in)
        outcome = await self._attempt(run, claim)
        if outcome == "done" and not await claim.finish():
            _log.warning(
                "schedule %s: slot %s was taken over while it ran (its lease ran out); it may "
                "run twice",
                self.schedule.name,
                slot.key,
            )
            outcome = "lost"
        self._metrics.schedule_runs.labels(self.schedule.name, outcome).inc()

    async def _run_here(self, slot: Slot[V]) -> None:
        if slot.key in self._done:
            return
        attempt = self._failed.get(slot.key, (slot.due, 0))[1] + 1
        outcome = await self._attempt(ScheduledRun(slot, attempt), None)
        if outcome == "done":
            self._done[slot.key] = slot.due
            self._failed.pop(slot.key, None)
        else:
            self._failed[slot.key] = (slot.due, attempt)
        self._metrics.schedule_runs.labels(self.schedule.name, outcome).inc()

    async def _attempt(self, run: ScheduledRun[V], claim: Claim | None) -> str:
        """Run the job once: "done", "failed" (tried again next tick) or "lost" (another
        process finished the slot or took it over)."""
        schedule, slot = self.schedule, run.slot
        keeping = None if claim is None else asyncio.create_task(self._keep(claim))
        try:
            with log_context(schedule=schedule.name, slot=slot.key):
                await schedule.job(self._deps, run)
        except ClaimLost as lost:
            self._repeats.warning(("lost", schedule.name), "schedule %s: %s", schedule.name, lost)
            return "lost"
        except Exception as error:
            self._repeats.error(
                ("job", schedule.name, type(error).__name__),
                "schedule %s: slot %s failed (attempt %d); trying again at the next tick: %r",
                schedule.name,
                slot.key,
                run.attempt,
                error,
                exc_info=True,
            )
            if claim is not None:
                await self._release(claim, f"{type(error).__name__}: {error}")
            return "failed"
        except asyncio.CancelledError:
            # Stopped past the drain time: let the slot go now rather than at the lease's end.
            if claim is not None:
                await self._release(claim, "cancelled: the process stopped")
            raise
        finally:
            if keeping is not None:
                keeping.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await keeping
        return "done"

    async def _keep(self, claim: Claim) -> None:
        """Renew the lease while the job runs (three times per lease)."""
        lease = self.schedule.lease
        while True:
            await asyncio.sleep(lease.total_seconds() / 3)
            try:
                if not await claim.renew(lease):
                    _log.warning(
                        "schedule %s: slot %s was taken over while running (its lease ran "
                        "out); it may run twice",
                        self.schedule.name,
                        claim.key,
                    )
                    return
            except Exception:
                self._repeats.warning(
                    ("renew", self.schedule.name),
                    "schedule %s: cannot renew a lease; trying again",
                    self.schedule.name,
                    exc_info=True,
                )

    async def _release(self, claim: Claim, failure: str) -> None:
        try:
            await asyncio.wait_for(claim.release(failure), _RELEASE_SECONDS)
        except Exception:
            # Unreleased, the slot is free again when its lease runs out.
            _log.warning("schedule %s: cannot let slot %s go", self.schedule.name, claim.key)

    async def _prune(self, now: datetime) -> None:
        if self._claims is None:
            cutoff = now - self.schedule.window
            self._done = {key: due for key, due in self._done.items() if due > cutoff}
            self._failed = {key: seen for key, seen in self._failed.items() if seen[0] > cutoff}
            return
        if self._pruned is not None and now - self._pruned < _PRUNE_EVERY:
            return
        self._pruned = now
        await self._claims.settle(self.schedule.name, now - self.schedule.window - _KEEP_RUNS)

"""Durable claims on the slots of scheduled jobs, in PostgreSQL (db/migrations/0010).

A process claims a slot by inserting its row — or taking over a row that is unfinished and whose
lease ran out — with a token of its own; it renews the lease while the job runs and marks the
row finished when the job is done. So a slot runs once across processes, except when a run
outlives its lease without word (a stalled process) or dies after its work and before the mark:
then it runs again. `ScheduledRun.finish(tx)` puts the mark in the job's own transaction, which
makes the effects of that transaction happen once.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import msgspec

from tally.sdk._database import Database, Tx
from tally.sdk._errors import ClaimLost
from tally.sdk._queries import BoundCommand, command, query

_FAILURE_LIMIT = 500


class Attempt(msgspec.Struct, frozen=True):
    attempts: int


class Horizon(msgspec.Struct, frozen=True):
    settled_before: datetime


@query(
    Attempt,
    """
    INSERT INTO tally_schedule_runs AS r
        (service, schedule, slot, due, claim, lease_until, attempts)
    VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6), 1)
    ON CONFLICT (service, schedule, slot) DO UPDATE
    SET claim = excluded.claim, lease_until = excluded.lease_until,
        attempts = r.attempts + 1, claimed_at = now(), failure = NULL
    WHERE r.finished_at IS NULL AND r.lease_until < now()
    RETURNING attempts
    """,
)
def claim_slot(
    service: str, schedule: str, slot: str, due: datetime, claim: str, lease_seconds: float
) -> None: ...


@command(
    """
    UPDATE tally_schedule_runs SET lease_until = now() + make_interval(secs => $5)
    WHERE service = $1 AND schedule = $2 AND slot = $3 AND claim = $4 AND finished_at IS NULL
    """
)
def renew_lease(
    service: str, schedule: str, slot: str, claim: str, lease_seconds: float
) -> None: ...


@command(
    """
    UPDATE tally_schedule_runs SET finished_at = now()
    WHERE service = $1 AND schedule = $2 AND slot = $3 AND claim = $4 AND finished_at IS NULL
    """
)
def finish_slot(service: str, schedule: str, slot: str, claim: str) -> None: ...


# Lets go at once: the next tick, of any process, tries again.
@command(
    """
    UPDATE tally_schedule_runs SET lease_until = now(), failure = $5
    WHERE service = $1 AND schedule = $2 AND slot = $3 AND claim = $4 AND finished_at IS NULL
    """
)
def release_slot(service: str, schedule: str, slot: str, claim: str, failure: str) -> None: ...


@query(
    Horizon,
    """
    SELECT settled_before FROM tally_schedule_horizons WHERE service = $1 AND schedule = $2
    """,
)
def horizon_of(service: str, schedule: str) -> None: ...


@query(
    Horizon,
    """
    WITH pruned AS (
        DELETE FROM tally_schedule_runs
        WHERE service = $1 AND schedule = $2 AND due < $3
    )
    INSERT INTO tally_schedule_horizons AS h (service, schedule, settled_before)
    VALUES ($1, $2, $3)
    ON CONFLICT (service, schedule) DO UPDATE
    SET settled_before = greatest(h.settled_before, excluded.settled_before)
    RETURNING settled_before
    """,
)
def settle_before(service: str, schedule: str, before: datetime) -> None: ...


class Claim:
    """A slot this process holds: renew it, finish it (in a transaction of the job's, or on its
    own) or let it go."""

    def __init__(self, claims: Claims, schedule: str, key: str, token: str, attempt: int) -> None:
        self._claims = claims
        self._schedule = schedule
        self.key = key
        self._token = token
        # 1 for the first run of the slot, counting the runs that failed or died before.
        self.attempt = attempt
        self.finished = False

    async def renew(self, lease: timedelta) -> bool:
        """Extend the lease; False when the slot is no longer ours."""
        bound = renew_lease(*self._ids(), self._token, lease.total_seconds())
        return await self._claims.execute(bound) == "UPDATE 1"

    async def finish_in(self, tx: Tx) -> None:
        """Mark the slot done in `tx`; raise `ClaimLost` when it is no longer ours."""
        status = await tx.execute(finish_slot(*self._ids(), self._token))
        if status != "UPDATE 1":
            raise ClaimLost(
                f"schedule {self._schedule}: slot {self.key} was finished or taken over "
                "by another process (its lease ran out); this run's transaction is undone"
            )
        self.finished = True

    async def finish(self) -> bool:
        """Mark the slot done, unless the job did so in its own transaction; False when the
        slot was no longer ours (taken over after the lease ran out: it may run twice)."""
        if not self.finished:
            status = await self._claims.execute(finish_slot(*self._ids(), self._token))
            self.finished = status == "UPDATE 1"
        return self.finished

    async def release(self, failure: str) -> None:
        """Let the slot go after a failure; the next tick tries it again."""
        bound = release_slot(*self._ids(), self._token, failure[:_FAILURE_LIMIT])
        await self._claims.execute(bound)

    def _ids(self) -> tuple[str, str, str]:
        return self._claims.service, self._schedule, self.key


class Claims:
    """The claims of one service's scheduled slots, in its database."""

    def __init__(self, database: Database, service: str) -> None:
        self._database = database
        self.service = service

    async def claim(self, schedule: str, key: str, due: datetime, lease: timedelta) -> Claim | None:
        """Claim slot `key`: a `Claim` when it is ours to run now; None when it is done or
        another process holds it."""
        token = secrets.token_hex(8)
        bound = claim_slot(self.service, schedule, key, due, token, lease.total_seconds())

        async def work(tx: Tx) -> Attempt | None:
            return await tx.fetch_optional(bound)

        attempt = await self._database.transaction(work)
        if attempt is None:
            return None
        return Claim(self, schedule, key, token, attempt.attempts)

    async def horizon(self, schedule: str) -> datetime | None:
        """Before when slots are settled for good (their records pruned)."""

        async def work(tx: Tx) -> Horizon | None:
            return await tx.fetch_optional(horizon_of(self.service, schedule))

        found = await self._database.transaction(work, readonly=True)
        return None if found is None else found.settled_before

    async def settle(self, schedule: str, before: datetime) -> datetime:
        """Forget the runs due before `before`; slots due then are never run again."""

        async def work(tx: Tx) -> Horizon:
            return await tx.fetch_one(settle_before(self.service, schedule, before))

        return (await self._database.transaction(work)).settled_before

    async def execute(self, bound: BoundCommand) -> str:
        async def work(tx: Tx) -> str:
            return await tx.execute(bound)

        return await self._database.transaction(work)

"""A service the tests run as a real process: ``python probe_service.py [--workers N]``.

With PROBE_DATABASE=1 it uses the database, and its schedule "beats" records every run in the
table `probe_beats` (slot, worker), which the test creates; without, it runs a beat in each
process and records nothing. TALLY_PROBE_LEAK (a `Secret`) makes every beat fail with an error
that repeats the secret, as a careless library might: the log must not show it.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import msgspec

from tally.sdk import (
    Database,
    DatabaseRuntime,
    Runtime,
    Schedule,
    ScheduledRun,
    Secret,
    Service,
    Slot,
    Tx,
    every,
    run_service,
)


class ProbeSettings(msgspec.Struct, frozen=True, kw_only=True):
    beat_seconds: float = 1.0
    leak: Secret | None = None


@dataclass(frozen=True)
class ProbeDeps:
    settings: ProbeSettings
    database: Database | None = None


async def beat(deps: ProbeDeps, run: ScheduledRun[datetime]) -> None:
    if deps.settings.leak is not None:
        raise ConnectionError(f"the server said: bad secret {deps.settings.leak.reveal()}")
    if deps.database is None:
        return
    worker = os.environ.get("TALLY_WORKER", str(os.getpid()))

    async def record(tx: Tx) -> None:
        await tx.connection.execute(
            "INSERT INTO probe_beats (slot, worker) VALUES ($1, $2)", run.slot.key, worker
        )
        await run.finish(tx)

    await deps.database.transaction(record)


async def beats(deps: ProbeDeps, since: datetime, until: datetime) -> list[Slot[datetime]]:
    return every(timedelta(seconds=deps.settings.beat_seconds)).between(since, until)


@asynccontextmanager
async def plain_deps(runtime: Runtime, settings: ProbeSettings) -> AsyncIterator[ProbeDeps]:
    yield ProbeDeps(settings)


@asynccontextmanager
async def database_deps(
    runtime: DatabaseRuntime, settings: ProbeSettings
) -> AsyncIterator[ProbeDeps]:
    yield ProbeDeps(settings, runtime.database)


# Longer than a test keeps the probe down plus its start-up on a loaded machine (11 s seen with
# the suite on both cores): a beat missed longer ago is not caught up, and the restart test
# would see a gap.
LOOK_BACK = timedelta(seconds=40)
PLAIN = Service(
    name="probe",
    settings=ProbeSettings,
    deps=plain_deps,
    schedules=[Schedule("beats", beat, beats, look_back=LOOK_BACK, each_process=True)],
)
WITH_DATABASE = Service(
    name="probe",
    settings=ProbeSettings,
    deps=database_deps,
    schedules=[Schedule("beats", beat, beats, look_back=LOOK_BACK)],
    uses_database=True,
)

if __name__ == "__main__":
    run_service(WITH_DATABASE if os.environ.get("PROBE_DATABASE") else PLAIN)

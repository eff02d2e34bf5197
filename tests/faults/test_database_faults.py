"""PostgreSQL restarted cleanly, and its postmaster killed with kill -9, under load; each time
it starts again on the same data and port. The gateway keeps accepting (tokens are cached, the
broker buffers); the recorder retries until the database is back."""

from __future__ import annotations

import time

from .conftest import FaultServers
from .scenario import FAULT_SUITE, FaultRun, uploads_accepted

pytestmark = FAULT_SUITE

# Uploads accepted while the database is down: the broker buffers what the recorder cannot
# store meanwhile.
DURING_OUTAGE = 20


async def test_postgres_restart(fault_run: FaultRun, fault_servers: FaultServers) -> None:
    """PostgreSQL stops (fast shutdown) while 20 uploads are accepted, then starts again on
    its data and port."""
    await fault_run.start()
    async with fault_run.load.running():
        await fault_run.flowing()
        fault_servers.postgres.stop()
        await fault_run.meanwhile(uploads_accepted, DURING_OUTAGE)
        ended = time.monotonic()
        fault_servers.postgres.start()
        recovery = await fault_run.recovery(since=ended)
    result = await fault_run.finish("PostgreSQL restart", recovery)
    assert result.clean, result


async def test_kill_9_of_the_postmaster(fault_run: FaultRun, fault_servers: FaultServers) -> None:
    """kill -9 of the postmaster mid-transaction; 20 uploads are accepted meanwhile; it starts
    again on its data (crash recovery) and port."""
    await fault_run.start()
    async with fault_run.load.running():
        await fault_run.flowing()
        fault_servers.postgres.kill()
        await fault_run.meanwhile(uploads_accepted, DURING_OUTAGE)
        ended = time.monotonic()
        fault_servers.postgres.start()
        recovery = await fault_run.recovery(since=ended)
    result = await fault_run.finish("kill -9 PostgreSQL", recovery)
    assert result.clean, result

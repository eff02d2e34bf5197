"""NATS restarted cleanly, and killed with kill -9, under load; each time it starts again on
the same JetStream store and port. Meanwhile the gateway refuses (503 or no answer), machines
retry, and the services reconnect by themselves."""

from __future__ import annotations

import time

from .conftest import FaultServers
from .scenario import FAULT_SUITE, FaultRun, requests_refused

pytestmark = FAULT_SUITE

# Requests refused while NATS is away: the machines felt the outage.
DURING_OUTAGE = 6


async def test_nats_restart(fault_run: FaultRun, fault_servers: FaultServers) -> None:
    """NATS stops (SIGTERM) until the machines have had 6 requests refused, then starts again
    on its store and port."""
    await fault_run.start()
    async with fault_run.load.running():
        await fault_run.flowing()
        fault_servers.nats.stop()
        await fault_run.meanwhile(requests_refused, DURING_OUTAGE)
        ended = time.monotonic()
        fault_servers.nats.start()
        recovery = await fault_run.recovery(since=ended)
    result = await fault_run.finish("NATS restart", recovery)
    assert result.clean, result


async def test_kill_9_of_nats(fault_run: FaultRun, fault_servers: FaultServers) -> None:
    """kill -9 of NATS mid-publish; down until the machines have had 6 requests refused; it
    starts again on its store and port."""
    await fault_run.start()
    async with fault_run.load.running():
        await fault_run.flowing()
        fault_servers.nats.kill()
        await fault_run.meanwhile(requests_refused, DURING_OUTAGE)
        ended = time.monotonic()
        fault_servers.nats.start()
        recovery = await fault_run.recovery(since=ended)
    result = await fault_run.finish("kill -9 NATS", recovery)
    assert result.clean, result

"""kill -9 of each service under load: the gateway, the recorder, and one recorder worker of
two (its supervisor starts it again)."""

from __future__ import annotations

import signal
import time

import psutil

from .scenario import FAULT_SUITE, FaultRun

pytestmark = FAULT_SUITE


async def test_kill_9_of_the_gateway(fault_run: FaultRun) -> None:
    """kill -9 of the gateway under load (requests in flight get no answer); it starts again
    on its port."""
    gateway, _ = await fault_run.start()
    async with fault_run.load.running():
        await fault_run.flowing()
        gateway.process.send_signal(signal.SIGKILL)
        gateway.process.wait()
        ended = fault_run.restart(gateway)
        recovery = await fault_run.recovery(since=ended)
    result = await fault_run.finish("kill -9 gateway", recovery)
    assert result.clean, result


async def test_kill_9_of_the_recorder(fault_run: FaultRun) -> None:
    """kill -9 of the recorder mid-batch; it starts again, and what it held comes back after
    the ack wait."""
    _, recorder = await fault_run.start()
    async with fault_run.load.running():
        await fault_run.flowing()
        recorder.process.send_signal(signal.SIGKILL)
        recorder.process.wait()
        ended = fault_run.restart(recorder)
        recovery = await fault_run.recovery(since=ended)
    result = await fault_run.finish("kill -9 recorder", recovery)
    assert result.clean, result


async def test_kill_9_of_one_recorder_worker_of_two(fault_run: FaultRun) -> None:
    """kill -9 of one of two recorder worker processes (`--workers 2`); the supervisor starts
    it again, the other worker goes on."""
    _, recorder = await fault_run.start(recorder_workers=2)
    supervisor = psutil.Process(recorder.process.pid)
    async with fault_run.load.running():
        await fault_run.flowing()
        victim = supervisor.children()[0]
        victim.kill()
        victim.wait()
        ended = time.monotonic()
        recovery = await fault_run.recovery(since=ended)
        workers = supervisor.children()
    result = await fault_run.finish("kill -9 one recorder worker of 2", recovery)
    assert result.clean, result
    assert len(workers) == 2
    assert victim not in workers

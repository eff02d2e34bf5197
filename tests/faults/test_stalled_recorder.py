"""A recorder stalled (SIGSTOP) past its consumer's ack wait, under load, then continued
(SIGCONT), again and again while it works off the backlog of the stall before: JetStream
redelivers what the recorder held, while the recorder still holds it too."""

from __future__ import annotations

import signal
import subprocess
import time

from tally.contracts import TELEMETRY_STREAM
from tally.sdk import NatsBroker
from tally.sdk.testing import eventually

from .scenario import FAULT_SUITE, OUTCOME_SECONDS, FaultRun

pytestmark = FAULT_SUITE

ACK_WAIT_SECONDS = 1.0
# The fault is a duration: each stall outlasts the ack wait.
STALL_SECONDS = 1.5 * ACK_WAIT_SECONDS
STALLS = 8
# How long the recorder runs between stalls: a sweep, so that some stall catches it reading a
# batch off the wire, and some in its handler.
RESUMED_SECONDS = (0.02, 0.05, 0.1, 0.3)


async def test_a_recorder_stalled_past_its_ack_wait(fault_run: FaultRun) -> None:
    """The recorder (ack wait 1 s) is stopped with SIGSTOP for 1.5 s, 8 times, running 0.02–0.3 s
    between stalls, then continued (SIGCONT)."""
    _, recorder = await fault_run.start(
        recorder_env={"TALLY_ACK_WAIT_SECONDS": str(ACK_WAIT_SECONDS)}
    )
    assert await ack_wait(fault_run.nats_url) == ACK_WAIT_SECONDS
    async with fault_run.load.running():
        await fault_run.flowing()
        for n in range(STALLS):
            await stall(recorder.process, running_for=RESUMED_SECONDS[n % len(RESUMED_SECONDS)])
        ended = time.monotonic()
        recovery = await fault_run.recovery(since=ended)
    result = await fault_run.finish(
        "recorder stalled past its ack wait, 8 times", recovery, settled_by=recorder
    )
    assert result.clean, result


async def stall(process: subprocess.Popen[bytes], running_for: float) -> None:
    """Let the recorder run for `running_for`, then stop it for longer than its ack wait."""
    resumed = time.monotonic()
    await eventually(lambda: time.monotonic() > resumed + running_for, OUTCOME_SECONDS)
    process.send_signal(signal.SIGSTOP)
    stalled = time.monotonic()
    try:
        await eventually(lambda: time.monotonic() > stalled + STALL_SECONDS, OUTCOME_SECONDS)
    finally:
        process.send_signal(signal.SIGCONT)


async def ack_wait(nats_url: str) -> float:
    """The recorder's ack wait as JetStream has it."""
    broker = await NatsBroker.connect(nats_url)
    try:
        info = await broker.client.jetstream().consumer_info(TELEMETRY_STREAM.name, "recorder")
    finally:
        await broker.close()
    seconds = info.config.ack_wait
    assert isinstance(seconds, float)
    return seconds

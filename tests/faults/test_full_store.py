"""A full broker store: the TELEMETRY stream with a small byte limit (TALLY_STREAM_MAX_BYTES),
filled under load while the recorder is stopped. The gateway must refuse with 503 and
Retry-After (machines retry), and once the recorder is back and drains, what it has stored must
make room: ingest resumes by itself."""

from __future__ import annotations

import signal
import tempfile
from pathlib import Path

from tally.sdk import StreamLimits
from tally.sdk.embedded import EmbeddedNats

from .conftest import FaultServers, open_fault_run
from .report import ScenarioReport
from .scenario import FAULT_SUITE, requests_refused

pytestmark = FAULT_SUITE

# A few thousand messages: full within seconds of load.
STREAM_BYTES = 4 * 1024 * 1024
# Requests refused once the store is full: the machines felt it.
WHILE_FULL = 6


async def test_a_full_broker_store(
    fault_servers: FaultServers, fault_report: ScenarioReport, tmp_path: Path
) -> None:
    """TELEMETRY limited to 4 MiB fills while the recorder is stopped (SIGTERM), until the
    machines have had 6 requests refused; then the recorder starts again and drains."""
    # On a NATS of its own, so that no other scenario meets the small stream.
    with (
        tempfile.TemporaryDirectory(prefix="tally-full-", ignore_cleanup_errors=True) as folder,
        EmbeddedNats(Path(folder)) as nats,
    ):
        limits = StreamLimits(replicas=1, max_bytes=STREAM_BYTES)
        async with open_fault_run(fault_servers, nats.url, fault_report, tmp_path, limits) as run:
            _, recorder = await run.start()
            async with run.load.running():
                await run.flowing()
                recorder.process.send_signal(signal.SIGTERM)
                recorder.process.wait()
                await run.meanwhile(requests_refused, WHILE_FULL)
                ended = run.restart(recorder)
                recovery = await run.recovery(since=ended)
            result = await run.finish("full broker store (stream of 4 MiB)", recovery)
    assert result.clean, result
    # The refusals said what to do: come back later.
    assert run.load.verdicts.retry_after > 0, result.answers
    assert set(result.answers) <= {"200", "422", "429", "503"}, result.answers

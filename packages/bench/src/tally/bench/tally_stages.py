"""tally's own stages next to their ceilings and peers, in turns.

gateway: the corpus's uploads (each machine's, as the simulator made them) over HTTP through
`POST /v1/telemetry` until each is acknowledged (JetStream has stored it), 8 uploads in flight,
against the same messages published straight to JetStream (the ceiling). CPU: the gateway,
nats-server and PostgreSQL (the client, this process, is not counted in either).

recorder: a backlog of the whole corpus in a fresh stream, drained by tally's recorder, by the
hand-written peer and by the FastStream peer (each its own process), next to the two-connection
COPY ceiling, in turns. For every contender alike, time and datapoints come from the ledger
(from its first storing transaction's start to its last one's: no start-up, no polling), and CPU
(the contender, nats-server and PostgreSQL) is taken over that same stretch.
"""

from __future__ import annotations

import asyncio
import sys
import time

import httpx
import msgspec

from tally.bench.ceilings import copy_batches, copy_run, drop_twins, make_twins
from tally.bench.context import STALL_SECONDS, Bench
from tally.bench.measure import Ratio, Run, Series, StageResult
from tally.bench.meter import Usage, measure
from tally.bench.peers.protocol import PeerReport
from tally.sdk import role_url
from tally.simulator import HttpSender
from tally.supervisor import ServiceProcess, scrape, total

UPLOADS_IN_FLIGHT = 8
STORED = "tally_recorder_messages_stored_total"
# A peer that has not drained the backlog by then is stuck (a batch failing over and over).
PEER_TIMEOUT = 300.0


async def gateway_run(
    bench: Bench, gateway: ServiceProcess, tokens: dict[tuple[str, str], str], turn: int
) -> Run:
    placements = {(p.tenant.id, p.machine.id): p.machine for p in bench.corpus.fleet.placements()}
    queue = list(reversed(bench.corpus.uploads))
    async with (
        httpx.AsyncClient(timeout=60.0) as client,
        HttpSender(gateway.url, tokens, client=client) as sender,
    ):

        async def worker() -> None:
            while queue:
                tenant, machine, upload = queue.pop()
                await sender.send(tenant, placements[(tenant, machine)], upload)

        async with (
            bench.profile("gateway", gateway.process.pid, turn),
            measure(bench.groups(gateway)) as usage,
        ):
            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(UPLOADS_IN_FLIGHT)))
            seconds = time.perf_counter() - started
    return Run(bench.corpus.datapoints, seconds, usage.cpu_seconds, usage.peak_rss_mib)


async def gateway_stage(bench: Bench, tokens: dict[tuple[str, str], str]) -> StageResult:
    result = StageResult("gateway", "Gateway: HTTP uploads until JetStream acknowledges")
    raw = Series("js_publish", "raw JetStream publish (ceiling)")
    gateway_series = Series("gateway", f"gateway ({bench.options.workers} worker)")
    gateway = bench.processes.start("gateway", workers=bench.options.workers)
    await bench.processes.wait_ready(gateway)
    try:
        for turn in range(bench.options.repeats):
            await bench.fresh_stream()
            async with measure(bench.groups()) as usage:
                run = await bench.publish(bench.corpus.wire)
            raw.runs.append(Run(run.datapoints, run.seconds, usage.cpu_seconds))
            await bench.fresh_stream()
            gateway_series.runs.append(await gateway_run(bench, gateway, tokens, turn))
    finally:
        await bench.stop(gateway)
    result.series += [raw, gateway_series]
    result.ratios.append(Ratio(gateway_series, raw))
    return result


async def drained(bench: Bench, usage: Usage, seconds: float) -> Run:
    """Every contender's rate and CPU over the same stretch, read from the ledger: from its first
    transaction's start to its last one's (so no contender's start-up counts, and no polling
    decides when it began); CPU interpolated over that stretch from the meter's samples."""
    span = await bench.stored_span()
    if span is None:  # a backlog stored in one transaction: the whole measured stretch
        return Run(bench.corpus.datapoints, seconds, usage.cpu_seconds, usage.peak_rss_mib)
    first, last, datapoints = span
    return Run(datapoints, last - first, usage.cpu_between(first, last), usage.peak_rss_mib)


async def recorder_run(bench: Bench, turn: int) -> Run:
    expected = len(bench.corpus.wire)
    recorder = bench.processes.start("recorder", workers=bench.options.workers)
    try:
        async with (
            httpx.AsyncClient(timeout=5.0) as client,
            bench.profile("recorder", recorder.process.pid, turn),
            measure(bench.groups(recorder)) as usage,
        ):
            await bench.processes.wait_ready(recorder)
            started = time.perf_counter()
            last, since = -1.0, time.monotonic()
            while True:
                stored = total(await scrape(client, recorder.ops_url), STORED)
                if stored >= expected:
                    break
                if recorder.process.poll() is not None:
                    raise RuntimeError(f"the recorder stopped; see {recorder.log}")
                if stored != last:
                    last, since = stored, time.monotonic()
                elif time.monotonic() - since > STALL_SECONDS:
                    raise RuntimeError(f"the recorder stored {stored} of {expected}, no more")
                await asyncio.sleep(0.05)
            seconds = time.perf_counter() - started
    finally:
        await bench.stop(recorder)
    return await drained(bench, usage, seconds)


async def peer_run(bench: Bench, module: str, turn: int) -> Run:
    """One peer process drains the backlog; its own report gives its time, CPU and memory."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        f"tally.bench.peers.{module}",
        "--nats",
        bench.nats_url,
        "--database",
        role_url(bench.database_url, "tally_ingest"),
        "--durable",
        f"peer_{module}_{turn}",
        "--expect",
        str(len(bench.corpus.wire)),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with (
            bench.profile(module, process.pid, turn),
            measure(bench.groups(**{module: [process.pid]})) as usage,
        ):
            out, err = await asyncio.wait_for(process.communicate(), PEER_TIMEOUT)
    except TimeoutError:
        process.kill()
        out, err = await process.communicate()
        said = (out + err).decode(errors="replace")[-3000:]
        raise RuntimeError(
            f"peer {module} did not finish in {PEER_TIMEOUT:.0f} s: {said}"
        ) from None
    if process.returncode != 0:
        raise RuntimeError(f"peer {module} failed ({process.returncode}): {err.decode()[-2000:]}")
    report = msgspec.json.decode(out.strip().splitlines()[-1], type=PeerReport)
    if report.datapoints != bench.corpus.datapoints:
        raise RuntimeError(f"peer {module} stored {report.datapoints} datapoints, not all")
    # Its RSS is sampled like every service's (its own ru_maxrss would not do: Linux carries
    # the parent's peak over fork and exec); time and CPU from the ledger, as the recorder's.
    return await drained(bench, usage, report.seconds)


async def recorder_stage(bench: Bench) -> StageResult:
    result = StageResult(
        "recorder", "Recorder: draining a backlog, against its peers and the COPY ceiling"
    )
    ceiling = Series("copy_2", "COPY, 2 connections, unindexed (ceiling)")
    recorder = Series("recorder", f"tally recorder ({bench.options.workers} worker)")
    handwritten = Series("handwritten", "nats-py + msgspec + asyncpg, by hand")
    faststream = Series("faststream", "FastStream batch pull subscriber + pydantic")
    batches = copy_batches(bench.corpus.messages)
    await make_twins(bench.database_url)
    try:
        for turn in range(bench.options.repeats):
            ceiling.runs.append(await copy_run(bench, batches, 2))
            for series, module in (
                (recorder, None),
                (handwritten, "handwritten"),
                (faststream, "faststream_peer"),
            ):
                await bench.fresh_stream()
                await bench.empty_tables()
                await bench.publish(bench.corpus.wire)
                if module is None:
                    series.runs.append(await recorder_run(bench, turn))
                else:
                    series.runs.append(await peer_run(bench, module, turn))
                stored = await bench.stored()
                if stored != len(bench.corpus.wire):
                    raise RuntimeError(
                        f"{series.key}: {stored} messages stored of {len(bench.corpus.wire)}"
                    )
    finally:
        await drop_twins(bench.database_url)
    result.series += [ceiling, recorder, handwritten, faststream]
    result.ratios += [
        Ratio(recorder, ceiling),
        Ratio(recorder, handwritten),
        Ratio(recorder, faststream),
        Ratio(handwritten, ceiling),
        Ratio(faststream, ceiling),
    ]
    result.notes.append(
        "Every contender drains the same backlog into emptied tables through the same ledger, "
        "500 messages per transaction; each run is checked to have stored every message once. "
        "Time, datapoints and CPU are taken from each contender's first storing transaction to "
        "its last (the ledger's received_at), start-up excluded for all alike."
    )
    return result

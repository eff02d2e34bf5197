"""The whole path: simulated machines' uploads → gateway over HTTP → JetStream → recorder →
stored, and the soak.

Maximum rate: the corpus's uploads as fast as the gateway takes them (8 in flight), timed until
every accepted message is in the ledger; in turns with the two-connection COPY ceiling. CPU over
the gateway, the recorder, nats-server and every PostgreSQL process (the load generator, this
process, apart).

Latency at half that rate: the same uploads paced to half the maximum; for each upload, its last
message's identity and the moment the gateway acknowledged it; a poller asks the ledger every
20 ms which of those are stored. Visible = in the raw tables (the API-visible variant is a
stage to add once the figures API exists). Resolution: the poll period.

Soak: the simulator plays the fleet in real time at the speed that makes half the maximum rate,
for `--soak` seconds; each service's RSS at start and end, and the recorder's lag (messages not
yet acknowledged) sampled throughout.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time

import asyncpg
import httpx

from tally.bench.ceilings import copy_batches, copy_run, drop_twins, make_twins
from tally.bench.context import LEDGER, STALL_SECONDS, Bench
from tally.bench.measure import Ratio, Run, Series, StageResult
from tally.bench.meter import measure, rss_mib
from tally.simulator import HttpSender, Simulation
from tally.supervisor import ServiceProcess

UPLOADS_IN_FLIGHT = 8
POLL_SECONDS = 0.02
SEED = 1

Identity = tuple[str, str, str, int]


async def _pipeline(bench: Bench) -> tuple[ServiceProcess, ServiceProcess]:
    await bench.fresh_stream()
    await bench.empty_tables()
    gateway = bench.processes.start("gateway", workers=bench.options.workers)
    recorder = bench.processes.start("recorder", workers=bench.options.workers)
    await bench.processes.wait_ready(gateway)
    await bench.processes.wait_ready(recorder)
    return gateway, recorder


async def _until_stored(bench: Bench, expected: int) -> None:
    connection = await asyncpg.connect(bench.database_url)
    last, since = -1, time.monotonic()
    try:
        while True:
            stored = int(await connection.fetchval(f"SELECT count(*) FROM {LEDGER}"))
            if stored >= expected:
                break
            if stored != last:
                last, since = stored, time.monotonic()
            elif time.monotonic() - since > STALL_SECONDS:
                raise RuntimeError(f"stored {stored} of {expected} messages, and no more")
            await asyncio.sleep(0.05)
    finally:
        await connection.close()


async def _send_all(
    bench: Bench,
    gateway: ServiceProcess,
    tokens: dict[tuple[str, str], str],
    *,
    rate: float | None,
    acked: dict[Identity, float] | None = None,
) -> None:
    """Every upload of the corpus; paced to `rate` datapoints/s when given."""
    placements = {(p.tenant.id, p.machine.id): p.machine for p in bench.corpus.fleet.placements()}
    uploads = bench.corpus.uploads
    due: list[float] = []
    sent = 0
    for _, _, upload in uploads:
        due.append(sent / rate if rate else 0.0)
        sent += sum(len(m.signals) for m in upload.messages)
    queue = list(reversed(list(zip(due, uploads, strict=True))))
    started = time.perf_counter()
    async with (
        httpx.AsyncClient(timeout=60.0) as client,
        HttpSender(gateway.url, tokens, client=client) as sender,
    ):

        async def worker() -> None:
            while queue:
                at, (tenant, machine, upload) = queue.pop()
                wait = started + at - time.perf_counter()
                if wait > 0:
                    await asyncio.sleep(wait)
                await sender.send(tenant, placements[(tenant, machine)], upload)
                if acked is not None:
                    last = upload.messages[-1]
                    acked[(tenant, machine, last.boot_id, last.seq)] = time.perf_counter()

        await asyncio.gather(*(worker() for _ in range(UPLOADS_IN_FLIGHT)))


async def max_rate_run(bench: Bench, tokens: dict[tuple[str, str], str], turn: int) -> Run:
    gateway, recorder = await _pipeline(bench)
    try:
        async with (
            bench.profile("end_to_end_gateway", gateway.process.pid, turn),
            bench.profile("end_to_end_recorder", recorder.process.pid, turn),
            measure(bench.groups(gateway, recorder)) as usage,
        ):
            started = time.perf_counter()
            await _send_all(bench, gateway, tokens, rate=None)
            await _until_stored(bench, len(bench.corpus.wire))
            seconds = time.perf_counter() - started
    finally:
        await bench.stop(gateway)
        await bench.stop(recorder)
    return Run(bench.corpus.datapoints, seconds, usage.cpu_seconds, usage.peak_rss_mib)


async def _watch_visible(
    bench: Bench, acked: dict[Identity, float], visible: dict[Identity, float], stop: asyncio.Event
) -> None:
    connection = await asyncpg.connect(bench.database_url)
    try:
        while not (stop.is_set() and len(visible) >= len(acked)):
            pending = [i for i in list(acked) if i not in visible][:500]
            if pending:
                rows = await connection.fetch(
                    f"SELECT tenant, machine, boot_id, seq FROM {LEDGER} WHERE "
                    "(tenant, machine, boot_id, seq) IN (SELECT * FROM unnest($1::text[], "
                    "$2::text[], $3::text[], $4::bigint[]))",
                    *(list(column) for column in zip(*pending, strict=True)),
                )
                now = time.perf_counter()
                for row in rows:
                    visible[(row[0], row[1], row[2], row[3])] = now
            await asyncio.sleep(POLL_SECONDS)
    finally:
        await connection.close()


async def latency_run(
    bench: Bench, tokens: dict[tuple[str, str], str], rate: float
) -> tuple[Run, list[float]]:
    """Seconds from each sampled acknowledgement to the message stored, at `rate`."""
    gateway, recorder = await _pipeline(bench)
    acked: dict[Identity, float] = {}
    visible: dict[Identity, float] = {}
    stop = asyncio.Event()
    watcher = asyncio.create_task(_watch_visible(bench, acked, visible, stop))
    try:
        async with measure(bench.groups(gateway, recorder)) as usage:
            started = time.perf_counter()
            await _send_all(bench, gateway, tokens, rate=rate, acked=acked)
            stop.set()
            await asyncio.wait_for(watcher, STALL_SECONDS)
            seconds = time.perf_counter() - started
    finally:
        watcher.cancel()
        await bench.stop(gateway)
        await bench.stop(recorder)
    latencies = [visible[i] - acked[i] for i in acked]
    run = Run(bench.corpus.datapoints, seconds, usage.cpu_seconds, usage.peak_rss_mib)
    return run, latencies


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def end_to_end_stage(bench: Bench, tokens: dict[tuple[str, str], str]) -> StageResult:
    result = StageResult(
        "end_to_end", "End to end: machines → gateway → JetStream → recorder → stored"
    )
    ceiling = Series("copy_2", "COPY, 2 connections, unindexed (ceiling)")
    full = Series("end_to_end", f"end to end, maximum rate ({bench.options.workers} worker)")
    half = Series("end_to_end_half", "end to end at half the maximum rate")
    batches = copy_batches(bench.corpus.messages)
    latencies: list[float] = []
    await make_twins(bench.database_url)
    try:
        for turn in range(bench.options.repeats):
            ceiling.runs.append(await copy_run(bench, batches, 2))
            full.runs.append(await max_rate_run(bench, tokens, turn))
    finally:
        await drop_twins(bench.database_url)
    max_rate = full.per_second.median
    bench.facts["end_to_end_max_datapoints_per_s"] = max_rate
    for _ in range(bench.options.repeats):
        run, found = await latency_run(bench, tokens, max_rate / 2)
        half.runs.append(run)
        latencies += found
    result.series += [ceiling, full, half]
    result.ratios.append(Ratio(full, ceiling))
    result.figures.update(
        {
            "max_datapoints_per_s": round(max_rate),
            "half_rate_datapoints_per_s": round(max_rate / 2),
            "ack_to_visible_p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
            "ack_to_visible_p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
            "ack_to_visible_mean_ms": round(statistics.fmean(latencies) * 1000, 1)
            if latencies
            else float("nan"),
            "latency_samples": len(latencies),
        }
    )
    result.notes.append(
        f"Latency: one sample per upload (its last message), {len(latencies)} samples, polled "
        f"every {POLL_SECONDS * 1000:.0f} ms; visible = in the raw tables, not yet through the "
        "API."
    )
    return result


async def _lag(bench: Bench) -> int:
    info = await bench.js.consumer_info("TELEMETRY", "recorder")
    return int((info.num_pending or 0) + (info.num_ack_pending or 0))


async def soak_stage(bench: Bench, tokens: dict[tuple[str, str], str]) -> StageResult:
    result = StageResult("soak", f"Soak: {bench.options.soak_seconds:.0f} s at half the maximum")
    max_rate = bench.facts.get("end_to_end_max_datapoints_per_s")
    if max_rate is None:
        result.notes.append("not run: it needs the end-to-end stage's maximum rate")
        return result
    speed = (max_rate / 2) / bench.corpus.datapoints_per_simulated_second
    gateway, recorder = await _pipeline(bench)
    lags: list[int] = []
    try:
        start_rss = {s.name: rss_mib([s.process.pid]) for s in (gateway, recorder)}
        simulation = Simulation(bench.corpus.fleet, seed=SEED + 1, speed=speed)
        stop = asyncio.Event()

        async def sample_lag() -> None:
            while not stop.is_set():
                lags.append(await _lag(bench))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 1.0)

        sampler = asyncio.create_task(sample_lag())
        async with (
            httpx.AsyncClient(timeout=60.0) as client,
            HttpSender(gateway.url, tokens, client=client) as sender,
            measure(bench.groups(gateway, recorder)) as usage,
        ):
            started = time.perf_counter()
            stats = await simulation.run(sender, until_wall=bench.options.soak_seconds)
            seconds = time.perf_counter() - started
            end_rss = {s.name: rss_mib([s.process.pid]) for s in (gateway, recorder)}
            final_lag = await _lag(bench)
        stop.set()
        await sampler
    finally:
        await bench.stop(gateway)
        await bench.stop(recorder)
    accepted = sum(s.accepted for s in stats.values())
    datapoints = sum(s.datapoints_sent for s in stats.values())
    soak = Series("soak", f"soak at half rate, speed {speed:,.0f}×")
    soak.runs.append(Run(datapoints, seconds, usage.cpu_seconds, usage.peak_rss_mib))
    result.series.append(soak)
    for name in start_rss:
        result.figures[f"{name}_rss_start_mib"] = round(start_rss[name], 1)
        result.figures[f"{name}_rss_end_mib"] = round(end_rss[name], 1)
    result.figures.update(
        {
            "target_datapoints_per_s": round(max_rate / 2),
            "messages_accepted": accepted,
            "lag_max_messages": max(lags, default=0),
            "lag_at_end_messages": final_lag,
        }
    )
    return result

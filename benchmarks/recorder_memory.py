"""Does the recorder's memory stay flat however many messages it stores?

    uv run python benchmarks/recorder_memory.py [--quick]

The real recorder (`python -m tally.recorder`, one worker) runs as a subprocess against NATS
JetStream and PostgreSQL (embedded with fsync off, or TALLY_NATS_URL / TALLY_OWNER_DATABASE_URL;
memory does not depend on fsync). Each round publishes N telemetry messages (20 signals each,
several tenants, every identity new), waits until the recorder's metric
`tally_recorder_messages_stored_total` shows all of them stored, lets it settle, then samples
the recorder's RSS and USS (psutil; median of five samples).

Reported: memory per round, and the growth per 100k messages from the end of round 1 (warm:
pools, caches, partitions and allocator arenas in place) to the last round, and as the slope
of least-squares lines through rounds 2..last and through the second half. Flat means a
slope near 0, with the noise of the allocator (a few MB) around it.

With TALLY_NATS_URL the run publishes into that server's TELEMETRY stream and runs the
durable consumer "recorder" there: use a server of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks._common import (
    Deadline,
    machine_info,
    median,
    print_table,
    service_environment,
    write_results,
)
from benchmarks._fleet import SIGNALS_PER_MESSAGE, TelemetrySource, bounded
from tally.contracts import TELEMETRY, TELEMETRY_STREAM, Telemetry
from tally.sdk import NatsBroker
from tally.supervisor import ServiceProcess, scrape, total

STORED = "tally_recorder_messages_stored_total"
PUBLISH_CONCURRENCY = 256
CATCH_UP_SECONDS = 120.0


@dataclass(frozen=True)
class RoundResult:
    round: int
    messages_total: int
    rss_mib: float
    uss_mib: float
    publish_seconds: float
    catch_up_seconds: float


async def publish_round(broker: NatsBroker, messages: list[Telemetry]) -> None:
    await bounded([partial(broker.publish, TELEMETRY, m) for m in messages], PUBLISH_CONCURRENCY)


async def stored(client: httpx.AsyncClient, recorder: ServiceProcess, tenants: list[str]) -> int:
    samples = await scrape(client, recorder.ops_url)
    return int(sum(total(samples, STORED, tenant=t) for t in tenants))


async def wait_caught_up(
    client: httpx.AsyncClient, recorder: ServiceProcess, tenants: list[str], expected: int
) -> None:
    deadline = time.monotonic() + CATCH_UP_SECONDS
    while await stored(client, recorder, tenants) < expected:
        if recorder.process.poll() is not None:
            raise RuntimeError(f"the recorder exited; see {recorder.log}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the recorder did not store {expected} messages in time")
        await asyncio.sleep(0.2)


async def memory(recorder: ServiceProcess) -> tuple[float, float]:
    """Median RSS and USS in MiB over five samples, after a moment to settle."""
    await asyncio.sleep(1.0)
    process = psutil.Process(recorder.process.pid)
    rss: list[float] = []
    uss: list[float] = []
    for _ in range(5):
        processes = [process, *process.children(recursive=True)]
        infos = [p.memory_full_info() for p in processes]
        rss.append(sum(i.rss for i in infos) / 2**20)
        uss.append(sum(i.uss for i in infos) / 2**20)
        await asyncio.sleep(0.2)
    return median(rss), median(uss)


def slope_per_100k(points: list[tuple[int, float]]) -> float:
    """Least-squares slope of MiB over messages, per 100k messages."""
    if len(points) < 2:
        return float("nan")
    mx = sum(x for x, _ in points) / len(points)
    my = sum(y for _, y in points) / len(points)
    sxx = sum((x - mx) ** 2 for x, _ in points)
    sxy = sum((x - mx) * (y - my) for x, y in points)
    return sxy / sxx * 100_000 if sxx else float("nan")


async def run(rounds: int, per_round: int) -> tuple[dict[str, object], list[RoundResult]]:
    info = machine_info()
    async with service_environment("tally_bench_mem", fast=True, client_name="bench-mem") as env:
        await env.broker.ensure_stream(TELEMETRY_STREAM)
        recorder = env.processes.start("recorder")
        await env.processes.wait_ready(recorder)
        results = await measure(env.broker, recorder, rounds, per_round)
    setup: dict[str, object] = {
        "rounds": len(results),
        "messages_per_round": per_round,
        "signals_per_message": SIGNALS_PER_MESSAGE,
        "recorder_workers": 1,
    }
    header = env.header("recorder_memory", info, setup)
    header["rounds"] = [asdict(r) for r in results]
    header.update(growth(results))
    return header, results


async def measure(
    broker: NatsBroker, recorder: ServiceProcess, rounds: int, per_round: int
) -> list[RoundResult]:
    source = TelemetrySource(tenants=5, machines_per_tenant=8, prefix="mem")
    rss0, uss0 = await memory(recorder)
    print(f"idle recorder: RSS {rss0:.1f} MiB, USS {uss0:.1f} MiB")
    budget = Deadline(150)
    results: list[RoundResult] = []
    async with httpx.AsyncClient(timeout=5.0) as client:
        for n in range(1, rounds + 1):
            if n > 3 and budget.passed:
                print("time budget spent; stopping early")
                break
            messages = source.batch(per_round)
            started = time.perf_counter()
            await publish_round(broker, messages)
            published = time.perf_counter()
            await wait_caught_up(client, recorder, source.tenants, source.produced)
            caught_up = time.perf_counter()
            rss, uss = await memory(recorder)
            results.append(
                RoundResult(
                    round=n,
                    messages_total=source.produced,
                    rss_mib=round(rss, 1),
                    uss_mib=round(uss, 1),
                    publish_seconds=round(published - started, 2),
                    catch_up_seconds=round(caught_up - started, 2),
                )
            )
            print(f"  round {n}: {source.produced:,} messages stored, RSS {rss:.1f} MiB")
    return results


def growth(results: list[RoundResult]) -> dict[str, float]:
    first, last = results[0], results[-1]
    span = last.messages_total - first.messages_total
    later = results[1:]
    return {
        "rss_growth_mib_per_100k_messages_round1_to_last": round(
            (last.rss_mib - first.rss_mib) / span * 100_000, 2
        ),
        "uss_growth_mib_per_100k_messages_round1_to_last": round(
            (last.uss_mib - first.uss_mib) / span * 100_000, 2
        ),
        "rss_slope_mib_per_100k_messages_round2_on": round(
            slope_per_100k([(r.messages_total, r.rss_mib) for r in later]), 2
        ),
        # Allocator arenas and caches may still settle in the first rounds; a leak keeps going.
        "rss_slope_mib_per_100k_messages_second_half": round(
            slope_per_100k([(r.messages_total, r.rss_mib) for r in results[len(results) // 2 :]]),
            2,
        ),
        "rss_peak_mib": max(r.rss_mib for r in results),
        "messages_per_s_stored_last_round": round(
            (last.messages_total - results[-2].messages_total) / last.catch_up_seconds
        )
        if len(results) > 1
        else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="4 rounds of 5k messages")
    parser.add_argument("--rounds", type=int, help="rounds (default 10, quick 4)")
    parser.add_argument("--messages", type=int, help="messages per round (default 25k, quick 5k)")
    args = parser.parse_args()
    rounds = args.rounds or (4 if args.quick else 10)
    per_round = args.messages or (5_000 if args.quick else 25_000)
    started = time.monotonic()
    header, results = asyncio.run(run(rounds, per_round))
    header["quick"] = args.quick
    header["wall_seconds"] = round(time.monotonic() - started, 1)
    print()
    print_table(
        ["round", "messages", "RSS MiB", "USS MiB", "publish s", "stored after s"],
        [
            (
                r.round,
                r.messages_total,
                r.rss_mib,
                r.uss_mib,
                r.publish_seconds,
                r.catch_up_seconds,
            )
            for r in results
        ],
    )
    for key in (
        "rss_growth_mib_per_100k_messages_round1_to_last",
        "uss_growth_mib_per_100k_messages_round1_to_last",
        "rss_slope_mib_per_100k_messages_round2_on",
        "rss_slope_mib_per_100k_messages_second_half",
        "rss_peak_mib",
    ):
        print(f"{key}: {header[key]}")
    print(f"\nwritten to {write_results('recorder_memory', header, quick=args.quick)}")


if __name__ == "__main__":
    main()

"""How should the rollup learn what changed? (a) per-batch Python over the telemetry, or (b) the
recorder's STORED notices and a recomputation of the touched buckets from the raw rows.

    uv run python benchmarks/rollup_designs.py [--quick] [--hours H]

One simulated line (four machines, every fault) over H hours (default 24; --quick: 3) is
generated in memory and stored in time order the way the recorder stores it — the recorder's
own ledger claim and COPY, in batches of 500 messages — into an embedded PostgreSQL with fsync
off (or TALLY_OWNER_DATABASE_URL). Measured, in one process, one after the other:

- recorder: datapoints/s of storing the batches (the rate the rollup must keep up with);
- (b) beside the recorder, in the same process: the rollup as the service runs it — each pass
  takes every STORED notice published since the last, merges them per machine and recomputes
  (tally.figures.recompute: the touched production days, from raw rows). Datapoints/s from the
  start until the rollup has done the last notice, its ratio to the recorder's rate (1: done
  when the recorder is), the lag left when the recorder finished, and the passes' durations
  (a growing lag shows as passes growing longer);
- (b) rebuild: the whole span recomputed once per machine-day (`tally rollup rebuild`);
- (a) fold: the least (a) would do in Python per batch — decode each message, fold each
  counter's increase and each state's seconds into per-minute dicts in memory, no I/O and no
  handling of late or out-of-order data — datapoints/s.

Results: benchmarks/results/rollup_designs.json (a --quick run: rollup_designs.quick.json).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks._common import (
    MIGRATIONS,
    machine_info,
    median,
    postgres_info,
    print_table,
    scratch_database,
    servers,
    write_results,
)
from tally.contracts import Counter, State, Stored, Telemetry
from tally.figures import Touched, rebuild, recompute
from tally.recorder.queries import TELEMETRY_LEDGER
from tally.recorder.rows import days_touched, stored_notices, table_rows
from tally.registry import RegistrySnapshot, load_snapshot
from tally.rollup.service import merged
from tally.sdk import Database, DayPartitions, Tx, migrate, role_url
from tally.simulator import MemorySender, Simulation, build_fleet, provision

SEED = 11
BATCH = 500


async def generate(hours: float) -> tuple[list[Telemetry], object]:
    fleet = build_fleet(SEED, tenants=1, lines_per_site=1)
    start = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)
    simulation = Simulation(
        fleet, seed=SEED, start=start, speed=float("inf"), tenants=[fleet.tenants[0].id]
    )
    sender = MemorySender()
    await simulation.run(sender, until_sim=start + timedelta(hours=hours))
    tenant = fleet.tenants[0].id
    # Only the first site's line: one line's rate.
    line_machines = {m.id for m in fleet.tenants[0].sites[0].lines[0].machines}
    messages = [
        Telemetry.of(sent.tenant, sent.machine, m)
        for sent in sender.uploads
        if sent.tenant == tenant and sent.machine in line_machines
        for m in sent.upload.messages
    ]
    messages.sort(key=lambda m: m.ts)
    return messages, fleet


def fold(batches: Sequence[Sequence[Telemetry]]) -> tuple[float, int]:
    """Design (a)'s least work: counter increases and state seconds into minute dicts."""
    encoded = [msgspec.msgpack.encode(batch) for batch in batches]
    decoder = msgspec.msgpack.Decoder(list[Telemetry])
    last_counter: dict[tuple[str, str], int] = {}
    last_state: dict[str, tuple[float, str]] = {}
    packs: dict[tuple[str, int], int] = {}
    seconds: dict[tuple[str, int, str], float] = {}
    datapoints = 0
    started = time.perf_counter()
    for data in encoded:
        for message in decoder.decode(data):
            for signal in message.signals:
                datapoints += 1
                t = (signal.ts or message.ts).timestamp()
                minute = int(t // 60)
                if isinstance(signal, Counter):
                    key = (message.machine, signal.name)
                    previous = last_counter.get(key)
                    last_counter[key] = signal.value
                    if previous is not None and signal.value >= previous:
                        k = (message.machine, minute)
                        packs[k] = packs.get(k, 0) + signal.value - previous
                elif isinstance(signal, State):
                    held = last_state.get(message.machine)
                    last_state[message.machine] = (t, signal.name)
                    if held is not None:
                        k2 = (message.machine, int(held[0] // 60), held[1])
                        seconds[k2] = seconds.get(k2, 0.0) + t - held[0]
    return time.perf_counter() - started, datapoints


async def side_by_side(
    ingest: Database, rollup: Database, snapshot: RegistrySnapshot, batches: list[list[Telemetry]]
) -> tuple[list[float], float, float]:
    """The recorder storing batch after batch as fast as it can, and beside it the rollup as
    the service runs: each pass takes every notice published since the last, merges them per
    machine and recomputes. Returns the passes' durations, the recorder's time, and the time
    from the start until the rollup had recomputed the last notice."""
    tenant = snapshot.tenant
    notices: list[Stored] = []
    recorder_done = asyncio.Event()
    partitions = DayPartitions(ingest)
    passes: list[float] = []
    finished: list[float] = []
    started = time.perf_counter()

    async def record() -> None:
        for batch in batches:
            # The rollup's buckets of a day reach into the UTC days either side.
            await partitions.ensure(
                {d + timedelta(days=n) for d in days_touched(batch) for n in (-1, 0, 1)}
            )

            async def store(tx: Tx, batch: list[Telemetry] = batch) -> None:
                new = await TELEMETRY_LEDGER.claim(tx, tenant, batch)
                for copy, records in table_rows(new).copies():
                    await tx.copy_records(copy, records)

            await ingest.transaction(store)
            notices.extend(stored_notices(batch))
        finished.append(time.perf_counter() - started)
        recorder_done.set()

    async def roll() -> None:
        while not (recorder_done.is_set() and not notices):
            if not notices:
                await asyncio.sleep(0.05)
                continue
            taken = notices[:]
            del notices[:]
            begun = time.perf_counter()
            for touched in merged(taken):

                async def work(tx: Tx, touched: Touched = touched) -> None:
                    await recompute(tx, snapshot, touched)

                await rollup.transaction(work, tenant=tenant)
            passes.append(time.perf_counter() - begun)

    recorder = asyncio.create_task(record())
    await roll()
    await recorder
    return passes, finished[0], time.perf_counter() - started


async def run(hours: float, quick: bool) -> dict[str, object]:
    messages, fleet = await generate(hours)
    datapoints = sum(len(m.signals) for m in messages)
    batches = [messages[i : i + BATCH] for i in range(0, len(messages), BATCH)]
    with servers(fast=True, need_nats=False) as found:
        async with scratch_database(found.database_url, "bench_rollup") as url:
            await migrate(url, MIGRATIONS)
            await provision(fleet, url)  # type: ignore[arg-type]
            tenant = messages[0].tenant
            async with (
                await Database.connect(
                    role_url(url, "tally_ingest"), max_size=2, role="tally_ingest"
                ) as ingest,
                await Database.connect(
                    role_url(url, "tally_rollup"), max_size=2, role="tally_rollup"
                ) as rollup,
            ):
                snapshot = await load_snapshot(rollup, tenant)
                passes, recorder_seconds, rollup_seconds = await side_by_side(
                    ingest, rollup, snapshot, batches
                )
                first = messages[0].ts.date() - timedelta(days=1)
                last = messages[-1].ts.date() + timedelta(days=1)
                started = time.perf_counter()
                machine_days = await rebuild(rollup, tenant, first, last)
                rebuild_seconds = time.perf_counter() - started
            postgres = await postgres_info(url)
    fold_seconds, folded = fold(batches)
    recorder_rate = datapoints / recorder_seconds
    rollup_rate = datapoints / rollup_seconds
    half = len(passes) // 2
    results: dict[str, object] = {
        "machine": machine_info(),
        "postgres": postgres,
        "hours_simulated": hours,
        "messages": len(messages),
        "datapoints": datapoints,
        "batches": len(batches),
        "recorder_datapoints_per_s": round(recorder_rate),
        "b_incremental_datapoints_per_s": round(rollup_rate),
        "b_incremental_ratio_to_recorder": round(rollup_rate / recorder_rate, 3),
        "b_lag_after_recorder_s": round(rollup_seconds - recorder_seconds, 2),
        "b_passes": len(passes),
        "b_pass_seconds_median_first_half": round(median(passes[:half] or [0.0]), 3),
        "b_pass_seconds_median_second_half": round(median(passes[half:] or [0.0]), 3),
        "b_pass_seconds_max": round(max(passes or [0.0]), 3),
        "b_rebuild_machine_days": machine_days,
        "b_rebuild_seconds": round(rebuild_seconds, 2),
        "b_rebuild_datapoints_per_s": round(datapoints / rebuild_seconds),
        "a_fold_datapoints_per_s": round(folded / fold_seconds),
        "a_fold_ratio_to_recorder": round(folded / fold_seconds / recorder_rate, 3),
    }
    print_table(
        ["measured", "datapoints/s", "÷ recorder"],
        [
            ["recorder (ledger + COPY)", results["recorder_datapoints_per_s"], 1.0],
            [
                "(b) rollup beside it, notices merged per pass",
                results["b_incremental_datapoints_per_s"],
                results["b_incremental_ratio_to_recorder"],
            ],
            ["(b) rebuild, once per machine-day", results["b_rebuild_datapoints_per_s"], ""],
            [
                "(a) Python fold per batch (lower bound)",
                results["a_fold_datapoints_per_s"],
                results["a_fold_ratio_to_recorder"],
            ],
        ],
    )
    print(write_results("rollup_designs", results, quick=quick))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 simulated hours")
    parser.add_argument("--hours", type=float, default=None)
    args = parser.parse_args()
    hours = args.hours or (3.0 if args.quick else 24.0)
    asyncio.run(run(hours, args.quick))


if __name__ == "__main__":
    main()

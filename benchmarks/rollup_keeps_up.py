"""Does the rollup keep up with the recorder at the recorder's full rate? Both as service
processes, the way `tally run` starts them.

    uv run python benchmarks/rollup_keeps_up.py [--hours H] [--rounds N] [--workers 1,2] [--fast]

One simulated tenant (its whole fleet, one line a site, every fault of the simulator) over H
hours (default 8) is generated in memory, in device-time order, and published into the TELEMETRY
stream before anything consumes it: a backlog, so the recorder stores at its full rate, as fast
as it and PostgreSQL can. Then the rollup process starts, then the recorder process (one worker
each unless --workers says otherwise for the rollup); the rollup recomputes from the STORED
notices the recorder publishes after each commit, as in production. PostgreSQL has fsync on, as
in production (--fast: off).

Every 0.2 s this process samples both, with one yardstick:
- the notices the recorder published (read by a plain subscription to the STORED subjects, in
  publish order), and the rollup's acknowledged ones (its durable consumer's ack floor);
- each side's progress in datapoints: for each machine, the generated datapoints up to the
  latest device time of its notices published (recorder) or acknowledged (rollup: datapoints
  whose buckets are current).

Reported per run: recorder datapoints/s (from its first notice until every datapoint's notice
was published), rollup datapoints/s (from the same start until every notice was acknowledged),
their ratio (1: the rollup is done when the recorder is), the rollup's lag in datapoints at a
quarter, half, three quarters and the end of the recorder's time (it must not grow), and the
seconds the rollup needed after the recorder finished. Rounds alternate the --workers settings
so the shared machine's noise falls on each; medians per setting.

Results: benchmarks/results/rollup_keeps_up.json (--quick: rollup_keeps_up.quick.json).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import time
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import msgspec
from nats.aio.msg import Msg
from nats.js import JetStreamContext

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks._common import (
    Deadline,
    machine_info,
    median,
    print_table,
    service_environment,
    write_results,
)
from benchmarks._fleet import bounded
from tally.contracts import STORED_STREAM, TELEMETRY, TELEMETRY_STREAM, Stored, Telemetry
from tally.simulator import Fleet, MemorySender, Simulation, build_fleet, provision
from tally.supervisor import ServiceProcess

SEED = 11
START = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)
PUBLISHES_IN_FLIGHT = 256
SAMPLE_SECONDS = 0.2


async def generate(hours: float) -> tuple[list[Telemetry], Fleet]:
    fleet = build_fleet(SEED, tenants=1, lines_per_site=1)
    tenant = fleet.tenants[0].id
    simulation = Simulation(fleet, seed=SEED, start=START, speed=float("inf"), tenants=[tenant])
    sender = MemorySender()
    await simulation.run(sender, until_sim=START + timedelta(hours=hours))
    messages = [
        Telemetry.of(sent.tenant, sent.machine, m)
        for sent in sender.uploads
        if sent.tenant == tenant
        for m in sent.upload.messages
    ]
    messages.sort(key=lambda m: m.ts)
    return messages, fleet


class Yardstick:
    """Datapoints of each machine up to a device time: progress from notices' `last`."""

    def __init__(self, messages: Sequence[Telemetry]) -> None:
        times: dict[str, list[float]] = defaultdict(list)
        for message in messages:
            for signal in message.signals:
                times[message.machine].append((signal.ts or message.ts).timestamp())
        self.times = {machine: sorted(found) for machine, found in times.items()}
        self.total = sum(len(found) for found in self.times.values())

    def datapoints(self, reached: dict[str, float]) -> int:
        return sum(bisect_right(self.times[m], t) for m, t in reached.items() if m in self.times)


@dataclass
class Progress:
    """The notices in publish order and each side's reach."""

    notices: list[Stored] = field(default_factory=list)
    samples: list[tuple[float, int, int]] = field(default_factory=list)  # (t, recorder, rollup)

    def reached(self, upto: int) -> dict[str, float]:
        found: dict[str, float] = {}
        for notice in self.notices[:upto]:
            found[notice.machine] = max(found.get(notice.machine, 0.0), notice.last)
        return found


@dataclass(frozen=True)
class RunResult:
    workers: int
    datapoints: int
    recorder_seconds: float
    rollup_seconds: float
    lag_datapoints: list[int]  # at 25, 50, 75, 100 % of the recorder's time
    notices: int

    @property
    def recorder_rate(self) -> float:
        return self.datapoints / self.recorder_seconds

    @property
    def rollup_rate(self) -> float:
        return self.datapoints / self.rollup_seconds

    @property
    def ratio(self) -> float:
        return self.rollup_rate / self.recorder_rate


async def until_done(
    progress: Progress,
    yardstick: Yardstick,
    js: JetStreamContext,
    services: Sequence[ServiceProcess],
) -> float:
    """Sample both sides until the rollup is current with everything; the recorder's time."""
    deadline = Deadline(1800)
    recorder = services[-1]
    while not progress.notices:
        if deadline.passed or recorder.process.poll() is not None:
            raise RuntimeError(f"the recorder stored nothing; see {recorder.log}")
        await asyncio.sleep(0.01)
    started = time.perf_counter()
    recorder_done: float | None = None
    while not deadline.passed:
        await asyncio.sleep(SAMPLE_SECONDS)
        published = len(progress.notices)
        acked = 0
        with contextlib.suppress(Exception):
            info = await js.consumer_info(STORED_STREAM.name, "rollup")
            acked = info.ack_floor.stream_seq if info.ack_floor else 0
        now = time.perf_counter() - started
        stored = yardstick.datapoints(progress.reached(published))
        current = yardstick.datapoints(progress.reached(min(acked, published)))
        progress.samples.append((now, stored, current))
        if recorder_done is None and stored >= yardstick.total:
            recorder_done = now
        if recorder_done is not None and current >= yardstick.total:
            return recorder_done
        for service in services:
            if service.process.poll() is not None:
                raise RuntimeError(f"{service.name} exited; see {service.log}")
    raise RuntimeError("not done within the time budget")


async def one_run(
    messages: list[Telemetry], fleet: Fleet, yardstick: Yardstick, workers: int, fast: bool
) -> RunResult:
    async with service_environment(
        "bench_keeps_up", fast=fast, client_name="bench-keeps-up"
    ) as env:
        await provision(fleet, env.database_url)
        broker = env.broker
        for stream in (TELEMETRY_STREAM, STORED_STREAM):
            await broker.ensure_stream(stream)
        await bounded(
            [partial(broker.publish, TELEMETRY, m) for m in messages], PUBLISHES_IN_FLIGHT
        )
        progress = Progress()
        decoder = msgspec.json.Decoder(Stored)

        async def heard(msg: Msg) -> None:
            progress.notices.append(decoder.decode(msg.data))

        subscription = await broker.client.subscribe("stored.>", cb=heard)
        js = broker.client.jetstream()
        rollup = env.processes.start("rollup", workers=workers)
        await env.processes.wait_ready(rollup)
        recorder = env.processes.start("recorder")
        await env.processes.wait_ready(recorder)
        recorder_done = await until_done(progress, yardstick, js, (rollup, recorder))
        await subscription.unsubscribe()
        rollup_done = progress.samples[-1][0]
        lags = []
        for quarter in (0.25, 0.5, 0.75, 1.0):
            at = next(s for s in progress.samples if s[0] >= quarter * recorder_done)
            lags.append(at[1] - at[2])
        return RunResult(
            workers, yardstick.total, recorder_done, rollup_done, lags, len(progress.notices)
        )


async def run(hours: float, rounds: int, workers: list[int], fast: bool, quick: bool) -> None:
    info = machine_info()
    messages, fleet = await generate(hours)
    yardstick = Yardstick(messages)
    print(f"{len(messages):,} messages, {yardstick.total:,} datapoints over {hours} h")
    runs: list[RunResult] = []
    for n in range(rounds):
        for w in workers:
            result = await one_run(messages, fleet, yardstick, w, fast)
            runs.append(result)
            print(
                f"  round {n + 1}, rollup workers {w}: recorder {result.recorder_rate:,.0f} dp/s, "
                f"rollup {result.rollup_rate:,.0f} dp/s, ratio {result.ratio:.3f}, "
                f"lag {result.lag_datapoints} dp, "
                f"done {result.rollup_seconds - result.recorder_seconds:.2f} s after"
            )
    by_workers: dict[str, object] = {}
    rows = []
    for w in workers:
        mine = [r for r in runs if r.workers == w]
        summary = {
            "runs": len(mine),
            "recorder_datapoints_per_s_median": round(median([r.recorder_rate for r in mine])),
            "rollup_datapoints_per_s_median": round(median([r.rollup_rate for r in mine])),
            "ratio_median": round(median([r.ratio for r in mine]), 3),
            "ratios": [round(r.ratio, 3) for r in mine],
            "lag_datapoints_at_quarters_median": [
                round(statistics.median(r.lag_datapoints[i] for r in mine)) for i in range(4)
            ],
            "rollup_done_after_recorder_s_median": round(
                median([r.rollup_seconds - r.recorder_seconds for r in mine]), 2
            ),
            "notices_median": round(median([r.notices for r in mine])),
        }
        by_workers[str(w)] = summary
        rows.append(
            [
                w,
                summary["recorder_datapoints_per_s_median"],
                summary["rollup_datapoints_per_s_median"],
                summary["ratio_median"],
                summary["lag_datapoints_at_quarters_median"],
                summary["rollup_done_after_recorder_s_median"],
            ]
        )
    results: dict[str, object] = {
        "benchmark": "rollup_keeps_up",
        "machine": info,
        "postgres_fsync": not fast,
        "hours_simulated": hours,
        "messages": len(messages),
        "datapoints": yardstick.total,
        "rounds": rounds,
        "by_rollup_workers": by_workers,
    }
    print_table(
        [
            "rollup workers",
            "recorder dp/s",
            "rollup dp/s",
            "÷ recorder",
            "lag dp at ¼ ½ ¾ end",
            "s after recorder",
        ],
        rows,
    )
    print(write_results("rollup_keeps_up", results, quick=quick))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hours", type=float, default=None, help="simulated hours (default 8)")
    parser.add_argument("--quick", action="store_true", help="2 simulated hours, one round")
    parser.add_argument("--rounds", type=int, default=None, help="rounds (default 3)")
    parser.add_argument("--workers", default="1", help="rollup workers to alternate, e.g. 1,2")
    parser.add_argument("--fast", action="store_true", help="PostgreSQL with fsync off")
    args = parser.parse_args()
    hours = args.hours or (2.0 if args.quick else 8.0)
    rounds = args.rounds or (1 if args.quick else 3)
    workers = [int(w) for w in args.workers.split(",")]
    asyncio.run(run(hours, rounds, workers, args.fast, args.quick))


if __name__ == "__main__":
    main()

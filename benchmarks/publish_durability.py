"""What durability costs the gateway's publish path: JetStream's sync interval against replication.

    uv run python benchmarks/publish_durability.py [--quick]

The gateway answers 200 once JetStream acknowledges every message of an upload, so the price of
durability is the price of that acknowledgement. This measures `NatsBroker.publish(TELEMETRY, …)`
— exactly the gateway's call, with the same messages (20 signals each) — on five layouts, all
embedded on this machine (loopback, the same disk, under a temporary folder) — four that
the decision is between, and a fifth, a shorter sync interval for a single server:

    single, sync 2 min     one server, JetStream's default: written to the OS at once, fsync'd
                           every two minutes (the acknowledgement does not wait for the disk)
    single, sync 1 s       one server, `sync_interval: 1s`: the same, fsync'd every second
    single, sync always    one server, `sync_interval: always`: fsync before every acknowledgement
    R3, sync 2 min         three clustered servers, the stream replicated three times: the leader
                           acknowledges once a majority (2 of 3) has the message
    R3, sync always        both

Two loads per layout: an upload's worth in flight (50 publishes at once, as the gateway sends an
upload's messages) for throughput and latency, and one publish at a time for the latency of a
lone message. Every ratio is to "single, sync 2 min" measured in the same run; the layouts take
turns, twice, so the machine's noise falls on all of them. The stream is purged after every
phase so each starts from the same, small store. With three servers on two shared cores the
cluster pays for CPU it would not share in production (each node has its own machine there),
so its ratio is a floor, not an estimate.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks._common import machine_info, print_table, write_results
from benchmarks._fleet import SIGNALS_PER_MESSAGE, TelemetrySource
from tally.contracts import TELEMETRY, TELEMETRY_STREAM
from tally.sdk import NatsBroker, StreamLimits
from tally.sdk.embedded import EmbeddedNats, nats_server_binary
from tally.sdk.testing import NatsCluster

UPLOAD_IN_FLIGHT = 50
ROUNDS = 2


@dataclass(frozen=True)
class Layout:
    name: str
    replicas: int
    sync_interval: str | None


LAYOUTS = (
    Layout("single, sync 2 min (default)", 1, None),
    Layout("single, sync 1 s", 1, "1s"),
    Layout("single, sync always", 1, "always"),
    Layout("R3, sync 2 min (default)", 3, None),
    Layout("R3, sync always", 3, "always"),
)
CEILING = LAYOUTS[0].name


@dataclass
class Samples:
    """Publishes done and their latencies (seconds), over every phase of one layout and load."""

    messages: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0

    def quantile_ms(self, q: float) -> float:
        if len(self.latencies) < 2:
            return float("nan")
        return 1000 * statistics.quantiles(self.latencies, n=100, method="inclusive")[int(q) - 1]


@contextlib.contextmanager
def servers(folder: Path) -> Iterator[dict[str, str]]:
    """Every layout's servers, started once, stopped however the run ends: layout → URL."""
    with contextlib.ExitStack() as stack:
        urls: dict[str, str] = {}
        for index, layout in enumerate(LAYOUTS):
            where = folder / f"layout{index}"
            if layout.replicas == 1:
                server = EmbeddedNats(where, sync_interval=layout.sync_interval)
                urls[layout.name] = stack.enter_context(server).url
            else:
                cluster = NatsCluster(
                    where, size=layout.replicas, sync_interval=layout.sync_interval
                )
                urls[layout.name] = stack.enter_context(cluster).url
        yield urls


async def phase(
    broker: NatsBroker, source: TelemetrySource, in_flight: int, seconds: float, into: Samples
) -> None:
    """`in_flight` publishers for `seconds`; then the stream is emptied for the next phase."""
    end = time.perf_counter() + seconds
    done = 0

    async def publisher() -> None:
        nonlocal done
        while time.perf_counter() < end:
            message = source.next()
            started = time.perf_counter()
            await broker.publish(TELEMETRY, message)
            into.latencies.append(time.perf_counter() - started)
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(publisher() for _ in range(in_flight)))
    into.seconds += time.perf_counter() - started
    into.messages += done
    await broker.client.jetstream().purge_stream(TELEMETRY_STREAM.name)


async def run(phase_seconds: float) -> dict[str, dict[str, Samples]]:
    source = TelemetrySource(tenants=3, machines_per_tenant=8, prefix="durability")
    samples = {layout.name: {"upload": Samples(), "single": Samples()} for layout in LAYOUTS}
    with (
        tempfile.TemporaryDirectory(prefix="tally-bench-durability-") as folder,
        servers(Path(folder)) as urls,
    ):
        brokers = {
            layout.name: await NatsBroker.connect(
                urls[layout.name],
                name="durability-bench",
                limits=StreamLimits(replicas=layout.replicas),
            )
            for layout in LAYOUTS
        }
        try:
            for broker in brokers.values():
                await broker.ensure_stream(TELEMETRY_STREAM)
                await phase(broker, source, UPLOAD_IN_FLIGHT, 0.5, Samples())  # warm-up
            for round_number in range(ROUNDS):
                # Rotate who goes first, so no layout always runs on a cold or a tired machine.
                order = LAYOUTS[round_number:] + LAYOUTS[:round_number]
                for layout in order:
                    broker = brokers[layout.name]
                    taken = samples[layout.name]
                    await phase(broker, source, UPLOAD_IN_FLIGHT, phase_seconds, taken["upload"])
                    await phase(broker, source, 1, phase_seconds / 2, taken["single"])
                    print(
                        f"  round {round_number + 1}, {layout.name}: "
                        f"{taken['upload'].per_second:,.0f} messages/s so far"
                    )
        finally:
            for broker in brokers.values():
                await broker.close()
    return samples


def summary(samples: dict[str, dict[str, Samples]]) -> list[dict[str, object]]:
    ceiling = samples[CEILING]
    rows: list[dict[str, object]] = []
    for layout in LAYOUTS:
        upload, single = samples[layout.name]["upload"], samples[layout.name]["single"]
        rows.append(
            {
                "layout": layout.name,
                "replicas": layout.replicas,
                "sync_interval": layout.sync_interval or "2m (default)",
                "upload_messages_per_s": round(upload.per_second),
                "upload_datapoints_per_s": round(upload.per_second * SIGNALS_PER_MESSAGE),
                "upload_ratio_to_ceiling": round(
                    upload.per_second / ceiling["upload"].per_second, 3
                ),
                "upload_p50_ms": round(upload.quantile_ms(50), 2),
                "upload_p99_ms": round(upload.quantile_ms(99), 2),
                "single_messages_per_s": round(single.per_second),
                "single_p50_ms": round(single.quantile_ms(50), 3),
                "single_p99_ms": round(single.quantile_ms(99), 3),
                "single_p50_ratio_to_ceiling": round(
                    single.quantile_ms(50) / ceiling["single"].quantile_ms(50), 2
                ),
                "publishes_measured": upload.messages + single.messages,
            }
        )
    return rows


def server_version() -> str:
    done = subprocess.run(
        [str(nats_server_binary()), "--version"], capture_output=True, text=True, check=False
    )
    return done.stdout.strip()


def store_description() -> str:
    """Where the JetStream stores were, and on what file system (fsync costs what it costs)."""
    folder = tempfile.gettempdir()
    mounts = Path("/proc/mounts").read_text().splitlines() if Path("/proc/mounts").exists() else []
    best = ("", "unknown")
    for line in mounts:
        device, point, kind = line.split()[:3]
        if folder.startswith(point) and len(point) > len(best[0]):
            best = (point, f"{kind} on {device}")
    return f"temporary folders under {folder} ({best[1]})"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 s phases instead of 6 s")
    args = parser.parse_args()
    started = time.monotonic()
    machine = machine_info()
    samples = asyncio.run(run(2.0 if args.quick else 6.0))
    rows = summary(samples)
    results: dict[str, object] = {
        "benchmark": "publish_durability",
        "machine": machine,
        "nats_server": server_version(),
        "store": store_description(),
        "setup": {
            "upload_in_flight": UPLOAD_IN_FLIGHT,
            "signals_per_message": SIGNALS_PER_MESSAGE,
            "rounds": ROUNDS,
            "ceiling": CEILING,
        },
        "quick": args.quick,
        "wall_seconds": round(time.monotonic() - started, 1),
        "layouts": rows,
    }
    print()
    print_table(
        [
            "layout",
            "msgs/s (50 in flight)",
            "÷ ceiling",
            "p50 ms",
            "p99 ms",
            "1 in flight p50 ms",
            "÷ ceiling",
        ],
        [
            (
                r["layout"],
                r["upload_messages_per_s"],
                r["upload_ratio_to_ceiling"],
                r["upload_p50_ms"],
                r["upload_p99_ms"],
                r["single_p50_ms"],
                r["single_p50_ratio_to_ceiling"],
            )
            for r in rows
        ],
    )
    print(f"\nwritten to {write_results('publish_durability', results, quick=args.quick)}")


if __name__ == "__main__":
    main()

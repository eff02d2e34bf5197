"""One `tally bench` run: the machine described, the corpus built, the servers started (or
given), a migrated database of the run's own, every stage in turn, the results written."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import time
from pathlib import Path

from tally.bench.context import Bench, BenchOptions, connect_nats
from tally.bench.corpus import build_corpus
from tally.bench.machine import load_average, machine_facts
from tally.bench.measure import StageResult
from tally.bench.profiles import summarise
from tally.bench.report import Report, write
from tally.bench.servers import (
    local_postgres_pid,
    nats_facts,
    postgres_facts,
    scratch_database,
    servers,
)
from tally.bench.stages import STAGES
from tally.contracts import TELEMETRY_STREAM
from tally.sdk import NatsBroker, migrate
from tally.simulator import provision
from tally.supervisor import ServiceProcesses

# Tenants' ingest budgets out of the way: the benchmark measures the pipeline, not its limits.
UNLIMITED = 10**9


async def run_bench(options: BenchOptions, command: str) -> tuple[Path, Path]:
    started = time.monotonic()
    machine = machine_facts()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    print(f"tally bench: building the corpus ({options.corpus_days} simulated days) …")
    corpus = await build_corpus(days=options.corpus_days)
    print(f"  {len(corpus.wire):,} messages, {corpus.datapoints:,} datapoints")
    stages = [s for s in STAGES if options.only is None or s.key in options.only]
    results: list[StageResult] = []
    failures: list[str] = []
    with (
        servers(options.nats_url, options.postgres_url) as found,
        tempfile.TemporaryDirectory(prefix="tally-bench-logs-") as logs,
    ):
        async with scratch_database(found.postgres_url) as url:
            await migrate(url, options.migrations)
            tokens = await provision(
                corpus.fleet, url, {t.id: UNLIMITED for t in corpus.fleet.tenants}
            )
            postgres_pid = found.postgres_pid or await local_postgres_pid(url)
            server_pids = {
                name: [pid]
                for name, pid in (("nats-server", found.nats_pid), ("postgres", postgres_pid))
                if pid is not None
            }
            processes = ServiceProcesses(
                env={"TALLY_NATS_URL": found.nats_url, "TALLY_LOG_LEVEL": "warning"},
                log_dir=Path(logs),
                owner_database_url=url,
            )
            broker = await NatsBroker.connect(found.nats_url, name="tally-bench")
            client, js = await connect_nats(found.nats_url)
            bench = Bench(
                options, url, found.nats_url, corpus, processes, broker, client, js, server_pids
            )
            try:
                await bench.ensure_partitions()
                for stage in stages:
                    print(f"tally bench: {stage.key} — {stage.title} …")
                    stage_started = time.monotonic()
                    try:
                        results.append(await stage.run(bench, tokens))
                    except Exception as error:
                        # The stages measured so far are still written; the run then fails.
                        failed = StageResult(stage.key, f"{stage.title} — FAILED")
                        failed.notes.append(f"failed: {error!r}")
                        results.append(failed)
                        failures.append(f"{stage.key}: {error!r}")
                        print(f"  FAILED: {error!r}")
                        continue
                    print(f"  done in {time.monotonic() - stage_started:.0f} s")
                server_facts = {
                    "embedded": found.embedded,
                    "measured_processes": sorted(server_pids),
                    "postgres": await postgres_facts(url),
                    "nats": {
                        **await nats_facts(found.nats_url, TELEMETRY_STREAM.name),
                        "config": found.nats_config,
                        "sync_interval": _sync_interval(found.nats_config),
                    },
                }
            finally:
                processes.stop_all()
                await client.close()
                await broker.close()
    setup: dict[str, object] = {
        "quick": options.quick,
        "repeats": options.repeats,
        "workers": options.workers,
        "soak_seconds": options.soak_seconds,
        "corpus_simulated_days": options.corpus_days,
        "corpus_messages": len(corpus.wire),
        "corpus_datapoints": corpus.datapoints,
        "datapoints_per_message": round(corpus.datapoints / max(1, len(corpus.wire)), 1),
        "tenants": len(corpus.fleet.tenants),
        "machines": len(corpus.fleet.placements()),
        "stages": [s.key for s in stages],
    }
    if options.profile_dir is not None and options.profile_dir.is_dir():
        summaries = {
            path.stem: summarise(path) for path in sorted(options.profile_dir.glob("*.txt"))
        }
        summary = options.profile_dir / "summary.json"
        summary.write_text(json.dumps(summaries, indent=2) + "\n")
        setup["profiles"] = str(summary)
    report = Report(
        command,
        machine,
        server_facts,
        setup,
        results,
        load_average(),
        time.monotonic() - started,
    )
    written = write(report, options.results_dir, stamp + (".quick" if options.quick else ""))
    if failures:
        raise BenchFailed(f"stages failed ({', '.join(failures)}); results so far in {written[0]}")
    return written


class BenchFailed(Exception):
    """A stage failed; the results of the others were written."""


def _sync_interval(config: str | None) -> str:
    """The JetStream sync interval of an embedded server's configuration (the server's default,
    every two minutes, when it names none; unknown for a server given by URL)."""
    if config is None:
        return "unknown (server given by URL)"
    for line in config.splitlines():
        key, _, value = line.strip().partition(":")
        if key == "sync_interval":
            return value.strip().strip('"')
    return "default (2 min)"

"""What every benchmark shares: the servers, a database of its own, machine facts, the output.

Servers come from TALLY_NATS_URL / TALLY_OWNER_DATABASE_URL when set, else embedded ones are
started under a temporary folder and stopped (and removed) when the block ends. Services log in
as their own roles, as in production.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

from tally.bench.machine import cpu_model

# scratch_database is re-exported: the older benchmark scripts take it from here.
from tally.bench.servers import postgres_facts
from tally.bench.servers import scratch_database as scratch_database
from tally.sdk import NatsBroker, infrastructure, migrate, owner_database_url
from tally.supervisor import ServiceProcesses

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
MIGRATIONS = ROOT / "db" / "migrations"


@dataclass(frozen=True)
class Servers:
    nats_url: str
    database_url: str
    # True when the servers were started here (embedded); False when given by URL.
    embedded_nats: bool
    embedded_postgres: bool
    # fsync on/off of the embedded PostgreSQL (meaningless for a given server).
    postgres_fast: bool


@contextlib.contextmanager
def servers(*, fast: bool, need_nats: bool = True) -> Iterator[Servers]:
    """The servers of one benchmark run: from the environment, or embedded and stopped after."""
    nats_url = os.environ.get("TALLY_NATS_URL") or None
    database_url = owner_database_url(os.environ)
    # A benchmark that needs no broker names one it never dials, so none is started for it.
    given_nats = nats_url if need_nats else (nats_url or "nats://unused.invalid:4222")
    with (
        tempfile.TemporaryDirectory(prefix="tally-bench-", ignore_cleanup_errors=True) as folder,
        infrastructure(
            Path(folder), nats_url=given_nats, database_url=database_url, fast=fast, disposable=True
        ) as endpoints,
    ):
        yield Servers(
            nats_url=endpoints.nats_url,
            database_url=endpoints.database_url,
            embedded_nats=need_nats and nats_url is None,
            embedded_postgres=database_url is None,
            postgres_fast=fast,
        )


def machine_info() -> dict[str, object]:
    """Cores, memory, CPU, and how busy the machine was when the run started."""
    load1, load5, _ = os.getloadavg()
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "host": platform.node(),
        "cpu": cpu_model(),
        "logical_cores": psutil.cpu_count(logical=True),
        "physical_cores": psutil.cpu_count(logical=False),
        "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "load_average_1m_5m_at_start": [round(load1, 2), round(load5, 2)],
        "python": sys.version.split()[0],
        "os": platform.platform(),
    }


async def postgres_info(url: str) -> dict[str, object]:
    """Version and the settings that decide write speed (as `tally bench` reports them)."""
    return await postgres_facts(url)


def write_results(name: str, results: dict[str, object], *, quick: bool) -> Path:
    """results/<name>.json; a --quick smoke run goes to <name>.quick.json and leaves the
    recorded measurement alone."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    load1, load5, _ = os.getloadavg()
    results["load_average_1m_5m_at_end"] = [round(load1, 2), round(load5, 2)]
    path = RESULTS / f"{name}{'.quick' if quick else ''}.json"
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    return path


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A plain-text table (also valid Markdown)."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells:
        print("| " + " | ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) + " |")


def _cell(value: object) -> str:
    if isinstance(value, float):
        if abs(value) < 10:
            return f"{value:,.3f}"
        return f"{value:,.1f}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


class Deadline:
    """A time budget: benchmarks stop adding work when it is spent, so each run is bounded."""

    def __init__(self, seconds: float) -> None:
        self._end = time.monotonic() + seconds

    @property
    def passed(self) -> bool:
        return time.monotonic() > self._end

    @property
    def left(self) -> float:
        return max(0.0, self._end - time.monotonic())


@dataclass(frozen=True)
class ServiceEnvironment:
    """Servers, a migrated scratch database, a broker client and a way to start services."""

    found: Servers
    database_url: str
    postgres: dict[str, object]
    broker: NatsBroker
    processes: ServiceProcesses

    def header(
        self, benchmark: str, machine: dict[str, object], setup: dict[str, object]
    ) -> dict[str, object]:
        """The start of a results file: what ran, on which machine and servers, set up how."""
        found = self.found
        return {
            "benchmark": benchmark,
            "machine": machine,
            "postgres": {
                **self.postgres,
                "embedded": found.embedded_postgres,
                "fast": found.postgres_fast,
            },
            "nats_embedded": found.embedded_nats,
            "setup": setup,
        }


@contextlib.asynccontextmanager
async def service_environment(
    database_prefix: str, *, fast: bool, client_name: str
) -> AsyncIterator[ServiceEnvironment]:
    """Everything a benchmark of running services needs; all of it stopped again on exit."""
    with (
        servers(fast=fast) as found,
        tempfile.TemporaryDirectory(prefix="tally-bench-logs-") as logs,
    ):
        async with scratch_database(found.database_url, database_prefix) as url:
            await migrate(url, MIGRATIONS)
            processes = ServiceProcesses(
                env={"TALLY_NATS_URL": found.nats_url, "TALLY_LOG_LEVEL": "warning"},
                log_dir=Path(logs),
                owner_database_url=url,
            )
            broker = await NatsBroker.connect(found.nats_url, name=client_name)
            try:
                yield ServiceEnvironment(found, url, await postgres_info(url), broker, processes)
            finally:
                processes.stop_all()
                await broker.close()

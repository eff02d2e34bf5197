"""The production figures against the simulator's ground truth, end to end: simulator → gateway →
JetStream → recorder → STORED → rollup → rollup tables, as real processes on real NATS and
PostgreSQL.

One run covers a full production day of two tenants in three zones (Berlin, Madrid and Chicago,
whose day of 2026-10-31 is 25 h long across the DST change), with every fault the simulator
makes (resets, 16-bit rollovers, reboots, duplicates, outages replayed as historical data,
reordering, clock skew, silent machines), delivered with every upload shuffled across machines
and time and sent twice, while the rollup and then the recorder are killed with SIGKILL and
restarted. The figures must equal the truth; `rebuild` must then give identical rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime

import asyncpg
import httpx
import nats.js.errors
import pytest

from tally.contracts import STORED_STREAM, TELEMETRY_STREAM
from tally.sdk import NatsBroker
from tally.sdk.testing import eventually
from tally.simulator import (
    Fleet,
    HttpSender,
    LineDayTruth,
    MachineDayTruth,
    MachineSpec,
    MemorySender,
    SentUpload,
    Simulation,
    TruthFile,
    build_fleet,
    provision,
)
from tally.supervisor import ServiceProcess, ServiceProcesses

from .conftest import SEED

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(1500)]

# From before Berlin's and Madrid's day of 31 Oct (05:00 UTC) to after Chicago's (12:00 UTC on
# 1 Nov, after the clocks went back), so that every line has one complete production day.
START = datetime(2026, 10, 31, 4, 0, tzinfo=UTC)
END = datetime(2026, 11, 1, 12, 30, tzinfo=UTC)
SHORT_ACK_WAIT = {
    "TALLY_RECORDER_CONSUMER_RECORDER_ACK_WAIT_SECONDS": "5",
    "TALLY_ROLLUP_CONSUMER_ROLLUP_ACK_WAIT_SECONDS": "10",
}
STATE_SECONDS_TOLERANCE = 1.0
OEE_TOLERANCE = 0.001


async def fresh_streams(nats_url: str) -> None:
    """Empty the streams and forget the consumers' positions (other tests share the server)."""
    broker = await NatsBroker.connect(nats_url)
    try:
        for stream in (TELEMETRY_STREAM, STORED_STREAM):
            await broker.ensure_stream(stream)
            js = broker.client.jetstream()
            await js.purge_stream(stream.name)
            for durable in stream.consumers:
                with contextlib.suppress(nats.js.errors.NotFoundError):
                    await js.delete_consumer(stream.name, durable)
            await broker.ensure_stream(stream)
    finally:
        await broker.close()


async def generate(fleet: Fleet) -> tuple[list[SentUpload], TruthFile]:
    """The whole run's uploads, as the machines would send them, and the truth."""
    simulation = Simulation(fleet, seed=SEED, start=START, speed=float("inf"))
    recorded = MemorySender()
    await simulation.run(recorded, until_sim=END)
    return recorded.uploads, simulation.truth.to_file()


def shuffled_twice(uploads: Sequence[SentUpload]) -> list[SentUpload]:
    """Every upload twice, each copy in an order of its own: across machines, and a machine's
    own uploads out of time order."""
    rng = random.Random(SEED)
    first, second = list(uploads), list(uploads)
    rng.shuffle(first)
    rng.shuffle(second)
    return first + second


async def send_all(
    url: str,
    fleet: Fleet,
    tokens: dict[tuple[str, str], str],
    uploads: Sequence[SentUpload],
    progress: list[int],
) -> None:
    specs: dict[str, MachineSpec] = {p.machine.id: p.machine for p in fleet.placements()}
    queue = list(reversed(uploads))
    async with httpx.AsyncClient(timeout=60.0) as client:
        sender = HttpSender(url, tokens, client=client)

        async def worker() -> None:
            while queue:
                upload = queue.pop()
                await sender.send(upload.tenant, specs[upload.machine], upload.upload)
                progress[0] += 1

        await asyncio.gather(*(worker() for _ in range(6)))


async def kill_and_restart(
    services: ServiceProcesses, service: ServiceProcess, name: str
) -> ServiceProcess:
    service.process.send_signal(signal.SIGKILL)
    service.process.wait(timeout=30)
    restarted = services.start(name, extra=SHORT_ACK_WAIT)
    await services.wait_ready(restarted, within=120)
    return restarted


async def machine_days(url: str) -> dict[tuple[str, str, date], asyncpg.Record]:
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT tenant, machine, production_day, packs_total, packs_good, "
            "state_seconds::text AS state_seconds, planned_seconds, excluded_seconds, "
            "running_seconds, micro_seconds, ideal_seconds, packs_in_ppt, good_in_ppt "
            "FROM rollup_machine_periods WHERE grain = 'day'"
        )
    finally:
        await connection.close()
    return {(r["tenant"], r["machine"], r["production_day"]): r for r in rows}


async def line_days(url: str) -> dict[tuple[str, str, date], asyncpg.Record]:
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT tenant, line, production_day, packs_good, packs_total, oee, availability, "
            "performance, quality FROM rollup_line_periods WHERE grain = 'day'"
        )
    finally:
        await connection.close()
    return {(r["tenant"], r["line"], r["production_day"]): r for r in rows}


def _machine_oee(row: asyncpg.Record) -> float | None:
    ppt = row["planned_seconds"] - row["excluded_seconds"]
    if not ppt:
        return None
    if not row["ideal_seconds"]:
        return 0.0
    if not row["packs_in_ppt"]:
        return None
    return float(row["ideal_seconds"] * row["good_in_ppt"] / row["packs_in_ppt"] / ppt)


def _close(a: float | None, b: float | None, tolerance: float) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= tolerance


async def mismatches(url: str, truth: TruthFile) -> list[str]:
    """Every complete truth row the figures disagree with, described."""
    machines = await machine_days(url)
    lines = await line_days(url)
    found: list[str] = []
    for tenant in truth.tenants:
        for day in tenant.days:
            if day.complete:
                row = machines.get((tenant.tenant, day.machine, day.production_day))
                found += machine_mismatches(f"{tenant.tenant}/{day.machine}", day, row)
        for line in tenant.lines:
            if line.complete:
                got = lines.get((tenant.tenant, line.line, line.production_day))
                found += line_mismatches(f"{tenant.tenant}/{line.line}", line, got)
    return found


def machine_mismatches(where: str, day: MachineDayTruth, row: asyncpg.Record | None) -> list[str]:
    where = f"{where}/{day.production_day}"
    if row is None:
        return [f"{where}: no row"]
    found = [
        f"{where}: {field} {row[field]} != {want}"
        for field, want in (("packs_total", day.packs_total), ("packs_good", day.packs_good))
        if round(row[field], 6) != want
    ]
    seconds = json.loads(row["state_seconds"])
    for state in set(seconds) | set(day.state_seconds):
        got, want_s = seconds.get(state, 0.0), day.state_seconds.get(state, 0.0)
        if abs(got - want_s) > STATE_SECONDS_TOLERANCE:
            found.append(f"{where}: {state} {got} s != {want_s} s")
    if not _close(_machine_oee(row), day.figures.oee, OEE_TOLERANCE):
        found.append(f"{where}: OEE {_machine_oee(row)} != {day.figures.oee}")
    return found


def line_mismatches(where: str, line: LineDayTruth, row: asyncpg.Record | None) -> list[str]:
    where = f"{where}/{line.production_day}"
    if row is None:
        return [f"{where}: no line row"]
    found = []
    if round(row["packs_good"], 6) != line.packs_good:
        found.append(f"{where}: good packs {row['packs_good']} != {line.packs_good}")
    if not _close(row["oee"], line.figures.oee, OEE_TOLERANCE):
        found.append(f"{where}: line OEE {row['oee']} != {line.figures.oee}")
    return found


async def table_contents(url: str) -> dict[str, list[tuple[object, ...]]]:
    """Every rollup row, floats rounded (a sum's last bits depend on its order)."""
    connection = await asyncpg.connect(url)
    try:
        contents = {}
        for table, order in (
            ("rollup_machine_minutes", "tenant, machine, minute"),
            ("rollup_machine_periods", "tenant, machine, grain, period_start"),
            ("rollup_line_periods", "tenant, line, grain, period_start"),
            ("rollup_stops", "tenant, machine, start"),
            ("rollup_suspects", "tenant, machine, counter, ts"),
        ):
            rows = await connection.fetch(f"SELECT * FROM {table} ORDER BY {order}")
            contents[table] = [tuple(_rounded(v) for v in row.values()) for row in rows]
    finally:
        await connection.close()
    return contents


def _rounded(value: object) -> object:
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, str) and value.startswith("{"):
        return tuple(sorted((k, round(v, 6)) for k, v in json.loads(value).items()))
    return value


def rebuild(url: str, nats_url: str, tenant: str, first: date, last: date) -> None:
    """`tally rollup rebuild`, as an operator runs it."""
    env = {**os.environ, "TALLY_OWNER_DATABASE_URL": url, "TALLY_NATS_URL": nats_url}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tally.cli",
            "rollup",
            "rebuild",
            "--tenant",
            tenant,
            "--from",
            first.isoformat(),
            "--to",
            last.isoformat(),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"machine-days of {tenant}" in done.stdout


async def test_figures_equal_the_truth_through_crashes_shuffling_duplicates_and_rebuild(
    fresh_database_url: str, nats_url: str, service_processes: ServiceProcesses
) -> None:
    url = fresh_database_url
    await fresh_streams(nats_url)
    fleet = build_fleet(SEED, tenants=2, lines_per_site=1)
    zones = {site.timezone for tenant in fleet.tenants for site in tenant.sites}
    assert "America/Chicago" in zones
    assert len(zones) >= 2
    tokens = await provision(fleet, url, rates={t.id: 10_000_000 for t in fleet.tenants})
    uploads, truth = await generate(fleet)
    complete = [d for t in truth.tenants for d in t.days if d.complete]
    assert {d.production_day for d in complete} == {date(2026, 10, 31)}
    assert sum(d.counter_resets + d.reboots for d in complete) > 0

    services = service_processes
    gateway = services.start("gateway")
    recorder = services.start("recorder", extra=SHORT_ACK_WAIT)
    rollup = services.start("rollup", extra=SHORT_ACK_WAIT)
    await asyncio.gather(*(services.wait_ready(s, within=120) for s in (gateway, recorder, rollup)))

    order = shuffled_twice(uploads)
    progress = [0]
    sending = asyncio.create_task(send_all(gateway.url, fleet, tokens, order, progress))
    # Kill -9 the rollup a third of the way, the recorder at two thirds, each busy.
    for fraction, name in ((1 / 3, "rollup"), (2 / 3, "recorder")):

        async def reached(fraction: float = fraction) -> bool:
            return progress[0] >= len(order) * fraction or sending.done()

        await eventually(reached, seconds=600, interval=0.2)
        if name == "rollup":
            rollup = await kill_and_restart(services, rollup, "rollup")
        else:
            recorder = await kill_and_restart(services, recorder, "recorder")
    await sending

    async def agree() -> bool:
        return not await mismatches(url, truth)

    try:
        await eventually(agree, seconds=900, interval=5.0)
    except AssertionError:
        assert await mismatches(url, truth) == []
        raise

    before = await table_contents(url)
    assert before["rollup_line_periods"]
    for tenant in fleet.tenants:
        rebuild(url, nats_url, tenant.id, date(2026, 10, 29), date(2026, 11, 2))
    assert await mismatches(url, truth) == []
    after = await table_contents(url)
    for table in before:
        rebuilt, kept = set(after[table]), set(before[table])
        assert rebuilt == kept, (table, sorted(rebuilt - kept)[:3], sorted(kept - rebuilt)[:3])

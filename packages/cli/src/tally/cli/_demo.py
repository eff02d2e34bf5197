"""`tally demo`: simulated packing lines of several tenants, through the real pipeline.

NATS and PostgreSQL (embedded unless URLs are given) → migrate → provision the fleet → gateway,
recorder, rollup and api as separate processes (the dashboard's URL and a demo login printed)
→ the simulator uploads over HTTP as machines do → live progress → drain → summary, then each
line's production days from the rollup beside the truth, and as the API serves them (and
`--report FILE` as JSON). Ctrl-C stops it the same way.
"""

from __future__ import annotations

import asyncio
import math
import signal
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import msgspec

from tally.cli._budgets import REGISTRY_RATE, fitted_rates
from tally.cli._demo_counts import combined_stats, snapshot, summarise
from tally.cli._demo_dashboard import admin_token, demo_login, line_days, render_line_days
from tally.cli._demo_figures import figures_table, wait_for_rollup
from tally.cli._demo_progress import Progress
from tally.cli._migrate_cmd import migrate_database
from tally.cli._paths import state_dir
from tally.cli._report import DemoReport, render
from tally.sdk import Endpoints, redact_url
from tally.simulator import (
    Fleet,
    HttpSender,
    Simulation,
    Tokens,
    build_fleet,
    provision,
    write_truth,
)
from tally.supervisor import Samples, ServiceProcess, ServiceProcesses, scrape, total

_DRAIN_SECONDS = 180.0
# What the recorder does with each message it is delivered, as its metrics count it.
_RECORDER_OUTCOMES = (
    "tally_recorder_messages_stored_total",
    "tally_recorder_duplicates_dropped_total",
    "tally_messages_dead_lettered_total",
)


@dataclass(frozen=True)
class DemoOptions:
    duration: float | None
    speed: float
    tenants: int
    seed: int
    report: Path | None
    workers: int
    backfill_days: float = 0.0


async def run_demo(found: Endpoints, options: DemoOptions) -> int:
    say = _Say()
    say(f"NATS {redact_url(found.nats_url)} · PostgreSQL {redact_url(found.database_url)}")
    applied, _ = await migrate_database(found.database_url)
    say(f"migrated ({len(applied)} new migrations)" if applied else "schema up to date")
    fleet = build_fleet(options.seed, tenants=options.tenants)
    # The gateway's per-tenant budgets would refuse much of an accelerated fleet (429), and the
    # run would fall behind its clock: the demo grants what its speed needs, and says so.
    rates = fitted_rates(fleet, options.speed)
    tokens = await provision(fleet, found.database_url, rates)
    tenant_ids = [tenant.id for tenant in fleet.tenants]
    say(f"provisioned {len(tenant_ids)} tenants, {len(tokens)} machines: {', '.join(tenant_ids)}")
    say(_budgets(rates, options.speed))
    services = ServiceProcesses(
        env={"TALLY_NATS_URL": found.nats_url, "TALLY_LOG_LEVEL": "warning"},
        log_dir=state_dir() / "logs",
        owner_database_url=found.database_url,
    )
    try:
        # Each gateway worker enforces its share of a tenant's rate.
        share = {"TALLY_GATEWAY_RATE_SHARE": str(1 / options.workers)}
        gateway = services.start("gateway", workers=options.workers, extra=share)
        recorder = services.start("recorder", workers=options.workers)
        rollup = services.start("rollup")
        # Plain HTTP on the loopback: the session cookie cannot be `Secure` here.
        token = admin_token()
        api_env = {"TALLY_API_ADMIN_TOKEN": token, "TALLY_API_COOKIE_SECURE": "false"}
        api = services.start("api", extra=api_env)
        await asyncio.gather(*(services.wait_ready(s) for s in (gateway, recorder, rollup, api)))
        say(
            f"gateway {gateway.url} · metrics {gateway.ops_url}/metrics, "
            f"{recorder.ops_url}/metrics · logs in {state_dir() / 'logs'}"
        )
        async with httpx.AsyncClient(timeout=30.0) as client:
            say(str(await demo_login(client, api.url, token, tenant_ids[0])))
        report, figures, span = await _run(
            found,
            options,
            fleet,
            tokens,
            gateway=gateway,
            recorder=recorder,
            rollup=rollup,
            say=say,
        )
        served = await _served_figures(api, token, tenant_ids, span)
    finally:
        services.stop_all()
    print(render(report))
    print()
    print(figures)
    print()
    print(served)
    if options.report is not None:
        options.report.write_bytes(msgspec.json.format(msgspec.json.encode(report)))
        say(f"report written to {options.report}")
    return 0 if report.lost == 0 and report.dead_lettered == 0 else 1


async def _run(
    found: Endpoints,
    options: DemoOptions,
    fleet: Fleet,
    tokens: Tokens,
    *,
    gateway: ServiceProcess,
    recorder: ServiceProcess,
    rollup: ServiceProcess,
    say: _Say,
) -> tuple[DemoReport, str, tuple[datetime, datetime]]:
    stop = _stop_on_signals(say)
    before = await snapshot(found, [tenant.id for tenant in fleet.tenants])
    # Accelerated time must lie in the past (machines cannot report the future): the run
    # starts far enough back to play `duration` at `speed` and end at now. Without a duration
    # it plays the last two minutes' worth fast, then goes on in real time.
    span = (options.speed - 1) * (options.duration or 120.0)
    start = datetime.now(UTC) - timedelta(seconds=span)
    runs: list[Simulation] = []
    if options.backfill_days > 0:
        runs.append(
            Simulation.backfill(fleet, seed=options.seed, days=options.backfill_days, now=start)
        )
    runs.append(Simulation(fleet, seed=options.seed, speed=options.speed, start=start))
    started = time.monotonic()
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
    async with httpx.AsyncClient(timeout=30.0, limits=limits) as client:
        ran: list[Simulation] = []
        progress = Progress(
            client, lambda: combined_stats(ran), gateway, recorder, started, others=[rollup]
        )
        say.progress = progress
        watcher = asyncio.create_task(progress.run())
        sender = HttpSender(gateway.url, tokens, client=client)
        for simulation in runs:
            if stop.is_set():
                break
            say(_describe(simulation, options))
            # A backfill runs until it has sent its days; the live run for --duration.
            live = not math.isinf(simulation.speed)
            until = options.duration if live else None
            ran.append(simulation)
            await simulation.run(sender, until_wall=until, stop=stop)
            # Without a duration the run catches up with now, then goes on in real time.
            if live and options.duration is not None and not stop.is_set():
                behind = _behind(simulation, options.duration)
                if behind:
                    say(behind)
        say("simulator stopped; waiting for the recorder to store everything accepted")
        recorder_metrics = await _drain(client, ran, recorder, say)
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)
        wall = time.monotonic() - started
        say("waiting for the rollup to recompute what was stored")
        if not await wait_for_rollup(client, rollup):
            say(f"the rollup had not caught up after a while; figures may lag ({rollup.log})")
        figures = await figures_table(found.database_url, ran)
        report = await summarise(
            found,
            before,
            ran,
            recorder_metrics,
            seed=options.seed,
            speed=options.speed,
            wall=wall,
            services=[gateway, recorder, rollup],
            truth_files=_write_truths(ran),
        )
        first = min((r.truth.start for r in ran), default=start.timestamp())
        last = max((r.truth.end for r in ran), default=start.timestamp())
        played = (datetime.fromtimestamp(first, UTC), datetime.fromtimestamp(last, UTC))
        return report, figures, played


async def _served_figures(
    api: ServiceProcess, token: str, tenants: list[str], span: tuple[datetime, datetime]
) -> str:
    """Each line's production days as the figures API serves them (the rollup has caught up)."""
    async with httpx.AsyncClient(timeout=60.0) as client:
        rows = await line_days(client, api.url, token, tenants, *span)
    return "production days, from the figures API:\n" + render_line_days(rows)


def _budgets(rates: dict[str, int], speed: float) -> str:
    listed = ", ".join(f"{tenant} {rate:,}" for tenant, rate in rates.items())
    if all(rate == REGISTRY_RATE for rate in rates.values()):
        return f"tenant budgets: the registry's default of {REGISTRY_RATE:,} datapoints/s each"
    return (
        f"tenant budgets fitted to {speed:g}× (twice the lines' peak): {listed} datapoints/s; "
        f"the gateway answers 429 beyond them, and the simulator waits as told"
    )


def _behind(simulation: Simulation, wall: float) -> str | None:
    """News when the fleet was played slower than asked: the pipeline (or this machine) took
    less than the fleet sends at that speed, and the simulator waited rather than drop data."""
    played = simulation.truth.end - simulation.truth.start
    asked = simulation.speed * wall
    if played >= 0.9 * asked:
        return None
    return (
        f"played {played / 3600:.1f} h of the {asked / 3600:.1f} h that {simulation.speed:g}× "
        f"asks for in {wall:.0f} s: the pipeline took less than the fleet sends at that speed, "
        "so machines waited for their answers (nothing is dropped)"
    )


def _describe(simulation: Simulation, options: DemoOptions) -> str:
    if math.isinf(simulation.speed):
        return f"backfilling {options.backfill_days:g} days as fast as the pipeline takes them"
    until = "until Ctrl-C" if options.duration is None else f"for {options.duration:g} s"
    return f"simulating at {options.speed:g}× {until}"


def _write_truths(runs: list[Simulation]) -> list[str]:
    written = []
    for simulation in runs:
        name = "truth-backfill.json" if math.isinf(simulation.speed) else "truth.json"
        path = state_dir() / name
        write_truth(simulation.truth, path)
        written.append(str(path))
    return written


async def _drain(
    client: httpx.AsyncClient, runs: list[Simulation], recorder: ServiceProcess, say: _Say
) -> Samples:
    """Wait until the recorder has accounted for every accepted message; its last metrics."""
    # The gateway reports JetStream duplicates apart; the rest the recorder stores, drops as
    # duplicates or dead-letters.
    accepted = sum(s.accepted for s in combined_stats(runs).values())
    deadline = time.monotonic() + _DRAIN_SECONDS
    while True:
        samples = await scrape(client, recorder.ops_url)
        done = sum(total(samples, name) for name in _RECORDER_OUTCOMES)
        if done >= accepted:
            return samples
        if time.monotonic() > deadline:
            say(
                f"the recorder accounted for {done:.0f} of {accepted} accepted messages in "
                f"{_DRAIN_SECONDS:.0f} s; the rest count as lost (its log: {recorder.log})"
            )
            return samples
        await asyncio.sleep(0.5)


def _stop_on_signals(say: _Say) -> asyncio.Event:
    """First Ctrl-C (or SIGTERM): stop simulating and shut down cleanly. Second: at once."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()

    def request() -> None:
        if stop.is_set() and main is not None:
            main.cancel()
            return
        say("stopping: finishing what was accepted (Ctrl-C again to abort)")
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, request)
    return stop


class _Say:
    """One line of news; the live view below it starts afresh rather than draw over it."""

    def __init__(self) -> None:
        self.progress: Progress | None = None

    def __call__(self, text: str) -> None:
        print(f"tally demo: {text}", file=sys.stderr, flush=True)
        if self.progress is not None:
            self.progress.interrupted()

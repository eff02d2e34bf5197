"""Scheduled jobs against a real PostgreSQL: a slot runs once across processes, missed slots are
caught up after a restart, failures and crashes are retried, a stop lets a job finish."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import asyncpg
import pytest

from tally.sdk import (
    ClaimLost,
    Database,
    DatabaseRuntime,
    MemoryBroker,
    NoSettings,
    Runtime,
    Schedule,
    ScheduledRun,
    Service,
    ServiceHost,
    Slot,
    Tx,
    daily_at,
)
from tally.sdk._schedule_claims import Claims
from tally.sdk.testing import LoginUrl, eventually

pytestmark = pytest.mark.integration

TICK = timedelta(seconds=0.1)


@dataclass
class Probe:
    """The Deps of the probe services: the slots to offer, and what ran where."""

    database: Database | None
    slots: list[Slot[str]] = field(default_factory=list)
    runs: list[tuple[str, str, int]] = field(default_factory=list)  # (host, slot, attempt)
    failures_left: dict[str, int] = field(default_factory=dict)
    hold: bool = False
    holding: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)


async def offered(probe: Probe, since: datetime, until: datetime) -> list[Slot[str]]:
    return [slot for slot in probe.slots if since < slot.due <= until]


def job(host: str) -> Callable[[Probe, ScheduledRun[str]], Awaitable[None]]:
    async def run(probe: Probe, run: ScheduledRun[str]) -> None:
        key = run.slot.key
        if probe.failures_left.get(key, 0) > 0:
            probe.failures_left[key] -= 1
            raise ConnectionError(f"{key} failed on purpose")
        await asyncio.sleep(0.02)  # long enough for another process to try the same slot
        if probe.hold:
            probe.holding.set()
            await probe.release.wait()
        probe.runs.append((host, key, run.attempt))

    return run


@dataclass
class Fleet:
    """Hosts of one probe service, sharing its database and what the test offers."""

    name: str
    database: Database
    probe: Probe
    hosts: list[ServiceHost[NoSettings, Probe]] = field(default_factory=list)

    def service(self, host: str) -> Service[NoSettings, Probe]:
        probe = self.probe

        @asynccontextmanager
        async def deps(runtime: DatabaseRuntime, _: NoSettings) -> AsyncIterator[Probe]:
            probe.database = runtime.database
            yield probe

        return Service(
            name=self.name,
            settings=NoSettings,
            deps=deps,
            schedules=[Schedule("slots", job(host), offered, tick=TICK)],
            uses_database=True,
        )

    async def start(self, host: str) -> ServiceHost[NoSettings, Probe]:
        started = ServiceHost(
            self.service(host),
            NoSettings(),
            broker=MemoryBroker(),
            database=self.database,
        )
        await started.start()
        self.hosts.append(started)
        return started

    def checks(self, host: ServiceHost[NoSettings, Probe]) -> float:
        value = host.metrics.registry.get_sample_value(
            "tally_schedule_checks_total", {"schedule": "slots"}
        )
        return value or 0.0

    async def settled(self) -> None:
        """Wait until every running host has looked at the slots twice more."""
        before = [self.checks(h) for h in self.hosts]
        await eventually(
            lambda: all(self.checks(h) >= b + 2 for h, b in zip(self.hosts, before, strict=True)),
            seconds=30,
        )

    def keys(self) -> list[str]:
        return sorted(key for _, key, _ in self.probe.runs)


@pytest.fixture
async def fleet(migrated_database_url: str, login_url: LoginUrl) -> AsyncIterator[Fleet]:
    database = await Database.connect(
        login_url(migrated_database_url, "tally_app"), role="tally_app"
    )
    found = Fleet(f"probe-{secrets.token_hex(4)}", database, Probe(None))
    try:
        yield found
    finally:
        for host in found.hosts:
            await host.stop()
        await database.close()


def ago(**span: float) -> datetime:
    return datetime.now(UTC) - timedelta(**span)


def slot(key: str, due: datetime) -> Slot[str]:
    return Slot(key, due, key)


async def test_each_slot_runs_once_across_two_processes(fleet: Fleet) -> None:
    fleet.probe.slots = [slot(f"s{n}", ago(minutes=30 - n)) for n in range(8)]
    await fleet.start("a")
    await fleet.start("b")
    await eventually(lambda: len(fleet.probe.runs) >= 8, seconds=30)
    await fleet.settled()
    assert fleet.keys() == [f"s{n}" for n in range(8)]
    # Both hosts had their share of the claims; each run is the first attempt of its slot.
    assert {attempt for _, _, attempt in fleet.probe.runs} == {1}


async def test_missed_slots_are_caught_up_after_a_restart_and_done_ones_are_not_repeated(
    fleet: Fleet,
) -> None:
    fleet.probe.slots = [slot("before", ago(hours=1))]
    first = await fleet.start("first")
    await eventually(lambda: fleet.keys() == ["before"], seconds=30)
    await first.stop()
    fleet.hosts.remove(first)
    # While it was down: one slot fell due; another fell due past the 7-day look-back.
    fleet.probe.slots += [slot("while-down", ago(minutes=5)), slot("too-old", ago(days=8))]
    await fleet.start("second")
    await eventually(lambda: fleet.keys() == ["before", "while-down"], seconds=30)
    await fleet.settled()
    assert fleet.keys() == ["before", "while-down"]
    assert [host for host, key, _ in fleet.probe.runs if key == "while-down"] == ["second"]


async def test_a_failed_slot_is_tried_again_at_the_next_tick(fleet: Fleet) -> None:
    fleet.probe.slots = [slot("flaky", ago(minutes=1))]
    fleet.probe.failures_left = {"flaky": 2}
    host = await fleet.start("a")
    await eventually(lambda: fleet.keys() == ["flaky"], seconds=30)
    assert fleet.probe.runs == [("a", "flaky", 3)]
    failed = host.metrics.registry.get_sample_value(
        "tally_schedule_runs_total", {"schedule": "slots", "outcome": "failed"}
    )
    assert failed == 2


async def test_a_slot_whose_process_died_is_run_by_another_once_its_lease_runs_out(
    fleet: Fleet,
) -> None:
    due = ago(minutes=1)
    fleet.probe.slots = [slot("orphan", due)]
    # A process claimed it and died: nobody renews the lease or finishes the slot.
    dead = await Claims(fleet.database, fleet.name).claim(
        "slots", "orphan", due, timedelta(seconds=1)
    )
    assert dead is not None
    await fleet.start("survivor")
    await eventually(lambda: fleet.keys() == ["orphan"], seconds=30)
    assert fleet.probe.runs == [("survivor", "orphan", 2)]


async def test_a_run_that_lost_its_slot_cannot_commit_its_work(
    fleet: Fleet, migrated_database_url: str
) -> None:
    fleet.probe.slots = [slot("contested", ago(minutes=1))]
    owner = await asyncpg.connect(migrated_database_url)
    await owner.execute("CREATE TABLE IF NOT EXISTS probe_effects (slot text PRIMARY KEY)")
    await owner.execute("GRANT SELECT, INSERT ON probe_effects TO tally_app")
    outcomes: list[str] = []

    async def effect(probe: Probe, run: ScheduledRun[str]) -> None:
        async def work(tx: Tx) -> None:
            await tx.connection.execute("INSERT INTO probe_effects VALUES ($1)", fleet.name)
            # Meanwhile its lease ran out and another process took the slot over.
            await tx.connection.execute(
                "UPDATE tally_schedule_runs SET claim = 'someone-else' WHERE service = $1",
                fleet.name,
            )
            await run.finish(tx)

        assert probe.database is not None
        try:
            await probe.database.transaction(work)
        except ClaimLost:
            outcomes.append("lost")
            raise

    @asynccontextmanager
    async def deps(runtime: DatabaseRuntime, _: NoSettings) -> AsyncIterator[Probe]:
        yield Probe(runtime.database, slots=fleet.probe.slots)

    service = Service(
        name=fleet.name,
        settings=NoSettings,
        deps=deps,
        schedules=[Schedule("slots", effect, offered, tick=TICK)],
        uses_database=True,
    )
    host = ServiceHost(service, NoSettings(), broker=MemoryBroker(), database=fleet.database)
    await host.start()
    fleet.hosts.append(host)
    try:
        await eventually(lambda: outcomes == ["lost"], seconds=30)
        assert (
            await owner.fetchval("SELECT count(*) FROM probe_effects WHERE slot = $1", fleet.name)
            == 0
        )
    finally:
        await owner.close()


async def test_a_stop_lets_the_running_job_finish_and_mark_its_slot(
    fleet: Fleet, migrated_database_url: str
) -> None:
    fleet.probe.slots = [slot("long", ago(minutes=1))]
    fleet.probe.hold = True
    host = await fleet.start("a")
    await asyncio.wait_for(fleet.probe.holding.wait(), 30)
    stopping = asyncio.create_task(host.stop())
    # The stop waits for the job (up to the drain time), however long the job takes.
    await asyncio.sleep(0.3)
    assert not stopping.done()
    fleet.probe.release.set()
    await stopping
    fleet.hosts.remove(host)
    assert fleet.keys() == ["long"]
    owner = await asyncpg.connect(migrated_database_url)
    try:
        finished = await owner.fetchval(
            "SELECT finished_at IS NOT NULL FROM tally_schedule_runs WHERE service = $1",
            fleet.name,
        )
    finally:
        await owner.close()
    assert finished is True


async def test_schedules_of_a_service_without_a_database_run_in_each_process() -> None:
    runs: list[tuple[str, str]] = []
    start = datetime.now(UTC)
    slots = [slot("past", start - timedelta(seconds=1))]
    slots += [slot(f"next{n}", start + timedelta(seconds=0.3 * n)) for n in (1, 2)]

    def service(host: str) -> Service[NoSettings, list[Slot[str]]]:
        async def each(deps: list[Slot[str]], run: ScheduledRun[str]) -> None:
            runs.append((host, run.slot.key))

        async def source(
            deps: list[Slot[str]], since: datetime, until: datetime
        ) -> Sequence[Slot[str]]:
            return [s for s in deps if since < s.due <= until]

        @asynccontextmanager
        async def deps(_: Runtime, __: NoSettings) -> AsyncIterator[list[Slot[str]]]:
            yield slots

        return Service(
            name="local",
            settings=NoSettings,
            deps=deps,
            schedules=[Schedule("local", each, source, tick=TICK, each_process=True)],
        )

    hosts = [ServiceHost(service(h), NoSettings(), broker=MemoryBroker()) for h in ("a", "b")]
    for host in hosts:
        await host.start()
    try:
        await eventually(lambda: len(runs) >= 4, seconds=30)
    finally:
        for host in hosts:
            await host.stop()
    # Every process ran every slot that fell due while it ran; nothing from before its start.
    assert sorted(runs) == [("a", "next1"), ("a", "next2"), ("b", "next1"), ("b", "next2")]


@dataclass(frozen=True)
class Site:
    name: str
    zone: str
    day_start: time


async def test_per_site_slots_follow_each_sites_zone_and_a_site_added_while_running(
    fleet: Fleet,
) -> None:
    # The daily report's shape: a slot per site when its production day closes (the next one
    # starts), in the site's own zone and day start, for a set of sites that changes.
    sites = [Site("kempten", "Europe/Berlin", time(6)), Site("ohio", "America/New_York", time(5))]
    closed: list[tuple[str, date]] = []

    async def closings(deps: list[Site], since: datetime, until: datetime) -> list[Slot[date]]:
        return [
            slot
            for site in deps
            for slot in daily_at(site.day_start, site.zone, key=f"{site.name}/").between(
                since, until
            )
        ]

    async def report(deps: list[Site], run: ScheduledRun[date]) -> None:
        # The slot of local date D falls due when the production day of D - 1 closes.
        closed.append((run.slot.key.partition("/")[0], run.slot.value - timedelta(days=1)))

    @asynccontextmanager
    async def deps(_: DatabaseRuntime, __: NoSettings) -> AsyncIterator[list[Site]]:
        yield sites

    service = Service(
        name=fleet.name,
        settings=NoSettings,
        deps=deps,
        schedules=[Schedule("closings", report, closings, tick=TICK, look_back=timedelta(days=3))],
        uses_database=True,
    )
    host = ServiceHost(service, NoSettings(), broker=MemoryBroker(), database=fleet.database)
    await host.start()
    try:
        await eventually(lambda: len(closed) == 6, seconds=30)
        sites.append(Site("perth", "Australia/Perth", time(7)))
        await eventually(lambda: len(closed) == 9, seconds=30)
    finally:
        await host.stop()
    now = datetime.now(UTC)
    for site in sites:
        days = sorted(day for name, day in closed if name == site.name)
        # The three production days that closed within the look-back, the latest first closed.
        latest = daily_at(site.day_start, site.zone).between(now - timedelta(days=1), now)
        assert days[-1] == latest[-1].value - timedelta(days=1)
        assert days == [days[-1] - timedelta(days=n) for n in (2, 1, 0)]


async def test_a_run_whose_slot_was_taken_over_meanwhile_is_counted_lost_not_done(
    fleet: Fleet, migrated_database_url: str
) -> None:
    owner = await asyncpg.connect(migrated_database_url)

    async def overtaken(probe: Probe, run: ScheduledRun[str]) -> None:
        # While it ran, its lease ran out and another process claimed the slot.
        await owner.execute(
            "UPDATE tally_schedule_runs SET claim = 'someone-else' WHERE service = $1",
            fleet.name,
        )

    @asynccontextmanager
    async def deps(runtime: DatabaseRuntime, _: NoSettings) -> AsyncIterator[Probe]:
        yield Probe(runtime.database, slots=[slot("taken", ago(minutes=1))])

    service = Service(
        name=fleet.name,
        settings=NoSettings,
        deps=deps,
        schedules=[Schedule("slots", overtaken, offered, tick=TICK)],
        uses_database=True,
    )
    host = ServiceHost(service, NoSettings(), broker=MemoryBroker(), database=fleet.database)
    await host.start()

    def runs(outcome: str) -> float:
        labels = {"schedule": "slots", "outcome": outcome}
        return host.metrics.registry.get_sample_value("tally_schedule_runs_total", labels) or 0.0

    try:
        await eventually(lambda: runs("lost") == 1, seconds=30)
        finished = await owner.fetchval(
            "SELECT finished_at FROM tally_schedule_runs WHERE service = $1", fleet.name
        )
    finally:
        await host.stop()
        await owner.close()
    assert runs("done") == 0
    assert finished is None  # the other process's to finish


async def test_slots_before_the_settled_horizon_never_run_again_whatever_the_look_back(
    fleet: Fleet,
) -> None:
    # Runs due before the horizon were pruned: a longer look-back must not bring them back.
    fleet.probe.slots = [slot("pruned", ago(days=2)), slot("kept", ago(hours=1))]
    await Claims(fleet.database, fleet.name).settle("slots", ago(days=1))
    await fleet.start("a")
    await eventually(lambda: fleet.keys() == ["kept"], seconds=30)
    await fleet.settled()
    assert fleet.keys() == ["kept"]

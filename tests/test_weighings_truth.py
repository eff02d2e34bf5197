"""The ℮ lots against the simulator's ground truth, end to end: a production day of two tenants
in different time zones — one across America/Chicago's autumn DST change, whose day is 25 hours
long with two 01:00 lots — sent through the gateway and the recorder as real processes with the
transport's faults on (outages replayed as historical data, duplicates, reordering, clock skew),
then every machine's whole range recomputed from the raw weighings.

Every lot and every article-day of a complete day must match the truth: counts exactly, kg and
giveaway to 0.1 g (they are exact decigram sums, so exactly), and the ℮ verdict of every lot.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time, timedelta

import asyncpg
import httpx
import pytest

from tally.figures import (
    article_compliance,
    article_weights,
    line_day_weights,
    recompute_weighings,
)
from tally.registry import RegistrySnapshot, load_snapshot
from tally.sdk import Database, Tx
from tally.sdk.testing import LoginUrl, eventually
from tally.simulator import (
    HttpSender,
    LotTruth,
    Simulation,
    TenantTruth,
    TruthFile,
    build_fleet,
    provision,
)
from tally.supervisor import ServiceProcesses

from .conftest import SEED, fresh_telemetry

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def last_autumn_change(today: date) -> date:
    """The latest first Sunday of November (America/Chicago leaves daylight time) at least two
    days before `today`: the test always replays a day the gateway accepts (see MAX_AGE)."""
    for year in (today.year, today.year - 1):
        first = date(year, 11, 1)
        sunday = first + timedelta(days=(6 - first.weekday()) % 7)
        if sunday <= today - timedelta(days=2):
            return sunday
    raise AssertionError("unreachable: last year's first Sunday of November is long past")


# Alpenwerk's sites are in Europe/Berlin and America/Chicago, Nordslice's in Western Europe
# (already on winter time: Europe changes on the last Sunday of October). The run covers their
# production days of the Saturday before Chicago's change (06:00 local), Chicago's from 06:00
# CDT to 06:00 CST on the Sunday, 25 h long with two 01:00 lots.
TENANTS = ("alpenwerk", "nordslice")
CHANGE = last_autumn_change(datetime.now(UTC).date())
SATURDAY = datetime.combine(CHANGE - timedelta(days=1), time(), tzinfo=UTC)
RUN_START = SATURDAY + timedelta(hours=4, minutes=45)
RUN_END = SATURDAY + timedelta(days=1, hours=12, minutes=15)
FIRST_ONE_AM = f"{CHANGE.isoformat()}T01:00-05:00"
SECOND_ONE_AM = f"{CHANGE.isoformat()}T01:00-06:00"
# The gateway refuses timestamps older than its max age (35 days by default): up to a year.
MAX_AGE = {"TALLY_GATEWAY_MAX_AGE_DAYS": "400"}
# Budgets far above what a backfill sends, so nothing waits on the gateway's rate limit.
RATE = 10_000_000


async def stored_messages(database_url: str) -> int:
    connection = await asyncpg.connect(database_url)
    try:
        return int(await connection.fetchval("SELECT count(*) FROM telemetry_messages"))
    finally:
        await connection.close()


@pytest.mark.timeout(900)
async def test_every_lot_and_article_day_matches_the_truth(
    fresh_database_url: str,
    nats_url: str,
    service_processes: ServiceProcesses,
    login_url: LoginUrl,
) -> None:
    await fresh_telemetry(nats_url)
    fleet = build_fleet(SEED, tenants=len(TENANTS), lines_per_site=1)
    tokens = await provision(fleet, fresh_database_url, dict.fromkeys(TENANTS, RATE))
    gateway = service_processes.start("gateway", extra=MAX_AGE)
    recorder = service_processes.start("recorder")
    for service in (gateway, recorder):
        await service_processes.wait_ready(service)

    simulation = Simulation(fleet, seed=SEED, start=RUN_START, speed=float("inf"), tenants=TENANTS)
    async with httpx.AsyncClient(timeout=60.0) as client:
        sender = HttpSender(gateway.url, tokens, client=client)
        await simulation.run(sender, until_sim=RUN_END)
    truth = simulation.truth.to_file()
    sent = sum(t.messages for t in truth.tenants)

    async def all_stored() -> bool:
        return await stored_messages(fresh_database_url) == sent

    await eventually(all_stored, seconds=300, interval=1.0)

    async with (
        await Database.connect(
            login_url(fresh_database_url, "tally_rollup"), role="tally_rollup", max_size=2
        ) as rollup,
        await Database.connect(login_url(fresh_database_url, "tally_app"), max_size=2) as app,
    ):
        for placement in fleet.placements():
            tenant, machine = placement.tenant.id, placement.machine.id

            async def recompute(tx: Tx, tenant: str = tenant, machine: str = machine) -> None:
                await recompute_weighings(
                    tx, tenant, machine, RUN_START - timedelta(days=1), RUN_END + timedelta(days=1)
                )

            await rollup.transaction(recompute, tenant=tenant)
        await compare(app, truth)


async def compare(app: Database, truth: TruthFile) -> None:
    lots = days = 0
    night: set[str] = set()
    for tenant in truth.tenants:
        snapshot = await load_snapshot(app, tenant.tenant)
        complete = {(d.machine, d.production_day) for d in tenant.days if d.complete}
        checked = [lot for lot in tenant.lots if (lot.machine, lot.production_day) in complete]
        await compare_lots(app, snapshot, checked)
        lots += len(checked)
        night |= {lot.local_hour for lot in checked} & {FIRST_ONE_AM, SECOND_ONE_AM}
        days += await compare_article_days(app, tenant)
        await compare_lines(app, snapshot, tenant)
    # The comparison compared something, the autumn night's two 01:00 lots in Chicago among it.
    assert lots > 50
    assert days > 0
    assert night == {FIRST_ONE_AM, SECOND_ONE_AM}


async def compare_lots(app: Database, snapshot: RegistrySnapshot, lots: list[LotTruth]) -> None:
    """Each lot's row, and its verdict as the compliance query reads it."""
    tenant = snapshot.tenant
    stored = await app.transaction(functools.partial(all_lots, tenant), tenant=tenant)
    verdicts = {}
    for article in {lot.article for lot in lots}:
        read = functools.partial(
            article_compliance,
            snapshot=snapshot,
            article=article,
            start=RUN_START - timedelta(hours=1),
            end=RUN_END + timedelta(hours=1),
        )
        for verdict in await app.transaction(read, tenant=tenant):
            verdicts[(verdict.machine, verdict.article, verdict.hour_start)] = verdict
    for lot in lots:
        row = stored[(lot.machine, lot.article, lot.hour_start)]
        assert row["hour_end"] == lot.hour_end, lot
        assert (row["packs"], row["accepted"], row["rejected"]) == (
            lot.packs,
            lot.accepted,
            lot.rejects,
        ), lot
        assert (row["net_dg"], row["net_sq_dg"], row["giveaway_dg"]) == (
            lot.net_dg,
            lot.net_sq_dg,
            lot.giveaway_dg,
        ), lot
        assert (row["below_t1"], row["below_t2"]) == (lot.below_t1, lot.below_t2), lot
        assert row["compliant"] == lot.compliant, lot
        assert row["giveaway_micros"] / 1e6 == pytest.approx(lot.giveaway_value, abs=1e-6)
        verdict = verdicts[(lot.machine, lot.article, lot.hour_start)]
        assert (verdict.local_hour, verdict.production_day, verdict.line) == (
            lot.local_hour,
            lot.production_day,
            lot.line,
        )
        assert (verdict.compliant, verdict.packs, verdict.below_t1) == (
            lot.compliant,
            lot.accepted if lot.nominal_g is not None else 0,
            lot.below_t1,
        ), lot


async def compare_article_days(app: Database, tenant: TenantTruth) -> int:
    """Each complete day's articles per machine; returns how many were compared."""
    compared = 0
    for day in tenant.days:
        if not day.complete or not day.articles:
            continue
        read = functools.partial(
            article_weights,
            tenant=tenant.tenant,
            machine=day.machine,
            start=day.day_start,
            end=day.day_end,
        )
        measured = {a.article: a for a in await app.transaction(read, tenant=tenant.tenant)}
        assert sorted(measured) == sorted(a.article for a in day.articles), day.machine
        for expected in day.articles:
            got = measured[expected.article]
            assert (got.packs, got.accepted, got.rejects) == (
                expected.packs,
                expected.accepted,
                expected.rejects,
            )
            assert got.rejects_by_reason == expected.rejects_by_reason
            assert got.kg == pytest.approx(expected.kg, abs=1e-4)
            assert got.kg_declared == pytest.approx(expected.kg_declared, abs=1e-4)
            assert got.giveaway_g == pytest.approx(expected.giveaway_g, abs=0.1)
            assert got.giveaway_value == pytest.approx(expected.giveaway_value, abs=1e-6)
            assert (got.below_t1, got.below_t2) == (expected.below_t1, expected.below_t2)
            assert (got.lots, got.lots_compliant, got.compliant) == (
                expected.lots,
                expected.lots_compliant,
                expected.compliant,
            )
            compared += 1
    return compared


async def compare_lines(app: Database, snapshot: RegistrySnapshot, tenant: TenantTruth) -> None:
    """Each complete line-day's weight totals at its end-of-line machine."""
    for line in tenant.lines:
        if not line.complete:
            continue
        read = functools.partial(
            line_day_weights, snapshot=snapshot, line=line.line, day=line.production_day
        )
        got = await app.transaction(read, tenant=tenant.tenant)
        assert got is not None
        assert got.kg == pytest.approx(line.kg, abs=1e-4)
        assert got.kg_declared == pytest.approx(line.kg_declared, abs=1e-4)
        assert got.giveaway_dg == line.giveaway_dg
        assert got.giveaway_value == pytest.approx(line.giveaway_value, abs=1e-6)
        assert got.rejects_by_reason == line.rejects_by_reason


async def all_lots(tenant: str, tx: Tx) -> dict[tuple[str, str, datetime], asyncpg.Record]:
    rows = await tx.connection.fetch("SELECT * FROM weighing_lots WHERE tenant = $1", tenant)
    return {(r["machine"], r["article"], r["hour_start"]): r for r in rows}

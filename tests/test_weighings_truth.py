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
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest

from tally.figures import article_weights, line_day_weights, recompute_weighings
from tally.registry import load_snapshot
from tally.sdk import Database, Tx
from tally.sdk.testing import LoginUrl, eventually
from tally.simulator import HttpSender, Simulation, TruthFile, build_fleet, provision
from tally.supervisor import ServiceProcesses

from .conftest import SEED, fresh_telemetry

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# Alpenwerk's sites are in Europe/Berlin and America/Chicago, Nordslice's in Western Europe. The
# run covers their production days of 31 October 2026 (06:00 local), Chicago's to 06:00 CST on
# 1 November, 25 h across the change back from CDT.
TENANTS = ("alpenwerk", "nordslice")
RUN_START = datetime(2026, 10, 31, 4, 45, tzinfo=UTC)
RUN_END = datetime(2026, 11, 1, 12, 15, tzinfo=UTC)
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
    gateway = service_processes.start("gateway")
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
    checked_lots = checked_days = dst_lots = 0
    for tenant in truth.tenants:
        snapshot = await load_snapshot(app, tenant.tenant)
        complete = {(d.machine, d.production_day) for d in tenant.days if d.complete}
        stored = await app.transaction(
            functools.partial(all_lots, tenant.tenant), tenant=tenant.tenant
        )
        for lot in tenant.lots:
            if (lot.machine, lot.production_day) not in complete:
                continue
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
            checked_lots += 1
            dst_lots += lot.local_hour.startswith("2026-11-01T01:00")

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
                checked_days += 1

        for line in tenant.lines:
            if not line.complete:
                continue
            read_line = functools.partial(
                line_day_weights, snapshot=snapshot, line=line.line, day=line.production_day
            )
            got_line = await app.transaction(read_line, tenant=tenant.tenant)
            assert got_line is not None
            assert got_line.kg == pytest.approx(line.kg, abs=1e-4)
            assert got_line.kg_declared == pytest.approx(line.kg_declared, abs=1e-4)
            assert got_line.giveaway_dg == line.giveaway_dg
            assert got_line.giveaway_value == pytest.approx(line.giveaway_value, abs=1e-6)
            assert got_line.rejects_by_reason == line.rejects_by_reason
    # The comparison compared something, the autumn night's two 01:00 lots among it.
    assert checked_lots > 50
    assert checked_days > 0
    assert dst_lots >= 2


async def all_lots(tenant: str, tx: Tx) -> dict[tuple[str, str, datetime], asyncpg.Record]:
    rows = await tx.connection.fetch("SELECT * FROM weighing_lots WHERE tenant = $1", tenant)
    return {(r["machine"], r["article"], r["hour_start"]): r for r in rows}

"""The figures' reads over what the rollup recomputed: hours and shifts add up to their day,
losses add up to planned minus fully productive time, a recomputation changes nothing, and
one tenant's reads never see another's lines.

Raw rows are stored as the recorder stores them (its ledger claim and COPY, as tally_ingest),
recomputed as the rollup does (tally_rollup), and read as the api does (tally_app)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tally.contracts import Telemetry
from tally.figures import LineDay, PeriodFigures, line_day, line_figures, live, rebuild
from tally.recorder.queries import TELEMETRY_LEDGER
from tally.recorder.rows import days_touched, table_rows
from tally.sdk import Database, DayPartitions, Tx
from tally.sdk.testing import LoginUrl
from tally.simulator import MemorySender, Simulation, TruthFile, build_fleet, provision

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]

SEED = 5
# Kempten's production day of 2 June 2026 (06:00 CEST = 04:00 UTC), whole, with a margin.
START = datetime(2026, 6, 2, 3, 0, tzinfo=UTC)
END = datetime(2026, 6, 3, 5, 0, tzinfo=UTC)
DAY = date(2026, 6, 2)


async def store(url: str, login_url: LoginUrl) -> TruthFile:
    fleet = build_fleet(SEED, tenants=1, lines_per_site=1)
    await provision(fleet, url)
    tenant = fleet.tenants[0].id
    simulation = Simulation(fleet, seed=SEED, start=START, speed=float("inf"))
    sender = MemorySender()
    await simulation.run(sender, until_sim=END)
    messages = [
        Telemetry.of(sent.tenant, sent.machine, m)
        for sent in sender.uploads
        for m in sent.upload.messages
    ]
    async with await Database.connect(
        login_url(url, "tally_ingest"), max_size=2, role="tally_ingest"
    ) as ingest:
        partitions = DayPartitions(ingest)
        for i in range(0, len(messages), 500):
            batch = messages[i : i + 500]
            await partitions.ensure(
                {d + timedelta(days=n) for d in days_touched(batch) for n in (-1, 0, 1)}
            )

            async def write(tx: Tx, batch: list[Telemetry] = batch) -> None:
                for copy, records in table_rows(
                    await TELEMETRY_LEDGER.claim(tx, tenant, batch)
                ).copies():
                    await tx.copy_records(copy, records)

            await ingest.transaction(write)
    return simulation.truth.to_file()


def _losses_add_up(figures: PeriodFigures | LineDay) -> None:
    """Availability, micro-stop, speed and quality losses = PPT − OEE × PPT."""
    if figures.oee is None:
        return
    fpt = figures.oee * figures.ppt_seconds
    assert sum(figures.losses.values()) == pytest.approx(figures.ppt_seconds - fpt, abs=1e-6)


async def test_reads_add_up_and_stay_within_their_tenant(
    fresh_database_url: str, login_url: LoginUrl
) -> None:
    url = fresh_database_url
    truth = await store(url, login_url)
    tenant = truth.tenants[0]
    line = next(x for x in tenant.lines if x.production_day == DAY and x.complete)
    async with await Database.connect(
        login_url(url, "tally_rollup"), max_size=2, role="tally_rollup"
    ) as rollup:
        assert await rebuild(rollup, tenant.tenant, DAY - timedelta(days=1), DAY) > 0
    async with await Database.connect(login_url(url, "tally_app"), max_size=2) as app:

        async def read(tx: Tx) -> LineDay | None:
            return await line_day(tx, tenant.tenant, line.line, DAY)

        found = await app.transaction(read, tenant=tenant.tenant, readonly=True)
        assert found is not None
        assert found.good_packs == line.packs_good
        assert found.oee == pytest.approx(line.figures.oee, abs=1e-3)
        assert {m.machine for m in found.machines} == {
            d.machine for d in tenant.days if d.production_day == DAY and d.line == line.line
        }
        # Local hours partition the day exactly; shifts hold what was made in them.
        assert sum(h.good_packs for h in found.hours) == pytest.approx(found.good_packs)
        assert sum(s.good_packs for s in found.shifts) <= found.good_packs + 1e-6
        assert sum(h.planned_seconds for h in found.hours) == pytest.approx(found.planned_seconds)
        _losses_add_up(found)
        for period in [*found.hours, *found.shifts]:
            _losses_add_up(period)
        assert found.downtime
        assert sum(e.count for e in found.downtime) == len(found.timeline)

        async def lines_now(tx: Tx) -> list[str]:
            return [x.line for x in await live(tx, tenant.tenant, END)]

        now = await app.transaction(lines_now, tenant=tenant.tenant, readonly=True)
        assert sorted(now) == sorted({x.line for x in tenant.lines})

        # Another tenant sees nothing of it, whatever it asks for.
        async def foreign(tx: Tx) -> tuple[LineDay | None, list[PeriodFigures]]:
            start = datetime.combine(DAY, datetime.min.time(), UTC)
            return (
                await line_day(tx, "someone-else", line.line, DAY),
                await line_figures(tx, tenant.tenant, line.line, "day", start, END),
            )

        assert await app.transaction(foreign, tenant="someone-else", readonly=True) == (None, [])

    # Recomputing what is already there changes nothing.
    async with await Database.connect(
        login_url(url, "tally_rollup"), max_size=2, role="tally_rollup"
    ) as rollup:
        await rebuild(rollup, tenant.tenant, DAY - timedelta(days=1), DAY)
    async with await Database.connect(login_url(url, "tally_app"), max_size=2) as app:
        again = await app.transaction(read, tenant=tenant.tenant, readonly=True)
    assert again == found

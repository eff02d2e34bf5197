"""A machine first heard mid-day: its planned time before its first message is no data, from the
production day's start (docs/FIGURES.md, "What a machine is doing, second by second"), as the
simulator's truth counts it — whatever order its data is stored and recomputed in, and after a
rebuild.

The run starts at noon of Kempten's production day of 2 June 2026 (06:00 CEST = 04:00 UTC) and
ends after the day, so each machine's day is partial at its start only. Raw rows are stored as
the recorder stores them (its ledger claim and COPY, as tally_ingest), batch by batch in a
shuffled order, each batch's STORED notices recomputed as the rollup does (tally_rollup)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import asyncpg
import pytest

from tally.contracts import Telemetry
from tally.figures import Touched, rebuild, recompute
from tally.recorder.queries import TELEMETRY_LEDGER
from tally.recorder.rows import days_touched, stored_notices, table_rows
from tally.registry import load_snapshot
from tally.rollup.service import merged
from tally.sdk import Database, DayPartitions, Tx
from tally.sdk.testing import LoginUrl
from tally.simulator import MemorySender, Simulation, build_fleet, provision

from .test_rollup_truth import machine_days, machine_mismatches, table_contents

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]

SEED = 5
START = datetime(2026, 6, 2, 10, 0, tzinfo=UTC)
END = datetime(2026, 6, 3, 5, 0, tzinfo=UTC)
DAY = date(2026, 6, 2)
# Stored batches of 2000 messages: fewer recomputations, still well out of order.
BATCH = 2000


async def test_planned_time_before_the_first_message_is_no_data(
    fresh_database_url: str, login_url: LoginUrl
) -> None:
    url = fresh_database_url
    fleet = build_fleet(SEED, tenants=1, lines_per_site=1)
    await provision(fleet, url)
    tenant = fleet.tenants[0].id
    simulation = Simulation(fleet, seed=SEED, start=START, speed=float("inf"), tenants=[tenant])
    sender = MemorySender()
    await simulation.run(sender, until_sim=END)
    truth = simulation.truth.to_file().tenants[0]
    messages = [
        Telemetry.of(sent.tenant, sent.machine, m)
        for sent in sender.uploads
        for m in sent.upload.messages
    ]
    batches = [messages[i : i + BATCH] for i in range(0, len(messages), BATCH)]
    random.Random(SEED).shuffle(batches)
    async with (
        await Database.connect(
            login_url(url, "tally_ingest"), max_size=2, role="tally_ingest"
        ) as ingest,
        await Database.connect(
            login_url(url, "tally_rollup"), max_size=2, role="tally_rollup"
        ) as rollup,
    ):
        partitions = DayPartitions(ingest)
        snapshot = await load_snapshot(rollup, tenant)
        for batch in batches:
            await partitions.ensure(
                {d + timedelta(days=n) for d in days_touched(batch) for n in (-2, -1, 0, 1, 2)}
            )

            async def write(tx: Tx, batch: list[Telemetry] = batch) -> None:
                for copy, records in table_rows(
                    await TELEMETRY_LEDGER.claim(tx, tenant, batch)
                ).copies():
                    await tx.copy_records(copy, records)

            await ingest.transaction(write)
            for touched in merged(stored_notices(batch)):

                async def work(tx: Tx, touched: Touched = touched) -> None:
                    await recompute(tx, snapshot, touched)

                await rollup.transaction(work, tenant=tenant)
        stored = await table_contents(url)

        days = [d for d in truth.days if d.production_day == DAY and d.planned_seconds]
        assert days, "the truth has the partial day"
        assert any(d.no_data_seconds > 3600 for d in days), "the day starts without data"
        found = await machine_days(url)
        assert [
            wrong
            for d in days
            for wrong in machine_mismatches(d.machine, d, found.get((tenant, d.machine, DAY)))
        ] == []
        no_data = await no_data_seconds(url)
        for day in days:
            assert no_data[(day.machine, DAY)] == pytest.approx(day.no_data_seconds, abs=1.0)

        await rebuild(rollup, tenant, DAY - timedelta(days=1), DAY + timedelta(days=1))
    differing = differences(stored, await table_contents(url))
    assert not differing, "\n".join(differing)


def differences(
    before: dict[str, list[tuple[object, ...]]], after: dict[str, list[tuple[object, ...]]]
) -> list[str]:
    """The first rows per table that only one side has."""
    found = []
    for table in sorted(set(before) | set(after)):
        mine, theirs = set(before.get(table, [])), set(after.get(table, []))
        found += [f"{table}: only incremental: {row}" for row in sorted(mine - theirs, key=str)[:3]]
        found += [f"{table}: only rebuilt: {row}" for row in sorted(theirs - mine, key=str)[:3]]
    return found


async def no_data_seconds(url: str) -> dict[tuple[str, date], float]:
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT machine, production_day, no_data_seconds FROM rollup_machine_periods "
            "WHERE grain = 'day'"
        )
    finally:
        await connection.close()
    return {(r["machine"], r["production_day"]): r["no_data_seconds"] for r in rows}

"""The ℮ lots from raw weighings, on real PostgreSQL: the edges of FIGURES.md's "Weights" (T1 and
T2 at exactly 0.1 g, the autumn DST night's two 01:00 hours, catch weight, a price change inside
an hour), recomputation in any order and any number of times, and the read queries on top.

Raw rows are inserted as the owner (as the recorder would store them); lots are recomputed as
tally_rollup and read as tally_app, each under row-level security.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import asyncpg
import pytest

from tally.calendar import SiteCalendar
from tally.figures import (
    article_compliance,
    article_weights,
    line_day_distribution,
    line_day_weights,
    recompute_weighings,
)
from tally.registry import (
    Article,
    ArticleVersion,
    Line,
    Machine,
    MachineKind,
    Registry,
    Site,
    Tenant,
    load_snapshot,
)
from tally.sdk import Database, Tx
from tally.sdk.testing import LoginUrl

pytestmark = pytest.mark.integration

ZONE = "America/Chicago"
MACHINE = "cw-1"
# 2026-11-01 in Chicago: 01:00 CDT (06:00Z) is followed by 01:00 CST (07:00Z).
FIRST_ONE_AM = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)
SECOND_ONE_AM = datetime(2026, 11, 1, 7, 0, tzinfo=UTC)
NOON = datetime(2026, 10, 30, 17, 0, tzinfo=UTC)  # 12:00 CDT
REPRICED = NOON + timedelta(minutes=30)

Weighing = tuple[datetime, str, float, bool, str | None]


@dataclass
class Plant:
    tenant: str
    owner_url: str
    app: Database
    rollup: Database

    async def weigh(self, rows: Sequence[Weighing], machine: str = MACHINE) -> None:
        connection = await asyncpg.connect(self.owner_url)
        try:
            days = sorted({ts.date() for ts, *_ in rows})
            await connection.execute("SELECT tally_ensure_partitions($1, $2)", days[0], days[-1])
            await connection.executemany(
                "INSERT INTO weighings (tenant, machine, ts, article, net_g, accepted, zone, "
                "reject_reason) VALUES ($1, $2, $3, $4, $5, $6, 1, $7)",
                [(self.tenant, machine, *row) for row in rows],
            )
        finally:
            await connection.close()

    async def recompute(self, start: datetime, end: datetime, machine: str = MACHINE) -> None:
        async def work(tx: Tx) -> None:
            await recompute_weighings(tx, self.tenant, machine, start, end)

        await self.rollup.transaction(work, tenant=self.tenant)

    async def lots(self) -> list[dict[str, Any]]:
        async def work(tx: Tx) -> list[dict[str, Any]]:
            rows = await tx.connection.fetch(
                "SELECT * FROM weighing_lots ORDER BY machine, hour_start, article"
            )
            return [dict(row) for row in rows]

        return await self.app.transaction(work, tenant=self.tenant)


@pytest.fixture
async def plant(migrated_database_url: str, login_url: LoginUrl) -> AsyncIterator[Plant]:
    tenant = f"w{secrets.token_hex(4)}"
    async with (
        await Database.connect(login_url(migrated_database_url, "tally_app"), max_size=2) as app,
        await Database.connect(
            login_url(migrated_database_url, "tally_rollup"), max_size=2, role="tally_rollup"
        ) as rollup,
    ):
        registry = Registry(app)
        await registry.put_tenant(Tenant(tenant=tenant, name="Weighing test"))
        await registry.put_site(
            Site(tenant=tenant, site="gb", name="Green Bay", timezone=ZONE, day_start=time(6))
        )
        await registry.put_line(Line(tenant=tenant, line="l1", site="gb", name="Line 1"))
        await registry.put_machine(
            Machine(tenant=tenant, machine=MACHINE, line="l1", kind=MachineKind.CHECKWEIGHER)
        )
        for article, qn in (("salami-100", 100.0), ("gouda-150", 150.0), ("wedge", None)):
            await registry.put_article(
                Article(
                    tenant=tenant,
                    article=article,
                    name=article,
                    nominal_g=qn,
                    ideal_rate_ppm=100,
                    price_per_kg=10.0,
                )
            )
        yield Plant(tenant, migrated_database_url, app, rollup)


def by_hour(lots: list[dict[str, Any]]) -> dict[tuple[datetime, str], dict[str, Any]]:
    return {(lot["hour_start"], lot["article"]): lot for lot in lots}


async def test_t1_and_t2_are_compared_at_exactly_a_tenth_of_a_gram(plant: Plant) -> None:
    # Qn 100 g: T1 95.5 g, T2 91.0 g. As `real`, 95.5 and 91.0 are exact but 95.4 and 90.9 read
    # back as 95.40000153 and 90.90000153 — a float comparison would count them as not below.
    at = NOON
    nets = [95.5, 95.4, 91.0, 90.9, 113.6, 104.1]
    await plant.weigh(
        [(at + timedelta(seconds=i), "salami-100", n, True, None) for i, n in enumerate(nets)]
    )
    await plant.recompute(at, at + timedelta(minutes=1))
    (lot,) = await plant.lots()
    assert (lot["nominal_dg"], lot["t1_dg"], lot["t2_dg"]) == (1000, 955, 910)
    assert lot["below_t1"] == 3  # 95.4, 91.0 and 90.9; 95.5 is not strictly below
    assert lot["below_t2"] == 1  # 90.9; 91.0 is not strictly below
    assert lot["net_dg"] == sum(round(n * 10) for n in nets)
    assert lot["net_sq_dg"] == sum(round(n * 10) ** 2 for n in nets)
    assert (lot["min_dg"], lot["max_dg"]) == (909, 1136)
    assert lot["giveaway_dg"] == sum(round(n * 10) - 1000 for n in nets)
    assert lot["declared_dg"] == 6000
    assert lot["compliant"] is False


async def test_the_2_5_percent_rule_is_inclusive(plant: Plant) -> None:
    # 40 packs, one below T1 (2.5 %): complies; 39 packs with one: does not.
    hour = NOON
    ok = [(hour + timedelta(seconds=i), "salami-100", 101.0, True, None) for i in range(39)]
    ok.append((hour + timedelta(seconds=39), "salami-100", 95.4, True, None))
    other = hour + timedelta(hours=1)
    bad = [(other + timedelta(seconds=i), "salami-100", 101.2, True, None) for i in range(38)]
    bad.append((other + timedelta(seconds=38), "salami-100", 95.4, True, None))
    await plant.weigh(ok + bad)
    await plant.recompute(hour, other + timedelta(hours=1))
    lots = by_hour(await plant.lots())
    assert lots[(hour, "salami-100")]["compliant"] is True
    assert lots[(other, "salami-100")]["compliant"] is False
    assert lots[(other, "salami-100")]["giveaway_dg"] >= 0  # mean and T2 rules pass


async def test_the_autumn_night_has_two_one_oclock_lots(plant: Plant) -> None:
    first = FIRST_ONE_AM + timedelta(minutes=30)
    second = SECOND_ONE_AM + timedelta(minutes=30)
    await plant.weigh(
        [(first, "salami-100", 101.0, True, None), (second, "salami-100", 99.0, True, None)]
    )
    await plant.recompute(FIRST_ONE_AM, SECOND_ONE_AM + timedelta(hours=1))
    lots = await plant.lots()
    calendar = SiteCalendar(ZONE, time(6), None)
    assert [(lot["hour_start"], lot["hour_end"]) for lot in lots] == [
        (FIRST_ONE_AM, SECOND_ONE_AM),
        (SECOND_ONE_AM, SECOND_ONE_AM + timedelta(hours=1)),
    ]
    assert [lot["local_hour"] for lot in lots] == [datetime(2026, 11, 1, 1)] * 2
    assert [lot["utc_offset_minutes"] for lot in lots] == [-300, -360]
    for lot, at in zip(lots, (first, second), strict=True):
        assert lot["hour_start"].timestamp() == calendar.local_hour(at.timestamp()).start
    assert [lot["compliant"] for lot in lots] == [True, False]

    snapshot = await load_snapshot(plant.app, plant.tenant)

    async def read(tx: Tx) -> list[str]:
        verdicts = await article_compliance(
            tx,
            snapshot,
            "salami-100",
            FIRST_ONE_AM - timedelta(hours=1),
            second + timedelta(hours=1),
        )
        return [v.local_hour for v in verdicts]

    labels = await plant.app.transaction(read, tenant=plant.tenant)
    assert labels == ["2026-11-01T01:00-05:00", "2026-11-01T01:00-06:00"]


async def test_catch_weight_adds_kilograms_and_no_giveaway(plant: Plant) -> None:
    nets = [231.4, 318.9, 277.0]
    rows: list[Weighing] = [
        (NOON + timedelta(seconds=i), "wedge", n, True, None) for i, n in enumerate(nets)
    ]
    rows.append((NOON + timedelta(seconds=9), "wedge", 12.0, False, "foreign_body"))
    await plant.weigh(rows)
    await plant.recompute(NOON, NOON + timedelta(hours=1))
    (lot,) = await plant.lots()
    assert lot["catch_weight"] is True
    assert lot["nominal_dg"] is None
    assert (lot["packs"], lot["accepted"], lot["rejected"]) == (4, 3, 1)
    assert json.loads(lot["rejects_by_reason"]) == {"foreign_body": 1}
    assert lot["net_dg"] == 8273
    assert (lot["declared_dg"], lot["giveaway_dg"], lot["giveaway_micros"]) == (0, 0, 0)
    assert lot["compliant"] is None
    assert lot["hist_bin_dg"] == 20
    assert sum(lot["hist_accepted"]) == 3
    assert sum(lot["hist_rejected"]) == 1


async def test_each_pack_counts_at_the_price_valid_at_its_time(plant: Plant) -> None:
    registry = Registry(plant.app)
    await registry.put_article_version(
        ArticleVersion(
            tenant=plant.tenant,
            article="salami-100",
            valid_from=REPRICED,
            nominal_g=100.0,
            ideal_rate_ppm=100,
            price_per_kg=12.34,
        )
    )
    before = (REPRICED - timedelta(seconds=1), "salami-100", 102.5, True, None)
    at = (REPRICED, "salami-100", 101.0, True, None)
    await plant.weigh([before, at])
    await plant.recompute(NOON, NOON + timedelta(hours=1))
    (lot,) = await plant.lots()
    # 25 dg at 1000 cents/kg, then 10 dg at 1234 cents/kg, in millionths.
    assert lot["giveaway_micros"] == 25 * 1000 + 10 * 1234
    assert lot["giveaway_dg"] == 35


async def test_recomputing_in_any_order_and_any_number_of_times_gives_the_same_lots(
    plant: Plant,
) -> None:
    rows: list[Weighing] = []
    for i in range(200):
        at = NOON + timedelta(seconds=37 * i)
        article = "salami-100" if i % 3 else "gouda-150"
        nominal = 100 if i % 3 else 150
        reason = None if i % 17 else ("metal" if i % 2 else None)
        rows.append((at, article, nominal + (i % 23) / 10 - 0.5, reason is None, reason))
    # Stored in two parts; the later part arrives after the first recomputation.
    early, late = rows[::2], rows[1::2]
    await plant.weigh(early)
    span_end = rows[-1][0] + timedelta(seconds=1)
    await plant.recompute(NOON, span_end)
    await plant.weigh(late)
    for row in reversed(late):  # one tiny range per late weighing, newest first
        await plant.recompute(row[0], row[0] + timedelta(microseconds=1))
    incremental = await plant.lots()
    await plant.recompute(NOON - timedelta(days=1), span_end + timedelta(days=1))
    await plant.recompute(NOON, span_end)
    rebuilt = await plant.lots()
    assert incremental == rebuilt
    assert sum(lot["packs"] for lot in rebuilt) == 200
    assert sum(lot["rejected"] for lot in rebuilt) == sum(1 for r in rows if not r[3])
    assert len(rebuilt) == 2 * 3  # two articles in each of the three hours touched


async def test_lots_outside_the_range_stay_as_they_are(plant: Plant) -> None:
    hour = NOON
    await plant.weigh([(hour + timedelta(minutes=10), "salami-100", 100.5, True, None)])
    await plant.recompute(hour, hour + timedelta(hours=1))
    await plant.weigh([(hour + timedelta(hours=2), "salami-100", 100.7, True, None)])
    # Not yet recomputed: the new hour is missing, the old one untouched.
    await plant.recompute(hour + timedelta(hours=1), hour + timedelta(hours=2, microseconds=-1))
    assert [lot["hour_start"] for lot in await plant.lots()] == [hour]
    # A range of one instant (the rollup's ranges are closed): the lot holding it.
    await plant.recompute(hour + timedelta(hours=2), hour + timedelta(hours=2))
    assert [lot["hour_start"] for lot in await plant.lots()] == [hour, hour + timedelta(hours=2)]


async def test_the_api_role_reads_but_cannot_write_and_tenants_see_only_their_own(
    plant: Plant, migrated_database_url: str, login_url: LoginUrl
) -> None:
    await plant.weigh([(NOON, "salami-100", 100.5, True, None)])
    await plant.recompute(NOON, NOON + timedelta(hours=1))

    async def write(tx: Tx) -> None:
        await tx.connection.execute("DELETE FROM weighing_lots")

    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await plant.app.transaction(write, tenant=plant.tenant)

    async def count(tx: Tx) -> int:
        return int(await tx.connection.fetchval("SELECT count(*) FROM weighing_lots"))

    assert await plant.app.transaction(count, tenant=plant.tenant) == 1
    assert await plant.app.transaction(count, tenant=f"{plant.tenant}x") == 0


async def test_a_line_day_sums_its_lots_with_the_verdicts_and_the_distribution(
    plant: Plant,
) -> None:
    day = date(2026, 10, 30)  # from 06:00 CDT (11:00Z) to 06:00 CDT the next morning
    day_start = datetime(2026, 10, 30, 11, tzinfo=UTC)
    rows: list[Weighing] = [
        (day_start - timedelta(minutes=1), "salami-100", 140.0, True, None),  # the day before
        (day_start, "salami-100", 101.5, True, None),
        (day_start + timedelta(hours=3), "salami-100", 99.5, True, None),
        (day_start + timedelta(hours=3, seconds=1), "salami-100", 88.0, False, "underweight"),
        (day_start + timedelta(hours=3, seconds=2), "salami-100", 104.0, False, None),
        (day_start + timedelta(hours=5), "wedge", 250.0, True, None),
    ]
    await plant.weigh(rows)
    await plant.recompute(day_start - timedelta(hours=1), day_start + timedelta(hours=6))
    snapshot = await load_snapshot(plant.app, plant.tenant)

    async def read(tx: Tx) -> Any:
        figures = await line_day_weights(tx, snapshot, "l1", day)
        distribution = await line_day_distribution(tx, snapshot, "l1", day)
        machine = await article_weights(
            tx, plant.tenant, MACHINE, day_start, day_start + timedelta(days=1)
        )
        return figures, distribution, machine

    figures, distribution, machine = await plant.app.transaction(read, tenant=plant.tenant)
    assert figures is not None
    assert distribution is not None
    assert figures.machine == MACHINE
    assert figures.articles == machine
    salami, wedge = figures.articles
    assert (salami.packs, salami.accepted, salami.rejects) == (4, 2, 2)
    assert salami.rejects_by_reason == {"underweight": 1, "unspecified": 1}
    assert salami.net_dg == 2010
    assert salami.giveaway_dg == 10
    assert salami.mean_g == pytest.approx(100.5)
    assert salami.sd_g == pytest.approx(1.0)
    assert salami.giveaway_pct == pytest.approx(0.5)
    assert salami.giveaway_value == pytest.approx(0.01)  # 1 g at 10 €/kg
    assert (salami.lots, salami.lots_compliant, salami.compliant) == (2, 1, False)
    assert (wedge.catch_weight, wedge.compliant, wedge.giveaway_dg) == (True, None, 0)
    assert figures.kg == pytest.approx(0.4510)
    assert figures.kg_declared == pytest.approx(0.2)
    assert figures.rejects_by_reason == {"underweight": 1, "unspecified": 1}
    assert (figures.packs, figures.rejects) == (5, 2)

    salami_bins = next(d for d in distribution if d.article == "salami-100")
    assert (salami_bins.nominal_g, salami_bins.t1_g, salami_bins.t2_g) == (100.0, 95.5, 91.0)
    assert salami_bins.bin_g == 0.5
    assert [(b.low_g, b.accepted, b.rejected) for b in salami_bins.bins] == [
        (88.0, 0, 1),
        (99.5, 1, 0),
        (101.5, 1, 0),
        (104.0, 0, 1),
    ]
    assert (
        await plant.app.transaction(
            lambda tx: line_day_weights(tx, snapshot, "nowhere", day), tenant=plant.tenant
        )
        is None
    )


async def test_a_range_inside_the_autumn_night_recomputes_its_whole_lot_only(plant: Plant) -> None:
    rows: list[Weighing] = [
        (FIRST_ONE_AM + timedelta(minutes=1), "salami-100", 101.0, True, None),
        (SECOND_ONE_AM - timedelta(milliseconds=1), "salami-100", 102.0, True, None),
        (SECOND_ONE_AM, "salami-100", 103.0, True, None),
        (SECOND_ONE_AM + timedelta(minutes=59), "salami-100", 104.0, True, None),
    ]
    await plant.weigh(rows)
    # The last second of the first 01:00 hour: that lot whole, not the second one.
    await plant.recompute(
        SECOND_ONE_AM - timedelta(seconds=1), SECOND_ONE_AM - timedelta(microseconds=1)
    )
    assert [(lot["hour_start"], lot["packs"]) for lot in await plant.lots()] == [(FIRST_ONE_AM, 2)]
    # The first instant of the second one: that lot whole too.
    await plant.recompute(SECOND_ONE_AM, SECOND_ONE_AM)
    assert [(lot["hour_start"], lot["packs"], lot["net_dg"]) for lot in await plant.lots()] == [
        (FIRST_ONE_AM, 2, 2030),
        (SECOND_ONE_AM, 2, 2070),
    ]


async def test_concurrent_recomputes_of_one_machine_wait_for_each_other(plant: Plant) -> None:
    rows: list[Weighing] = [
        (NOON + timedelta(seconds=11 * i), "salami-100", 99.0 + (i % 30) / 10, True, None)
        for i in range(900)
    ]
    await plant.weigh(rows)
    end = NOON + timedelta(hours=3)
    # Without the machine's lock, two transactions would each find no lot to delete and insert
    # the same lots: the second would fail on the primary key.
    await asyncio.gather(*(plant.recompute(NOON + timedelta(minutes=7 * k), end) for k in range(6)))
    concurrent = await plant.lots()
    await plant.recompute(NOON, end)
    assert await plant.lots() == concurrent
    assert sum(lot["packs"] for lot in concurrent) == 900

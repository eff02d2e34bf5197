"""Stored report versions on a real PostgreSQL, as the api's role (row-level security on):
version 1 when the day is first produced, a new version when the figures change, the earlier
ones kept, nothing new when they did not."""

from __future__ import annotations

import asyncio
import io
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import msgspec
import pytest
from pypdf import PdfReader

from tally.contracts.figures import HourFigures, LineDay
from tally.registry import Line, Registry, Site, Tenant
from tally.reports import ReportStore, figures_digest
from tally.reports.testing import PRODUCED, busy_line_day, empty_line_day, site_day_of
from tally.sdk import Database, ScopedDatabase, Tx
from tally.sdk.testing import LoginUrl

pytestmark = pytest.mark.integration


@pytest.fixture
async def database(migrated_database_url: str, login_url: LoginUrl) -> AsyncIterator[Database]:
    async with await Database.connect(
        login_url(migrated_database_url, "tally_app"), max_size=2
    ) as database:
        yield database


@pytest.fixture
async def tenant(database: Database) -> str:
    tenant = f"t{uuid.uuid4().hex[:10]}"
    registry = Registry(database)
    await registry.put_tenant(Tenant(tenant=tenant, name="Alpenwerk"))
    await registry.put_site(Site(tenant=tenant, site="plant-1", name="Kempten",
                                 timezone="Europe/Berlin"))  # fmt: skip
    for line in ("l1", "l2"):
        await registry.put_line(Line(tenant=tenant, line=line, site="plant-1", name=line))
    return tenant


def late_data(day: LineDay) -> LineDay:
    """The day after a late batch of 40 packs arrived for its first hour."""
    first = day.hours[0]
    more = {"good_packs": first.good_packs + 40, "total_packs": first.total_packs + 40}
    hours = [msgspec.structs.replace(first, **more), *day.hours[1:]]
    return msgspec.structs.replace(
        day, good_packs=day.good_packs + 40, total_packs=day.total_packs + 40, hours=hours
    )


async def test_versions_are_added_when_the_figures_change_and_kept(
    database: Database, tenant: str
) -> None:
    store, scoped = ReportStore(), ScopedDatabase(database, tenant)
    day = busy_line_day()
    assert await store.produce_line(scoped, tenant, day, PRODUCED) == 1
    # The same figures again (the close job ran twice, a periodic check): nothing new.
    assert await store.produce_line(scoped, tenant, day, PRODUCED + timedelta(hours=1)) is None
    later = late_data(day)
    assert await store.produce_line(scoped, tenant, later, PRODUCED + timedelta(hours=2)) == 2
    assert await store.produce_line(scoped, tenant, later, PRODUCED + timedelta(hours=3)) is None

    async def read(tx: Tx) -> tuple[list[int], bytes, bytes, bytes]:
        rows = await store.versions(tx, tenant, "plant-1", "l1", day.day)
        first = await store.file(tx, tenant, "plant-1", "l1", day.day, 1)
        latest = await store.file(tx, tenant, "plant-1", "l1", day.day, None)
        assert first is not None
        assert latest is not None
        assert [r.figures_digest for r in rows] == [figures_digest(day), figures_digest(later)]
        return [r.version for r in rows], first.pdf, latest.pdf, latest.csv.encode()

    numbers, first_pdf, latest_pdf, latest_csv = await scoped.transaction(read)
    assert numbers == [1, 2]
    first_text = PdfReader(io.BytesIO(first_pdf)).pages[0].extract_text()
    latest_text = PdfReader(io.BytesIO(latest_pdf)).pages[0].extract_text()
    assert "Good packs\n88304" in first_text
    assert "version 1," in first_text
    assert "Good packs\n88344" in latest_text
    assert "version 2," in latest_text
    assert b"\r\nl1,88344,88552," in latest_csv


async def test_a_site_report_is_its_own_series(database: Database, tenant: str) -> None:
    store, scoped = ReportStore(), ScopedDatabase(database, tenant)
    lines = [busy_line_day(), msgspec.structs.replace(empty_line_day(), day=busy_line_day().day)]
    site = site_day_of(lines)
    assert await store.produce_site(scoped, tenant, site, lines, PRODUCED) == 1
    assert await store.produce_line(scoped, tenant, lines[0], PRODUCED) == 1
    assert await store.produce_site(scoped, tenant, site, lines, PRODUCED) is None
    # A change in one line's details (not in the site's summary) is a new site version too.
    changed = [msgspec.structs.replace(lines[0], hours=[*lines[0].hours,
               HourFigures(hour=lines[0].end - timedelta(hours=1), good_packs=0, total_packs=0,
                           kg=0.0, mean_g=None, rejects=0)]), lines[1]]  # fmt: skip
    assert await store.produce_site(scoped, tenant, site, changed, PRODUCED) == 2

    async def read(tx: Tx) -> list[int]:
        rows = await store.versions(tx, tenant, "plant-1", None, site.day)
        return [r.version for r in rows]

    assert await scoped.transaction(read) == [1, 2]


async def test_another_tenant_sees_no_version(database: Database, tenant: str) -> None:
    store = ReportStore()
    await store.produce_line(ScopedDatabase(database, tenant), tenant, busy_line_day(), PRODUCED)
    other = ScopedDatabase(database, "someone-else")

    async def read(tx: Tx) -> tuple[int, bool]:
        # Naming the tenant is not enough: row-level security shows only the transaction's.
        rows = await store.versions(tx, tenant, "plant-1", "l1", busy_line_day().day)
        found = await store.file(tx, tenant, "plant-1", "l1", busy_line_day().day, None)
        return len(rows), found is not None

    assert await other.transaction(read) == (0, False)


async def test_versions_cannot_be_changed_by_the_api_role(database: Database, tenant: str) -> None:
    await ReportStore().produce_line(
        ScopedDatabase(database, tenant), tenant, busy_line_day(), PRODUCED
    )

    async def rewrite(tx: Tx) -> None:
        await tx.connection.execute("UPDATE reports SET csv = '' WHERE tenant = $1", tenant)

    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await ScopedDatabase(database, tenant).transaction(rewrite)


async def test_two_processes_producing_the_same_day_make_one_version(
    database: Database, tenant: str
) -> None:
    store, day = ReportStore(), busy_line_day()
    made = await asyncio.gather(
        *(store.produce_line(ScopedDatabase(database, tenant), tenant, day, PRODUCED)
          for _ in range(3))
    )  # fmt: skip
    assert sorted(made, key=lambda v: v or 0) == [None, None, 1]

"""The daily report endpoints and schedules on a real PostgreSQL and a real HTTP port, with a
tenant API key: content types and file names, versions on late data, the open day's
provisional report, the close-days schedule, and 404 for another tenant's line or site.

The figures come from `tally.reports.testing.DayBook`, a stand-in for the figures API's
builders (the `ReportDays` interface they implement); everything else is the api as deployed.
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import msgspec
import pytest
from pypdf import PdfReader

from tally.api import report_schedules
from tally.api.admin import ApiDeps
from tally.api.report_production import Reports
from tally.api.service import api_deps, service
from tally.api.settings import ApiSettings
from tally.contracts.figures import LineDay
from tally.reports import formats
from tally.reports.testing import DayBook, busy_line_day
from tally.sdk import Database, DatabaseRuntime, MemoryBroker, Secret, ServiceHost
from tally.sdk.testing import LoginUrl, eventually

from .conftest import ADMIN_TOKEN, Api, Caller, add_user, login

pytestmark = pytest.mark.integration

DAY = busy_line_day().day  # 2026-03-02, long closed
BERLIN = ZoneInfo("Europe/Berlin")


class Clock:
    def __init__(self) -> None:
        self.at = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def book() -> DayBook:
    return DayBook()


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _with_reports(book: DayBook, clock: Clock) -> Callable[..., Any]:
    @asynccontextmanager
    async def deps(runtime: DatabaseRuntime, settings: ApiSettings) -> AsyncIterator[ApiDeps]:
        async with api_deps(runtime, settings) as built:
            reports = Reports(database=runtime.database, days=book, clock=clock)
            yield dataclasses.replace(built, reports=reports)

    return deps


@pytest.fixture
async def api(
    migrated_database_url: str, login_url: LoginUrl, book: DayBook, clock: Clock
) -> AsyncIterator[Api]:
    """The api of `conftest.api` with the reports' figures from `book`, on `clock`."""
    reporting = dataclasses.replace(service, deps=_with_reports(book, clock))
    url = login_url(migrated_database_url, service.database_role)
    async with _hosted(reporting, url) as hosted:
        yield hosted


def _hosted(reporting: Any, url: str) -> AbstractAsyncContextManager[Api]:
    @asynccontextmanager
    async def run() -> AsyncIterator[Api]:
        database = await Database.connect(url, role=service.database_role, max_size=4)
        settings = ApiSettings(admin_token=Secret(ADMIN_TOKEN), cookie_secure=False)
        host = ServiceHost(reporting, settings, broker=MemoryBroker(), database=database)
        await host.start()
        client = httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{host.port}",
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            timeout=30.0,
        )
        try:
            yield Api(host, client)
        finally:
            await client.aclose()
            await host.stop()
            await database.close()

    return run()


async def _registered(api: Api, tenant: str, lines: tuple[str, ...] = ("l1",)) -> None:
    base = f"/v1/admin/tenants/{tenant}"
    site = {"name": "Kempten", "timezone": "Europe/Berlin"}
    assert (await api.client.put(f"{base}/sites/plant-1", json=site)).status_code == 200
    for line in lines:
        body = {"site": "plant-1", "name": line}
        assert (await api.client.put(f"{base}/lines/{line}", json=body)).status_code == 200


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _later(day: LineDay, packs: int) -> LineDay:
    return msgspec.structs.replace(
        day, good_packs=day.good_packs + packs, total_packs=day.total_packs + packs
    )


async def test_a_closed_days_report_is_stored_and_served_as_pdf_and_csv(
    api: Api, tenant: str, tenant_key: Caller, book: DayBook
) -> None:
    await _registered(api, tenant)
    day = busy_line_day()
    book.put(tenant, day)
    url = f"/v1/lines/l1/days/{DAY}/report"
    pdf = await tenant_key.client.get(f"{url}.pdf")
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == "application/pdf"
    assert 'filename="report-l1-2026-03-02-v1.pdf"' in pdf.headers["content-disposition"]
    text = _text(pdf.content)
    assert f"Good packs\n{formats.count(day.good_packs)}" in text
    assert f"OEE\n{formats.percent(day.oee)}" in text
    assert "version 1, produced 2026-03-04T12:00:00+00:00" in text

    csv = await tenant_key.client.get(f"{url}.csv")
    assert csv.status_code == 200, csv.text
    assert csv.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="report-l1-2026-03-02-v1.csv"' in csv.headers["content-disposition"]
    assert f"\r\nl1,{day.good_packs},{day.total_packs}," in csv.text


async def test_late_data_makes_a_new_version_and_the_first_is_kept(
    api: Api, tenant: str, tenant_key: Caller, book: DayBook, clock: Clock
) -> None:
    await _registered(api, tenant)
    day = busy_line_day()
    book.put(tenant, day)
    base = f"/v1/lines/l1/days/{DAY}"
    assert (await tenant_key.client.get(f"{base}/report.pdf")).status_code == 200
    # Asked again with the same figures: the same version.
    again = await tenant_key.client.get(f"{base}/report.pdf")
    assert "-v1.pdf" in again.headers["content-disposition"]

    book.put(tenant, _later(day, 40))
    clock.at += timedelta(hours=5)
    newer = await tenant_key.client.get(f"{base}/report.pdf")
    assert "-v2.pdf" in newer.headers["content-disposition"]
    assert f"Good packs\n{day.good_packs + 40}" in _text(newer.content)

    first = await tenant_key.client.get(f"{base}/report.pdf", params={"version": 1})
    assert first.status_code == 200, first.text
    assert f"Good packs\n{day.good_packs}\n" in _text(first.content)
    listed = (await tenant_key.client.get(f"{base}/reports")).json()
    assert listed["site"] == "plant-1"
    assert listed["line"] == "l1"
    assert [v["version"] for v in listed["versions"]] == [1, 2]
    assert listed["versions"][1]["produced_at"] == "2026-03-04T17:00:00Z"

    missing = await tenant_key.client.get(f"{base}/report.csv", params={"version": 3})
    assert missing.status_code == 404
    assert missing.json()["field"] == "version"


async def test_an_open_days_report_is_provisional_and_not_stored(
    api: Api, tenant: str, tenant_key: Caller, book: DayBook, clock: Clock
) -> None:
    await _registered(api, tenant)
    day = busy_line_day()
    book.put(tenant, day)
    clock.at = day.end + timedelta(minutes=10)  # ended, but within the grace
    base = f"/v1/lines/l1/days/{DAY}"
    pdf = await tenant_key.client.get(f"{base}/report.pdf")
    assert 'filename="report-l1-2026-03-02-provisional.pdf"' in pdf.headers["content-disposition"]
    assert "provisional (not a stored version; figures may still change)" in _text(pdf.content)
    assert (await tenant_key.client.get(f"{base}/reports")).json()["versions"] == []


async def test_a_sites_report_holds_its_lines(
    api: Api, tenant: str, tenant_key: Caller, book: DayBook
) -> None:
    await _registered(api, tenant, ("l1", "l2"))
    book.put(tenant, busy_line_day())
    book.put(tenant, busy_line_day(line="l2"))
    base = f"/v1/sites/plant-1/days/{DAY}"
    pdf = await tenant_key.client.get(f"{base}/report.pdf")
    assert pdf.status_code == 200, pdf.text
    assert 'filename="report-plant-1-2026-03-02-v1.pdf"' in pdf.headers["content-disposition"]
    text = _text(pdf.content)
    assert "Daily production report - site Kempten" in text
    assert text.count("Daily production report - Line 1") == 2
    csv = await tenant_key.client.get(f"{base}/report.csv")
    assert "\r\nl2,88304,88512," in csv.text
    listed = (await tenant_key.client.get(f"{base}/reports")).json()
    assert (listed["line"], [v["version"] for v in listed["versions"]]) == (None, [1])


async def test_another_tenants_line_and_site_are_404(
    api: Api, tenant: str, tenant_key: Caller, book: DayBook
) -> None:
    await _registered(api, tenant)
    book.put(tenant, busy_line_day())
    assert (await tenant_key.client.get(f"/v1/lines/l1/days/{DAY}/report.pdf")).status_code == 200
    other = f"{tenant}x"
    await add_user(api, other, "admin@example.com", "admin")
    intruder = await login(api, other, "admin@example.com")
    made = await intruder.client.post("/v1/keys", json={"name": "ERP", "role": "viewer"})
    key = {"Authorization": f"Bearer {made.json()['key']}"}
    async with httpx.AsyncClient(base_url=str(api.client.base_url), headers=key) as client:
        for path in (
            f"/v1/lines/l1/days/{DAY}/report.pdf",
            f"/v1/lines/l1/days/{DAY}/report.csv",
            f"/v1/lines/l1/days/{DAY}/report.pdf?version=1",
            f"/v1/lines/l1/days/{DAY}/reports",
            f"/v1/sites/plant-1/days/{DAY}/report.pdf",
            f"/v1/sites/plant-1/days/{DAY}/report.csv?version=1",
            f"/v1/sites/plant-1/days/{DAY}/reports",
        ):
            answer = await client.get(path)
            assert answer.status_code == 404, path
            assert answer.json()["error"] == "not_found", path
    await intruder.client.aclose()


async def test_bad_days_and_versions_are_422_naming_them(api: Api, tenant_key: Caller) -> None:
    bad = await tenant_key.client.get("/v1/lines/l1/days/2026-02-30/report.pdf")
    assert (bad.status_code, bad.json()["field"]) == (422, "day")
    for far in (
        "/v1/lines/l1/days/9999-12-31/report.csv",
        "/v1/sites/p1/days/0001-01-01/report.pdf",
    ):
        bad = await tenant_key.client.get(far)
        assert (bad.status_code, bad.json()["field"]) == (422, "day"), bad.text
    bad = await tenant_key.client.get(f"/v1/lines/l1/days/{DAY}/report.pdf?version=0")
    assert (bad.status_code, bad.json()["field"]) == (422, "version")
    async with httpx.AsyncClient(base_url=str(api.client.base_url)) as anonymous:
        assert (await anonymous.get(f"/v1/lines/l1/days/{DAY}/report.pdf")).status_code == 401


async def test_a_site_day_that_closes_is_produced_by_the_schedule(
    api: Api,
    tenant: str,
    tenant_key: Caller,
    book: DayBook,
    clock: Clock,
    migrated_database_url: str,
    login_url: LoginUrl,
) -> None:
    """A day that closed two days ago (within the schedule's look-back): the api produces its
    reports on its own; late data then makes version 2 at the next recheck."""
    today = datetime.now(BERLIN).date()
    closed = today - timedelta(days=2)
    start = datetime.combine(closed, datetime.min.time().replace(hour=6), BERLIN)
    day = msgspec.structs.replace(busy_line_day(), day=closed, start=start,
                                  end=start + timedelta(days=1))  # fmt: skip
    # The figures first: a schedule that finds the site before them would close its day empty.
    book.put(tenant, day)
    await _registered(api, tenant)
    clock.at = datetime.now(UTC)
    base = f"/v1/lines/l1/days/{closed}"

    async def versions(path: str) -> list[int]:
        listed = (await tenant_key.client.get(path)).json()
        return [v["version"] for v in listed["versions"]]

    async def produced() -> bool:
        return await versions(f"{base}/reports") == [1]

    # A second api process, started now that the site exists, runs the slots due at start
    # (the first one would find the slot at its next tick, a minute on).
    reporting = dataclasses.replace(service, deps=_with_reports(book, clock))
    async with _hosted(reporting, login_url(migrated_database_url, service.database_role)):
        await eventually(produced, 60, interval=0.5)
    assert await versions(f"/v1/sites/plant-1/days/{closed}/reports") == [1]

    book.put(tenant, _later(day, 7))
    deps = api.host.deps
    assert deps is not None
    assert deps.reports is not None
    await report_schedules.recheck_days(deps, None)  # type: ignore[arg-type]
    assert await versions(f"{base}/reports") == [1, 2]
    assert await versions(f"/v1/sites/plant-1/days/{closed}/reports") == [1, 2]

"""The daily report over real rolled-up figures (raw rows stored as the recorder does, recomputed
as the rollup does): the PDF's text — through the endpoint and through `tally report`, over
the API and with an api it starts itself — holds the same headline figures as
GET /v1/lines/{line}/days/{day}, and the CSV the very numbers; late data on a closed day makes
version 2 and keeps version 1."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import msgspec
import pytest
from pypdf import PdfReader

from services.api.tests.conftest import Api, Caller
from services.api.tests.made_production import MadeProduction, making, plant
from tally.cli.__main__ import main
from tally.contracts.figures import LineDay
from tally.reports import completeness_text, formats
from tally.sdk.testing import LoginUrl

pytestmark = [pytest.mark.integration, pytest.mark.slow]
BERLIN = ZoneInfo("Europe/Berlin")


def headline(day: LineDay) -> list[str]:
    """The headline tiles as the PDF's text must show them: label, then the API's figure as
    `tally.reports.formats` writes it."""
    rejects = sum(day.rejects.values())
    return [
        f"Good packs\n{formats.count(day.good_packs)}",
        f"Total packs\n{formats.count(day.total_packs)}",
        f"Kg actual\n{formats.kg(day.kg)}",
        f"Kg declared\n{formats.kg(day.kg_declared)}",
        f"Reject %\n{formats.share(rejects, day.total_packs)}",
        f"Giveaway %\n{formats.percent(day.giveaway_pct)}",
        f"Giveaway value\n{formats.money(day.giveaway_value)}",
        f"OEE\n{formats.percent(day.oee)}",
        f"Availability\n{formats.percent(day.availability)}",
        f"Performance\n{formats.percent(day.performance)}",
        f"Quality\n{formats.percent(day.quality)}",
        f"Run hours\n{formats.hours(day.run_seconds)}",
        f"Planned hours\n{formats.hours(day.planned_seconds)}",
    ]


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def assert_same_headline(pdf: bytes, day: LineDay) -> None:
    text = pdf_text(pdf)
    for tile in headline(day):
        assert tile in text, tile
    assert completeness_text(day.completeness) in text.replace("\n", " ")


@pytest.fixture
async def made(
    api: Api, tenant: str, user_session: Caller, migrated_database_url: str, login_url: LoginUrl
) -> AsyncIterator[MadeProduction]:
    await plant(api, tenant)
    async with making(tenant, migrated_database_url, login_url) as production:
        yield production


def _closed_day_start() -> datetime:
    """10:00 Berlin two days ago: a production day that closed yesterday morning."""
    local = datetime.now(BERLIN) - timedelta(days=2)
    return local.replace(hour=10, minute=0, second=0, microsecond=0).astimezone(UTC)


def _version(answer: httpx.Response) -> int:
    """The stored version a report's file name gives (report-l1-2026-03-02-v2.pdf)."""
    name = answer.headers["content-disposition"].partition('filename="')[2].partition('"')[0]
    return int(name.rpartition("-v")[2].partition(".")[0])


async def _line_day(caller: Caller, day: str) -> LineDay:
    answer = await caller.client.get(f"/v1/lines/l1/days/{day}")
    assert answer.status_code == 200, answer.text
    return msgspec.json.decode(answer.content, type=LineDay)


async def test_the_reports_headline_figures_are_the_apis(
    made: MadeProduction, tenant_key: Caller
) -> None:
    start = _closed_day_start()
    await made.run(start, 60, held=10)
    day = start.astimezone(BERLIN).date().isoformat()
    figures = await _line_day(tenant_key, day)
    assert (figures.good_packs, figures.total_packs) == (2850, 3000)

    pdf = await tenant_key.client.get(f"/v1/lines/l1/days/{day}/report.pdf")
    assert pdf.status_code == 200, pdf.text
    # Version 1, unless the api's close-days schedule ran between the site's making and the
    # production (then that empty day is version 1, and this one 2).
    version = _version(pdf)
    assert version in (1, 2)
    assert_same_headline(pdf.content, figures)

    answer = await tenant_key.client.get(f"/v1/lines/l1/days/{day}/report.csv")
    rows = list(csv.reader(io.StringIO(answer.text, newline="")))
    at = rows.index(["headline"])
    found = dict(zip(rows[at + 1], rows[at + 2], strict=True))
    assert int(found["good_packs"]) == figures.good_packs
    assert float(found["kg"]) == figures.kg
    assert float(found["oee"]) == figures.oee

    # Late data: ten more minutes that afternoon. The API's figures change, and so does the
    # report, as version 2; version 1 stays as it was.
    await made.run(start + timedelta(hours=4), 10)
    later = await _line_day(tenant_key, day)
    assert later.total_packs > figures.total_packs
    newer = await tenant_key.client.get(f"/v1/lines/l1/days/{day}/report.pdf")
    assert _version(newer) == version + 1
    assert_same_headline(newer.content, later)
    first = await tenant_key.client.get(f"/v1/lines/l1/days/{day}/report.pdf?version={version}")
    assert_same_headline(first.content, figures)
    listed = (await tenant_key.client.get(f"/v1/lines/l1/days/{day}/reports")).json()
    assert [v["version"] for v in listed["versions"]][-2:] == [version, version + 1]

    site = await tenant_key.client.get(f"/v1/sites/p1/days/{day}/report.pdf")
    assert site.status_code == 200, site.text
    assert_same_headline(site.content, later)


async def _tally(*argv: str) -> int:
    def run() -> int:
        with pytest.raises(SystemExit) as exited:
            main(list(argv))
        return int(exited.value.code or 0)

    return await asyncio.to_thread(run)


async def test_tally_report_writes_the_apis_figures(
    made: MadeProduction,
    tenant_key: Caller,
    api: Api,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    nats_url: str,
    migrated_database_url: str,
) -> None:
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=90)
    await made.run(start, 30, held=5)
    day = (start.astimezone(BERLIN) - timedelta(hours=6)).date().isoformat()
    figures = await _line_day(tenant_key, day)
    key = tenant_key.client.headers["Authorization"].removeprefix("Bearer ")
    report = ["report", "--tenant", made.tenant, "--site", "p1", "--line", "l1", "--day", day]

    # Over the API, with the tenant's key: the day is open, so the report is provisional.
    over_api = tmp_path / "api.pdf"
    monkeypatch.setenv("TALLY_API_KEY", key)
    code = await _tally(*report, "--pdf", str(over_api), "--api", str(api.client.base_url))
    assert code == 0
    assert_same_headline(await asyncio.to_thread(over_api.read_bytes), figures)

    # Without --api: an api started for the run on tally admin's servers, a key made for it.
    monkeypatch.delenv("TALLY_API_KEY")
    monkeypatch.setenv("TALLY_OWNER_DATABASE_URL", migrated_database_url)
    monkeypatch.setenv("TALLY_NATS_URL", nats_url)
    monkeypatch.setenv("TALLY_STATE_DIR", str(tmp_path / "state"))
    embedded, table = tmp_path / "own.pdf", tmp_path / "own.csv"
    assert await _tally(*report, "--pdf", str(embedded), "--csv", str(table)) == 0
    assert_same_headline(await asyncio.to_thread(embedded.read_bytes), figures)
    written = (await asyncio.to_thread(table.read_bytes)).decode()
    assert f"\r\nl1,{figures.good_packs},{figures.total_packs}," in written
    # The run's key was revoked: only the test's own key is left.
    keys = (await tenant_key.client.get("/v1/keys")).json()
    assert sorted((k["name"], k["role"], k["revoked"]) for k in keys["keys"]) == [
        ("ERP", "admin", False),
        ("tally report", "viewer", True),
    ]

"""`tally report --api URL`: the files the API serves, written where asked, named by version;
a line on another site, a missing key and the API's refusals are errors that say so."""

from __future__ import annotations

import asyncio
import dataclasses
import io
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from pypdf import PdfReader

from tally.api.admin import ApiDeps
from tally.api.report_production import Reports
from tally.api.service import api_deps, service
from tally.api.settings import ApiSettings
from tally.cli.__main__ import main
from tally.reports import formats
from tally.reports.testing import DayBook, busy_line_day
from tally.sdk import Database, DatabaseRuntime, MemoryBroker, Secret, ServiceHost
from tally.sdk.testing import LoginUrl

pytestmark = pytest.mark.integration

ADMIN = "cli-test-admin-token-" + "x" * 16
TENANT = "report-cli"


@dataclasses.dataclass(frozen=True)
class Hosted:
    url: str
    key: str
    book: DayBook


def _deps(book: DayBook) -> Callable[..., Any]:
    @asynccontextmanager
    async def deps(runtime: DatabaseRuntime, settings: ApiSettings) -> AsyncIterator[ApiDeps]:
        async with api_deps(runtime, settings) as built:
            reports = Reports(database=runtime.database, days=book,
                              clock=lambda: datetime(2026, 3, 4, 12, tzinfo=UTC))  # fmt: skip
            yield dataclasses.replace(built, reports=reports)

    return deps


@pytest.fixture
async def hosted(fresh_database_url: str, login_url: LoginUrl) -> AsyncIterator[Hosted]:
    """The api with the reports' figures from a `DayBook`, a tenant with a line l1 on site
    plant-1 (and l9 on plant-2), and a viewer key of it."""
    book = DayBook()
    database = await Database.connect(
        login_url(fresh_database_url, service.database_role), role=service.database_role
    )
    reporting = dataclasses.replace(service, deps=_deps(book))
    host = ServiceHost(
        reporting, ApiSettings(admin_token=Secret(ADMIN)), broker=MemoryBroker(), database=database
    )
    await host.start()
    url = f"http://127.0.0.1:{host.port}"
    admin = {"Authorization": f"Bearer {ADMIN}"}
    try:
        async with httpx.AsyncClient(base_url=url, headers=admin) as client:
            base = f"/v1/admin/tenants/{TENANT}"
            for path, body in (
                ("", {"name": "Alpenwerk"}),
                ("/sites/plant-1", {"name": "Kempten", "timezone": "Europe/Berlin"}),
                ("/sites/plant-2", {"name": "Ulm", "timezone": "Europe/Berlin"}),
                ("/lines/l1", {"site": "plant-1", "name": "Line 1"}),
                ("/lines/l9", {"site": "plant-2", "name": "Line 9"}),
            ):
                assert (await client.put(base + path, json=body)).status_code == 200
            made = await client.post(f"{base}/keys", json={"name": "ERP", "role": "viewer"})
            assert made.status_code == 201, made.text
        yield Hosted(url, made.json()["key"], book)
    finally:
        await host.stop()
        await database.close()


async def tally(*argv: str) -> int:
    """`tally ARGS…` in a thread (it runs its own event loop): its exit code."""

    def run() -> int:
        with pytest.raises(SystemExit) as exited:
            main(list(argv))
        return int(exited.value.code or 0)

    return await asyncio.to_thread(run)


async def test_the_line_report_is_written_as_the_api_serves_it(
    hosted: Hosted, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    day = busy_line_day()
    hosted.book.put(TENANT, day)
    monkeypatch.setenv("TALLY_API_KEY", hosted.key)
    pdf, csv = tmp_path / "l1.pdf", tmp_path / "l1.csv"
    code = await tally("report", "--tenant", TENANT, "--site", "plant-1", "--line", "l1",
                       "--day", "2026-03-02", "--pdf", str(pdf), "--csv", str(csv),
                       "--api", hosted.url)  # fmt: skip
    assert code == 0
    text = PdfReader(io.BytesIO(pdf.read_bytes())).pages[0].extract_text()
    assert f"Good packs\n{formats.count(day.good_packs)}" in text
    assert "version 1," in text
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {hosted.key}"}) as client:
        served = await client.get(f"{hosted.url}/v1/lines/l1/days/2026-03-02/report.csv")
    assert csv.read_bytes() == served.content


async def test_the_site_report_and_a_stored_version(
    hosted: Hosted, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hosted.book.put(TENANT, busy_line_day())
    pdf = tmp_path / "site.pdf"
    argv = ["report", "--tenant", TENANT, "--site", "plant-1", "--day", "2026-03-02",
            "--pdf", str(pdf), "--api", hosted.url, "--key", hosted.key]  # fmt: skip
    assert await tally(*argv) == 0
    assert "report-plant-1-2026-03-02-v1.pdf" in capsys.readouterr().out
    assert "site Kempten" in PdfReader(io.BytesIO(pdf.read_bytes())).pages[0].extract_text()
    assert await tally(*argv, "--version", "2") == 1
    assert "404: plant-1 has no report version 2 of 2026-03-02" in capsys.readouterr().err


async def test_a_line_of_another_site_a_missing_key_and_no_file_are_refused(
    hosted: Hosted, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.delenv("TALLY_API_KEY", raising=False)
    pdf = str(tmp_path / "x.pdf")
    line = ["report", "--tenant", TENANT, "--site", "plant-1", "--line", "l9",
            "--day", "2026-03-02", "--api", hosted.url]  # fmt: skip
    assert await tally(*line, "--pdf", pdf, "--key", hosted.key) == 1
    assert "line 'l9' is on site 'plant-2', not 'plant-1'" in capsys.readouterr().err
    assert await tally(*line, "--pdf", pdf) == 1
    assert "TALLY_API_KEY" in capsys.readouterr().err
    assert await tally(*line, "--key", hosted.key) == 1
    assert "give --pdf FILE, --csv FILE or both" in capsys.readouterr().err
    assert await tally(*line, "--pdf", pdf, "--key", "tk_0123456789abcdef_" + "x" * 30) == 1
    assert "401" in capsys.readouterr().err
    assert not await asyncio.to_thread(Path(pdf).exists)

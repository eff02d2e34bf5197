"""The dashboard in a real headless Chromium (Debian's chromium, driven by Playwright: the
SDK's `browser` fixture, which fails rather than skips under CI): log in with the keyboard,
the overview's figures are the API's, the line's charts are drawn, new data shows up without
a reload, another tenant's line is a 404, logout ends the session.

`TALLY_SCREENSHOTS=docs/screenshots uv run pytest -n 0 services/api/tests/test_dashboard_browser.py`
renews the README's screenshots; otherwise they go to the test's temporary folder.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from services.api.tests.conftest import PASSWORD, Api, add_user, hosted_api
from services.api.tests.made_production import MadeProduction, making, plant
from services.api.tests.test_figures_api import _an_hour_ago
from tally.api.dashboard.formats import count, ratio
from tally.api.service import service
from tally.sdk.testing import LoginUrl


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("TALLY_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
async def plain_http_api(migrated_database_url: str, login_url: LoginUrl) -> AsyncIterator[Api]:
    # Plain HTTP on the loopback: the session cookie without `Secure`, as in the demo.
    url = login_url(migrated_database_url, service.database_role)
    async with hosted_api(url, cookie_secure=False, live_seconds=0.5) as hosted:
        yield hosted


@pytest.fixture
async def made(
    plain_http_api: Api, tenant: str, migrated_database_url: str, login_url: LoginUrl
) -> AsyncIterator[MadeProduction]:
    """A user of the test's tenant, its plant with a plan, and a way to make production."""
    await add_user(plain_http_api, tenant, "plant@example.com", "viewer")
    await plant(plain_http_api, tenant)
    async with making(tenant, migrated_database_url, login_url) as production:
        yield production


async def _log_in(page: Page, base: str, tenant: str) -> None:
    await page.goto(f"{base}/dashboard")
    assert "/login" in page.url
    await page.fill("#tenant", tenant)
    await page.fill("#email", "plant@example.com")
    await page.fill("#password", PASSWORD)
    await page.keyboard.press("Enter")  # the keyboard alone
    await page.wait_for_url(f"{base}/dashboard**")


async def _fits(page: Page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= await page.evaluate("window.innerWidth")
    for target in await page.locator("header button, header select, header input").all():
        box = await target.bounding_box()
        assert box is not None
        assert box["height"] >= 44


async def test_log_in_see_the_figures_follow_them_live_and_log_out(
    plain_http_api: Api, browser: Browser, tenant: str, made: MadeProduction, screenshots: Path
) -> None:
    api = plain_http_api
    base = str(api.client.base_url).rstrip("/")
    start = _an_hour_ago()
    await made.run(start, 60, held=10)
    other = f"{tenant}x"
    await add_user(api, other, "them@example.com", "viewer")
    await plant(api, other)
    theirs = {"site": "p1", "name": "Their line"}
    created = await api.client.put(f"/v1/admin/tenants/{other}/lines/theirs", json=theirs)
    assert created.status_code == 200, created.text
    page = await browser.new_page(viewport={"width": 1024, "height": 768})  # a tablet

    await _log_in(page, base, tenant)
    # The keyboard alone: the first Tab reaches the skip link, which moves focus to the figures.
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.className") == "skip"
    await page.keyboard.press("Enter")
    assert await page.evaluate("document.activeElement.id") == "main"
    await page.screenshot(path=str(screenshots / "site-overview.png"), full_page=True)

    # The overview's figures are the API's, as the API's own session reads them.
    live = await page.evaluate(
        "async () => (await fetch('/v1/live', {credentials: 'same-origin'})).json()"
    )
    for line in live["lines"]:
        card = page.locator(f'article[data-line="{line["line"]}"]')
        figures = line["figures"]
        assert await card.locator('[data-field="good_packs"]').inner_text() == count(
            figures["good_packs"]
        )
        assert await card.locator('[data-field="oee"]').inner_text() == ratio(figures["oee"])
        assert await card.locator('[data-field="reject_pct"]').inner_text() == ratio(
            figures["reject_pct"]
        )

    # A tablet beside the line: nothing wider than the screen, buttons large enough to touch.
    await _fits(page)

    await page.click('article[data-line="l1"] h2 a')
    await page.wait_for_url(f"{base}/dashboard/lines/l1**")
    charts = page.locator("svg.chart")
    assert await charts.count() == 5
    for index in range(await charts.count()):
        # Every chart has marks: bars, weights, states, stops, losses.
        assert await charts.nth(index).locator("rect").count() > 0
    await page.screenshot(path=str(screenshots / "line-day.png"), full_page=True)
    await page.set_viewport_size({"width": 768, "height": 1024})  # portrait
    await _fits(page)
    await page.set_viewport_size({"width": 1024, "height": 768})

    # New data is stored and rolled up: the open page shows it without a reload.
    headline = page.locator('.headline [data-field="total_packs"]')
    assert await headline.inner_text() == count(3000)
    await page.evaluate("window.notReloaded = true")
    await made.run(start + timedelta(minutes=60), 5)
    await expect(headline).to_have_text(count(3300), timeout=15_000)
    assert await page.evaluate("window.notReloaded") is True

    # Another tenant's line of the same id: the same 404 as no line at all.
    answer = await page.goto(f"{base}/dashboard/lines/theirs")
    assert answer is not None
    assert answer.status == 404
    await page.goto(f"{base}/dashboard")

    await page.click("#logout")
    await page.wait_for_url(f"{base}/login**")
    await page.goto(f"{base}/dashboard")
    assert "/login" in page.url  # the session has ended
    await page.screenshot(path=str(screenshots / "login.png"))

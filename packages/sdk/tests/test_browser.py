"""An `Html` answer in a real browser: the plugin's headless Chromium loads a page a service
serves over real HTTP, runs its script, and follows its link to a problem answer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from playwright.async_api import Page

from tally.sdk import (
    PUBLIC,
    Anonymous,
    Call,
    Endpoint,
    Html,
    MemoryBroker,
    NoSettings,
    Runtime,
    Service,
    ServiceHost,
)

# The figure is written by the script: only a browser that runs it shows "3 of 4".
PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Line 1 · today</title></head>
<body>
  <h1>Line 1</h1>
  <p>Good packs: <output id="good"></output></p>
  <a id="elsewhere" href="/nowhere">elsewhere</a>
  <script>
    const packs = [{good: true}, {good: false}, {good: true}, {good: true}];
    const good = packs.filter((pack) => pack.good).length;
    document.getElementById("good").textContent = `${good} of ${packs.length}`;
  </script>
</body>
</html>
"""


@asynccontextmanager
async def _deps(_: Runtime, __: NoSettings) -> AsyncIterator[None]:
    yield None


async def line_page(_: None, __: Call[Anonymous]) -> Html:
    return Html(PAGE)


SERVICE = Service(
    name="pages",
    settings=NoSettings,
    deps=_deps,
    endpoints=[
        Endpoint("GET", "/line", line_page, auth=PUBLIC, response=Html, summary="A line's page")
    ],
)


@pytest.fixture
async def host() -> AsyncIterator[ServiceHost[NoSettings, None]]:
    started = ServiceHost(SERVICE, NoSettings(), broker=MemoryBroker())
    await started.start()
    yield started
    await started.stop()


async def test_a_page_served_as_html_is_rendered_and_its_script_run(
    host: ServiceHost[NoSettings, None], page: Page
) -> None:
    response = await page.goto(f"http://127.0.0.1:{host.port}/line")

    assert response is not None
    assert response.status == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert await page.title() == "Line 1 · today"
    assert await page.locator("#good").text_content() == "3 of 4"


async def test_a_link_to_an_unknown_path_leads_to_a_404_problem(
    host: ServiceHost[NoSettings, None], page: Page
) -> None:
    await page.goto(f"http://127.0.0.1:{host.port}/line")

    async with page.expect_response(f"http://127.0.0.1:{host.port}/nowhere") as answer:
        await page.click("#elsewhere")

    response = await answer.value
    assert response.status == 404
    assert (await response.json())["error"] == "not_found"
    # What the browser shows: the problem, naming the path.
    assert "no route GET /nowhere" in (await page.locator("body").inner_text())

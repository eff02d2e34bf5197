"""A real headless Chromium for browser tests, driven by Playwright (async API).

The browser is the system's Chromium (Debian's `chromium`, which `.ci/run` installs), not one
that Playwright downloads: `playwright install` is never run. TALLY_CHROMIUM names another
executable. Where none is found the test is skipped, except under CI (CI=true), where it
fails: in CI the browser tests must run.

Playwright is a development dependency of the workspace, not of the SDK: it is imported only
when a test asks for a browser.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

# Where Debian's package puts it, then what PATH finds.
_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser")


def chromium_path() -> Path | None:
    """The Chromium to drive: TALLY_CHROMIUM, else the system's; None if there is none."""
    given = os.environ.get("TALLY_CHROMIUM")
    if given:
        return Path(given) if Path(given).is_file() else None
    for candidate in _CANDIDATES:
        found = shutil.which(candidate)
        if found is not None:
            return Path(found)
    return None


def _launch_arguments() -> list[str]:
    arguments = [
        # Containers often give /dev/shm only 64 MB, too little for Chromium's renderers.
        "--disable-dev-shm-usage",
    ]
    if os.geteuid() == 0:
        # Chromium refuses to start as root with its sandbox (containers, CI runners).
        arguments.append("--no-sandbox")
    return arguments


def _missing(reason: str) -> NoReturn:
    """Skip the test, or fail it under CI, where browser tests must run."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason}; under CI the browser tests must run", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """A headless Chromium of this test's own, closed after it (with Playwright's driver)."""
    executable = chromium_path()
    if executable is None:
        _missing(
            "no Chromium: install Debian's `chromium` (apt-get install chromium) or set "
            "TALLY_CHROMIUM to its executable"
        )
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        _missing("Playwright for Python is not installed (a dev dependency: uv sync)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=executable, headless=True, args=_launch_arguments()
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    """A page in a fresh browser context (no cookies, no storage), closed after the test."""
    context = await browser.new_context()
    try:
        yield await context.new_page()
    finally:
        await context.close()

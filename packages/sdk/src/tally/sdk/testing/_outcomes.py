"""Outcomes in tests of services: wait until one holds."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable


async def eventually(
    check: Callable[[], bool | Awaitable[bool]], seconds: float = 10.0, *, interval: float = 0.02
) -> None:
    """Wait until `check()` holds (awaited when it is a coroutine function, such as a request
    whose answer is awaited); fail the test with AssertionError after `seconds`. `interval`
    spaces costly checks (a query, say)."""
    deadline = time.monotonic() + seconds
    while not await _holds(check):
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {seconds}s")
        await asyncio.sleep(interval)


async def _holds(check: Callable[[], bool | Awaitable[bool]]) -> bool:
    outcome = check()
    return await outcome if inspect.isawaitable(outcome) else outcome

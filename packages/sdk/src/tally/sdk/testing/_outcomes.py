"""Outcomes in tests of services: wait until one holds, read dead letters back."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from tally.sdk._broker import (
    CONSUMER_HEADER,
    DEAD_LETTER_STREAM,
    REASON_HEADER,
    SUBJECT_HEADER,
    Broker,
)


@dataclass(frozen=True)
class DeadLetter:
    """A dead-lettered message: the original bytes, why, and who gave up on it."""

    reason: str
    consumer: str
    subject: str
    data: bytes


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


async def dead_letters(broker: Broker, consumer: str, tenant: str = "*") -> list[DeadLetter]:
    """The dead letters a consumer produced, oldest first."""
    stored = await broker.browse(DEAD_LETTER_STREAM, f"deadletter.{tenant}.{consumer}")
    return [
        DeadLetter(
            reason=m.headers[REASON_HEADER],
            consumer=m.headers[CONSUMER_HEADER],
            subject=m.headers[SUBJECT_HEADER],
            data=m.data,
        )
        for m in stored
    ]

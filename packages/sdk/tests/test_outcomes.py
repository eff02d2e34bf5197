"""`eventually`: waiting for an outcome, checked by a function or a coroutine function."""

from __future__ import annotations

import pytest

from tally.sdk.testing import eventually


async def test_eventually_awaits_a_coroutine_check_until_it_holds() -> None:
    checks: list[int] = []

    async def third_time() -> bool:
        checks.append(1)
        return len(checks) == 3

    await eventually(third_time, seconds=5, interval=0.01)
    assert len(checks) == 3


async def test_eventually_fails_when_the_check_never_holds() -> None:
    async def never() -> bool:
        return False

    with pytest.raises(AssertionError, match=r"not met within 0\.1s"):
        await eventually(never, seconds=0.1)

"""Retry delays: exponential and capped, or what Retry-After asks for (also capped)."""

from __future__ import annotations

from datetime import UTC, datetime

from tally.simulator import RetryPolicy


def test_backoff_grows_and_is_capped() -> None:
    policy = RetryPolicy(initial=1.0, factor=2.0, maximum=10.0, jitter=0.0)
    assert [policy.delay(n) for n in range(1, 6)] == [1.0, 2.0, 4.0, 8.0, 10.0]


def test_retry_after_in_seconds_or_as_a_date() -> None:
    policy = RetryPolicy(jitter=0.0, max_retry_after=60.0)
    now = datetime(2025, 6, 2, 8, tzinfo=UTC)
    assert policy.after("3", 1, now) == 3.0
    assert policy.after("Mon, 02 Jun 2025 08:00:20 GMT", 1, now) == 20.0
    assert policy.after("600", 1, now) == 60.0
    assert policy.after("soon", 2, now) == policy.delay(2)
    assert policy.after(None, 1, now) == policy.initial

"""When to try an upload again: the SDK's exponential backoff with jitter, or what the gateway
asks for in Retry-After — both capped, so a machine's wait is bounded while it keeps its data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from tally.sdk import Backoff


@dataclass(frozen=True)
class RetryPolicy(Backoff):
    """`Backoff.delay` after a failed attempt; a Retry-After from the gateway wins, capped at
    `max_retry_after`."""

    max_retry_after: float = 120.0

    def after(self, retry_after: str | None, attempt: int, now: datetime | None = None) -> float:
        """The wait a Retry-After header asks for (seconds or an HTTP date), else `delay`."""
        asked = _parse(retry_after, now or datetime.now(UTC))
        if asked is None:
            return self.delay(attempt)
        return min(self.max_retry_after, max(0.0, asked))


def _parse(value: str | None, now: datetime) -> float | None:
    if value is None or not value.strip():
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - now).total_seconds()

"""When to try an upload again: exponential backoff with jitter, or what the gateway asks for
in Retry-After — both capped, so a machine's wait is bounded while it keeps its data."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

# Jitter only spreads the retries of many machines apart; it is not part of the simulation,
# so it needs no seed.
_JITTER = random.Random()


@dataclass(frozen=True)
class RetryPolicy:
    """Delay before attempt n+1: ``initial * factor**(n-1)`` capped at `maximum`, ±`jitter`;
    a Retry-After from the gateway wins, capped at `max_retry_after`."""

    initial: float = 0.5
    factor: float = 2.0
    maximum: float = 30.0
    jitter: float = 0.2
    max_retry_after: float = 120.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait after the given (1-based) failed attempt."""
        base = min(self.maximum, self.initial * self.factor ** max(0, attempt - 1))
        spread = base * self.jitter
        return max(0.0, base + _JITTER.uniform(-spread, spread))

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

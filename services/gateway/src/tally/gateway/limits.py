"""Per-tenant ingest budgets: a token bucket per tenant, counted in datapoints (signals).

Each tenant may send `rate_per_second` datapoints per second on average and `burst_seconds`
worth at once. An upload larger than the whole burst is let through when the bucket is full
and leaves it in debt, so big replays still pass and the average holds. The buckets live in
this process: with several worker processes each gets `share` of every tenant's rate.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class TenantLimits:
    """The token buckets of every tenant seen by this process."""

    def __init__(
        self,
        *,
        share: float = 1.0,
        burst_seconds: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._share = share
        self._burst_seconds = burst_seconds
        self._clock = clock
        # One bucket per registered tenant (a bucket needs a valid token), so this stays small.
        self._buckets: dict[str, _Bucket] = {}

    def rate(self, rate_per_second: int) -> float:
        """This process's part of a tenant's rate."""
        return rate_per_second * self._share

    def take(self, tenant: str, rate_per_second: int, datapoints: int) -> int:
        """Spend `datapoints` of the tenant's budget: 0 when admitted, else whole seconds to wait
        (at least 1) before the same upload would be."""
        rate = self.rate(rate_per_second)
        burst = rate * self._burst_seconds
        now = self._clock()
        bucket = self._buckets.get(tenant)
        if bucket is None:
            bucket = self._buckets[tenant] = _Bucket(burst, now)
        else:
            bucket.tokens = min(burst, bucket.tokens + (now - bucket.stamp) * rate)
            bucket.stamp = now
        needed = min(float(datapoints), burst)
        if bucket.tokens >= needed:
            bucket.tokens -= datapoints
            return 0
        return max(1, math.ceil((needed - bucket.tokens) / rate))

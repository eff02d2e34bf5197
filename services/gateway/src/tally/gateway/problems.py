"""The gateway's own error answers: 429 when a tenant sends faster than its budget, 413 when a
message is larger than the broker stores.

The body shape and the common answers (401, 413, 422, ...) are `tally.sdk`'s; the gateway's
`Problem` adds `rate_per_second`, which only a 429 carries.
"""

from __future__ import annotations

import msgspec

from tally.sdk import Problem as CommonProblem
from tally.sdk import Rejected


class Problem(CommonProblem, frozen=True, kw_only=True):
    """The body of every error answer."""

    rate_per_second: float | msgspec.UnsetType = msgspec.UNSET


def message_too_large(index: int, size: int, limit: int, signals: int) -> Rejected:
    """413 for messages[index], `size` bytes as the broker stores it (JSON), past `limit`."""
    # Signals are of similar size within a message; a tenth spare covers the unevenness.
    fitting = max(1, signals * limit * 9 // (size * 10))
    detail = (
        f"messages[{index}] takes {size} bytes as the broker stores it (as JSON, where MessagePack "
        f"and escaped characters grow), over the broker's limit of {limit} bytes; split it: send "
        f"its {signals} signals in messages of at most {fitting} signals each, each with its "
        "own seq, and send nothing of this upload again unchanged"
    )
    problem = Problem(
        error="too_large", detail=detail, field=f"messages[{index}]", limit_bytes=limit
    )
    return Rejected(413, problem)


def rate_limited(tenant: str, rate_per_second: float, retry_after: int) -> Rejected:
    detail = (
        f"tenant {tenant!r} may send {rate_per_second:g} datapoints per second (with a short "
        f"burst); retry after {retry_after} s or ask for a larger budget"
    )
    problem = Problem(error="rate_limited", detail=detail, rate_per_second=rate_per_second)
    return Rejected(429, problem, {"Retry-After": str(retry_after)})

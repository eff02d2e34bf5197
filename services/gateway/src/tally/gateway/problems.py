"""The gateway's own error answer: 429 when a tenant sends faster than its budget.

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


def rate_limited(tenant: str, rate_per_second: float, retry_after: int) -> Rejected:
    detail = (
        f"tenant {tenant!r} may send {rate_per_second:g} datapoints per second (with a short "
        f"burst); retry after {retry_after} s or ask for a larger budget"
    )
    problem = Problem(error="rate_limited", detail=detail, rate_per_second=rate_per_second)
    return Rejected(429, problem, {"Retry-After": str(retry_after)})

"""Why the ingest core refuses an upload: one error per reason, none tied to a transport.

    Refused                 root; nothing of a refused upload is stored
    ├── Unauthenticated     the token is unknown or revoked (or missing)
    ├── UnsupportedFormat   the media type is neither JSON nor MessagePack
    ├── TooLarge            the body, or one message as the broker stores it (`field`)
    ├── Unreadable          the bytes are not well-formed JSON or MessagePack
    ├── Invalid             the upload breaks the contract, or a timestamp is implausible
    ├── RateLimited         the tenant sends faster than its budget: retry after `retry_after`
    └── Unavailable         the broker (or the token store) cannot confirm: retry after

Each carries the `Problem` a client is told (the same body over any transport: `field` and
`value` name the offending part); an edge maps the class to its own status (HTTP: 401, 415,
413, 400, 422, 429, 503).
"""

from __future__ import annotations

from tally.gateway.problems import Problem
from tally.sdk import Problem as CommonProblem


class Refused(Exception):
    """An upload refused; `problem` (the SDK's, or the gateway's with `rate_per_second`) says
    why and what to do."""

    def __init__(self, problem: CommonProblem) -> None:
        super().__init__(f"{problem.error}: {problem.detail}")
        self.problem = problem


class Unauthenticated(Refused):
    pass


class UnsupportedFormat(Refused):
    pass


class TooLarge(Refused):
    pass


class Unreadable(Refused):
    pass


class Invalid(Refused):
    pass


class RateLimited(Refused):
    def __init__(self, problem: CommonProblem, retry_after: int) -> None:
        super().__init__(problem)
        self.retry_after = retry_after


class Unavailable(Refused):
    def __init__(self, problem: CommonProblem, retry_after: int) -> None:
        super().__init__(problem)
        self.retry_after = retry_after


def unauthenticated(detail: str) -> Unauthenticated:
    return Unauthenticated(Problem(error="unauthorized", detail=detail))


def message_too_large(index: int, size: int, limit: int, signals: int) -> TooLarge:
    """messages[index] takes `size` bytes as the broker stores it (JSON), past `limit`."""
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
    return TooLarge(problem)


def rate_limited(tenant: str, rate_per_second: float, retry_after: int) -> RateLimited:
    detail = (
        f"tenant {tenant!r} may send {rate_per_second:g} datapoints per second (with a short "
        f"burst); retry after {retry_after} s or ask for a larger budget"
    )
    problem = Problem(error="rate_limited", detail=detail, rate_per_second=rate_per_second)
    return RateLimited(problem, retry_after)


def unavailable(detail: str, retry_after: int = 2) -> Unavailable:
    problem = Problem(error="unavailable", detail=f"{detail}; retry after {retry_after} s")
    return Unavailable(problem, retry_after)

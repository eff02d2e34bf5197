"""The HTTP edge's answers: each refusal of the ingest core as an HTTP status, with the headers
that status needs (Retry-After, WWW-Authenticate)."""

from __future__ import annotations

from tally.gateway.refusals import (
    Invalid,
    RateLimited,
    Refused,
    TooLarge,
    Unauthenticated,
    Unavailable,
    Unreadable,
    UnsupportedFormat,
)
from tally.sdk import Rejected

_STATUS: dict[type[Refused], int] = {
    Unauthenticated: 401,
    Unreadable: 400,
    UnsupportedFormat: 415,
    TooLarge: 413,
    Invalid: 422,
    RateLimited: 429,
    Unavailable: 503,
}


def http_answer(refused: Refused) -> Rejected:
    """The answer to a refused upload."""
    headers: dict[str, str] = {}
    if isinstance(refused, RateLimited | Unavailable):
        headers["Retry-After"] = str(refused.retry_after)
    elif isinstance(refused, Unauthenticated):
        headers["WWW-Authenticate"] = "Bearer"
    return Rejected(_STATUS[type(refused)], refused.problem, headers)

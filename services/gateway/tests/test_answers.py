"""The HTTP edge's answers to the ingest core's refusals: the status each reason gets, and the
headers a client needs (when to retry, which scheme to authenticate with)."""

from __future__ import annotations

import msgspec
import pytest

from tally.gateway.answers import http_answer
from tally.gateway.refusals import (
    Invalid,
    Refused,
    TooLarge,
    Unreadable,
    UnsupportedFormat,
    message_too_large,
    rate_limited,
    unauthenticated,
    unavailable,
)
from tally.sdk import Problem


def test_rate_limited_names_the_budget_and_when_to_retry() -> None:
    rejected = http_answer(rate_limited("acme", 2.5, 3))

    assert (rejected.status, rejected.headers) == (429, {"Retry-After": "3"})
    body = msgspec.json.decode(rejected.response().body)
    assert body == {
        "error": "rate_limited",
        "detail": "tenant 'acme' may send 2.5 datapoints per second (with a short burst); "
        "retry after 3 s or ask for a larger budget",
        "rate_per_second": 2.5,
    }


def _problem(error: str) -> Problem:
    return Problem(error=error, detail="d")


@pytest.mark.parametrize(
    ("refused", "status", "headers"),
    [
        (unauthenticated("who?"), 401, {"WWW-Authenticate": "Bearer"}),
        (Unreadable(_problem("malformed")), 400, {}),
        (UnsupportedFormat(_problem("unsupported_media_type")), 415, {}),
        (TooLarge(_problem("too_large")), 413, {}),
        (message_too_large(1, 2000, 1000, 10), 413, {}),
        (Invalid(_problem("invalid")), 422, {}),
        (unavailable("the broker did not confirm storage"), 503, {"Retry-After": "2"}),
        (unavailable("full", retry_after=5), 503, {"Retry-After": "5"}),
    ],
)
def test_every_refusal_has_its_status_and_the_problem_as_body(
    refused: Refused, status: int, headers: dict[str, str]
) -> None:
    rejected = http_answer(refused)

    assert (rejected.status, rejected.headers) == (status, headers)
    assert rejected.problem is refused.problem

"""The gateway's own answer: 429 naming the tenant's budget and when to retry. The common
answers (401, 413, 422, ...) are `tally.sdk`'s and tested there."""

from __future__ import annotations

import msgspec

from tally.gateway.problems import rate_limited


def test_rate_limited_names_the_budget_and_when_to_retry() -> None:
    rejected = rate_limited("acme", 2.5, 3)

    assert (rejected.status, rejected.headers) == (429, {"Retry-After": "3"})
    body = msgspec.json.decode(rejected.response().body)
    assert body == {
        "error": "rate_limited",
        "detail": "tenant 'acme' may send 2.5 datapoints per second (with a short burst); "
        "retry after 3 s or ask for a larger budget",
        "rate_per_second": 2.5,
    }

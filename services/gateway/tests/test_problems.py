"""Error bodies: one shape, values echoed as JSON can carry them and short."""

from __future__ import annotations

import msgspec
import pytest

from tally.gateway.problems import rate_limited
from tally.sdk import invalid, presentable, too_large, unavailable


def test_fields_that_do_not_apply_are_left_out() -> None:
    body = msgspec.json.decode(too_large(10).response().body)

    assert body == {"error": "too_large", "detail": body["detail"], "limit_bytes": 10}


def test_an_absent_value_is_null_not_left_out() -> None:
    body = msgspec.json.decode(invalid("missing", "messages[0].seq", None).response().body)

    assert body["value"] is None


def test_retry_after_headers() -> None:
    assert rate_limited("acme", 5, 3).headers == {"Retry-After": "3"}
    assert unavailable("broker away").headers == {"Retry-After": "2"}
    assert unavailable("broker away").status == 503


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (float("nan"), "NaN"),
        (float("inf"), "Infinity"),
        (12.5, 12.5),
        ("x", "x"),
        ([1, 2], [1, 2]),
        (list(range(1000)), "<array of 1000 items>"),
        ({f"k{n}": n for n in range(100)}, "<object with 100 fields>"),
        ("y" * 1000, "y" * 64 + "..."),
        (msgspec.msgpack.Ext(5, b"\x00"), "<MessagePack extension type 5>"),
        ({(1, 2): 3}, "<dict that JSON cannot write>"),
    ],
)
def test_presentable_values(value: object, shown: object) -> None:
    assert presentable(value) == shown
    msgspec.json.encode(presentable(value))

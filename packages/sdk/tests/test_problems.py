"""Error answers: one body shape, members that do not apply left out, values echoed short."""

from __future__ import annotations

import msgspec
import pytest

from tally.sdk import (
    Problem,
    Rejected,
    invalid,
    malformed,
    presentable,
    too_large,
    unauthorized,
    unavailable,
    unsupported_media_type,
)


def _answer(rejected: Rejected) -> tuple[int, dict[str, object], dict[str, str]]:
    response = rejected.response()
    assert response.media_type == "application/json"
    headers = {k: v for k, v in response.headers.items() if k not in ("content-length",)}
    headers.pop("content-type")
    return response.status_code, msgspec.json.decode(response.body), headers


def test_members_that_do_not_apply_are_left_out() -> None:
    assert _answer(malformed("not JSON")) == (
        400,
        {"error": "malformed", "detail": "not JSON"},
        {},
    )


def test_an_invalid_field_is_named_with_its_value_and_null_when_absent() -> None:
    status, body, _ = _answer(invalid("too long", "name", "x"))
    assert status == 422
    assert body == {"error": "invalid", "detail": "too long", "field": "name", "value": "x"}

    _, absent, _ = _answer(invalid("missing", "messages[0].seq", None))
    assert absent["value"] is None


def test_unauthorized_asks_for_a_bearer_token() -> None:
    status, body, headers = _answer(unauthorized("send a token"))

    assert (status, body["error"]) == (401, "unauthorized")
    assert headers == {"www-authenticate": "Bearer"}


def test_too_large_names_the_limit_and_appends_the_advice() -> None:
    status, body, _ = _answer(too_large(10))
    assert status == 413
    assert body == {
        "error": "too_large",
        "detail": "the body exceeds the limit of 10 bytes",
        "limit_bytes": 10,
    }

    _, advised, _ = _answer(too_large(10, "send less"))
    assert advised["detail"] == "the body exceeds the limit of 10 bytes; send less"


def test_unsupported_media_type_names_what_was_sent_and_what_is_accepted() -> None:
    status, body, _ = _answer(unsupported_media_type("text/plain", ("application/json",)))

    assert status == 415
    assert body["detail"] == (
        "Content-Type 'text/plain' is not accepted; send one of ['application/json']"
    )


def test_unavailable_says_when_to_retry() -> None:
    status, body, headers = _answer(unavailable("broker away", retry_after=5))

    assert status == 503
    assert body["detail"] == "broker away; retry after 5 s"
    assert headers == {"retry-after": "5"}
    assert unavailable("broker away").headers == {"Retry-After": "2"}


def test_the_exception_reads_as_status_error_and_detail() -> None:
    assert str(malformed("not JSON")) == "400 malformed: not JSON"


class _Limited(Problem, frozen=True, kw_only=True):
    rate_per_second: float | msgspec.UnsetType = msgspec.UNSET


def test_a_service_adds_a_member_of_its_own_by_subclassing() -> None:
    problem = _Limited(error="rate_limited", detail="slow down", rate_per_second=5.0)

    _, body, _ = _answer(Rejected(429, problem, {"Retry-After": "1"}))

    assert body == {"error": "rate_limited", "detail": "slow down", "rate_per_second": 5.0}
    assert list(body) == ["error", "detail", "rate_per_second"]


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (float("nan"), "NaN"),
        (float("inf"), "Infinity"),
        (float("-inf"), "-Infinity"),
        (12.5, 12.5),
        (None, None),
        ("x", "x"),
        ([1, 2], [1, 2]),
        (list(range(1000)), "<array of 1000 items>"),
        ({f"k{n}": n for n in range(100)}, "<object with 100 fields>"),
        ("y" * 1000, "y" * 64 + "..."),
        (10**400, repr(10**400)[:256]),
        (msgspec.msgpack.Ext(5, b"\x00"), "<MessagePack extension type 5>"),
        ({(1, 2): 3}, "<dict that JSON cannot write>"),
    ],
)
def test_presentable_values_are_json_and_short(value: object, shown: object) -> None:
    assert presentable(value) == shown
    assert len(msgspec.json.encode(presentable(value))) <= 260


def test_a_value_nested_deeper_than_the_encoder_recurses_is_described() -> None:
    deep: list[object] = []
    for _ in range(100_000):
        deep = [deep]

    assert presentable(deep) == "<list that JSON cannot write>"

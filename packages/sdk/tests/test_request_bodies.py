"""Request bodies: refused past their limit, declared or streamed; violations name the field."""

from __future__ import annotations

import msgspec
import pytest
from starlette.requests import Request
from starlette.types import Message

from tally.sdk import Rejected, invalid_from, read_body, value_at


def _request(chunks: list[bytes], content_length: int | None = None) -> Request:
    """A POST whose body arrives in `chunks`, declaring `content_length` if given."""
    messages: list[Message] = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks or [b""])
    ]

    async def receive() -> Message:
        return messages.pop(0)

    headers = [] if content_length is None else [(b"content-length", str(content_length).encode())]
    return Request({"type": "http", "method": "POST", "headers": headers}, receive)


async def test_a_body_within_the_limit_is_read_whole() -> None:
    assert await read_body(_request([b"abc", b"def"], 6), limit=6) == b"abcdef"
    assert await read_body(_request([]), limit=6) == b""


async def test_a_declared_length_over_the_limit_is_refused_before_reading() -> None:
    with pytest.raises(Rejected) as refused:
        await read_body(_request([b"x"], content_length=7), limit=6, advice="send less")

    assert refused.value.status == 413
    assert refused.value.problem.limit_bytes == 6
    assert refused.value.problem.detail.endswith("; send less")


async def test_a_streamed_body_over_the_limit_is_refused_though_it_declares_nothing() -> None:
    with pytest.raises(Rejected) as refused:
        await read_body(_request([b"abcd", b"efg"]), limit=6)

    assert refused.value.status == 413


class _Signal(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    value: float


class _Message(msgspec.Struct, frozen=True, kw_only=True):
    seq: int
    signals: list[_Signal] = []


class _Upload(msgspec.Struct, frozen=True, kw_only=True):
    messages: list[_Message]


def _refusal(body: bytes) -> tuple[int, object, object]:
    with pytest.raises(msgspec.ValidationError) as caught:
        msgspec.json.decode(body, type=_Upload)
    rejected = invalid_from(caught.value, msgspec.json.decode(body))
    return rejected.status, rejected.problem.field, rejected.problem.value


@pytest.mark.parametrize(
    ("body", "field", "value"),
    [
        (b'{"messages": [{"seq": "x"}]}', "messages[0].seq", "x"),
        (b'{"messages": [{"seq": 1, "signals": [{"name": "a", "value": "?"}]}]}',
         "messages[0].signals[0].value", "?"),
        (b'{"messages": [{"signals": []}]}', "messages[0].seq", None),
        (b"{}", "messages", None),
        (b"[1, 2]", "$", [1, 2]),
    ],
)  # fmt: skip
def test_a_violation_names_the_field_and_the_value_the_body_held(
    body: bytes, field: str, value: object
) -> None:
    assert _refusal(body) == (422, field, value)


def test_the_detail_is_the_decoders_message() -> None:
    error = msgspec.ValidationError("Expected `int`, got `str` - at `$.messages[0].seq`")

    rejected = invalid_from(error, None)

    assert rejected.problem.detail == str(error)
    assert (rejected.problem.field, rejected.problem.value) == ("messages[0].seq", None)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("$", {"a": [1, {"b": 2}]}),
        ("a", [1, {"b": 2}]),
        ("a[1].b", 2),
        ("a[2]", None),
        ("a[0].b", None),
        ("c", None),
    ],
)
def test_value_at_walks_the_path_and_is_none_where_nothing_is(field: str, value: object) -> None:
    assert value_at({"a": [1, {"b": 2}]}, field) == value

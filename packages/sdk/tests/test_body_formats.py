"""Decoding bodies: whatever the bytes, a 400 or a 422 naming the field, never an exception."""

from __future__ import annotations

import msgspec
import pytest

from tally.sdk import BodyFormat, BodyRefused, Rejected, json_body, msgpack_body


class Reading(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: str
    value: int = 0


JSON = json_body(Reading, advice="send one Reading")
MSGPACK = msgpack_body(Reading, advice="send one Reading")


def _refusal(form: BodyFormat[Reading], body: bytes) -> Rejected:
    with pytest.raises(Rejected) as caught:
        form.decode(body)
    return caught.value


def test_a_good_body_decodes() -> None:
    assert JSON.decode(b'{"name": "a", "value": 2}') == Reading(name="a", value=2)
    assert MSGPACK.decode(msgspec.msgpack.encode({"name": "a"})) == Reading(name="a")


@pytest.mark.parametrize(
    ("form", "body"),
    [
        (JSON, b'{"name": "a\xffb"}'),
        (JSON, b'{"n\xffame": "a"}'),
        (MSGPACK, b"\x81\xa4name\xa2\xff\xfe"),
    ],
)
def test_a_string_that_is_not_utf8_is_400(form: BodyFormat[Reading], body: bytes) -> None:
    refused = _refusal(form, body)

    assert refused.status == 400
    assert "not UTF-8" in refused.problem.detail
    assert refused.problem.detail.endswith("send one Reading")


@pytest.mark.parametrize(
    ("form", "body"),
    [
        (JSON, b"[" * 100_000 + b"]" * 100_000),
        (JSON, b'{"extra": ' + b"[" * 100_000 + b"]" * 100_000 + b', "name": "a"}'),
        (MSGPACK, b"\x91" * 100_000 + b"\xc0"),
    ],
)
def test_nesting_too_deep_to_read_is_refused(form: BodyFormat[Reading], body: bytes) -> None:
    refused = _refusal(form, body)

    assert refused.status in (400, 422)
    assert form.document(body) is None


def test_an_unknown_field_is_named_with_its_value() -> None:
    refused = _refusal(JSON, b'{"name": "a", "vlaue": 3}')

    assert refused.status == 422
    assert (refused.problem.field, refused.problem.value) == ("vlaue", 3)
    assert "unknown field" in refused.problem.detail


def test_a_wrong_type_is_named_with_its_value() -> None:
    refused = _refusal(MSGPACK, msgspec.msgpack.encode({"name": "a", "value": "x"}))

    assert (refused.status, refused.problem.field, refused.problem.value) == (422, "value", "x")


def test_without_http_the_same_verdicts_are_body_refusals() -> None:
    with pytest.raises(BodyRefused) as unreadable:
        JSON.parse(b'{"name": ')
    with pytest.raises(BodyRefused) as invalid:
        MSGPACK.parse(msgspec.msgpack.encode({"name": "n", "value": "x"}))

    assert (unreadable.value.status, unreadable.value.problem.error) == (400, "malformed")
    assert unreadable.value.problem.detail.endswith("send one Reading")
    assert (invalid.value.status, invalid.value.problem.field) == (422, "value")
    assert invalid.value.problem.value == "x"

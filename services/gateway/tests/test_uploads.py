"""Reading uploads: media types, size limits, and refusals that name the field and its value.
Every refused upload leaves the stream untouched."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest

from services.gateway.tests.conftest import (
    Gateway,
    Machine,
    Register,
    StartGateway,
    message,
    upload_json,
)
from tally.contracts import Upload
from tally.gateway.settings import GatewaySettings

pytestmark = pytest.mark.integration


@pytest.fixture
async def machine(register: Register) -> Machine:
    return await register()


@pytest.fixture
async def gateway(start_gateway: StartGateway) -> Gateway:
    return await start_gateway(settings=GatewaySettings(max_body_bytes=4096))


def raw_upload(**changes: Any) -> dict[str, Any]:
    """An upload as plain data, its first message changed by `changes`."""
    body: dict[str, Any] = msgspec.json.decode(upload_json(1))
    body["messages"][0].update(changes)
    return body


async def refused(gateway: Gateway, machine: Machine, *args: Any, **kwargs: Any) -> Any:
    response = await gateway.post(machine, *args, **kwargs)
    assert response.status_code >= 400, response.text
    assert await gateway.stored(machine.tenant) == []
    return response


async def test_malformed_json_is_400(gateway: Gateway, machine: Machine) -> None:
    response = await refused(gateway, machine, b'{"messages": [')

    assert response.status_code == 400
    assert response.json() == {
        "error": "malformed",
        "detail": "the body is not well-formed JSON (Input data was truncated); send one Upload "
        "as JSON, or name its format in Content-Type",
    }


async def test_malformed_msgpack_is_400(gateway: Gateway, machine: Machine) -> None:
    response = await refused(gateway, machine, b"\xc1", "application/msgpack")

    assert response.status_code == 400
    assert "MessagePack data is malformed" in response.json()["detail"]


async def test_a_wrong_type_is_422_naming_field_and_value(
    gateway: Gateway, machine: Machine
) -> None:
    response = await refused(gateway, machine, msgspec.json.encode(raw_upload(seq="x")))

    assert response.status_code == 422
    assert response.json() == {
        "error": "invalid",
        "detail": "Expected `int`, got `str` - at `$.messages[0].seq`",
        "field": "messages[0].seq",
        "value": "x",
    }


async def test_a_missing_field_is_named_with_value_null(gateway: Gateway, machine: Machine) -> None:
    body = raw_upload()
    del body["messages"][0]["signals"][1]["name"]

    response = await refused(gateway, machine, msgspec.json.encode(body))

    assert response.status_code == 422
    assert response.json()["field"] == "messages[0].signals[1].name"
    assert response.json()["value"] is None


async def test_an_unknown_signal_kind_is_named(gateway: Gateway, machine: Machine) -> None:
    body = raw_upload()
    body["messages"][0]["signals"][0]["kind"] = "smell"

    response = await refused(gateway, machine, msgspec.json.encode(body))

    assert response.status_code == 422
    assert response.json()["field"] == "messages[0].signals[0].kind"
    assert response.json()["value"] == "smell"


@pytest.mark.parametrize(("value", "shown"), [(float("nan"), "NaN"), (float("-inf"), "-Infinity")])
async def test_non_finite_numbers_in_msgpack_are_422(
    gateway: Gateway, machine: Machine, value: float, shown: str
) -> None:
    body = raw_upload()
    body["messages"][0]["signals"][1]["value"] = value

    response = await refused(
        gateway, machine, msgspec.msgpack.encode(body), "application/x-msgpack"
    )

    assert response.status_code == 422
    assert response.json()["field"] == "messages[0].signals[1].value"
    assert response.json()["value"] == shown


async def test_a_number_too_large_for_any_float_is_422(gateway: Gateway, machine: Machine) -> None:
    body = upload_json(1).replace(b'"value":118.5', b'"value":1e400')

    response = await refused(gateway, machine, body)

    assert response.status_code == 422
    assert response.json()["field"] == "messages[0].signals[1].value"


async def test_a_timestamp_far_ahead_of_the_gateway_clock_is_422(
    gateway: Gateway, machine: Machine
) -> None:
    ahead = datetime.now(UTC) + timedelta(hours=1)
    body = msgspec.json.encode(Upload(messages=[message(1), message(2, ts=ahead)]))

    response = await refused(gateway, machine, body)

    assert response.status_code == 422
    problem = response.json()
    assert problem["field"] == "messages[1].ts"
    assert datetime.fromisoformat(problem["value"]) == ahead
    assert "ahead of the gateway's clock" in problem["detail"]


async def test_a_signal_timestamp_older_than_the_limit_is_422(
    gateway: Gateway, machine: Machine
) -> None:
    old = (datetime.now(UTC) - timedelta(days=40)).isoformat()
    body = raw_upload()
    body["messages"][0]["signals"][1]["ts"] = old

    response = await refused(gateway, machine, msgspec.json.encode(body))

    assert response.status_code == 422
    assert response.json()["field"] == "messages[0].signals[1].ts"
    assert response.json()["value"] == old
    assert "more than 35 days old" in response.json()["detail"]


async def test_other_media_types_are_415(gateway: Gateway, machine: Machine) -> None:
    response = await refused(gateway, machine, upload_json(1), "text/plain")

    assert response.status_code == 415
    assert "application/msgpack" in response.json()["detail"]


async def test_json_with_a_charset_parameter_is_accepted(
    gateway: Gateway, machine: Machine
) -> None:
    response = await gateway.post(machine, upload_json(1), "application/json; charset=utf-8")

    assert response.status_code == 200


async def test_a_declared_length_over_the_limit_is_413(gateway: Gateway, machine: Machine) -> None:
    body = msgspec.json.encode(Upload(messages=[message(seq) for seq in range(100)]))
    assert len(body) > 4096

    response = await refused(gateway, machine, body)

    assert response.status_code == 413
    assert response.json()["limit_bytes"] == 4096
    assert "4096 bytes" in response.json()["detail"]


async def test_a_chunked_body_over_the_limit_is_413(gateway: Gateway, machine: Machine) -> None:
    body = msgspec.json.encode(Upload(messages=[message(seq) for seq in range(100)]))

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 1000):
            yield body[start : start + 1000]

    response = await gateway.client.post(
        "/v1/telemetry",
        content=chunks(),
        headers={"Authorization": f"Bearer {machine.token}", "Content-Type": "application/json"},
    )

    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert await gateway.stored(machine.tenant) == []


def alarm_upload(text: str = "Vacuum low") -> dict[str, Any]:
    """An upload whose first message holds one alarm with `text`."""
    alarm = {"kind": "alarm", "code": "E17", "raised": True, "category": "equipment"}
    return raw_upload(signals=[{**alarm, "text": text}])


@pytest.mark.parametrize(
    ("signal", "field"),
    [
        (
            {"kind": "alarm", "code": "E1", "raised": True, "category": "quality", "text": "a\0b"},
            "text",
        ),
        ({"kind": "gauge", "name": "temp", "value": 4.5, "unit": "\0C"}, "unit"),
    ],
)
async def test_a_nul_in_free_text_is_422_since_the_database_cannot_hold_it(
    gateway: Gateway, machine: Machine, signal: dict[str, Any], field: str
) -> None:
    response = await refused(gateway, machine, msgspec.json.encode(raw_upload(signals=[signal])))

    assert response.status_code == 422
    assert response.json()["field"] == f"messages[0].signals[0].{field}"
    assert response.json()["value"] == signal[field]


@pytest.mark.parametrize("content_type", ["application/json", "application/msgpack"])
async def test_a_string_that_is_not_utf8_is_400_naming_the_encoding(
    gateway: Gateway, machine: Machine, content_type: str
) -> None:
    encode = msgspec.json.encode if content_type.endswith("json") else msgspec.msgpack.encode
    body = encode(alarm_upload("MARKER")).replace(b"MARKER", b"bad \xff\xfe byte")

    response = await refused(gateway, machine, body, content_type)

    assert response.status_code == 400
    assert response.json()["error"] == "malformed"
    assert "UTF-8" in response.json()["detail"]


@pytest.mark.parametrize("content_type", ["application/json", "application/msgpack"])
async def test_a_body_nested_too_deeply_is_400(
    gateway: Gateway, machine: Machine, content_type: str
) -> None:
    if content_type.endswith("json"):
        body = b'{"messages": [' + b"[" * 1500 + b"]" * 1500 + b"]}"
    else:
        body = b"\x81\xa8messages\x91" + b"\x91" * 1500 + b"\x90"

    response = await refused(gateway, machine, body, content_type)

    assert response.status_code in (400, 422)
    assert response.json()["error"] in ("malformed", "invalid")


async def test_deep_nesting_in_an_unknown_field_is_refused_not_500(
    gateway: Gateway, machine: Machine
) -> None:
    body = msgspec.json.encode(raw_upload()).replace(
        b'{"boot_id"', b'{"extra":' + b"[" * 1500 + b"]" * 1500 + b',"boot_id"', 1
    )

    response = await refused(gateway, machine, body)

    assert response.status_code in (400, 422)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"historicl": True}, "messages[0].historicl"),
        (
            {"signals": [{"kind": "counter", "name": "p", "value": 1, "vlaue": 2}]},
            "messages[0].signals[0].vlaue",
        ),
    ],
)
async def test_an_unknown_field_is_422_naming_it(
    gateway: Gateway, machine: Machine, change: dict[str, Any], field: str
) -> None:
    response = await refused(gateway, machine, msgspec.json.encode(raw_upload(**change)))

    assert response.status_code == 422
    assert response.json()["field"] == field
    assert "unknown field" in response.json()["detail"]


async def test_an_unknown_top_level_field_is_422_naming_it(
    gateway: Gateway, machine: Machine
) -> None:
    body = {**raw_upload(), "tenant": "someone-else"}

    response = await refused(gateway, machine, msgspec.json.encode(body))

    assert response.status_code == 422
    assert response.json()["field"] == "tenant"
    assert response.json()["value"] == "someone-else"

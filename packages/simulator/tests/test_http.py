"""HttpSender against a mock gateway: headers, encodings, retries, rejections."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import msgspec
import pytest

from tally.contracts import Counter, MachineMessage, Upload
from tally.simulator import DeliveryFailed, GatewayRejected, HttpSender, build_fleet

FLEET = build_fleet(1)
PLAIN = next(p.machine for p in FLEET.placements() if not p.machine.constrained)
CONSTRAINED = next(p.machine for p in FLEET.placements() if p.machine.constrained)
UPLOAD = Upload(
    messages=[
        MachineMessage(
            boot_id="b1",
            seq=0,
            ts=datetime(2025, 6, 2, 8, tzinfo=UTC),
            signals=[Counter(name="packs_total", value=3)],
        )
    ]
)
TOKENS = {("alpenwerk", PLAIN.id): "tok-plain", ("iberpack", CONSTRAINED.id): "tok-small"}


class Gateway:
    """Answers with the given responses in turn, recording the requests."""

    def __init__(self, *responses: httpx.Response | Exception) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.responses.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def ok(accepted: int = 1, duplicates: int = 0) -> httpx.Response:
    return httpx.Response(200, json={"accepted": accepted, "duplicates": duplicates})


def sender(gateway: Gateway, sleeps: list[float], tries: int | None = None) -> HttpSender:
    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    client = httpx.AsyncClient(transport=httpx.MockTransport(gateway))
    return HttpSender("http://gateway/", TOKENS, client=client, sleep=sleep, max_attempts=tries)


async def test_posts_json_with_the_machine_token() -> None:
    gateway = Gateway(ok(1, 0))
    result = await sender(gateway, []).send("alpenwerk", PLAIN, UPLOAD)
    assert (result.accepted, result.duplicates, result.retries) == (1, 0, 0)
    (request,) = gateway.requests
    assert str(request.url) == "http://gateway/v1/telemetry"
    assert request.headers["authorization"] == "Bearer tok-plain"
    assert request.headers["content-type"] == "application/json"
    assert msgspec.json.decode(request.content, type=Upload) == UPLOAD


async def test_constrained_machines_send_msgpack() -> None:
    gateway = Gateway(ok())
    await sender(gateway, []).send("iberpack", CONSTRAINED, UPLOAD)
    (request,) = gateway.requests
    assert request.headers["content-type"] == "application/msgpack"
    assert msgspec.msgpack.decode(request.content, type=Upload) == UPLOAD


async def test_retries_503_honouring_retry_after() -> None:
    gateway = Gateway(
        httpx.Response(503, headers={"Retry-After": "7"}),
        httpx.Response(429, headers={"Retry-After": "2"}),
        httpx.ConnectError("refused"),
        ok(0, 1),
    )
    sleeps: list[float] = []
    result = await sender(gateway, sleeps).send("alpenwerk", PLAIN, UPLOAD)
    assert (result.duplicates, result.retries) == (1, 3)
    assert sleeps[:2] == [7.0, 2.0]
    assert 0 < sleeps[2] < 5
    assert len({r.content for r in gateway.requests}) == 1  # the same upload each time


async def test_a_422_raises_with_the_body() -> None:
    gateway = Gateway(httpx.Response(422, text="signals[0].value: expected >= 0"))
    with pytest.raises(GatewayRejected, match="expected >= 0") as raised:
        await sender(gateway, []).send("alpenwerk", PLAIN, UPLOAD)
    assert raised.value.status == 422
    assert len(gateway.requests) == 1


async def test_gives_up_only_when_told() -> None:
    gateway = Gateway(*(httpx.Response(503) for _ in range(3)))
    with pytest.raises(DeliveryFailed, match="3 attempts"):
        await sender(gateway, [], tries=3).send("alpenwerk", PLAIN, UPLOAD)


async def test_missing_token_is_named() -> None:
    with pytest.raises(KeyError, match="l1-slicer"):
        await HttpSender("http://gateway", {}).send("alpenwerk", PLAIN, UPLOAD)

"""HttpSender against a mock gateway: headers, encodings, retries, rejections."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import msgspec
import pytest

from tally.contracts import Counter, MachineMessage, Signal, Upload
from tally.simulator import (
    DeliveryFailed,
    GatewayRejected,
    HttpSender,
    MachineSpec,
    UploadTooLarge,
    build_fleet,
)

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


class LimitedGateway:
    """Answers like the gateway with a body limit: 413 naming `limit_bytes` past it (storing
    nothing), else 200 after storing every message (a repeated identity is a duplicate)."""

    def __init__(self, limit: int, named: bool = True) -> None:
        self.limit = limit
        self.named = named
        self.sizes: list[int] = []
        self.stored: list[int] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = request.content
        self.sizes.append(len(body))
        if len(body) > self.limit:
            problem: dict[str, object] = {"error": "too_large", "detail": "too large"}
            if self.named:
                problem["limit_bytes"] = self.limit
            return httpx.Response(413, json=problem)
        if request.headers["content-type"] == "application/msgpack":
            upload = msgspec.msgpack.decode(body, type=Upload)
        else:
            upload = msgspec.json.decode(body, type=Upload)
        seqs = [message.seq for message in upload.messages]
        new = [seq for seq in seqs if seq not in self.stored]
        self.stored.extend(new)
        return ok(len(new), len(seqs) - len(new))


def weighings(count: int, per_message: int = 20) -> Upload:
    """A checkweigher's upload: `count` messages of `per_message` counters each."""
    ts = datetime(2025, 6, 2, 8, tzinfo=UTC)
    signals: list[Signal] = [Counter(name=f"packs_total_{n}", value=n) for n in range(per_message)]
    return Upload(
        messages=[
            MachineMessage(boot_id="b1", seq=seq, ts=ts, signals=signals) for seq in range(count)
        ]
    )


def limited_sender(gateway: LimitedGateway, believed: int) -> HttpSender:
    client = httpx.AsyncClient(transport=httpx.MockTransport(gateway))
    return HttpSender("http://gateway", TOKENS, client=client, max_body_bytes=believed)


@pytest.mark.parametrize("machine", [PLAIN, CONSTRAINED], ids=["json", "msgpack"])
async def test_an_upload_over_the_limit_is_cut_into_parts_that_fit(machine: MachineSpec) -> None:
    tenant = "alpenwerk" if machine is PLAIN else "iberpack"
    upload = weighings(300)
    gateway = LimitedGateway(limit=20_000)

    result = await limited_sender(gateway, believed=20_000).send(tenant, machine, upload)

    assert gateway.stored == list(range(300))  # every message once, in order
    assert (result.accepted, result.duplicates) == (300, 0)
    assert len(gateway.sizes) > 1
    assert max(gateway.sizes) <= 20_000


async def test_a_413_teaches_the_limit_and_the_part_is_cut_and_sent_again() -> None:
    upload = weighings(300)
    gateway = LimitedGateway(limit=20_000)
    sender = limited_sender(gateway, believed=1024 * 1024)  # believes the default limit

    result = await sender.send("alpenwerk", PLAIN, upload)
    again = await sender.send("alpenwerk", PLAIN, weighings(300))

    assert gateway.stored == list(range(300))
    assert (result.accepted, result.duplicates, result.retries) == (300, 0, 1)
    assert sender.max_body_bytes == 20_000
    # Learned once: the next upload is cut before it is sent.
    assert (again.accepted, again.duplicates, again.retries) == (0, 300, 0)
    assert all(size <= 20_000 for size in gateway.sizes[1:])


async def test_a_413_without_a_named_limit_halves_until_the_parts_fit() -> None:
    gateway = LimitedGateway(limit=9_000, named=False)

    result = await limited_sender(gateway, believed=1024 * 1024).send(
        "alpenwerk", PLAIN, weighings(200)
    )

    assert gateway.stored == list(range(200))
    assert result.accepted == 200


async def test_more_messages_than_an_upload_may_hold_are_cut_by_count() -> None:
    gateway = LimitedGateway(limit=10 * 1024 * 1024)
    client = httpx.AsyncClient(transport=httpx.MockTransport(gateway))
    sender = HttpSender("http://gateway", TOKENS, client=client, max_messages=100)

    result = await sender.send("alpenwerk", PLAIN, weighings(250, per_message=1))

    assert gateway.stored == list(range(250))
    assert len(gateway.sizes) == 3
    assert result.accepted == 250


@pytest.mark.parametrize("believed", [1_000, 1024 * 1024], ids=["known", "learned"])
async def test_a_single_message_over_the_limit_is_refused_here_not_sent_forever(
    believed: int,
) -> None:
    gateway = LimitedGateway(limit=1_000)
    upload = weighings(1, per_message=100)

    with pytest.raises(UploadTooLarge, match=r"seq 0 of alpenwerk/.* body limit of 1000 bytes"):
        await limited_sender(gateway, believed=believed).send("alpenwerk", PLAIN, upload)

    assert len(gateway.sizes) <= 1
    assert gateway.stored == []

"""The ingest endpoint end to end: real HTTP, real PostgreSQL for tokens, the in-memory broker
and real JetStream."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import msgspec
import pytest

from services.gateway.tests.conftest import (
    Gateway,
    Machine,
    Register,
    StartGateway,
    message,
    telemetry_of,
    upload_json,
)
from tally.contracts import Alarm, AlarmCategory, MachineMessage, Upload, UploadResult
from tally.gateway.service import service
from tally.gateway.settings import GatewaySettings
from tally.sdk import Broker, Database, MemoryBroker, NatsBroker, ServiceHost
from tally.sdk.embedded import EmbeddedNats
from tally.sdk.processes import free_port

pytestmark = pytest.mark.integration


@pytest.fixture(params=["memory", "nats"])
async def broker(request: pytest.FixtureRequest) -> AsyncIterator[Broker]:
    """The same behaviour against the in-memory broker and real JetStream."""
    if request.param == "memory":
        yield MemoryBroker()
        return
    real = await NatsBroker.connect(request.getfixturevalue("nats_url"))
    yield real
    await real.close()


@pytest.mark.parametrize("content_type", ["application/json", "application/msgpack"])
async def test_an_upload_is_stored_under_the_tokens_machine_with_its_identity(
    start_gateway: StartGateway, register: Register, broker: Broker, content_type: str
) -> None:
    machine = await register()
    gateway = await start_gateway(broker)
    upload = Upload(messages=[message(1), message(2), message(3)])
    encode = msgspec.json.encode if content_type.endswith("json") else msgspec.msgpack.encode

    response = await gateway.post(machine, encode(upload), content_type)

    assert response.status_code == 200, response.text
    assert msgspec.json.decode(response.content, type=UploadResult) == UploadResult(
        accepted=3, duplicates=0
    )
    stored = await gateway.stored(machine.tenant)
    assert [m.subject for m in stored] == [f"telemetry.{machine.tenant}.slicer-1"] * 3
    assert [m.headers["Nats-Msg-Id"] for m in stored] == [
        f"{machine.tenant}.slicer-1.boot-1.{seq}" for seq in (1, 2, 3)
    ]
    first = telemetry_of(stored[0])
    assert (first.tenant, first.machine, first.seq) == (machine.tenant, "slicer-1", 1)
    assert first.signals == upload.messages[0].signals


async def test_a_resent_upload_counts_duplicates_and_stores_nothing_new(
    start_gateway: StartGateway, register: Register, broker: Broker
) -> None:
    machine = await register()
    gateway = await start_gateway(broker)
    assert (await gateway.post(machine, upload_json(1, 2))).status_code == 200

    again = await gateway.post(machine, upload_json(1, 2, 3))

    assert again.status_code == 200
    assert again.json() == {"accepted": 1, "duplicates": 2}
    assert len(await gateway.stored(machine.tenant)) == 3


async def test_a_machine_cannot_publish_as_another_tenant_or_machine(
    start_gateway: StartGateway, register: Register
) -> None:
    own, other = await register(), await register()
    gateway = await start_gateway()
    body = msgspec.json.decode(upload_json(1))
    body["messages"][0] |= {"tenant": other.tenant, "machine": "checkweigher-9"}

    # A body cannot name a tenant or machine at all: those are unknown fields.
    forged = await gateway.post(own, msgspec.json.encode(body))
    plain = await gateway.post(own, upload_json(1))

    assert forged.status_code == 422
    assert forged.json()["field"] == "messages[0].tenant"
    assert plain.status_code == 200
    assert await gateway.stored(other.tenant) == []
    (stored,) = await gateway.stored(own.tenant)
    assert stored.subject == f"telemetry.{own.tenant}.slicer-1"
    assert (telemetry_of(stored).tenant, telemetry_of(stored).machine) == (own.tenant, "slicer-1")


@pytest.mark.parametrize("authorization", [None, "Bearer nope", "Basic c2VjcmV0", "Bearer"])
async def test_missing_or_unknown_tokens_are_refused(
    start_gateway: StartGateway, register: Register, authorization: str | None
) -> None:
    machine = await register()
    gateway = await start_gateway()
    headers = {} if authorization is None else {"Authorization": authorization}

    response = await gateway.post(None, upload_json(1), headers=headers)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["error"] == "unauthorized"
    assert await gateway.stored(machine.tenant) == []


async def test_a_revoked_token_is_refused(start_gateway: StartGateway, register: Register) -> None:
    machine = await register(revoked=True)
    gateway = await start_gateway()

    response = await gateway.post(machine, upload_json(1))

    assert response.status_code == 401
    assert await gateway.stored(machine.tenant) == []


async def test_a_tenant_over_its_rate_gets_429_with_retry_after(
    start_gateway: StartGateway, register: Register
) -> None:
    # 5 datapoints/s with a 2 s burst: ten datapoints pass, the next ones wait.
    machine = await register(rate_per_second=5)
    gateway = await start_gateway()
    five_messages = upload_json(1, 2, 3, 4, 5)  # two signals each

    assert (await gateway.post(machine, five_messages)).status_code == 200
    response = await gateway.post(machine, upload_json(6))

    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1
    assert response.json()["rate_per_second"] == 5
    assert machine.tenant in response.json()["detail"]
    assert len(await gateway.stored(machine.tenant)) == 5


async def test_rate_limits_are_per_tenant(start_gateway: StartGateway, register: Register) -> None:
    slow, other = await register(rate_per_second=1), await register()
    gateway = await start_gateway()
    assert (await gateway.post(slow, upload_json(1))).status_code == 200
    assert (await gateway.post(slow, upload_json(2))).status_code == 429

    assert (await gateway.post(other, upload_json(1))).status_code == 200


async def test_metrics_count_datapoints_messages_and_refusals(
    start_gateway: StartGateway, register: Register
) -> None:
    machine = await register()
    gateway = await start_gateway()
    await gateway.post(machine, upload_json(1, 2))
    await gateway.post(machine, upload_json(2))
    await gateway.post(None, upload_json(3))

    public = await gateway.client.get("/metrics")
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{gateway.host.ops_port}") as ops:
        text = (await ops.get("/metrics")).text

    # Tenants and their volumes are for operators: never on the port machines reach.
    assert public.status_code == 404
    assert machine.tenant not in public.text
    tenant = machine.tenant
    assert f'tally_gateway_datapoints_total{{tenant="{tenant}"}} 4.0' in text
    assert f'tally_gateway_messages_total{{outcome="accepted",tenant="{tenant}"}} 2.0' in text
    assert f'tally_gateway_messages_total{{outcome="duplicate",tenant="{tenant}"}} 1.0' in text
    assert 'tally_gateway_rejected_total{status="401"}' in text


async def test_503_while_jetstream_is_away_and_200_once_it_is_back(
    start_gateway: StartGateway,
    register: Register,
    tmp_path: Path,
) -> None:
    machine = await register()
    server = EmbeddedNats(tmp_path)
    url = await asyncio.to_thread(server.start)
    connected = await NatsBroker.connect(url)
    # A short publish timeout keeps the test quick; the SDK's default is 5 s.
    broker = NatsBroker(connected.client, publish_timeout=1.0)
    try:
        gateway = await start_gateway(broker)
        assert (await gateway.post(machine, upload_json(1))).status_code == 200

        await asyncio.to_thread(server.stop)
        down = await gateway.post(machine, upload_json(2))
        assert down.status_code == 503
        assert down.headers["Retry-After"] == "2"
        assert down.json()["error"] == "unavailable"

        # The client reconnects to the same address: the server comes back on it.
        assert await asyncio.to_thread(server.start) == url
        back = await _post_until_stored(gateway, machine, upload_json(2))

        assert back.status_code == 200
        # The message sent while JetStream was away may have been stored after all (the
        # client buffers while reconnecting); either way it is stored exactly once.
        assert back.json()["accepted"] + back.json()["duplicates"] == 1
        stored = await gateway.stored(machine.tenant)
        assert [telemetry_of(m).seq for m in stored] == [1, 2]
    finally:
        await broker.close()
        await asyncio.to_thread(server.stop)


async def _post_until_stored(gateway: Gateway, machine: Machine, body: bytes) -> httpx.Response:
    """Send again while the answer is 503, as a machine does (for at most 15 s)."""
    deadline = time.monotonic() + 15
    while True:
        response = await gateway.post(machine, body)
        if response.status_code != 503 or time.monotonic() > deadline:
            return response
        await asyncio.sleep(0.2)  # as a machine waits before it sends again


@pytest.mark.slow
async def test_503_when_tokens_cannot_be_looked_up(register: Register) -> None:
    machine = await register()
    # A pool that opens connections only on demand, to a port where nothing listens (connect
    # would check the login at once).
    url = f"postgresql://x@127.0.0.1:{free_port()}/x"
    nowhere = Database(
        await asyncpg.create_pool(url, min_size=0),
        dedicated=functools.partial(asyncpg.connect, url, timeout=1.0),
    )
    host = ServiceHost(service, GatewaySettings(), broker=MemoryBroker(), database=nowhere)
    await host.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{host.port}") as client:
            response = await client.post(
                "/v1/telemetry",
                content=upload_json(1),
                headers={"Authorization": f"Bearer {machine.token}"},
            )
    finally:
        await host.stop()
        await nowhere.close()

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "2"


def _oversized(seq: int) -> MachineMessage:
    """A message small as MessagePack, but over a megabyte as the JSON the broker stores: every
    control character of its alarm texts becomes six bytes (\\u0001)."""
    alarm = Alarm(code="E1", raised=True, category=AlarmCategory.EQUIPMENT, text="\x01" * 256)
    return MachineMessage(boot_id="boot-1", seq=seq, ts=datetime.now(UTC), signals=[alarm] * 2000)


async def test_a_message_over_the_brokers_limit_is_413_and_nothing_of_the_upload_is_stored(
    start_gateway: StartGateway, register: Register, broker: Broker
) -> None:
    machine = await register()
    gateway = await start_gateway(broker)
    body = msgspec.msgpack.encode(Upload(messages=[message(1), _oversized(2)]))
    assert len(body) < GatewaySettings().max_body_bytes

    response = await gateway.post(machine, body, "application/msgpack")

    assert response.status_code == 413, response.text
    problem = response.json()
    assert problem["field"] == "messages[1]"
    assert problem["limit_bytes"] == broker.message_limit < 1024 * 1024
    assert "split" in problem["detail"]
    assert await gateway.stored(machine.tenant) == []
    # The advice holds: the same signals in messages of the size it names are stored.
    signals = int(problem["detail"].split("at most ")[1].split(" signals")[0])
    alarms = _oversized(2).signals
    split = [
        MachineMessage(
            boot_id="boot-1", seq=2 + i, ts=datetime.now(UTC), signals=alarms[s : s + signals]
        )
        for i, s in enumerate(range(0, len(alarms), signals))
    ]
    again = await gateway.post(
        machine, msgspec.msgpack.encode(Upload(messages=split)), "application/msgpack"
    )
    assert again.status_code == 200, again.text

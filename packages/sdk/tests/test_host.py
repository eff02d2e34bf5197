"""A hosted service answers /healthz, /readyz and /metrics on its operations port, and stops
gracefully."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import httpx
import msgspec
import pytest

from tally.sdk import (
    BrokerFull,
    BrokerUnavailable,
    Consumer,
    ContractError,
    Envelope,
    MemoryBroker,
    NoSettings,
    Runtime,
    Service,
    ServiceHost,
    Stream,
    Topic,
)
from tally.sdk.testing import eventually


class Ping(msgspec.Struct, frozen=True, kw_only=True):
    tenant: str
    n: int


PINGS = Topic("pings.{tenant}", Ping, Stream("PINGS", ("pings.>",), consumers=("pinger",)))


async def handle(deps: list[int], batch: Sequence[Envelope[Ping]]) -> None:
    deps.extend(envelope.message.n for envelope in batch)


@asynccontextmanager
async def deps(_: Runtime, __: NoSettings) -> AsyncIterator[list[int]]:
    yield []


SERVICE = Service(
    name="pinger",
    settings=NoSettings,
    deps=deps,
    consumers=[Consumer("pinger", PINGS, handle)],
    publishes=[PINGS],
)


async def test_health_readiness_and_metrics_over_http() -> None:
    broker = MemoryBroker()
    host = ServiceHost(SERVICE, NoSettings(), broker=broker)
    await host.start()
    try:
        await broker.publish(PINGS, Ping(tenant="acme", n=1))
        assert host.deps is not None
        seen = host.deps
        await eventually(lambda: seen == [1])
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{host.ops_port}") as client:
            assert (await client.get("/healthz")).json() == {"status": "ok"}
            ready = await client.get("/readyz")
            assert ready.status_code == 200
            assert ready.json()["checks"] == {"serving": True, "broker": True, "consumers": True}
            metrics = (await client.get("/metrics")).text
        assert 'tally_messages_handled_total{consumer="pinger",tenant="acme"} 1.0' in metrics
        assert 'tally_batch_size_count{consumer="pinger"} 1.0' in metrics
        assert host.port == 0  # no endpoints of its own: no public port
    finally:
        await host.stop()


async def test_a_host_whose_broker_is_away_is_not_ready() -> None:
    broker = MemoryBroker()
    host = ServiceHost(SERVICE, NoSettings(), broker=broker)
    await host.start()
    try:
        await broker.close()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{host.ops_port}") as client:
            ready = await client.get("/readyz")
    finally:
        await host.stop()
    assert ready.status_code == 503
    assert ready.json()["checks"] == {"serving": True, "broker": False, "consumers": True}


async def test_a_consumer_its_stream_does_not_declare_is_refused_before_anything_runs() -> None:
    # An interest stream keeps a message only for the consumers that exist when it comes in; a
    # consumer created at its service's first start would miss everything published before.
    undeclared = Service(
        name="stranger",
        settings=NoSettings,
        deps=deps,
        consumers=[Consumer("stranger", PINGS, handle)],
    )
    broker = MemoryBroker()
    host = ServiceHost(undeclared, NoSettings(), broker=broker)
    with pytest.raises(ContractError, match=r"'stranger' reads stream PINGS, which does not"):
        await host.start()
    assert host.port == 0  # refused before its HTTP port opened
    with pytest.raises(ContractError, match="does not declare it"):
        await broker.subscribe(PINGS.stream, "stranger", PINGS.filter(), ack_wait=30.0)


class SettlingBroker(MemoryBroker):
    """A broker that cannot answer the first declarations, as a cluster whose stream leader is
    still being elected while services start together."""

    def __init__(self, unanswered: int) -> None:
        super().__init__()
        self.unanswered = unanswered

    async def ensure_stream(self, stream: Stream) -> None:
        if self.unanswered > 0:
            self.unanswered -= 1
            raise BrokerUnavailable(f"no answer declaring {stream.name}")
        await super().ensure_stream(stream)


async def test_start_up_declares_its_streams_again_until_the_broker_answers() -> None:
    broker = SettlingBroker(unanswered=3)
    host = ServiceHost(SERVICE, NoSettings(), broker=broker)
    await host.start()
    try:
        await broker.publish(PINGS, Ping(tenant="acme", n=7))
        assert host.deps is not None
        await eventually(lambda: host.deps == [7])
    finally:
        await host.stop()
    assert broker.unanswered == 0


async def test_a_stream_the_servers_refuse_fails_start_up_at_once() -> None:
    class FullBroker(MemoryBroker):
        async def ensure_stream(self, stream: Stream) -> None:
            raise BrokerFull(f"insufficient resources for {stream.name}")

    host = ServiceHost(SERVICE, NoSettings(), broker=FullBroker())
    with pytest.raises(BrokerFull):
        await host.start()

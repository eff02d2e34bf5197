"""JetStream specifics of the NATS broker: how a full store is reported, and how streams are
declared over what a deployment already has. Real nats-servers."""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from nats.js import api

from tally.sdk import BrokerFull, NatsBroker, Stream, StreamLimits
from tally.sdk._embedded_nats import EmbeddedNats
from tally.sdk.testing import eventually

pytestmark = pytest.mark.integration


def a_stream(**settings: object) -> Stream:
    suffix = secrets.token_hex(4)
    return Stream(
        name=f"S{suffix}".upper(),
        subjects=(f"s{suffix}.>",),
        **settings,  # type: ignore[arg-type]
    )


@pytest.fixture
def small_server() -> Iterator[EmbeddedNats]:
    """A server of this test's own whose JetStream store holds 256 KiB."""
    with (
        tempfile.TemporaryDirectory(prefix="tally-small-", ignore_cleanup_errors=True) as folder,
        EmbeddedNats(Path(folder), store_bytes=256 * 1024) as server,
    ):
        yield server


@pytest.fixture
async def small(small_server: EmbeddedNats) -> AsyncIterator[NatsBroker]:
    broker = await NatsBroker.connect(small_server.url)
    yield broker
    await broker.close()


async def test_a_full_server_store_is_reported_as_broker_full(small: NatsBroker) -> None:
    stream = a_stream(retention="interest", consumers=("reader",))
    await small.ensure_stream(stream)
    accepted, refused = await publish_until_full(small, stream.subjects[0].replace(">", "x"))
    stored = (await small.client.jetstream().stream_info(stream.name)).state.messages
    assert "insufficient resources" in str(refused)
    assert "error 10023" in str(refused)
    assert stored == accepted  # the refused message was not stored


async def publish_until_full(broker: NatsBroker, subject: str) -> tuple[int, BrokerFull]:
    """Publish 1 KiB messages until refused: how many were accepted, and the refusal."""
    for n in range(1000):
        try:
            await broker.publish_bytes(subject, b"x" * 1024, msg_id=f"m{n}")
        except BrokerFull as refused:
            return n, refused
    raise AssertionError("1000 KiB did not fill a 256 KiB store")


async def test_a_stream_limit_the_server_cannot_hold_is_refused_with_advice(
    small_server: EmbeddedNats,
) -> None:
    broker = await NatsBroker.connect(
        small_server.url, limits=StreamLimits(max_bytes=10 * 1024 * 1024)
    )
    try:
        with pytest.raises(BrokerFull, match=r"lower TALLY_STREAM_MAX_BYTES.*error 10047"):
            await broker.ensure_stream(a_stream())
    finally:
        await broker.close()


async def test_a_process_without_limits_keeps_the_deployments(nats_url: str) -> None:
    stream = a_stream(retention="interest", consumers=("reader",))
    deployed = await NatsBroker.connect(nats_url, limits=StreamLimits(max_bytes=123_456))
    tool = await NatsBroker.connect(nats_url)  # a command-line tool, say `tally dead-letters`
    try:
        await deployed.ensure_stream(stream)
        await tool.ensure_stream(stream)
        config = (await tool.client.jetstream().stream_info(stream.name)).config
    finally:
        await tool.close()
        await deployed.close()
    assert config.max_bytes == 123_456
    assert config.discard == api.DiscardPolicy.NEW


async def test_declared_consumers_come_with_the_stream_and_take_their_services_filter(
    nats_url: str,
) -> None:
    stream = a_stream(retention="interest", consumers=("reader", "auditor"))
    broker = await NatsBroker.connect(nats_url)
    js = broker.client.jetstream()
    try:
        await broker.ensure_stream(stream)
        created = {c.name for c in await js.consumers_info(stream.name)}
        narrow = stream.subjects[0].replace(">", "*")
        subscription = await broker.subscribe(stream, "reader", narrow, ack_wait=5.0)
        await subscription.close()
        # A publisher declaring the stream again leaves the consumer as its service set it.
        await broker.ensure_stream(stream)
        reader = (await js.consumer_info(stream.name, "reader")).config
    finally:
        await broker.close()
    assert created == {"reader", "auditor"}
    assert (reader.filter_subject, reader.ack_wait) == (narrow, 5.0)


async def test_an_existing_stream_with_limits_retention_is_switched_to_interest(
    nats_url: str,
) -> None:
    # A deployment from before interest retention: TELEMETRY kept everything for a week.
    old = a_stream()
    broker = await NatsBroker.connect(nats_url)
    js = broker.client.jetstream()
    try:
        await broker.ensure_stream(old)
        subject = old.subjects[0].replace(">", "x")
        await broker.publish_bytes(subject, b"kept", msg_id="before")
        new = Stream(old.name, old.subjects, retention="interest", consumers=("reader",))
        await broker.ensure_stream(new)
        config = (await js.stream_info(new.name)).config
        subscription = await broker.subscribe(new, "reader", old.subjects[0], ack_wait=5.0)
        got = await subscription.fetch(10, 2.0)
        await subscription.ack(got)
        subscription.release(got)
        await subscription.close()

        async def acknowledged() -> bool:  # acknowledgements are applied asynchronously
            return (await js.stream_info(new.name)).state.messages == 0

        await eventually(acknowledged, seconds=5, interval=0.05)
        left = (await js.stream_info(new.name)).state.messages
    finally:
        await broker.close()
    assert config.retention == api.RetentionPolicy.INTEREST
    assert [d.data for d in got] == [b"kept"]
    assert left == 0

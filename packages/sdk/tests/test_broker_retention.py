"""What a stream keeps, for whom, and what it does when full: the same tests against the
in-memory broker and real JetStream (interest retention, declared consumers, byte limits)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

import pytest

from packages.sdk.tests.test_consumer_loop import Note, Seen, hosted, record
from tally.sdk import (
    Broker,
    BrokerFull,
    Consumer,
    MemoryBroker,
    NatsBroker,
    Stream,
    StreamLimits,
    Topic,
)
from tally.sdk.testing import eventually

pytestmark = pytest.mark.integration


def interest_topic(*consumers: str) -> Topic[Note]:
    suffix = secrets.token_hex(4)
    return Topic(
        pattern=f"kept{suffix}.{{tenant}}.{{key}}",
        type=Note,
        stream=Stream(
            name=f"KEPT{suffix}".upper(),
            subjects=(f"kept{suffix}.>",),
            retention="interest",
            consumers=consumers,
        ),
        identity=lambda note: f"{note.tenant}.{note.key}.{note.n}",
    )


def limited(broker: Broker, max_bytes: int) -> Broker:
    """The same kind of broker, declaring streams with a byte limit."""
    limits = StreamLimits(max_bytes=max_bytes)
    if isinstance(broker, NatsBroker):
        return NatsBroker(broker.client, limits=limits)
    return MemoryBroker(limits=limits)


async def publish(broker: Broker, topic: Topic[Note], keys: Sequence[str]) -> None:
    for key in keys:
        await broker.publish(topic, Note(tenant="acme", key=key))


async def test_a_message_published_before_its_consumer_ever_ran_is_delivered(
    broker: Broker,
) -> None:
    topic, seen = interest_topic("first"), Seen()
    # The publisher declares the stream; the consumer's service has never started.
    await broker.ensure_stream(topic.stream)
    await publish(broker, topic, ["early-1", "early-2"])
    async with hosted(broker, Consumer("first", topic, record, max_wait=0.2), seen):
        await eventually(lambda: len(seen.keys) == 2)
    assert sorted(seen.keys) == ["early-1", "early-2"]


async def test_a_stopped_consumer_keeps_its_backlog_while_another_acknowledges(
    broker: Broker,
) -> None:
    topic = interest_topic("fast", "slow")
    await broker.ensure_stream(topic.stream)
    keys = [f"k{n}" for n in range(20)]
    await publish(broker, topic, keys)
    fast, slow = Seen(), Seen()
    async with hosted(broker, Consumer("fast", topic, record, max_wait=0.2), fast):
        await eventually(lambda: len(fast.keys) == 20)
    # "slow" never ran: every message is still there for it.
    assert len(await broker.browse(topic.stream, ">")) == 20
    async with hosted(broker, Consumer("slow", topic, record, max_wait=0.2), slow):
        await eventually(lambda: len(slow.keys) == 20)
    assert sorted(slow.keys) == sorted(keys)
    # Acknowledged by both: the stream let go of them.
    await eventually_empty(broker, topic)


async def test_browsing_holds_nothing_back(broker: Broker) -> None:
    topic, seen = interest_topic("reader"), Seen()
    await broker.ensure_stream(topic.stream)
    await publish(broker, topic, ["before"])
    assert [m.subject for m in await broker.browse(topic.stream, ">")] == [
        topic.subject(Note(tenant="acme", key="before"))
    ]
    # Published after a browse: nothing but the consumer may hold it.
    await publish(broker, topic, ["after"])
    async with hosted(broker, Consumer("reader", topic, record, max_wait=0.2), seen):
        await eventually(lambda: len(seen.keys) == 2)
        await eventually_empty(broker, topic)


async def test_a_full_stream_refuses_and_acknowledged_messages_make_room(broker: Broker) -> None:
    topic, seen = interest_topic("drain"), Seen()
    small = limited(broker, max_bytes=4096)
    await small.ensure_stream(topic.stream)
    accepted = await fill(small, topic)
    # Refused means not stored: what is there is exactly what was accepted.
    assert len(await small.browse(topic.stream, ">")) == accepted
    async with hosted(small, Consumer("drain", topic, record, max_wait=0.2), seen):
        await eventually(lambda: len(seen.keys) == accepted)
        await eventually_empty(small, topic)
        await publish(small, topic, ["after-drain"])
        await eventually(lambda: "after-drain" in seen.keys)
    assert len(seen.keys) == accepted + 1


async def fill(broker: Broker, topic: Topic[Note]) -> int:
    """Publish until the stream refuses with BrokerFull; how many it accepted."""
    for n in range(1000):
        try:
            await publish(broker, topic, [f"fill-{n:04d}"])
        except BrokerFull:
            assert n > 10, "a 4 KiB stream holds more than ten small notes"
            return n
    raise AssertionError("1000 notes did not fill a 4 KiB stream")


async def eventually_empty(broker: Broker, topic: Topic[Note], seconds: float = 10.0) -> None:
    """Wait until the stream holds nothing (acknowledgements reach JetStream asynchronously)."""

    async def empty() -> bool:
        return not await broker.browse(topic.stream, ">")

    await eventually(empty, seconds, interval=0.05)

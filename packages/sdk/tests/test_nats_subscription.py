"""The NATS subscription hands each stream message out once at a time, whatever nats-py's local
queue holds after a stall: real JetStream, through the consumer loop."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence

import pytest
from nats.js import JetStreamContext

from packages.sdk.tests.test_consumer_loop import Note, Seen, durable, hosted, note_topic
from tally.sdk import Consumer, Envelope, NatsBroker, Topic
from tally.sdk.testing import eventually

pytestmark = pytest.mark.integration

ACK_WAIT = 1.0
# Longer than the ack wait, so the server gives up on what it delivered during the stall;
# shorter than the stall, so the waiting fetch times out here before it reads them.
MAX_WAIT = 2.0
STALL = 3.5


async def _publish(url: str, topic: Topic[Note], keys: Sequence[str]) -> None:
    other = await NatsBroker.connect(url)
    try:
        for key in keys:
            await other.publish(topic, Note(tenant="acme", key=key))
    finally:
        await other.close()


def _stall(url: str, topic: Topic[Note], keys: Sequence[str]) -> None:
    """Block this event loop (as SIGSTOP or a blocking call would) while another client
    publishes `keys`: the server sends them to the fetch request waiting meanwhile."""
    started = time.monotonic()
    publisher = threading.Thread(target=asyncio.run, args=(_publish(url, topic, keys),))
    publisher.start()
    publisher.join()
    time.sleep(max(0.0, STALL - (time.monotonic() - started)))


async def _fetch_waiting(js: JetStreamContext, stream: str, consumer: str) -> None:
    async def waiting() -> bool:
        return bool((await js.consumer_info(stream, consumer)).num_waiting >= 1)

    await eventually(waiting)


@pytest.mark.slow
async def test_a_stall_past_the_ack_wait_hands_each_message_over_and_acks_it_once(
    nats_url: str,
) -> None:
    topic, seen = note_topic(), Seen()
    name = durable(topic)
    broker = await NatsBroker.connect(nats_url)
    js = broker.client.jetstream()
    try:
        await broker.ensure_stream(topic.stream)
        await _publish(nats_url, topic, [f"k{n}" for n in range(5)])

        async def handle(seen: Seen, batch: Sequence[Envelope[Note]]) -> None:
            seen.batches.append([envelope.message for envelope in batch])

        consumer = Consumer(
            name, topic, handle, batch_size=20, max_wait=MAX_WAIT, ack_wait=ACK_WAIT
        )
        async with hosted(broker, consumer, seen):
            await eventually(lambda: len(seen.keys) == 5)
            await _fetch_waiting(js, topic.stream.name, name)
            _stall(nats_url, topic, [f"k{n}" for n in range(5, 15)])
            await eventually(lambda: len(seen.keys) >= 15, seconds=20)
            delivered = (await js.consumer_info(topic.stream.name, name)).delivered
            # Nothing may come back once everything was acknowledged: wait three ack waits, in
            # which a redelivery would have shown.
            await asyncio.sleep(3 * ACK_WAIT)
            info = await js.consumer_info(topic.stream.name, name)
    finally:
        await broker.close()

    assert sorted(seen.keys) == sorted(f"k{n}" for n in range(15))
    assert (info.num_ack_pending, info.num_pending, info.num_redelivered) == (0, 0, 0)
    assert info.delivered.consumer_seq == delivered.consumer_seq

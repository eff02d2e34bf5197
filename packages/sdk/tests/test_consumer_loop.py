"""The consumer behaviour suite: the same tests against the in-memory broker and real JetStream.

Each test uses a stream of its own, so the tests share one NATS server without meeting.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import msgspec
import pytest

from tally.sdk import (
    Backoff,
    Broker,
    Consumer,
    Envelope,
    NoSettings,
    Reject,
    Runtime,
    Service,
    ServiceHost,
    Stream,
    Topic,
)
from tally.sdk.testing import dead_letters, eventually

pytestmark = pytest.mark.integration

FAST = Backoff(initial=0.05, factor=2.0, maximum=0.5, jitter=0.0)


class Note(msgspec.Struct, frozen=True, kw_only=True):
    tenant: str
    key: str
    n: int = 0


def note_topic(**stream: Any) -> Topic[Note]:
    """A topic on a stream of its own, which declares one durable consumer (`durable(topic)`);
    `stream` adds stream settings."""
    suffix = secrets.token_hex(4)
    return Topic(
        pattern=f"notes{suffix}.{{tenant}}.{{key}}",
        type=Note,
        stream=Stream(
            name=f"NOTES{suffix}".upper(),
            subjects=(f"notes{suffix}.>",),
            consumers=(f"probe-{suffix}",),
            **stream,
        ),
        identity=lambda note: f"{note.tenant}.{note.key}.{note.n}",
    )


def durable(topic: Topic[Note]) -> str:
    """The durable consumer the topic's stream declares."""
    return topic.stream.consumers[0]


@dataclass
class Seen:
    """What handlers saw, for assertions."""

    batches: list[list[Note]] = field(default_factory=list)
    attempts: dict[str, list[float]] = field(default_factory=dict)

    @property
    def keys(self) -> list[str]:
        return [note.key for batch in self.batches for note in batch]


@asynccontextmanager
async def hosted(
    broker: Broker, consumer: Consumer[Seen, Note], seen: Seen
) -> AsyncIterator[ServiceHost[NoSettings, Seen]]:
    @asynccontextmanager
    async def deps(_: Runtime, __: NoSettings) -> AsyncIterator[Seen]:
        yield seen

    service = Service(name="probe", settings=NoSettings, deps=deps, consumers=[consumer])
    host = ServiceHost(service, NoSettings(), broker=broker)
    await host.start()
    try:
        yield host
    finally:
        await host.stop()


def counted(host: ServiceHost[NoSettings, Seen], metric: str) -> float:
    """A consumer metric of the host summed over its labels (`tally_messages_handled`, ...)."""
    return sum(
        sample.value
        for family in host.metrics.registry.collect()
        for sample in family.samples
        if sample.name == f"{metric}_total"
    )


async def record(seen: Seen, batch: Sequence[Envelope[Note]]) -> None:
    seen.batches.append([envelope.message for envelope in batch])


async def test_a_batch_handler_sees_batches(broker: Broker) -> None:
    topic, seen = note_topic(), Seen()
    await broker.ensure_stream(topic.stream)
    for n in range(60):
        await broker.publish(topic, Note(tenant="acme", key=f"k{n}", n=n))
    consumer = Consumer(durable(topic), topic, record, batch_size=25, max_wait=0.3)
    async with hosted(broker, consumer, seen):
        await eventually(lambda: len(seen.keys) == 60)
    assert sorted(seen.keys) == sorted(f"k{n}" for n in range(60))
    assert max(len(batch) for batch in seen.batches) > 1
    assert all(len(batch) <= 25 for batch in seen.batches)


async def test_a_failing_handler_is_redelivered_with_backoff_and_succeeds(broker: Broker) -> None:
    topic, seen = note_topic(), Seen()

    async def flaky(seen: Seen, batch: Sequence[Envelope[Note]]) -> None:
        for envelope in batch:
            tries = seen.attempts.setdefault(envelope.message.key, [])
            tries.append(time.monotonic())
            if envelope.message.key == "flaky" and len(tries) < 3:
                raise ConnectionError("database away")
        await record(seen, batch)

    consumer = Consumer(durable(topic), topic, flaky, batch_size=1, backoff=FAST, max_deliver=5)
    await broker.ensure_stream(topic.stream)
    async with hosted(broker, consumer, seen) as host:
        await broker.publish(topic, Note(tenant="acme", key="flaky"))
        await broker.publish(topic, Note(tenant="acme", key="steady"))
        await eventually(lambda: "flaky" in seen.keys and "steady" in seen.keys)
        retried = host.metrics.retried.labels(consumer.name, "acme")._value.get()
    tries = seen.attempts["flaky"]
    assert len(tries) == 3
    # Exponential: the second wait is at least the doubled first one.
    assert tries[1] - tries[0] >= 0.05 * 0.9
    assert tries[2] - tries[1] >= 0.1 * 0.9
    assert retried == 2
    assert seen.keys.count("flaky") == 1
    assert await dead_letters(broker, consumer.name) == []


async def test_reject_and_garbage_are_dead_lettered_while_the_rest_flows(broker: Broker) -> None:
    topic, seen = note_topic(), Seen()

    async def picky(seen: Seen, batch: Sequence[Envelope[Note]]) -> None:
        for envelope in batch:
            if envelope.message.key == "poison":
                raise Reject("key 'poison' is not allowed")
        await record(seen, batch)

    consumer = Consumer(durable(topic), topic, picky, batch_size=10, max_wait=0.3, backoff=FAST)
    await broker.ensure_stream(topic.stream)
    for n in range(5):
        await broker.publish(topic, Note(tenant="acme", key=f"ok{n}"))
    await broker.publish(topic, Note(tenant="acme", key="poison"))
    garbage_subject = topic.subject(Note(tenant="acme", key="garbage"))
    await broker.publish_bytes(garbage_subject, b"{not json", msg_id="garbage-1")
    for n in range(5, 10):
        await broker.publish(topic, Note(tenant="acme", key=f"ok{n}"))

    async with hosted(broker, consumer, seen) as host:
        await eventually(lambda: len(seen.keys) == 10)
        await eventually(lambda: counted(host, "tally_messages_dead_lettered") == 2)
    assert sorted(seen.keys) == sorted(f"ok{n}" for n in range(10))
    letters = await dead_letters(broker, consumer.name)
    reasons = sorted(letter.reason for letter in letters)
    assert len(letters) == 2
    assert reasons[0] == "key 'poison' is not allowed"
    assert reasons[1].startswith("undecodable Note: JSON is malformed")
    assert {letter.data for letter in letters} >= {b"{not json"}
    assert all(letter.consumer == consumer.name for letter in letters)


async def test_a_message_failing_every_time_is_dead_lettered_after_max_deliver(
    broker: Broker,
) -> None:
    topic, seen = note_topic(), Seen()

    async def broken(seen: Seen, batch: Sequence[Envelope[Note]]) -> None:
        for envelope in batch:
            seen.attempts.setdefault(envelope.message.key, []).append(time.monotonic())
        raise RuntimeError("always")

    consumer = Consumer(durable(topic), topic, broken, batch_size=1, backoff=FAST, max_deliver=3)
    await broker.ensure_stream(topic.stream)
    async with hosted(broker, consumer, seen) as host:
        await broker.publish(topic, Note(tenant="acme", key="doomed"))
        await eventually(lambda: counted(host, "tally_messages_dead_lettered") == 1)
    letters = await dead_letters(broker, consumer.name, tenant="acme")
    assert len(letters) == 1
    assert letters[0].reason == "failed 3 times, last: RuntimeError: always"
    assert len(seen.attempts["doomed"]) == 3


async def test_a_batch_split_to_find_its_culprit_outlasting_the_ack_wait_is_not_redelivered(
    broker: Broker,
) -> None:
    topic, seen = note_topic(), Seen()

    async def slow_and_picky(seen: Seen, batch: Sequence[Envelope[Note]]) -> None:
        if any(envelope.message.key == "poison" for envelope in batch):
            raise Reject("key 'poison' is not allowed")
        await asyncio.sleep(0.3)  # the scenario: slow work, half the ack wait per message
        await record(seen, batch)

    # Handled one by one, the five take 1.2 s, twice the ack wait; a second fetch loop would
    # take any message the broker redelivers meanwhile.
    consumer = Consumer(
        durable(topic),
        topic,
        slow_and_picky,
        batch_size=5,
        max_wait=0.5,
        ack_wait=0.6,
        concurrency=2,
    )
    await broker.ensure_stream(topic.stream)
    for key in ["a", "b", "c", "d", "poison"]:
        await broker.publish(topic, Note(tenant="acme", key=key))
    async with hosted(broker, consumer, seen) as host:
        await eventually(lambda: len(seen.keys) == 4)
        await eventually(lambda: counted(host, "tally_messages_dead_lettered") == 1)
        # A message acknowledged too late comes back once the ack wait has passed: wait that
        # long, to see that none does.
        await asyncio.sleep(consumer.ack_wait + 0.2)
    assert sorted(seen.keys) == ["a", "b", "c", "d"]
    assert len(await dead_letters(broker, consumer.name)) == 1


async def test_duplicates_with_the_same_message_id_are_stored_once(broker: Broker) -> None:
    topic, seen = note_topic(), Seen()
    await broker.ensure_stream(topic.stream)
    first = await broker.publish(topic, Note(tenant="acme", key="once"))
    again = await broker.publish(topic, Note(tenant="acme", key="once"))
    assert not first.duplicate
    assert again.duplicate
    assert again.seq == first.seq
    consumer = Consumer(durable(topic), topic, record, max_wait=0.2)
    async with hosted(broker, consumer, seen) as host:
        # Acknowledged: the stream has nothing left to hand over.
        await eventually(lambda: counted(host, "tally_messages_handled") == 1)
    assert seen.keys == ["once"]


async def test_a_message_whose_tenant_differs_from_its_subject_is_dead_lettered(
    broker: Broker,
) -> None:
    topic, seen = note_topic(), Seen()
    await broker.ensure_stream(topic.stream)
    forged = msgspec.json.encode(Note(tenant="other", key="x"))
    await broker.publish_bytes(topic.subject(Note(tenant="acme", key="x")), forged)
    consumer = Consumer(durable(topic), topic, record, max_wait=0.2)
    async with hosted(broker, consumer, seen) as host:
        dead_lettered = host.metrics.dead_lettered.labels(consumer.name, "acme")
        await eventually(lambda: dead_lettered._value.get() == 1)
    letters = await dead_letters(broker, consumer.name)
    assert seen.keys == []
    assert len(letters) == 1
    assert "does not match the subject" in letters[0].reason


async def test_stopping_finishes_the_batch_in_flight_and_loses_nothing(broker: Broker) -> None:
    topic, seen = note_topic(), Seen()
    started = asyncio.Event()

    async def slow(seen: Seen, batch: Sequence[Envelope[Note]]) -> None:
        started.set()
        await asyncio.sleep(0.5)  # the scenario: a batch still in hand when the stop comes
        await record(seen, batch)

    name = durable(topic)
    await broker.ensure_stream(topic.stream)
    for n in range(30):
        await broker.publish(topic, Note(tenant="acme", key=f"k{n}"))
    async with hosted(broker, Consumer(name, topic, slow, batch_size=10, max_wait=0.2), seen):
        await started.wait()
    # Stopped mid-batch: that batch finished and was acknowledged; the rest waits in the stream.
    stopped_with = list(seen.keys)
    assert len(stopped_with) >= 10
    rest = Consumer(name, topic, record, batch_size=10, max_wait=0.2)
    async with hosted(broker, rest, seen) as host:
        await eventually(lambda: counted(host, "tally_messages_handled") == 30 - len(stopped_with))
    assert sorted(seen.keys) == sorted(f"k{n}" for n in range(30))


async def test_an_outage_logs_its_first_failure_and_a_count_not_a_line_per_message(
    broker: Broker, caplog: pytest.LogCaptureFixture
) -> None:
    topic, seen = note_topic(), Seen()
    failures = 0
    outage = True

    async def needs_the_database(seen: Seen, batch: Sequence[Envelope[Note]]) -> None:
        nonlocal failures
        if outage:
            failures += len(batch)
            raise ConnectionError("database away")
        await record(seen, batch)

    consumer = Consumer(
        durable(topic), topic, needs_the_database, batch_size=50, max_wait=0.2, backoff=FAST
    )
    await broker.ensure_stream(topic.stream)
    for n in range(50):
        await broker.publish(topic, Note(tenant="acme", key=f"k{n}"))
    with caplog.at_level(logging.WARNING, logger="tally.sdk.consumer"):
        async with hosted(broker, consumer, seen) as host:
            # Two rounds: the whole batch fails, then every message alone (finding a culprit).
            await eventually(lambda: failures >= 100)
            outage = False
            await eventually(lambda: len(seen.keys) == 50)
            retried = int(host.metrics.retried.labels(consumer.name, "acme")._value.get())
    retries = [r.getMessage() for r in caplog.records if "handler failed" in r.getMessage()]
    # The first failure in full; the rest counted in one line when the consumer stopped.
    assert retried >= 50
    assert len(retries) == 2, retries
    assert re.search(rf"\({retried - 1} more in the last \d+ s\)$", retries[1]), retries[1]

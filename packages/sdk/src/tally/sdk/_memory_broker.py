"""An in-process broker with JetStream's semantics, for fast handler tests.

It keeps what the SDK relies on: streams bound to subjects, de-duplication by message id within
the stream's window, durable consumers declared with their stream that remember their position,
redelivery after a nak's delay or when the ack wait runs out, delivery counts, interest
retention (a message goes once every consumer has acknowledged it, and is dropped when no
consumer wants it), and a byte limit that refuses publishes when full. It is checked against the
real broker by one shared behaviour test suite.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from tally.sdk._broker import (
    DEFAULT_MAX_PAYLOAD,
    MSG_ID_HEADER,
    Broker,
    Delivery,
    MessageTooLarge,
    Published,
    StoredMessage,
    Subscription,
    header_bytes,
)
from tally.sdk._errors import BrokerFull, InfrastructureError
from tally.sdk._subjects import subject_matches
from tally.sdk._topics import Stream, StreamLimits


@dataclass(frozen=True)
class _Stored:
    seq: int
    subject: str
    data: bytes
    headers: Mapping[str, str]

    @property
    def size(self) -> int:
        """Roughly what JetStream counts against a byte limit."""
        headers = sum(len(k) + len(v) + 4 for k, v in self.headers.items())
        return len(self.subject) + len(self.data) + headers + 30


@dataclass
class _Stream:
    config: Stream
    messages: dict[int, _Stored] = field(default_factory=dict)
    last_seq: int = 0
    ids: dict[str, tuple[int, float]] = field(default_factory=dict)
    consumers: list[_Consumer] = field(default_factory=list)
    bytes: int = 0

    def store(self, stored: _Stored, max_bytes: int | None) -> None:
        if max_bytes is not None and self.bytes + stored.size > max_bytes:
            raise BrokerFull(
                f"stream {self.config.name} holds {self.bytes} of {max_bytes} bytes and refused "
                f"a message on {stored.subject}"
            )
        self.messages[stored.seq] = stored
        self.bytes += stored.size

    def wanted(self, subject: str) -> bool:
        """Whether the stream keeps a message on `subject` (interest: some consumer wants it)."""
        if self.config.retention != "interest":
            return True
        return any(subject_matches(c.filter_subject, subject) for c in self.consumers)

    def settled(self, seq: int) -> None:
        """Drop a message of an interest stream once every consumer that wants it has it."""
        stored = self.messages.get(seq)
        if stored is None or self.config.retention != "interest":
            return
        for consumer in self.consumers:
            wants = subject_matches(consumer.filter_subject, stored.subject)
            if wants and (consumer.cursor < seq or seq in consumer.unacked):
                return
        del self.messages[seq]
        self.bytes -= stored.size


@dataclass
class _MemoryDelivery:
    stored: _Stored
    delivered: int
    consumer: _Consumer

    @property
    def subject(self) -> str:
        return self.stored.subject

    @property
    def data(self) -> bytes:
        return self.stored.data

    @property
    def headers(self) -> Mapping[str, str]:
        return self.stored.headers

    @property
    def stream_seq(self) -> int:
        return self.stored.seq

    async def nak(self, delay: float) -> None:
        self.consumer.redeliver_at(self.stored.seq, time.monotonic() + delay)

    async def in_progress(self) -> None:
        self.consumer.redeliver_at(self.stored.seq, time.monotonic() + self.consumer.ack_wait)


@dataclass
class _Consumer:
    stream: _Stream
    filter_subject: str
    ack_wait: float
    changed: asyncio.Condition
    cursor: int = 0
    # seq -> (times delivered, monotonic time at which it is due again)
    unacked: dict[int, tuple[int, float]] = field(default_factory=dict)

    def redeliver_at(self, seq: int, due: float) -> None:
        if seq in self.unacked:
            self.unacked[seq] = (self.unacked[seq][0], due)

    def take(self, batch: int) -> list[_MemoryDelivery]:
        now = time.monotonic()
        taken: list[_MemoryDelivery] = []
        for seq, (count, due) in sorted(self.unacked.items()):
            if len(taken) == batch:
                return taken
            if due <= now and seq in self.stream.messages:
                self.unacked[seq] = (count + 1, now + self.ack_wait)
                taken.append(_MemoryDelivery(self.stream.messages[seq], count + 1, self))
        while len(taken) < batch and self.cursor < self.stream.last_seq:
            self.cursor += 1
            stored = self.stream.messages.get(self.cursor)
            if stored is not None and subject_matches(self.filter_subject, stored.subject):
                self.unacked[stored.seq] = (1, now + self.ack_wait)
                taken.append(_MemoryDelivery(stored, 1, self))
        return taken

    def next_due(self) -> float | None:
        return min((due for _, due in self.unacked.values()), default=None)


class _MemorySubscription(Subscription):
    def __init__(self, consumer: _Consumer) -> None:
        self._consumer = consumer

    async def fetch(self, batch: int, max_wait: float) -> Sequence[Delivery]:
        deadline = time.monotonic() + max_wait
        async with self._consumer.changed:
            while True:
                taken = self._consumer.take(batch)
                now = time.monotonic()
                if taken or now >= deadline:
                    return taken
                due = self._consumer.next_due()
                wait = deadline - now if due is None else min(deadline, due) - now
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._consumer.changed.wait(), max(wait, 0.001))

    async def ack(self, deliveries: Sequence[Delivery]) -> None:
        for delivery in deliveries:
            self._consumer.unacked.pop(delivery.stream_seq, None)
            self._consumer.stream.settled(delivery.stream_seq)

    def release(self, deliveries: Sequence[Delivery]) -> None:
        return None

    async def pending(self) -> int:
        consumer = self._consumer
        waiting = sum(
            1
            for seq in range(consumer.cursor + 1, consumer.stream.last_seq + 1)
            if seq in consumer.stream.messages
            and subject_matches(consumer.filter_subject, consumer.stream.messages[seq].subject)
        )
        return waiting + len(consumer.unacked)

    async def close(self) -> None:
        return None


class MemoryBroker(Broker):
    """JetStream semantics in memory. Not shared between processes; state lives as long as the
    object, so one broker can outlive a service to test restarts."""

    def __init__(
        self, *, max_payload: int = DEFAULT_MAX_PAYLOAD, limits: StreamLimits | None = None
    ) -> None:
        self._max_payload = max_payload
        self._max_bytes = None if limits is None else limits.max_bytes
        self._streams: dict[str, _Stream] = {}
        self._consumers: dict[tuple[str, str], _Consumer] = {}
        self._changed = asyncio.Condition()
        self._closed = False

    @property
    def connected(self) -> bool:
        return not self._closed

    @property
    def max_payload(self) -> int:
        return self._max_payload

    async def ensure_stream(self, stream: Stream) -> None:
        held = self._streams.get(stream.name)
        if held is None:
            held = self._streams[stream.name] = _Stream(stream)
        else:
            held.config = stream
        for durable in stream.consumers:
            if (stream.name, durable) not in self._consumers:
                # No filter yet: it keeps everything the stream stores until its service narrows it.
                self._add_consumer(held, durable, ">", 30.0)

    async def publish_bytes(
        self,
        subject: str,
        data: bytes,
        *,
        msg_id: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Published:
        if self._closed:
            raise InfrastructureError("the in-memory broker is closed")
        stream = self._stream_for(subject)
        sent_headers = {**(headers or {}), **({} if msg_id is None else {MSG_ID_HEADER: msg_id})}
        size = len(data) + header_bytes(sent_headers)
        if size > self._max_payload:
            # The server refuses it too (and closes the connection when headers push it over).
            raise MessageTooLarge(f"{subject}: {size} bytes, over max_payload {self._max_payload}")
        now = time.monotonic()
        if msg_id is not None:
            seen = stream.ids.get(msg_id)
            if seen is not None and now - seen[1] < stream.config.duplicate_window_seconds:
                return Published(stream.config.name, seen[0], duplicate=True)
        stored_headers = dict(headers or {})
        if msg_id is not None:
            stored_headers[MSG_ID_HEADER] = msg_id
        stored = _Stored(stream.last_seq + 1, subject, data, stored_headers)
        if stream.wanted(subject):
            stream.store(stored, self._max_bytes)
        # Like JetStream: a message nobody is interested in takes a sequence and is acknowledged.
        stream.last_seq = stored.seq
        if msg_id is not None:
            stream.ids[msg_id] = (stored.seq, now)
        async with self._changed:
            self._changed.notify_all()
        return Published(stream.config.name, stream.last_seq, duplicate=False)

    async def subscribe(
        self, stream: Stream, durable: str, filter_subject: str, *, ack_wait: float
    ) -> Subscription:
        stream.require_consumer(durable)
        await self.ensure_stream(stream)
        consumer = self._consumers[(stream.name, durable)]
        consumer.filter_subject, consumer.ack_wait = filter_subject, ack_wait
        return _MemorySubscription(consumer)

    def _add_consumer(
        self, stream: _Stream, durable: str, filter_subject: str, ack_wait: float
    ) -> None:
        consumer = _Consumer(stream, filter_subject, ack_wait, self._changed)
        self._consumers[(stream.config.name, durable)] = consumer
        stream.consumers.append(consumer)

    async def close(self) -> None:
        self._closed = True

    async def browse(
        self, stream: Stream, subject_filter: str, *, limit: int = 10_000
    ) -> list[StoredMessage]:
        held = self._streams.get(stream.name)
        if held is None:
            return []
        found = [
            StoredMessage(stored.subject, stored.data, stored.headers, stored.seq)
            for _, stored in sorted(held.messages.items())
            if subject_matches(subject_filter, stored.subject)
        ]
        return found[:limit]

    def _stream_for(self, subject: str) -> _Stream:
        for stream in self._streams.values():
            if any(subject_matches(pattern, subject) for pattern in stream.config.subjects):
                return stream
        raise InfrastructureError(f"no stream stores subject {subject!r}; declare its stream")

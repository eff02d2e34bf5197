"""An in-process broker with JetStream's semantics, for fast handler tests.

It keeps what the SDK relies on: streams bound to subjects, de-duplication by message id within
the stream's window, durable consumers that remember their position, redelivery after a nak's
delay or when the ack wait runs out, and delivery counts. It is checked against the real broker
by one shared behaviour test suite.
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
from tally.sdk._errors import InfrastructureError
from tally.sdk._subjects import subject_matches
from tally.sdk._topics import Stream


@dataclass(frozen=True)
class _Stored:
    seq: int
    subject: str
    data: bytes
    headers: Mapping[str, str]


@dataclass
class _Stream:
    config: Stream
    messages: dict[int, _Stored] = field(default_factory=dict)
    last_seq: int = 0
    ids: dict[str, tuple[int, float]] = field(default_factory=dict)


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

    def __init__(self, *, max_payload: int = DEFAULT_MAX_PAYLOAD) -> None:
        self._max_payload = max_payload
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
        existing = self._streams.get(stream.name)
        if existing is None:
            self._streams[stream.name] = _Stream(stream)
        else:
            existing.config = stream

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
        stream.last_seq += 1
        stored_headers = dict(headers or {})
        if msg_id is not None:
            stored_headers[MSG_ID_HEADER] = msg_id
            stream.ids[msg_id] = (stream.last_seq, now)
        stream.messages[stream.last_seq] = _Stored(stream.last_seq, subject, data, stored_headers)
        async with self._changed:
            self._changed.notify_all()
        return Published(stream.config.name, stream.last_seq, duplicate=False)

    async def subscribe(
        self, stream: Stream, durable: str, filter_subject: str, *, ack_wait: float
    ) -> Subscription:
        await self.ensure_stream(stream)
        key = (stream.name, durable)
        consumer = self._consumers.get(key)
        if consumer is None:
            consumer = _Consumer(
                self._streams[stream.name], filter_subject, ack_wait, self._changed
            )
            self._consumers[key] = consumer
        consumer.filter_subject, consumer.ack_wait = filter_subject, ack_wait
        return _MemorySubscription(consumer)

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

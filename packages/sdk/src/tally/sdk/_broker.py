"""What a message broker must offer the SDK, whichever broker it is.

Two brokers implement it with the same semantics: `NatsBroker` (JetStream, for real) and
`MemoryBroker` (in-process, for fast tests). Services never touch these raw operations; they
publish through `Broker.publish(topic, message)` and consume through declared `Consumer`s.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

import msgspec

from tally.sdk._errors import TallyError
from tally.sdk._topics import Stream, Topic

T = TypeVar("T", bound=msgspec.Struct)

DEAD_LETTER_STREAM = Stream(
    name="DEADLETTER",
    subjects=("deadletter.>",),
    # Dead letters wait for a human; keep them a month.
    max_age_seconds=30 * 24 * 3600.0,
)

# Headers a dead letter carries beside the original payload.
REASON_HEADER = "Tally-Reason"
CONSUMER_HEADER = "Tally-Consumer"
SUBJECT_HEADER = "Tally-Subject"
SEQUENCE_HEADER = "Tally-Stream-Seq"
DELIVERED_HEADER = "Tally-Delivered"
MSG_ID_HEADER = "Nats-Msg-Id"

# Room a message must leave for the headers a dead letter adds (reason up to 1000 characters,
# consumer, subject, sequence numbers): whatever a broker stores can also be dead-lettered.
DEAD_LETTER_HEADROOM = 8 * 1024
# NATS's default max_payload, which the in-memory broker imitates.
DEFAULT_MAX_PAYLOAD = 1024 * 1024


class MessageTooLarge(TallyError):
    """A message is larger than the broker stores; nothing was sent."""


def header_bytes(headers: Mapping[str, str]) -> int:
    """What headers add to a message's size as the server counts it (NATS/1.0 header block)."""
    if not headers:
        return 0
    lines = sum(len(k.encode()) + len(v.encode()) + 4 for k, v in headers.items())
    return len(b"NATS/1.0\r\n") + lines + 2


@dataclass(frozen=True)
class Outgoing:
    """A message encoded for its topic, not yet published."""

    subject: str
    data: bytes
    msg_id: str | None

    @property
    def size(self) -> int:
        """Bytes the broker counts against its limit: the data and the headers."""
        headers = {} if self.msg_id is None else {MSG_ID_HEADER: self.msg_id}
        return len(self.data) + header_bytes(headers)


@dataclass(frozen=True)
class Published:
    """The broker's receipt: the message is stored (or was a duplicate of a stored one)."""

    stream: str
    seq: int
    duplicate: bool


@dataclass(frozen=True)
class StoredMessage:
    """A message as a stream holds it, read back without consuming it."""

    subject: str
    data: bytes
    headers: Mapping[str, str]
    seq: int


class Delivery(Protocol):
    """A message handed to a consumer, awaiting its verdict."""

    @property
    def subject(self) -> str: ...
    @property
    def data(self) -> bytes: ...
    @property
    def headers(self) -> Mapping[str, str]: ...
    @property
    def delivered(self) -> int:
        """How many times this message has been delivered, this time included (1-based)."""
        ...

    @property
    def stream_seq(self) -> int: ...

    async def nak(self, delay: float) -> None: ...
    async def in_progress(self) -> None: ...


class Subscription(Protocol):
    """A durable pull consumer bound to one stream and filter."""

    async def fetch(self, batch: int, max_wait: float) -> Sequence[Delivery]:
        """Up to `batch` messages, waiting at most `max_wait` seconds; empty when none came."""
        ...

    async def ack(self, deliveries: Sequence[Delivery]) -> None:
        """Acknowledge, and make sure the broker has heard it before returning."""
        ...

    async def pending(self) -> int:
        """Messages not yet acknowledged by this consumer (the consumer's lag)."""
        ...

    async def close(self) -> None: ...


class Broker(abc.ABC):
    """A JetStream-like broker: streams, de-duplicating publish, durable pull consumers."""

    @abc.abstractmethod
    async def ensure_stream(self, stream: Stream) -> None:
        """Create the stream, or update it to this configuration; safe to call at every start."""

    @abc.abstractmethod
    async def publish_bytes(
        self,
        subject: str,
        data: bytes,
        *,
        msg_id: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Published:
        """Store raw bytes; returns once the stream has stored them."""

    @abc.abstractmethod
    async def subscribe(
        self, stream: Stream, durable: str, filter_subject: str, *, ack_wait: float
    ) -> Subscription:
        """Create or update the durable consumer and bind to it."""

    @abc.abstractmethod
    async def browse(
        self, stream: Stream, subject_filter: str, *, limit: int = 10_000
    ) -> list[StoredMessage]:
        """Read what a stream holds under a filter, oldest first, without consuming it."""

    @abc.abstractmethod
    async def close(self) -> None: ...

    @property
    @abc.abstractmethod
    def connected(self) -> bool: ...

    @property
    @abc.abstractmethod
    def max_payload(self) -> int:
        """The largest message the server stores, data and headers, in bytes."""

    @property
    def message_limit(self) -> int:
        """The largest `Outgoing.size` to publish: `max_payload` less room for the headers a
        dead letter adds, so that every message stored can be dead-lettered too."""
        return self.max_payload - DEAD_LETTER_HEADROOM

    def outgoing(self, topic: Topic[T], message: T) -> Outgoing:
        """`message` encoded for `topic`, to check its size before publishing anything."""
        return Outgoing(topic.subject(message), _ENCODER.encode(message), topic.message_id(message))

    async def publish(self, topic: Topic[T], message: T) -> Published:
        """Publish one message of the topic's type; the broker drops a repeated identity."""
        return await self.publish_outgoing(self.outgoing(topic, message))

    async def publish_outgoing(self, outgoing: Outgoing) -> Published:
        """Publish an encoded message; `MessageTooLarge` past `message_limit`, sending nothing."""
        if outgoing.size > self.message_limit:
            raise MessageTooLarge(
                f"{outgoing.subject}: {outgoing.size} bytes, over the limit of "
                f"{self.message_limit} bytes"
            )
        return await self.publish_bytes(outgoing.subject, outgoing.data, msg_id=outgoing.msg_id)

    async def dead_letter(
        self, delivery: Delivery, *, consumer: str, tenant: str | None, reason: str
    ) -> Published:
        """Store the original message with the reason in the dead-letter stream.

        The id makes a repeat of this call (after a crash before the ack) a duplicate."""
        headers = {
            REASON_HEADER: _header_safe(reason),
            CONSUMER_HEADER: consumer,
            SUBJECT_HEADER: delivery.subject,
            SEQUENCE_HEADER: str(delivery.stream_seq),
            DELIVERED_HEADER: str(delivery.delivered),
        }
        original_id = delivery.headers.get(MSG_ID_HEADER)
        if original_id is not None:
            headers["Tally-Msg-Id"] = original_id
        return await self.publish_bytes(
            f"deadletter.{tenant or '_unknown'}.{consumer}",
            delivery.data,
            msg_id=f"{consumer}:{delivery.subject}:{delivery.stream_seq}",
            headers=headers,
        )


_ENCODER = msgspec.json.Encoder()


def _header_safe(text: str) -> str:
    """Header values are single lines of bounded length."""
    flat = " ".join(text.split())
    return flat if len(flat) <= 1000 else flat[:997] + "..."

"""Declaring a consumer: which topic, which handler, how batches and failures are handled.

The handler's message type is tied to the topic's type through one type variable, so a handler
written for another contract does not type-check against the topic.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import msgspec

from tally.sdk._backoff import Backoff
from tally.sdk._errors import ContractError
from tally.sdk._topics import Topic

T = TypeVar("T", bound=msgspec.Struct)
D = TypeVar("D")

_DURABLE = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class Envelope(Generic[T]):
    """A decoded message with where it came from."""

    message: T
    subject: str
    tenant: str
    msg_id: str | None
    delivered: int
    stream_seq: int


Handler = Callable[[D, Sequence[Envelope[T]]], Awaitable[None]]


def by_tenant(batch: Sequence[Envelope[T]]) -> dict[str, list[Envelope[T]]]:
    """A batch's envelopes per tenant, in order: a batch may mix tenants, and each tenant's work
    runs scoped to that tenant (row-level security), never to the first message's."""
    grouped: dict[str, list[Envelope[T]]] = {}
    for envelope in batch:
        grouped.setdefault(envelope.tenant, []).append(envelope)
    return grouped


@dataclass(frozen=True)
class Consumer(Generic[D, T]):
    """A durable consumer of one topic.

    The handler gets the service's `Deps` and a batch of up to `batch_size` messages (or what
    arrived within `max_wait` seconds). It has three outcomes: return → every message is
    acknowledged; raise `Reject(reason)` → dead-lettered, never retried; raise anything else →
    redelivered after `backoff`, dead-lettered after `max_deliver` attempts. A batch that fails
    is retried message by message, so one bad message cannot hold back the others.

    `name` names the durable consumer in the broker, and the topic's stream must list it in its
    `consumers` (the broker creates it with the stream); a service with an unlisted consumer
    does not start.
    """

    name: str
    topic: Topic[T]
    handler: Handler[D, T]
    batch_size: int = 100
    max_wait: float = 0.5
    concurrency: int = 1
    max_deliver: int = 5
    backoff: Backoff = field(default_factory=Backoff)
    # How long the broker waits for an ack before redelivering; handlers that run longer
    # report progress automatically.
    ack_wait: float = 30.0

    def __post_init__(self) -> None:
        if not _DURABLE.match(self.name):
            raise ContractError(
                f"consumer name {self.name!r}: use lower-case letters, digits, '_' or '-' "
                "(it names the durable consumer in the broker)"
            )
        for label, value in (
            ("batch_size", self.batch_size),
            ("concurrency", self.concurrency),
            ("max_deliver", self.max_deliver),
        ):
            if value < 1:
                raise ContractError(f"consumer {self.name!r}: {label} must be ≥ 1, got {value}")
        if self.max_wait <= 0 or self.ack_wait <= 0:
            raise ContractError(f"consumer {self.name!r}: max_wait and ack_wait must be > 0")

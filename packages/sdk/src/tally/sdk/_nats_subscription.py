"""A durable pull consumer through nats-py that hands each stream message out once at a time.

nats-py's `fetch` first returns what waits in the subscription's local queue: messages the
server sent for earlier fetch requests that had already timed out here (the process stalled, or
an answer crossed the timeout). When such a copy waited longer than the ack wait, the server
has meanwhile redelivered the same stream sequence, and both copies come back: in one batch, or
in the batches of two fetch loops. The server keeps one pending entry per stream sequence; an
ack or a progress report through any copy's reply subject acts on it, but a nak through a copy
older than the latest delivery is ignored (nats-server `processNak` checks the delivery
sequence), and a copy handled twice is work done twice. So the subscription keeps a ledger:

- copies of one sequence in one fetch collapse into the newest (highest delivery count);
- a sequence handed out and not yet released is not handed out again: a newer copy replaces the
  older one inside the delivery already handed out, so its ack, nak and progress reports go
  through the live delivery;
- a copy of a sequence this subscription acknowledged lately is a leftover: acknowledged again
  (harmless, and it mends an ack the server never got) and not handed out;
- a copy no newer than one handed out before and released unacknowledged (nak'd) is stale and
  dropped: the server delivers that sequence again when it is due.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import TypeVar

import nats.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from tally.sdk._broker import Delivery, Subscription
from tally.sdk._nats_errors import UNAVAILABLE

V = TypeVar("V")

# The most messages one durable consumer may have delivered and not yet acknowledged.
MAX_ACK_PENDING = 20_000
# How many settled sequences the ledger remembers, in batches of the largest batch fetched.
# Leftover copies of a sequence come from fetch requests answered while this process was not
# reading (at most one batch per fetch loop) and arrive within the next fetches after the
# stall, before more than a few batches are acknowledged: nothing is acknowledged while the
# process stalls.
_MEMORY_BATCHES = 4


class NatsDelivery:
    """One stream message handed out; `msg` is its latest delivery, replaced by newer copies."""

    def __init__(self, msg: Msg) -> None:
        self.msg = msg
        metadata = msg.metadata
        self._seq = metadata.sequence.stream
        self._delivered = metadata.num_delivered
        self.consumer_seq = metadata.sequence.consumer

    def replace(self, newer: Msg) -> None:
        """Act through `newer` from now on, if it is a later delivery of the same message."""
        metadata = newer.metadata
        if metadata.sequence.consumer > self.consumer_seq:
            self.msg = newer
            self._delivered = metadata.num_delivered
            self.consumer_seq = metadata.sequence.consumer

    @property
    def subject(self) -> str:
        return self.msg.subject

    @property
    def data(self) -> bytes:
        return self.msg.data

    @property
    def headers(self) -> Mapping[str, str]:
        return self.msg.headers or {}

    @property
    def delivered(self) -> int:
        return self._delivered

    @property
    def stream_seq(self) -> int:
        return self._seq

    async def nak(self, delay: float) -> None:
        await self.msg.nak(delay=delay)

    async def in_progress(self) -> None:
        await self.msg.in_progress()


class _Ledger:
    """Per stream sequence: handed out, acknowledged, or released unacknowledged."""

    def __init__(self) -> None:
        self.memory = 0  # settled sequences remembered; grows with the batches asked for
        self.out: dict[int, NatsDelivery] = {}
        self.acked: OrderedDict[int, None] = OrderedDict()
        # sequence → consumer sequence of the copy that was handed out last
        self.released: OrderedDict[int, int] = OrderedDict()

    def admit(self, msgs: Sequence[Msg]) -> tuple[list[NatsDelivery], list[Msg]]:
        """The deliveries to hand out, and the leftovers of acknowledged sequences."""
        fresh: dict[int, NatsDelivery] = {}
        leftovers: list[Msg] = []
        for msg in msgs:
            metadata = msg.metadata
            seq, consumer_seq = metadata.sequence.stream, metadata.sequence.consumer
            held = self.out.get(seq) or fresh.get(seq)
            if held is not None:
                held.replace(msg)
            elif seq in self.acked:
                leftovers.append(msg)
            elif consumer_seq > self.released.get(seq, 0):
                fresh[seq] = NatsDelivery(msg)
        self.out.update(fresh)
        return list(fresh.values()), leftovers

    def settle(self, deliveries: Sequence[NatsDelivery]) -> None:
        for delivery in deliveries:
            self._remember(self.acked, delivery.stream_seq, None)
            self.released.pop(delivery.stream_seq, None)

    def release(self, deliveries: Sequence[NatsDelivery]) -> None:
        for delivery in deliveries:
            seq = delivery.stream_seq
            if self.out.get(seq) is delivery:
                del self.out[seq]
                if seq not in self.acked:
                    self._remember(self.released, seq, delivery.consumer_seq)

    def _remember(self, memory: OrderedDict[int, V], key: int, value: V) -> None:
        memory[key] = value
        memory.move_to_end(key)
        while len(memory) > self.memory:
            memory.popitem(last=False)


class NatsSubscription(Subscription):
    """A nats-py pull subscription bound to a durable, with the ledger described above."""

    def __init__(self, client: Client, sub: JetStreamContext.PullSubscription) -> None:
        self._client = client
        self._sub = sub
        self._ledger = _Ledger()
        # Admitted beyond the batch asked for (the local queue held more): next fetch's first.
        self._held: list[NatsDelivery] = []

    async def fetch(self, batch: int, max_wait: float) -> Sequence[Delivery]:
        self._ledger.memory = max(self._ledger.memory, _MEMORY_BATCHES * batch)
        if len(self._held) < batch:
            try:
                msgs = await self._sub.fetch(batch - len(self._held), timeout=max_wait)
            except TimeoutError:  # nats-py raises its own subclass, or asyncio.TimeoutError
                msgs = []
            fresh, leftovers = self._ledger.admit(msgs)
            self._held.extend(fresh)
            await self._ack_again(leftovers)
        handed, self._held = self._held[:batch], self._held[batch:]
        return handed

    async def ack(self, deliveries: Sequence[Delivery]) -> None:
        ours = [_ours(delivery) for delivery in deliveries]
        for delivery in ours:
            await delivery.msg.ack()
        # Acks are fire-and-forget publishes; one flush per batch makes sure the server has
        # them before we report the batch done (and before a graceful exit).
        await self._client.flush()
        self._ledger.settle(ours)

    def release(self, deliveries: Sequence[Delivery]) -> None:
        self._ledger.release([_ours(delivery) for delivery in deliveries])

    async def pending(self) -> int:
        info = await self._sub.consumer_info()
        return int(info.num_pending or 0) + int(info.num_ack_pending or 0)

    async def close(self) -> None:
        with contextlib.suppress(
            nats.errors.ConnectionClosedError, nats.errors.BadSubscriptionError
        ):
            await self._sub.unsubscribe()

    async def _ack_again(self, leftovers: Sequence[Msg]) -> None:
        # Best effort: the server has the first ack unless the connection dropped, and then it
        # delivers the message again, which is acknowledged again here.
        with contextlib.suppress(*UNAVAILABLE):
            for msg in leftovers:
                await msg.ack()


def _ours(delivery: Delivery) -> NatsDelivery:
    assert isinstance(delivery, NatsDelivery), "a delivery of another broker"
    return delivery

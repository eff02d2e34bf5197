"""The broker for real: NATS JetStream through nats-py.

Streams and durable pull consumers are declared from code and created or updated at every
start, so a deploy never depends on someone having run `nats stream add`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext, api

from tally.sdk._broker import (
    MSG_ID_HEADER,
    Broker,
    Delivery,
    Published,
    StoredMessage,
    Subscription,
)
from tally.sdk._errors import InfrastructureError
from tally.sdk._topics import Stream


class BrokerUnavailable(InfrastructureError):
    """The broker did not confirm storage; the caller should retry later (HTTP 503)."""


# What nats-py raises when the server is away or does not answer in time.
_UNAVAILABLE = (
    nats.errors.NoRespondersError,
    nats.errors.ConnectionClosedError,
    nats.errors.ConnectionReconnectingError,
    nats.errors.OutboundBufferLimitError,
    nats.errors.StaleConnectionError,
    nats.js.errors.NoStreamResponseError,
    TimeoutError,  # nats-py's own TimeoutError is a subclass
    OSError,
)


class _NatsDelivery:
    def __init__(self, msg: Msg) -> None:
        self.msg = msg
        metadata = msg.metadata
        self._delivered = metadata.num_delivered
        self._seq = metadata.sequence.stream

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


class _NatsSubscription(Subscription):
    def __init__(self, client: Client, sub: JetStreamContext.PullSubscription) -> None:
        self._client = client
        self._sub = sub

    async def fetch(self, batch: int, max_wait: float) -> Sequence[Delivery]:
        try:
            msgs = await self._sub.fetch(batch, timeout=max_wait)
        except TimeoutError:  # nats-py raises its own subclass, or asyncio.TimeoutError itself
            return []
        return [_NatsDelivery(msg) for msg in msgs]

    async def ack(self, deliveries: Sequence[Delivery]) -> None:
        for delivery in deliveries:
            assert isinstance(delivery, _NatsDelivery)
            await delivery.msg.ack()
        # Acks are fire-and-forget publishes; one flush per batch makes sure the server has
        # them before we report the batch done (and before a graceful exit).
        await self._client.flush()

    async def pending(self) -> int:
        info = await self._sub.consumer_info()
        return int(info.num_pending or 0) + int(info.num_ack_pending or 0)

    async def close(self) -> None:
        with contextlib.suppress(
            nats.errors.ConnectionClosedError, nats.errors.BadSubscriptionError
        ):
            await self._sub.unsubscribe()


class NatsBroker(Broker):
    """JetStream through one nats-py connection per process (it multiplexes everything)."""

    def __init__(self, client: Client, *, publish_timeout: float = 5.0) -> None:
        self._client = client
        self._js = client.jetstream(timeout=publish_timeout)
        self._publish_timeout = publish_timeout

    @classmethod
    async def connect(cls, url: str, *, name: str = "tally") -> NatsBroker:
        """Connect, and keep reconnecting forever: JetStream buffers while we are away."""
        try:
            client = await nats.connect(
                url,
                name=name,
                connect_timeout=5,
                max_reconnect_attempts=-1,
                reconnect_time_wait=0.5,
                allow_reconnect=True,
            )
        except (*_UNAVAILABLE, nats.errors.NoServersError) as error:
            raise BrokerUnavailable(f"cannot reach NATS at {url}: {error!r}") from error
        return cls(client, publish_timeout=5.0)

    @property
    def connected(self) -> bool:
        return bool(self._client.is_connected)

    @property
    def max_payload(self) -> int:
        # From the server's INFO on connecting (1 MiB unless its configuration says otherwise).
        return int(self._client.max_payload)

    @property
    def client(self) -> Client:
        return self._client

    async def ensure_stream(self, stream: Stream) -> None:
        config = api.StreamConfig(
            name=stream.name,
            subjects=list(stream.subjects),
            retention=api.RetentionPolicy.LIMITS,
            storage=api.StorageType.FILE,
            max_age=stream.max_age_seconds,
            duplicate_window=stream.duplicate_window_seconds,
            num_replicas=stream.replicas,
        )
        try:
            await self._js.stream_info(stream.name)
        except nats.js.errors.NotFoundError:
            await self._js.add_stream(config)
            return
        await self._js.update_stream(config)

    async def publish_bytes(
        self,
        subject: str,
        data: bytes,
        *,
        msg_id: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Published:
        sent_headers = dict(headers or {})
        if msg_id is not None:
            sent_headers[MSG_ID_HEADER] = msg_id
        try:
            ack = await self._js.publish(
                subject, data, timeout=self._publish_timeout, headers=sent_headers or None
            )
        except _UNAVAILABLE as error:
            raise BrokerUnavailable(f"JetStream did not confirm {subject}: {error!r}") from error
        return Published(ack.stream, ack.seq, duplicate=bool(ack.duplicate))

    async def subscribe(
        self, stream: Stream, durable: str, filter_subject: str, *, ack_wait: float
    ) -> Subscription:
        config = api.ConsumerConfig(
            durable_name=durable,
            ack_policy=api.AckPolicy.EXPLICIT,
            ack_wait=ack_wait,
            # The SDK counts deliveries itself and dead-letters; JetStream must never give up
            # on a message silently.
            max_deliver=-1,
            filter_subject=filter_subject,
            max_ack_pending=20_000,
            deliver_policy=api.DeliverPolicy.ALL,
        )
        # Without an action JetStream creates the consumer or updates its editable fields.
        await self._js.add_consumer(stream.name, config)
        sub = await self._js.pull_subscribe_bind(durable=durable, stream=stream.name)
        return _NatsSubscription(self._client, sub)

    async def browse(
        self, stream: Stream, subject_filter: str, *, limit: int = 10_000
    ) -> list[StoredMessage]:
        # An ephemeral consumer reads without disturbing the durable ones, then goes away.
        sub = await self._js.pull_subscribe(
            subject_filter,
            stream=stream.name,
            config=api.ConsumerConfig(
                ack_policy=api.AckPolicy.NONE,
                inactive_threshold=30.0,
                deliver_policy=api.DeliverPolicy.ALL,
            ),
        )
        found: list[StoredMessage] = []
        try:
            while len(found) < limit:
                try:
                    msgs = await sub.fetch(min(500, limit - len(found)), timeout=0.5)
                except TimeoutError:  # nats-py raises its own subclass or the builtin
                    break
                found.extend(
                    StoredMessage(m.subject, m.data, m.headers or {}, m.metadata.sequence.stream)
                    for m in msgs
                )
        finally:
            await sub.unsubscribe()
        return found

    async def close(self) -> None:
        if not self._client.is_closed:
            try:
                await self._client.drain()
            except _UNAVAILABLE:
                await self._client.close()

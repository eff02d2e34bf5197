"""The broker for real: NATS JetStream through nats-py.

Streams and their durable consumers are declared from code and created or updated at every
start, so a deploy never depends on someone having run `nats stream add`. Every stream refuses
a publish when full (discard=new) instead of dropping older messages, and holds at most
`StreamLimits.max_bytes`; its replicas come from `StreamLimits.replicas` too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.js import api

from tally.sdk._broker import MSG_ID_HEADER, Broker, Published, StoredMessage, Subscription
from tally.sdk._errors import BrokerUnavailable
from tally.sdk._log_limiter import LogLimiter
from tally.sdk._nats_errors import UNAVAILABLE, refusal
from tally.sdk._nats_subscription import MAX_ACK_PENDING, NatsSubscription
from tally.sdk._secrets import redact_url
from tally.sdk._topics import Stream, StreamLimits

_log = logging.getLogger("tally.sdk.broker")
_RETENTION = {"limits": api.RetentionPolicy.LIMITS, "interest": api.RetentionPolicy.INTEREST}
# What a declared consumer starts with until its service first subscribes and sets its own.
_DEFAULT_ACK_WAIT = 30.0


class NatsBroker(Broker):
    """JetStream through one nats-py connection per process (it multiplexes everything).

    `limits` are the deployment's `StreamLimits`, applied to every stream this broker declares.
    Without them (a command-line tool, a test) a new stream gets one replica and no byte limit,
    and an existing stream keeps the limits it has.
    """

    def __init__(
        self,
        client: Client,
        *,
        publish_timeout: float = 5.0,
        limits: StreamLimits | None = None,
    ) -> None:
        self._client = client
        self._js = client.jetstream(timeout=publish_timeout)
        self._publish_timeout = publish_timeout
        self._limits = limits

    @classmethod
    async def connect(
        cls,
        url: str,
        *,
        name: str = "tally",
        limits: StreamLimits | None = None,
        publish_timeout: float = 5.0,
        connect_seconds: float = 30.0,
    ) -> NatsBroker:
        """Connect within `connect_seconds`, then keep reconnecting forever: JetStream buffers
        while we are away. `BrokerUnavailable` names the URL (without its password) when no
        server answered in time.

        `url` may list several servers of a cluster, separated by commas."""
        servers = [server.strip() for server in url.split(",") if server.strip()]
        log = _ConnectionLog()
        client = Client()
        options: dict[str, Any] = {
            "name": name,
            "connect_timeout": min(5, max(1, round(connect_seconds))),
            "max_reconnect_attempts": -1,
            "reconnect_time_wait": 0.5,
            "allow_reconnect": True,
            "error_cb": log.trouble,
            "disconnected_cb": log.disconnected,
            "reconnected_cb": log.reconnected,
        }
        try:
            # nats-py's own first connect never gives up when reconnecting is unlimited (it
            # goes round the server list for ever), so the deadline is ours.
            async with asyncio.timeout(connect_seconds):
                await client.connect(servers, **options)
        except (*UNAVAILABLE, nats.errors.NoServersError) as error:  # TimeoutError included
            with contextlib.suppress(Exception):
                await client.close()
            last = log.last_error or error
            raise BrokerUnavailable(
                f"cannot reach NATS at {redact_url(url)} within {connect_seconds:g} s: {last!r}"
            ) from error
        log.client = client
        return cls(client, publish_timeout=publish_timeout, limits=limits)

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
        """Create or update the stream, and create each declared consumer that is missing.

        A consumer that exists is left as its own service last configured it. The consumers of
        an existing stream are created before its configuration changes: switched to interest
        retention, a stream drops at once whatever no consumer is interested in."""
        try:
            try:
                current: api.StreamConfig | None = (await self._js.stream_info(stream.name)).config
            except nats.js.errors.NotFoundError:
                current = None
            config = self._stream_config(stream, current)
            if current is None:
                await self._js.add_stream(config)
            for durable in stream.consumers:
                await self._ensure_consumer(stream, durable)
            if current is not None:
                await self._js.update_stream(config)
        except nats.js.errors.APIError as error:
            refused = refusal(error, f"to keep stream {stream.name} ({self._limits_text(stream)})")
            if refused is None:
                raise
            raise refused from error
        except UNAVAILABLE as error:
            raise BrokerUnavailable(f"cannot declare stream {stream.name}: {error!r}") from error

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
        except nats.js.errors.APIError as error:
            refused = refusal(error, f"a message on {subject}")
            if refused is None:
                raise
            raise refused from error
        except UNAVAILABLE as error:
            raise BrokerUnavailable(f"JetStream did not confirm {subject}: {error!r}") from error
        return Published(ack.stream, ack.seq, duplicate=bool(ack.duplicate))

    async def subscribe(
        self, stream: Stream, durable: str, filter_subject: str, *, ack_wait: float
    ) -> Subscription:
        stream.require_consumer(durable)
        # Without an action JetStream creates the consumer or updates its editable fields.
        await self._js.add_consumer(stream.name, _durable(durable, filter_subject, ack_wait))
        sub = await self._js.pull_subscribe_bind(durable=durable, stream=stream.name)
        return NatsSubscription(self._client, sub)

    async def browse(
        self, stream: Stream, subject_filter: str, *, limit: int = 10_000
    ) -> list[StoredMessage]:
        # Read message by message, with no consumer: a consumer, even an ephemeral one, would
        # hold messages of an interest stream for as long as it lives.
        found: list[StoredMessage] = []
        seq = 1
        while len(found) < limit:
            try:
                raw = await self._js.get_msg(stream.name, seq, subject=subject_filter, next=True)
            except nats.js.errors.NotFoundError:  # no further message, or no such stream
                break
            stored_seq, subject = raw.seq or seq, raw.subject or ""
            found.append(StoredMessage(subject, raw.data or b"", raw.headers or {}, stored_seq))
            seq = stored_seq + 1
        return found

    async def close(self) -> None:
        if not self._client.is_closed:
            try:
                await self._client.drain()
            except UNAVAILABLE:
                await self._client.close()

    def _stream_config(self, stream: Stream, current: api.StreamConfig | None) -> api.StreamConfig:
        if self._limits is not None:
            replicas, max_bytes = self._limits.replicas, self._limits.max_bytes or -1
        elif current is not None:
            replicas, max_bytes = current.num_replicas or 1, current.max_bytes or -1
        else:
            replicas, max_bytes = 1, -1
        return api.StreamConfig(
            name=stream.name,
            subjects=list(stream.subjects),
            retention=_RETENTION[stream.retention],
            storage=api.StorageType.FILE,
            # Full means refuse what comes, never drop what was accepted.
            discard=api.DiscardPolicy.NEW,
            max_bytes=max_bytes,
            max_age=stream.max_age_seconds,
            duplicate_window=stream.duplicate_window_seconds,
            num_replicas=replicas,
        )

    async def _ensure_consumer(self, stream: Stream, durable: str) -> None:
        try:
            await self._js.consumer_info(stream.name, durable)
        except nats.js.errors.NotFoundError:
            # No filter yet: it keeps everything the stream stores until its service narrows it.
            await self._js.add_consumer(stream.name, _durable(durable, None, _DEFAULT_ACK_WAIT))

    def _limits_text(self, stream: Stream) -> str:
        if self._limits is None:
            return "with the limits it has"
        limits = self._limits
        size = "no byte limit" if limits.max_bytes is None else f"max_bytes={limits.max_bytes}"
        return (
            f"{size} and {limits.replicas} replicas; lower TALLY_STREAM_MAX_BYTES or give the "
            "server a larger JetStream store (max_file_store)"
        )


class _ConnectionLog:
    """What happens to the connection, as warnings: nats-py's default logs every failed
    reconnect attempt as an ERROR with a traceback, but a server away (restarting, a cluster
    node down) is a condition the client rides out, not a fault."""

    def __init__(self) -> None:
        self.client: Client | None = None
        self.last_error: Exception | None = None
        # A server away fails every reconnect alike, twice a second.
        self._repeats = LogLimiter(_log)

    async def trouble(self, error: Exception) -> None:
        self.last_error = error
        self._repeats.warning(("trouble", type(error).__name__), "NATS connection: %r", error)

    async def disconnected(self) -> None:
        if self.client is not None and not self.client.is_closed:  # not our own close
            _log.warning("disconnected from NATS; reconnecting (JetStream keeps the messages)")

    async def reconnected(self) -> None:
        _log.info("reconnected to NATS")


def _durable(name: str, filter_subject: str | None, ack_wait: float) -> api.ConsumerConfig:
    return api.ConsumerConfig(
        durable_name=name,
        ack_policy=api.AckPolicy.EXPLICIT,
        ack_wait=ack_wait,
        # The SDK counts deliveries itself and dead-letters; JetStream must never give up on a
        # message silently.
        max_deliver=-1,
        filter_subject=filter_subject,
        max_ack_pending=MAX_ACK_PENDING,
        deliver_policy=api.DeliverPolicy.ALL,
    )

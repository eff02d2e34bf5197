"""Running a declared consumer: fetch batches, decode, call the handler, settle every message.

Every message ends in exactly one of: acknowledged after its handler returned, handed back for
redelivery with a delay, or stored in the dead-letter stream and then acknowledged. Nothing is
acknowledged before the work it stands for is done, so a crash at any point means redelivery,
never loss; handlers make redelivery harmless by being idempotent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Sequence
from typing import Generic, TypeVar

import msgspec

from tally.sdk._broker import MSG_ID_HEADER, Broker, Delivery, Subscription
from tally.sdk._consumer import Consumer, Envelope
from tally.sdk._errors import Reject
from tally.sdk._log_limiter import LogLimiter
from tally.sdk._logs import log_context
from tally.sdk._metrics import ServiceMetrics

T = TypeVar("T", bound=msgspec.Struct)
D = TypeVar("D")

_log = logging.getLogger("tally.sdk.consumer")
_LAG_INTERVAL = 2.0


class ConsumerLoop(Generic[D, T]):
    """Drives one `Consumer` with `concurrency` fetch loops until asked to stop."""

    def __init__(
        self, consumer: Consumer[D, T], deps: D, broker: Broker, metrics: ServiceMetrics
    ) -> None:
        self.consumer = consumer
        self._deps = deps
        self._broker = broker
        self._metrics = metrics
        self._decoder = msgspec.json.Decoder(consumer.topic.type)
        # An outage fails every message alike: one line per kind of failure, repeats counted.
        self._repeats = LogLimiter(_log)
        self.running = False

    async def run(self, stopping: asyncio.Event) -> None:
        """Consume until `stopping` is set; batches in flight then finish and are settled."""
        consumer = self.consumer
        subscription = await self._broker.subscribe(
            consumer.topic.stream,
            consumer.name,
            consumer.topic.filter(),
            ack_wait=consumer.ack_wait,
        )
        self.running = True
        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(consumer.concurrency):
                    group.create_task(self._fetch_loop(subscription, stopping))
                group.create_task(self._lag_loop(subscription, stopping))
        finally:
            self.running = False
            self._repeats.flush()
            await subscription.close()

    async def _fetch_loop(self, subscription: Subscription, stopping: asyncio.Event) -> None:
        consumer = self.consumer
        while not stopping.is_set():
            try:
                deliveries = await subscription.fetch(consumer.batch_size, consumer.max_wait)
            except Exception:
                # The broker is away (reconnecting); JetStream keeps the messages meanwhile.
                self._repeats.warning(
                    ("fetch", consumer.name),
                    "consumer %s: fetch failed; retrying",
                    consumer.name,
                    exc_info=True,
                )
                await _sleep_unless(stopping, 1.0)
                continue
            if not deliveries:
                continue
            try:
                # Shielded: a stop request lets the batch finish and be acknowledged.
                await asyncio.shield(self._process(subscription, deliveries))
            except Exception:
                # Settling failed (the broker went away mid-batch). Whatever was not
                # acknowledged comes back after the ack wait; the handlers are idempotent.
                self._repeats.error(
                    ("settle", consumer.name),
                    "consumer %s: batch could not be settled; it will be redelivered",
                    consumer.name,
                    exc_info=True,
                )
                await _sleep_unless(stopping, 1.0)

    async def _lag_loop(self, subscription: Subscription, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            with contextlib.suppress(Exception):
                lag = await subscription.pending()
                self._metrics.lag.labels(self.consumer.name).set(lag)
            await _sleep_unless(stopping, _LAG_INTERVAL)

    async def _process(self, subscription: Subscription, deliveries: Sequence[Delivery]) -> None:
        """Decode a fetched batch, dead-letter what cannot decode, hand the rest over."""
        envelopes: list[Envelope[T]] = []
        by_seq: dict[int, Delivery] = {}
        for delivery in deliveries:
            envelope = await self._decode(subscription, delivery)
            if envelope is not None:
                envelopes.append(envelope)
                by_seq[delivery.stream_seq] = delivery
        if envelopes:
            await self._handle(subscription, envelopes, by_seq)

    async def _decode(self, subscription: Subscription, delivery: Delivery) -> Envelope[T] | None:
        topic = self.consumer.topic
        tenant = topic.tenant_of(delivery.subject)
        try:
            message = self._decoder.decode(delivery.data)
        except msgspec.DecodeError as error:
            await self._dead_letter(
                subscription,
                delivery,
                tenant,
                f"undecodable {topic.type.__name__}: {error}",
                kind="undecodable",
            )
            return None
        message_tenant = getattr(message, "tenant", None)
        if tenant is None or message_tenant != tenant:
            await self._dead_letter(
                subscription,
                delivery,
                tenant,
                f"tenant {message_tenant!r} in the message does not match the subject "
                f"{delivery.subject}",
                kind="foreign tenant",
            )
            return None
        return Envelope(
            message=message,
            subject=delivery.subject,
            tenant=tenant,
            msg_id=delivery.headers.get(MSG_ID_HEADER),
            delivered=delivery.delivered,
            stream_seq=delivery.stream_seq,
        )

    async def _handle(
        self,
        subscription: Subscription,
        envelopes: list[Envelope[T]],
        by_seq: dict[int, Delivery],
    ) -> None:
        consumer = self.consumer
        name = consumer.name
        self._metrics.batch_size.labels(name).observe(len(envelopes))
        deliveries = [by_seq[e.stream_seq] for e in envelopes]
        started = time.perf_counter()
        try:
            async with _keep_alive(deliveries, consumer.ack_wait, self._repeats):
                tenants = {e.tenant for e in envelopes}
                single = tenants.pop() if len(tenants) == 1 else None
                with log_context(consumer=name, tenant=single):
                    await consumer.handler(self._deps, envelopes)
        except Exception as error:
            self._metrics.handler_seconds.labels(name).observe(time.perf_counter() - started)
            await self._after_failure(subscription, envelopes, by_seq, error)
            return
        self._metrics.handler_seconds.labels(name).observe(time.perf_counter() - started)
        await subscription.ack(deliveries)
        for envelope in envelopes:
            self._metrics.handled.labels(name, envelope.tenant).inc()

    async def _after_failure(
        self,
        subscription: Subscription,
        envelopes: list[Envelope[T]],
        by_seq: dict[int, Delivery],
        error: Exception,
    ) -> None:
        if len(envelopes) > 1 and (
            isinstance(error, Reject) or any(e.delivered > 1 for e in envelopes)
        ):
            # Find the culprit: the batch's work was rolled back, so each message alone is a
            # clean retry. A first ordinary failure is likelier transient (database away), and
            # the whole batch waits for redelivery instead. The messages waiting their turn are
            # kept alive too, or a long split would outlast the ack wait and race a redelivery.
            waiting = [by_seq[e.stream_seq] for e in envelopes]
            async with _keep_alive(waiting, self.consumer.ack_wait, self._repeats):
                for envelope in envelopes:
                    del waiting[0]  # from here on, its own handling keeps it alive
                    await self._handle(subscription, [envelope], by_seq)
            return
        for envelope in envelopes:
            delivery = by_seq[envelope.stream_seq]
            with log_context(
                consumer=self.consumer.name, tenant=envelope.tenant, msg_id=envelope.msg_id
            ):
                await self._settle_failed(subscription, delivery, envelope.tenant, error)

    async def _settle_failed(
        self, subscription: Subscription, delivery: Delivery, tenant: str, error: Exception
    ) -> None:
        consumer = self.consumer
        if isinstance(error, Reject):
            await self._dead_letter(subscription, delivery, tenant, error.reason, kind="rejected")
        elif delivery.delivered >= consumer.max_deliver:
            await self._dead_letter(
                subscription,
                delivery,
                tenant,
                f"failed {delivery.delivered} times, last: {type(error).__name__}: {error}",
                kind=f"gave up after {type(error).__name__}",
            )
        else:
            delay = consumer.backoff.delay(delivery.delivered)
            # Keyed by what failed, not by message: a database outage is one line per window.
            self._repeats.warning(
                ("retry", consumer.name, type(error).__name__),
                "consumer %s: handler failed; redelivery in %.2fs (attempt %d of %d): %r",
                consumer.name,
                delay,
                delivery.delivered,
                consumer.max_deliver,
                error,
            )
            await delivery.nak(delay)
            self._metrics.retried.labels(consumer.name, tenant).inc()

    async def _dead_letter(
        self,
        subscription: Subscription,
        delivery: Delivery,
        tenant: str | None,
        reason: str,
        *,
        kind: str,
    ) -> None:
        name = self.consumer.name
        # Each reason is kept with its message in the dead-letter stream (`tally dead-letters`);
        # the log says that it happens, one line per kind and window.
        self._repeats.error(
            ("dead letter", name, kind),
            "consumer %s: dead-lettering stream seq %d: %s",
            name,
            delivery.stream_seq,
            reason,
        )
        # Stored first, acknowledged second: a crash in between repeats the dead letter under
        # the same id, which the broker drops.
        await self._broker.dead_letter(delivery, consumer=name, tenant=tenant, reason=reason)
        await subscription.ack([delivery])
        self._metrics.dead_lettered.labels(name, tenant or "_unknown").inc()


@contextlib.asynccontextmanager
async def _keep_alive(
    deliveries: Sequence[Delivery], ack_wait: float, repeats: LogLimiter
) -> AsyncIterator[None]:
    """Tell the broker the `deliveries` (a list the caller may shrink) are still being worked on,
    so a slow handler is not raced by a redelivery of the same messages to another worker."""

    async def beat() -> None:
        while True:
            await asyncio.sleep(ack_wait / 3)
            try:
                for delivery in list(deliveries):
                    await delivery.in_progress()
            except Exception:
                # The broker away for a moment must not end the beats for the rest of the batch.
                repeats.warning(
                    ("progress",), "could not report progress; trying again", exc_info=True
                )

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _sleep_unless(stopping: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), seconds)

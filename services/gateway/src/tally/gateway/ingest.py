"""The ingest core: authenticate → decode → size-check → rate-limit → publish, without a
transport.

    ingest = Ingest(broker=..., tokens=..., limits=..., uploads=..., metrics=..., repeats=...)
    machine = await ingest.authenticate(token)            # or identify(token_hash(token))
    result = await ingest.accept(machine, payload, "application/msgpack")

Bytes, a media type and a machine's token in; an `UploadResult` out, once the broker has stored
every message — or a `Refused` (tally.gateway.refusals) saying why nothing was stored. HTTP is
one edge over it (tally.gateway.service); MQTT can be another. The tenant and machine of every
published `Telemetry` come from the token, never from the body.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from tally.contracts import TELEMETRY, Telemetry, Upload, UploadResult
from tally.gateway.auth import MachineTokens, TokensUnavailable
from tally.gateway.limits import TenantLimits
from tally.gateway.metrics import GatewayMetrics
from tally.gateway.queries import MachineIdentity
from tally.gateway.refusals import (
    Unavailable,
    message_too_large,
    rate_limited,
    unauthenticated,
    unavailable,
)
from tally.gateway.uploads import UploadReader
from tally.sdk import Broker, BrokerFull, BrokerUnavailable, LogLimiter, token_hash

# A full store empties as fast as the recorder stores; retrying sooner only adds load.
_FULL_RETRY_AFTER = 5
# Longer is no token we issued; refusing it spares hashing and a database round trip.
_MAX_TOKEN_LENGTH = 512
UNKNOWN_TOKEN = (
    "unknown or revoked machine token; have an administrator issue the machine a new one "
    "(tally admin token issue TENANT MACHINE)"
)


@dataclass(frozen=True)
class Ingest:
    """The path from a machine's bytes to the broker; see the module docstring."""

    broker: Broker
    tokens: MachineTokens
    limits: TenantLimits
    uploads: UploadReader
    metrics: GatewayMetrics
    # An outage fails every message alike: one line per kind and window.
    repeats: LogLimiter

    async def authenticate(self, token: str | None) -> MachineIdentity:
        """The machine `token` names; `Unauthenticated` or `Unavailable` otherwise."""
        if not token:
            raise unauthenticated("send the machine's token")
        if len(token) > _MAX_TOKEN_LENGTH:
            raise unauthenticated(UNKNOWN_TOKEN)
        return await self.identify(token_hash(token))

    async def identify(self, token_sha256: bytes) -> MachineIdentity:
        """The machine of the token with this hash; `Unauthenticated` when it is unknown or
        revoked, `Unavailable` when that cannot be told right now."""
        try:
            machine = await self.tokens.identify(token_sha256)
        except TokensUnavailable as error:
            raise unavailable(str(error)) from None
        if machine is None:
            raise unauthenticated(UNKNOWN_TOKEN)
        return machine

    async def upload(
        self, token: str | None, payload: bytes, media_type: str | None
    ) -> UploadResult:
        """`authenticate`, then `accept`: for an edge that hands the token over as it is."""
        return await self.accept(await self.authenticate(token), payload, media_type)

    async def accept(
        self, machine: MachineIdentity, payload: bytes, media_type: str | None
    ) -> UploadResult:
        """Store every message of the upload in `payload` under `machine`; nothing of it when
        `Refused`."""
        upload = self.uploads.read(payload, media_type)
        return await self._publish(machine, upload)

    async def _publish(self, machine: MachineIdentity, upload: Upload) -> UploadResult:
        messages = upload.messages
        tenant = machine.tenant
        datapoints = sum(len(m.signals) for m in messages)
        outgoing = [
            self.broker.outgoing(TELEMETRY, Telemetry.of(machine.tenant, machine.machine, m))
            for m in messages
        ]
        # Every message must fit before any is published (a refused upload stores nothing), and
        # before the tenant's budget is spent on it.
        limit = self.broker.message_limit
        for index, encoded in enumerate(outgoing):
            if encoded.size > limit:
                raise message_too_large(index, encoded.size, limit, len(messages[index].signals))
        wait = self.limits.take(tenant, machine.rate_per_second, datapoints)
        if wait:
            raise rate_limited(tenant, self.limits.rate(machine.rate_per_second), wait)
        # All settle before we answer, so a refusal is never followed by stores from this upload.
        receipts = await asyncio.gather(
            *(self.broker.publish_outgoing(encoded) for encoded in outgoing),
            return_exceptions=True,
        )
        duplicates = 0
        for message, receipt in zip(messages, receipts, strict=True):
            if isinstance(receipt, BaseException):
                if not isinstance(receipt, BrokerUnavailable):
                    raise receipt
                raise self._unconfirmed(receipt)
            if receipt.duplicate:
                duplicates += 1
                datapoints -= len(message.signals)
        accepted = len(messages) - duplicates
        counters = self.metrics.of(tenant)
        counters.accepted.inc(accepted)
        if duplicates:
            counters.duplicates(self.metrics).inc(duplicates)
        counters.datapoints.inc(datapoints)
        return UploadResult(accepted=accepted, duplicates=duplicates)

    def _unconfirmed(self, error: BrokerUnavailable) -> Unavailable:
        self.repeats.warning(
            ("broker", type(error).__name__), "broker did not confirm a message: %s", error
        )
        # Whatever was stored stays: the machine sends the upload again, and the broker drops
        # the repeated identities.
        if isinstance(error, BrokerFull):
            return unavailable(
                "the broker's store is full until its consumers catch up",
                retry_after=_FULL_RETRY_AFTER,
            )
        return unavailable("the broker did not confirm storage")

"""The gateway: machines → broker. Authenticate, validate, publish, and answer only once stored.

    POST /v1/telemetry   an `Upload` (JSON or MessagePack) with `Authorization: Bearer <token>`
    GET  /openapi.json   the OpenAPI document of the above

The tenant and machine of every published `Telemetry` come from the token, never from the body,
so a machine cannot publish under another tenant or machine. The database is read only to look
up tokens (cached, and told of every change to a token at once); nothing is written on the hot
path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from tally.contracts import TELEMETRY, MachineMessage, Telemetry, Upload, UploadResult
from tally.gateway.auth import MachineTokens, TokensUnavailable, authenticate
from tally.gateway.limits import TenantLimits
from tally.gateway.metrics import GatewayMetrics
from tally.gateway.openapi import openapi_document
from tally.gateway.problems import message_too_large, rate_limited
from tally.gateway.queries import TOKEN_CHANGES, MachineIdentity, machine_of_token
from tally.gateway.settings import GatewaySettings
from tally.gateway.uploads import UploadReader
from tally.sdk import (
    Broker,
    BrokerFull,
    BrokerUnavailable,
    DatabaseRuntime,
    LogLimiter,
    Rejected,
    Service,
    Tx,
    log_context,
    unavailable,
)

_log = logging.getLogger("tally.gateway")
# Bad tokens and rate limits come in floods; broken payloads are a machine worth looking at.
_REFUSAL_LOG_LEVELS = {401: logging.DEBUG, 429: logging.DEBUG, 503: logging.WARNING}
# A full store empties as fast as the recorder stores; retrying sooner only adds load.
_FULL_RETRY_AFTER = 5


@dataclass(frozen=True)
class GatewayDeps:
    """What the routes share, built once at start-up."""

    broker: Broker
    tokens: MachineTokens
    uploads: UploadReader
    limits: TenantLimits
    metrics: GatewayMetrics
    openapi: bytes
    # An outage refuses every request alike: one line per kind of refusal and window.
    repeats: LogLimiter


@asynccontextmanager
async def gateway_deps(
    runtime: DatabaseRuntime, settings: GatewaySettings
) -> AsyncIterator[GatewayDeps]:
    database = runtime.database

    async def lookup(token_sha256: bytes) -> MachineIdentity | None:
        async def work(tx: Tx) -> MachineIdentity | None:
            return await tx.fetch_optional(machine_of_token(token_sha256))

        return await database.transaction(work, readonly=True)

    tokens = MachineTokens(
        lookup,
        ttl=settings.token_ttl_seconds,
        unknown_ttl=settings.unknown_token_ttl_seconds,
        max_stale=settings.token_max_stale_seconds,
        max_entries=settings.token_cache_size,
        timeout=settings.token_lookup_timeout_seconds,
    )
    # Revocations reach the cache as they commit; after a lost connection, everything cached is
    # checked again, since announcements made meanwhile were missed.
    repeats = LogLimiter(_log)
    async with database.listen(
        TOKEN_CHANGES, on_notify=tokens.changed, on_listening=tokens.reverify_all
    ) as listener:
        # Serving before the first LISTEN would cache answers that its reverify_all throws
        # away again; a database that does not answer meanwhile cannot check tokens anyway.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(listener.listened.wait(), settings.token_lookup_timeout_seconds)
        yield GatewayDeps(
            broker=runtime.broker,
            tokens=tokens,
            uploads=UploadReader(settings),
            limits=TenantLimits(share=settings.rate_share, burst_seconds=settings.burst_seconds),
            metrics=GatewayMetrics(runtime.metrics.registry),
            openapi=msgspec.json.encode(openapi_document(settings)),
            repeats=repeats,
        )
    repeats.flush()


def gateway_routes(deps: GatewayDeps) -> list[BaseRoute]:
    async def telemetry(request: Request) -> Response:
        return await ingest(deps, request)

    async def openapi(_: Request) -> Response:
        return Response(deps.openapi, media_type="application/json")

    return [
        Route("/v1/telemetry", telemetry, methods=["POST"]),
        Route("/openapi.json", openapi, methods=["GET"]),
    ]


async def ingest(deps: GatewayDeps, request: Request) -> Response:
    """POST /v1/telemetry: 200 with an `UploadResult` once the broker stored every message."""
    try:
        machine = await authenticate(deps.tokens, request.headers.get("authorization"))
    except Rejected as rejected:
        return _refuse(deps, rejected)
    except TokensUnavailable as error:
        return _refuse(deps, unavailable(str(error)))
    with log_context(tenant=machine.tenant, machine=machine.machine):
        try:
            upload = await deps.uploads.read(request)
            result = await _publish(deps, machine, upload)
        except Rejected as rejected:
            return _refuse(deps, rejected)
    return Response(msgspec.json.encode(result), media_type="application/json")


async def _publish(deps: GatewayDeps, machine: MachineIdentity, upload: Upload) -> UploadResult:
    messages = upload.messages
    tenant = machine.tenant
    datapoints = sum(len(m.signals) for m in messages)
    outgoing = [deps.broker.outgoing(TELEMETRY, _telemetry(machine, m)) for m in messages]
    # Every message must fit before any is published (a refused upload stores nothing), and
    # before the tenant's budget is spent on it.
    limit = deps.broker.message_limit
    for index, encoded in enumerate(outgoing):
        if encoded.size > limit:
            raise message_too_large(index, encoded.size, limit, len(messages[index].signals))
    wait = deps.limits.take(tenant, machine.rate_per_second, datapoints)
    if wait:
        raise rate_limited(tenant, deps.limits.rate(machine.rate_per_second), wait)
    # All settle before we answer, so a 503 is never followed by stores from this request.
    receipts = await asyncio.gather(
        *(deps.broker.publish_outgoing(encoded) for encoded in outgoing),
        return_exceptions=True,
    )
    duplicates = 0
    for message, receipt in zip(messages, receipts, strict=True):
        if isinstance(receipt, BaseException):
            if not isinstance(receipt, BrokerUnavailable):
                raise receipt
            deps.repeats.warning(
                ("broker", type(receipt).__name__), "broker did not confirm a message: %s", receipt
            )
            # Whatever was stored stays: the machine sends the upload again, and the broker
            # drops the repeated identities.
            if isinstance(receipt, BrokerFull):
                raise unavailable(
                    "the broker's store is full until its consumers catch up",
                    retry_after=_FULL_RETRY_AFTER,
                )
            raise unavailable("the broker did not confirm storage")
        if receipt.duplicate:
            duplicates += 1
            datapoints -= len(message.signals)
    accepted = len(messages) - duplicates
    deps.metrics.messages.labels(tenant, "accepted").inc(accepted)
    if duplicates:
        deps.metrics.messages.labels(tenant, "duplicate").inc(duplicates)
    deps.metrics.datapoints.labels(tenant).inc(datapoints)
    return UploadResult(accepted=accepted, duplicates=duplicates)


def _telemetry(machine: MachineIdentity, message: MachineMessage) -> Telemetry:
    return Telemetry(
        tenant=machine.tenant,
        machine=machine.machine,
        boot_id=message.boot_id,
        seq=message.seq,
        ts=message.ts,
        signals=message.signals,
        historical=message.historical,
    )


def _refuse(deps: GatewayDeps, rejected: Rejected) -> Response:
    deps.metrics.rejected.labels(str(rejected.status)).inc()
    level = _REFUSAL_LOG_LEVELS.get(rejected.status, logging.INFO)
    if level >= logging.WARNING:
        deps.repeats.log(level, ("refused", rejected.status), "refused upload: %s", rejected)
    else:
        _log.log(level, "refused upload: %s", rejected)
    return rejected.response()


service: Service[GatewaySettings, GatewayDeps] = Service(
    name="gateway",
    settings=GatewaySettings,
    deps=gateway_deps,
    routes=gateway_routes,
    publishes=[TELEMETRY],
    uses_database=True,
    # May only ask tally_authenticate which machine a token belongs to (0007_least_privilege).
    database_role="tally_gateway",
    default_port=8080,
)

"""The gateway: machines → broker. Authenticate, validate, publish, and answer only once stored.

    POST /v1/telemetry   an `Upload` (JSON or MessagePack) with `Authorization: Bearer <token>`
    GET  /openapi.json   the OpenAPI document, generated from the declaration below

This module is the HTTP edge over the ingest core (tally.gateway.ingest), which knows no
transport: the SDK authenticates the machine (through the core's token cache), checks the
Content-Type and size, and hands the bytes over; each refusal of the core becomes its status.
The database is read only to look up tokens (cached, and told of every change to a token at
once); nothing is written on the hot path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from tally.contracts import TELEMETRY, Upload, UploadResult
from tally.gateway.answers import http_answer
from tally.gateway.auth import MachineTokens
from tally.gateway.ingest import Ingest
from tally.gateway.limits import TenantLimits
from tally.gateway.metrics import GatewayMetrics
from tally.gateway.problems import Problem
from tally.gateway.queries import TOKEN_CHANGES, MachineIdentity, machine_of_token
from tally.gateway.refusals import Refused, Unauthenticated
from tally.gateway.settings import GatewaySettings
from tally.gateway.uploads import FORMATS, TOO_LARGE_ADVICE, UploadReader
from tally.sdk import (
    Body,
    Call,
    DatabaseRuntime,
    Endpoint,
    LogLimiter,
    MachineToken,
    NoParams,
    Payload,
    Rejected,
    Service,
    TenantCaller,
    Tx,
    log_context,
)

_log = logging.getLogger("tally.gateway")
# Bad tokens and rate limits come in floods; broken payloads are a machine worth looking at.
_REFUSAL_LOG_LEVELS = {401: logging.DEBUG, 429: logging.DEBUG, 503: logging.WARNING}


@dataclass(frozen=True)
class GatewayDeps:
    """What the endpoint shares, built once at start-up."""

    ingest: Ingest
    metrics: GatewayMetrics
    # An outage refuses every request alike: one line per kind of refusal and window.
    repeats: LogLimiter


@dataclass(frozen=True, kw_only=True, slots=True)
class MachineCaller(TenantCaller):
    """A machine, authenticated by its token (`identity` is its id)."""

    machine: MachineIdentity


async def machine_of(deps: GatewayDeps, token_sha256: bytes) -> MachineCaller | None:
    """The machine a token hash belongs to (None: nobody's); 503 when that cannot be told."""
    try:
        machine = await deps.ingest.identify(token_sha256)
    except Unauthenticated:
        return None
    except Refused as refused:
        raise http_answer(refused) from None
    return MachineCaller(
        tenant=machine.tenant, identity=machine.machine, role="machine", machine=machine
    )


async def upload_telemetry(
    deps: GatewayDeps, call: Call[MachineCaller, NoParams, NoParams, Payload]
) -> UploadResult:
    """POST /v1/telemetry: 200 with an `UploadResult` once the broker stored every message."""
    machine = call.caller.machine
    with log_context(tenant=machine.tenant, machine=machine.machine):
        try:
            return await deps.ingest.accept(machine, call.body.data, call.body.media_type)
        except Refused as refused:
            raise http_answer(refused) from None


def _refused(deps: GatewayDeps, rejected: Rejected) -> None:
    deps.metrics.rejected.labels(str(rejected.status)).inc()
    level = _REFUSAL_LOG_LEVELS.get(rejected.status, logging.INFO)
    if level >= logging.WARNING:
        deps.repeats.log(level, ("refused", rejected.status), "refused upload: %s", rejected)
    else:
        _log.log(level, "refused upload: %s", rejected)


UPLOAD = Endpoint(
    "POST",
    "/v1/telemetry",
    upload_telemetry,
    auth=MachineToken(MachineCaller, machine_of),
    body=Body(Payload, media_types=list(FORMATS), schema=Upload, too_large=TOO_LARGE_ADVICE),
    response=UploadResult,
    summary="Upload messages of the authenticated machine",
    description="The tenant and machine come from the token, never from the body. Answers 200 "
    "only after the broker has stored every message; sending the same upload again is safe.",
    returns="Every message is stored by the broker. `accepted` counts messages stored now, "
    "`duplicates` those stored by an earlier upload.",
    errors={
        400: "The body is not well-formed JSON or MessagePack.",
        401: "Missing, unknown or revoked machine token.",
        413: "The body exceeds the size limit (`limit_bytes`), or one message (`field`) is "
        "larger than the broker stores as JSON (`limit_bytes`); nothing of the upload is "
        "stored. Split it as `detail` says.",
        415: "The Content-Type is neither JSON nor MessagePack.",
        422: "The body breaks the contract, or a timestamp is implausible; `field` and `value` "
        "name the offending part.",
        429: "The tenant exceeds its datapoint rate (`rate_per_second`); retry after Retry-After.",
        503: "The broker did not confirm storage; retry after Retry-After. Messages stored "
        "meanwhile are de-duplicated when the upload is sent again.",
    },
    body_limit=lambda deps: deps.ingest.uploads.limit,
    on_refusal=_refused,
    problem=Problem,
)


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
        metrics = GatewayMetrics(runtime.metrics.registry)
        ingest = Ingest(
            broker=runtime.broker,
            tokens=tokens,
            limits=TenantLimits(share=settings.rate_share, burst_seconds=settings.burst_seconds),
            uploads=UploadReader(settings),
            metrics=metrics,
            repeats=repeats,
        )
        yield GatewayDeps(ingest=ingest, metrics=metrics, repeats=repeats)
    repeats.flush()


service: Service[GatewaySettings, GatewayDeps] = Service(
    name="gateway",
    settings=GatewaySettings,
    deps=gateway_deps,
    endpoints=[UPLOAD],
    publishes=[TELEMETRY],
    uses_database=True,
    # May only ask tally_authenticate which machine a token belongs to (0007_least_privilege).
    database_role="tally_gateway",
    default_port=8080,
)

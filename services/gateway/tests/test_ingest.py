"""The ingest core without any transport: bytes, a media type and a token in; an UploadResult
out once stored, or a refusal naming the reason — and nothing of a refused upload stored."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from prometheus_client import CollectorRegistry

from services.gateway.tests.conftest import message, upload_json
from tally.contracts import (
    TELEMETRY_STREAM,
    Gauge,
    MachineMessage,
    Telemetry,
    Upload,
    UploadResult,
)
from tally.gateway.auth import MachineTokens
from tally.gateway.ingest import Ingest
from tally.gateway.limits import TenantLimits
from tally.gateway.metrics import GatewayMetrics
from tally.gateway.queries import MachineIdentity
from tally.gateway.refusals import (
    Invalid,
    RateLimited,
    Refused,
    TooLarge,
    Unauthenticated,
    Unavailable,
    Unreadable,
    UnsupportedFormat,
)
from tally.gateway.settings import GatewaySettings
from tally.gateway.uploads import UploadReader
from tally.sdk import (
    LogLimiter,
    MemoryBroker,
    StreamLimits,
    TransactionFailed,
    token_hash,
)

SLICER = MachineIdentity("acme", "slicer-1", 10)
TOKEN = "tly_good"


class Registry:
    """Knows one token; can be away."""

    away = False

    async def lookup(self, token_sha256: bytes) -> MachineIdentity | None:
        if self.away:
            raise TransactionFailed("the database is away")
        return SLICER if token_sha256 == token_hash(TOKEN) else None


@pytest.fixture
async def broker() -> AsyncIterator[MemoryBroker]:
    memory = MemoryBroker()
    await memory.ensure_stream(TELEMETRY_STREAM)
    yield memory
    await memory.close()


def core(broker: MemoryBroker, registry: Registry | None = None, max_body: int = 4096) -> Ingest:
    tokens = MachineTokens(
        (registry or Registry()).lookup, ttl=30, unknown_ttl=5, max_stale=0, max_entries=10
    )
    return Ingest(
        broker=broker,
        tokens=tokens,
        limits=TenantLimits(),
        uploads=UploadReader(GatewaySettings(max_body_bytes=max_body)),
        metrics=GatewayMetrics(CollectorRegistry()),
        repeats=LogLimiter(logging.getLogger("test")),
    )


async def stored(broker: MemoryBroker) -> list[Telemetry]:
    found = await broker.browse(TELEMETRY_STREAM, "telemetry.>")
    return [msgspec.json.decode(m.data, type=Telemetry) for m in found]


async def test_an_upload_is_stored_under_the_tokens_machine(broker: MemoryBroker) -> None:
    body = msgspec.msgpack.encode(Upload(messages=[message(1), message(2)]))

    result = await core(broker).upload(TOKEN, body, "application/msgpack")

    assert result == UploadResult(accepted=2, duplicates=0)
    assert [(t.tenant, t.machine, t.seq) for t in await stored(broker)] == [
        ("acme", "slicer-1", 1),
        ("acme", "slicer-1", 2),
    ]
    again = await core(broker).upload(TOKEN, body, "application/msgpack")
    assert again == UploadResult(accepted=0, duplicates=2)


@pytest.mark.parametrize("token", [None, "", "tly_unknown", "x" * 600])
async def test_a_missing_or_unknown_token_is_unauthenticated(
    broker: MemoryBroker, token: str | None
) -> None:
    with pytest.raises(Unauthenticated) as refused:
        await core(broker).upload(token, upload_json(1), "application/json")

    assert refused.value.problem.error == "unauthorized"
    assert await stored(broker) == []


def _far_ahead() -> bytes:
    ahead = datetime.now(UTC) + timedelta(hours=1)
    return msgspec.json.encode(Upload(messages=[message(1, ts=ahead)]))


@pytest.mark.parametrize(
    ("body", "media_type", "refusal", "field"),
    [
        (upload_json(1), "text/plain", UnsupportedFormat, None),
        (upload_json(*range(100)), "application/json", TooLarge, None),
        (b'{"messages": [', "application/json; charset=utf-8", Unreadable, None),
        (upload_json(1).replace(b'"seq":1', b'"seq":"x"'), "application/json", Invalid,
         "messages[0].seq"),
        (_far_ahead(), "application/json", Invalid, "messages[0].ts"),
    ],
)  # fmt: skip
async def test_a_broken_upload_is_refused_for_its_reason_naming_the_field(
    broker: MemoryBroker, body: bytes, media_type: str, refusal: type[Refused], field: str | None
) -> None:
    with pytest.raises(refusal) as refused:
        await core(broker).upload(TOKEN, body, media_type)

    problem = refused.value.problem
    assert problem.field == (msgspec.UNSET if field is None else field)
    assert await stored(broker) == []


async def test_a_message_over_the_brokers_limit_is_too_large_naming_it() -> None:
    small = MemoryBroker(max_payload=8 * 1024 + 4000)
    await small.ensure_stream(TELEMETRY_STREAM)
    many = MachineMessage(
        boot_id="boot-1", seq=2, ts=datetime.now(UTC), signals=[Gauge(name="g", value=1.5)] * 300
    )
    body = msgspec.json.encode(Upload(messages=[message(1), many]))

    with pytest.raises(TooLarge) as refused:
        await core(small, max_body=100_000).upload(TOKEN, body, "application/json")

    assert refused.value.problem.field == "messages[1]"
    assert await stored(small) == []


async def test_over_the_tenants_rate_is_rate_limited_with_the_time_to_wait(
    broker: MemoryBroker,
) -> None:
    ingest = core(broker)
    # 10 datapoints/s, a 2 s burst: ten messages of two signals pass, the next waits.
    await ingest.upload(TOKEN, upload_json(*range(10)), "application/json")

    with pytest.raises(RateLimited) as refused:
        await ingest.upload(TOKEN, upload_json(10), "application/json")

    assert refused.value.retry_after >= 1
    assert len(await stored(broker)) == 10


async def test_a_full_broker_or_an_unreachable_token_store_is_unavailable() -> None:
    full = MemoryBroker(limits=StreamLimits(max_bytes=1))
    await full.ensure_stream(TELEMETRY_STREAM)
    away = Registry()
    away.away = True

    with pytest.raises(Unavailable) as no_room:
        await core(full).upload(TOKEN, upload_json(1), "application/json")
    with pytest.raises(Unavailable) as no_tokens:
        await core(full, away).upload(TOKEN, upload_json(1), "application/json")

    assert no_room.value.retry_after == 5
    assert "full" in no_room.value.problem.detail
    assert no_tokens.value.retry_after == 2
    assert "cannot be checked" in no_tokens.value.problem.detail

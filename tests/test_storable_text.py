"""What the gateway and the api accept, PostgreSQL can store: free text is refused at the door
(422 naming the field) or stored exactly as sent — never accepted and then dead-lettered."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import asyncpg
import httpx
import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tally.contracts import Telemetry, Upload
from tally.registry import Article, Line, Machine, Site, Tenant
from tally.sdk import STORABLE_TEXT
from tally.sdk.testing import eventually

from .conftest import Pipeline

pytestmark = pytest.mark.integration

# Text a machine may well send: tabs and newlines, emoji, right-to-left marks, noncharacters,
# control characters (escaped six bytes each in JSON), the highest code point.
ODD_BUT_STORABLE = [
    "Vakuum\tniedrig\n",
    "🧀 Käse «Ost»",
    "\u202eLTR\u202c",
    "\uffff\x01\x7f",
    "\U0010ffff",
]


def _upload(seq: int, signals: list[dict[str, Any]]) -> dict[str, Any]:
    ts = (datetime.now(UTC) - timedelta(seconds=5)).isoformat()
    return {"messages": [{"boot_id": "text", "seq": seq, "ts": ts, "signals": signals}]}


def _alarm(text: str) -> dict[str, Any]:
    return {"kind": "alarm", "code": "E1", "raised": True, "category": "quality", "text": text}


def _gauge(unit: str) -> dict[str, Any]:
    return {"kind": "gauge", "name": "temp", "value": 4.5, "unit": unit}


@pytest.mark.slow
async def test_free_text_is_refused_at_the_gateway_or_stored_as_sent(pipeline: Pipeline) -> None:
    gateway = pipeline.services.start("gateway")
    recorder = pipeline.services.start("recorder")
    await asyncio.gather(*(pipeline.services.wait_ready(s) for s in (gateway, recorder)))
    (tenant, _), token = next(iter(pipeline.tokens.items()))
    auth = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=gateway.url, timeout=30.0) as client:
        for field, signal in (("text", _alarm("a\0b")), ("unit", _gauge("\0C"))):
            refused = await client.post("/v1/telemetry", json=_upload(1, [signal]), headers=auth)
            assert refused.status_code == 422, refused.text
            assert refused.json()["field"] == f"messages[0].signals[0].{field}"
        signals = [_alarm(text) for text in ODD_BUT_STORABLE]
        signals += [_gauge(text[:16]) for text in ODD_BUT_STORABLE]
        stored = await client.post("/v1/telemetry", json=_upload(2, signals), headers=auth)
        assert stored.status_code == 200, stored.text

    connection = await asyncpg.connect(pipeline.database_url)
    try:

        async def stored_any() -> bool:
            return bool(await connection.fetchval("SELECT count(*) FROM telemetry_messages"))

        await eventually(stored_any, seconds=60, interval=0.1)
        texts = await connection.fetch("SELECT text FROM alarms WHERE tenant = $1", tenant)
        units = await connection.fetch("SELECT unit FROM gauge_samples WHERE tenant = $1", tenant)
        ledger = await connection.fetch("SELECT seq FROM telemetry_messages")
    finally:
        await connection.close()
    assert [r["seq"] for r in ledger] == [2]
    assert sorted(r["text"] for r in texts) == sorted(ODD_BUT_STORABLE)
    assert sorted(r["unit"] for r in units) == sorted(t[:16] for t in ODD_BUT_STORABLE)


def _string_types() -> list[msgspec.inspect.StrType]:
    """Every string field of the contracts and of the records the api accepts."""
    found: dict[tuple[object, ...], msgspec.inspect.StrType] = {}
    pending = list(
        msgspec.inspect.multi_type_info([Upload, Telemetry, Tenant, Site, Line, Machine, Article])
    )
    seen: set[int] = set()
    while pending:
        info = pending.pop()
        if id(info) in seen:
            continue
        seen.add(id(info))
        if isinstance(info, msgspec.inspect.StrType):
            found[(info.min_length, info.max_length, info.pattern)] = info
        elif isinstance(info, msgspec.inspect.StructType):
            pending += [field.type for field in info.fields]
        elif isinstance(info, msgspec.inspect.UnionType):
            pending += list(info.types)
        elif isinstance(info, msgspec.inspect.ListType):
            pending.append(info.item_type)
    return list(found.values())


STRING_TYPES = _string_types()
# Any code point, surrogates included (hypothesis's text() leaves them out), and the characters
# that matter drawn often.
ANY_TEXT = st.lists(
    st.one_of(
        st.integers(0, 0x10FFFF).map(chr),
        st.sampled_from(["\0", "\ud800", "\udfff", "\ufffe", "\x01", "é", "🧀"]),
    ),
    max_size=30,
).map("".join)


@pytest.fixture(scope="module")
def text_column(
    database_url: str,
) -> Iterator[tuple[asyncio.AbstractEventLoop, asyncpg.Connection]]:
    loop = asyncio.new_event_loop()
    connection = loop.run_until_complete(asyncpg.connect(database_url))
    try:
        yield loop, connection
    finally:
        loop.run_until_complete(connection.close())
        loop.close()


def test_every_string_field_has_an_alphabet() -> None:
    # Alarm text, gauge unit and names carry STORABLE_TEXT; ids have narrower alphabets.
    assert STORABLE_TEXT in {t.pattern for t in STRING_TYPES}
    unchecked = [t for t in STRING_TYPES if t.pattern is None]
    assert unchecked == [], "a string field without a pattern may hold what PostgreSQL cannot"


@settings(
    max_examples=300, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
)
@given(text=ANY_TEXT)
def test_a_string_any_contract_accepts_round_trips_through_postgresql(
    text_column: tuple[asyncio.AbstractEventLoop, asyncpg.Connection], text: str
) -> None:
    loop, connection = text_column
    for kind in STRING_TYPES:
        meta = msgspec.Meta(
            min_length=kind.min_length, max_length=kind.max_length, pattern=kind.pattern
        )
        try:
            accepted = msgspec.convert(text, Annotated[str, meta])
        except msgspec.ValidationError:
            continue
        assert msgspec.json.decode(msgspec.json.encode(accepted)) == text
        assert loop.run_until_complete(connection.fetchval("SELECT $1::text", accepted)) == text

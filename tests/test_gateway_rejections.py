"""What the gateway refuses never reaches the database; what a token allows stays in its tenant.

Real processes: every bad upload is sent first, then one good one as a sentinel. Once the
sentinel is stored, the recorder has drained everything before it, so the ledger holding the
sentinel alone proves none of the refused input got through.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import msgspec
import pytest

from tally.sdk.testing import eventually

from .conftest import Pipeline

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def upload(seq: object, **changes: object) -> dict[str, list[dict[str, object]]]:
    message: dict[str, object] = {
        "boot_id": "sentinel-boot",
        "seq": seq,
        "ts": (datetime.now(UTC) - timedelta(seconds=5)).isoformat(),
        "signals": [{"kind": "counter", "name": "packs_total", "value": seq}],
    }
    message.update(changes)
    return {"messages": [message]}


async def ledger(database_url: str) -> list[tuple[str, str, int]]:
    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch("SELECT tenant, machine, seq FROM telemetry_messages")
    finally:
        await connection.close()
    return sorted((r["tenant"], r["machine"], r["seq"]) for r in rows)


async def test_refused_uploads_never_reach_the_database(pipeline: Pipeline) -> None:
    gateway = pipeline.services.start("gateway")
    recorder = pipeline.services.start("recorder")
    await asyncio.gather(*(pipeline.services.wait_ready(s) for s in (gateway, recorder)))
    (tenant, machine), token = next(iter(pipeline.tokens.items()))
    auth = {"Authorization": f"Bearer {token}"}
    future = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    nan = msgspec.msgpack.encode(
        upload(3, signals=[{"kind": "gauge", "name": "s", "value": float("nan")}])
    )
    cases: list[tuple[int, dict[str, str], bytes, str]] = [
        (400, auth, b'{"messages": [', "application/json"),
        (422, auth, msgspec.json.encode(upload("one")), "application/json"),
        (422, auth, nan, "application/msgpack"),
        (422, auth, msgspec.json.encode(upload(4, ts=future)), "application/json"),
        (
            401,
            {"Authorization": "Bearer tly_not-a-token"},
            msgspec.json.encode(upload(5)),
            "application/json",
        ),
        (401, {}, msgspec.json.encode(upload(6)), "application/json"),
        # A body naming another tenant and machine: unknown fields, refused.
        (
            422,
            auth,
            msgspec.json.encode(upload(8, tenant="someone-else", machine="theirs")),
            "application/json",
        ),
        (
            400,
            auth,
            msgspec.json.encode(upload(9)).replace(b"sentinel", b"\xffsentinel"),
            "application/json",
        ),
        (422, auth, msgspec.json.encode(upload(10, historicl=True)), "application/json"),
        (413, auth, b'{"messages": [' + b" " * (2 * 2**20) + b"]}", "application/json"),
    ]
    async with httpx.AsyncClient(base_url=gateway.url, timeout=30.0) as client:
        for status, headers, body, content_type in cases:
            response = await client.post(
                "/v1/telemetry", content=body, headers={**headers, "Content-Type": content_type}
            )
            assert response.status_code == status, response.text
            assert response.json()["error"]
        sentinel = await client.post("/v1/telemetry", json=upload(7), headers=auth)
        assert sentinel.status_code == 200, sentinel.text

    # The sentinel, accepted after every refusal, is stored; nothing refused is.
    async def sentinel_stored() -> bool:
        return bool(await ledger(pipeline.database_url))

    await eventually(sentinel_stored, seconds=20, interval=0.1)
    assert await ledger(pipeline.database_url) == [(tenant, machine, 7)]

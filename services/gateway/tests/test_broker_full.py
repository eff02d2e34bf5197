"""A full broker store: the gateway refuses with 503 + Retry-After (never 500, never a traceback
per request), and takes uploads again once the recorder has acknowledged what it holds. A real
embedded NATS of the test's own, its TELEMETRY stream limited to a few kilobytes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import msgspec
import pytest

from services.gateway.tests.conftest import Gateway, Machine, Register, StartGateway, upload_json
from tally.contracts import TELEMETRY, TELEMETRY_STREAM, Telemetry
from tally.sdk import NatsBroker, StreamLimits
from tally.sdk.embedded import EmbeddedNats

pytestmark = pytest.mark.integration

MESSAGES_PER_UPLOAD = 5


@pytest.fixture
async def small_broker(tmp_path: Path) -> AsyncIterator[NatsBroker]:
    """A NATS of this test's own whose TELEMETRY stream may hold 16 KiB (about 60 messages)."""
    server = EmbeddedNats(tmp_path)
    url = await asyncio.to_thread(server.start)
    broker = await NatsBroker.connect(url, limits=StreamLimits(max_bytes=16 * 1024))
    try:
        yield broker
    finally:
        await broker.close()
        await asyncio.to_thread(server.stop)


async def _upload_until_refused(
    gateway: Gateway, machine: Machine
) -> tuple[list[int], list[int], httpx.Response]:
    """Seqs of the uploads answered 200, those of the first refused one, and its answer."""
    accepted: list[int] = []
    for first in range(1, 2000, MESSAGES_PER_UPLOAD):
        seqs = list(range(first, first + MESSAGES_PER_UPLOAD))
        response = await gateway.post(machine, upload_json(*seqs))
        if response.status_code != 200:
            return accepted, seqs, response
        accepted += seqs
    raise AssertionError("10,000 messages did not fill a 16 KiB stream")


async def _recorder_drains(broker: NatsBroker) -> list[int]:
    """What the durable consumer "recorder" receives, acknowledged: the seqs, in order."""
    subscription = await broker.subscribe(
        TELEMETRY_STREAM, "recorder", TELEMETRY.filter(), ack_wait=30.0
    )
    seqs: list[int] = []
    try:
        while batch := await subscription.fetch(100, 0.5):
            seqs += [msgspec.json.decode(d.data, type=Telemetry).seq for d in batch]
            await subscription.ack(batch)
            subscription.release(batch)
    finally:
        await subscription.close()
    return seqs


async def test_a_full_store_answers_503_and_frees_up_once_the_recorder_acknowledges(
    start_gateway: StartGateway,
    register: Register,
    small_broker: NatsBroker,
    caplog: pytest.LogCaptureFixture,
) -> None:
    machine = await register()
    # The gateway declares TELEMETRY and its consumers; the recorder has never run.
    gateway = await start_gateway(small_broker)

    with caplog.at_level(logging.INFO):
        accepted, refused_seqs, refused = await _upload_until_refused(gateway, machine)
        again = await gateway.post(machine, upload_json(*refused_seqs))

    assert len(accepted) > 20
    for answer in (refused, again):
        assert answer.status_code == 503, answer.text
        assert answer.headers["Retry-After"] == "5"
        assert answer.json()["error"] == "unavailable"
        assert "store is full" in answer.json()["detail"]
    # A warning per refusal, and no traceback: a full store is a condition, not a fault.
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert [r for r in caplog.records if r.exc_info] == []
    assert any("full" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)

    # The recorder starts for the first time and gets everything accepted before it existed.
    drained = await _recorder_drains(small_broker)
    assert set(accepted) <= set(drained)
    assert set(drained) - set(accepted) <= set(refused_seqs)  # part of the refused upload

    # Acknowledged messages made room: the machine's retry is taken, and only what was not
    # stored yet is stored now.
    retried = await gateway.post(machine, upload_json(*refused_seqs))
    assert retried.status_code == 200, retried.text
    drained += await _recorder_drains(small_broker)
    assert sorted(drained) == sorted(accepted + refused_seqs)

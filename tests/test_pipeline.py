"""Machines to database, end to end: simulator → gateway → JetStream → recorder → PostgreSQL,
with the services as real processes. Whatever crashes, every message the gateway accepted is
stored exactly once."""

from __future__ import annotations

import asyncio
import signal

import asyncpg
import httpx
import pytest

from tally.sdk.testing import eventually
from tally.simulator import HttpSender, Simulation
from tally.supervisor import ServiceProcess, scrape, total

from .conftest import SEED, Pipeline

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SPEED = 720.0


async def run_simulation(pipeline: Pipeline, gateway: ServiceProcess, seconds: float) -> Simulation:
    simulation = Simulation(pipeline.fleet, seed=SEED, speed=SPEED)
    async with httpx.AsyncClient(timeout=30.0) as client:
        sender = HttpSender(gateway.url, pipeline.tokens, client=client)
        await simulation.run(sender, until_wall=seconds)
    return simulation


async def stored_by_tenant(database_url: str) -> dict[str, tuple[int, int]]:
    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch(
            "SELECT tenant, count(*) AS messages, sum(signals) AS datapoints "
            "FROM telemetry_messages GROUP BY tenant"
        )
    finally:
        await connection.close()
    return {row["tenant"]: (row["messages"], row["datapoints"]) for row in rows}


async def wait_stored(pipeline: Pipeline, expected: dict[str, tuple[int, int]]) -> None:
    async def all_stored() -> bool:
        return await stored_by_tenant(pipeline.database_url) == expected

    try:
        await eventually(all_stored, seconds=60, interval=0.25)
    except AssertionError:
        assert await stored_by_tenant(pipeline.database_url) == expected
        raise


def truth_by_tenant(simulation: Simulation) -> dict[str, tuple[int, int]]:
    truth = simulation.truth.to_file()
    return {t.tenant: (t.messages, t.datapoints) for t in truth.tenants if t.messages}


async def assert_no_row_stored_twice(database_url: str) -> None:
    """Every raw row belongs to exactly one ledger entry: the rows add up to the signals the
    ledger recorded, table by table summed."""
    connection = await asyncpg.connect(database_url)
    try:
        signals = await connection.fetchval("SELECT sum(signals) FROM telemetry_messages")
        rows = 0
        for table in (
            "counter_samples",
            "gauge_samples",
            "state_changes",
            "weighings",
            "alarms",
            "context_events",
        ):
            rows += await connection.fetchval(f"SELECT count(*) FROM {table}")
    finally:
        await connection.close()
    assert rows == signals


async def wait_for_metric(
    client: httpx.AsyncClient, service: ServiceProcess, name: str, at_least: float
) -> None:
    async def reached() -> bool:
        return total(await scrape(client, service.ops_url), name) >= at_least

    await eventually(reached, seconds=60, interval=0.1)


# What the killed recorder had fetched and not acknowledged comes back once the consumer's ack
# wait has passed: a short one, or the test waits out JetStream's 30 s. (Each batch's keep-alive
# tells JetStream the recorder is still at it, so a short ack wait redelivers nothing else.)
SHORT_ACK_WAIT = {"TALLY_RECORDER_CONSUMER_RECORDER_ACK_WAIT_SECONDS": "2"}


@pytest.mark.parametrize("crash", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "sigterm"])
async def test_a_recorder_crash_mid_run_loses_and_duplicates_nothing(
    pipeline: Pipeline, crash: signal.Signals
) -> None:
    gateway = pipeline.services.start("gateway")
    recorder = pipeline.services.start("recorder", extra=SHORT_ACK_WAIT)
    await asyncio.gather(*(pipeline.services.wait_ready(s) for s in (gateway, recorder)))
    running = asyncio.create_task(run_simulation(pipeline, gateway, seconds=5))
    async with httpx.AsyncClient() as client:
        # Crash while the recorder is busy: it has stored some, and has more in hand.
        await wait_for_metric(client, recorder, "tally_recorder_messages_stored_total", 500)
    recorder.process.send_signal(crash)
    recorder.process.wait(timeout=30)
    # The scenario: the recorder stays down a moment while the machines keep sending, so a
    # backlog waits in the stream when it comes back.
    await asyncio.sleep(1.0)
    restarted = pipeline.services.start("recorder", extra=SHORT_ACK_WAIT)
    await pipeline.services.wait_ready(restarted)
    simulation = await running
    expected = truth_by_tenant(simulation)
    await wait_stored(pipeline, expected)
    await assert_no_row_stored_twice(pipeline.database_url)
    if crash == signal.SIGTERM:
        assert recorder.process.returncode == 0

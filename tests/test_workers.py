"""`--workers N`: N processes of one service share its durable consumer and its ports, and the
simulator's run goes through gateway and recorder processes into the database exactly once."""

from __future__ import annotations

import asyncio

import httpx
import psutil
import pytest

from tally.supervisor import scrape, total

from .conftest import Pipeline
from .test_pipeline import (
    assert_no_row_stored_twice,
    run_simulation,
    truth_by_tenant,
    wait_stored,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]


async def test_the_simulators_run_is_stored_exactly_once_by_two_recorder_workers_sharing_it(
    pipeline: Pipeline,
) -> None:
    gateway = pipeline.services.start("gateway")
    recorder = pipeline.services.start("recorder", workers=2)
    await asyncio.gather(*(pipeline.services.wait_ready(s) for s in (gateway, recorder)))
    workers = psutil.Process(recorder.process.pid).children()
    assert len(workers) == 2
    busy_before = [sum(w.cpu_times()[:2]) for w in workers]
    simulation = await run_simulation(pipeline, gateway, seconds=5)
    assert all(stats.unsent == 0 for stats in simulation.stats.values())
    expected = truth_by_tenant(simulation)
    assert len(expected) == 3
    await wait_stored(pipeline, expected)
    await assert_no_row_stored_twice(pipeline.database_url)
    # Both took part: an idle worker's fetch loop costs a few hundredths of a second of CPU,
    # a working one whole seconds for its share of a few hundred thousand datapoints.
    busy = [sum(w.cpu_times()[:2]) - before for w, before in zip(workers, busy_before, strict=True)]
    assert min(busy) > 0.5, busy
    # One /metrics on the shared operations port sums the workers' counters.
    async with httpx.AsyncClient() as client:
        samples = await scrape(client, recorder.ops_url)
    handled = total(samples, "tally_messages_handled_total", consumer="recorder")
    assert handled >= sum(messages for messages, _ in expected.values())

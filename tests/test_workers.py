"""`--workers N`: N processes of one service share its durable consumer and its ports."""

from __future__ import annotations

import asyncio

import httpx
import psutil
import pytest

from tally.cli._scrape import scrape, total

from .conftest import Pipeline
from .test_pipeline import run_simulation, truth_by_tenant, wait_stored

pytestmark = [pytest.mark.integration, pytest.mark.slow]


async def test_two_recorder_workers_share_the_work_and_store_everything_once(
    pipeline: Pipeline,
) -> None:
    gateway = pipeline.services.start("gateway")
    recorder = pipeline.services.start("recorder", workers=2)
    await asyncio.gather(*(pipeline.services.wait_ready(s) for s in (gateway, recorder)))
    workers = psutil.Process(recorder.process.pid).children()
    assert len(workers) == 2
    busy_before = [sum(w.cpu_times()[:2]) for w in workers]
    simulation = await run_simulation(pipeline, gateway, seconds=5)
    expected = truth_by_tenant(simulation)
    await wait_stored(pipeline, expected)
    # Both took part: an idle worker's fetch loop costs a few hundredths of a second of CPU,
    # a working one whole seconds for its share of a few hundred thousand datapoints.
    busy = [sum(w.cpu_times()[:2]) - before for w, before in zip(workers, busy_before, strict=True)]
    assert min(busy) > 0.5, busy
    # One /metrics on the shared operations port sums the workers' counters.
    async with httpx.AsyncClient() as client:
        samples = await scrape(client, recorder.ops_url)
    handled = total(samples, "tally_messages_handled_total", consumer="recorder")
    assert handled >= sum(messages for messages, _ in expected.values())

"""The stages of `tally bench`, in the order they run: a typed registry.

A stage is an async function of the `Bench` (servers, corpus, services) that returns its
`StageResult`; it measures in turns with the ceiling or peer it is compared with. To add one,
write it and list it here; the report, the JSON and the test pick it up.

Stages still to come, once their services exist on main:
  - "rollup": the rollup service working through the raw tables of a backlog, as datapoints/s
    and CPU-µs per datapoint over every process, next to the recorder's rate (it must keep up);
  - "end_to_end_api": the end-to-end stage with visible = readable through the figures API;
  - "reads_at_scale": 100 M raw datapoints backfilled (and a tenth of them), the API's views
    (a line's day, week, month; a site's live view; an article's month of compliance) p50/p95
    next to the same answers from the raw tables.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from tally.bench.ceilings import copy_stage, jetstream_stage
from tally.bench.context import Bench
from tally.bench.end_to_end import end_to_end_stage, soak_stage
from tally.bench.measure import StageResult
from tally.bench.tally_stages import gateway_stage, recorder_stage

Tokens = dict[tuple[str, str], str]


@dataclass(frozen=True)
class Stage:
    key: str
    title: str
    run: Callable[[Bench, Tokens], Awaitable[StageResult]]


async def _copy(bench: Bench, tokens: Tokens) -> StageResult:
    return await copy_stage(bench)


async def _jetstream(bench: Bench, tokens: Tokens) -> StageResult:
    return await jetstream_stage(bench)


async def _recorder(bench: Bench, tokens: Tokens) -> StageResult:
    return await recorder_stage(bench)


STAGES: tuple[Stage, ...] = (
    Stage("copy_ceiling", "COPY into unindexed twins, 1 and 2 connections", _copy),
    Stage("jetstream_ceiling", "JetStream publish with acks, pull-consume", _jetstream),
    Stage("gateway", "gateway vs raw JetStream publish", gateway_stage),
    Stage("recorder", "recorder vs hand-written and FastStream peers vs COPY", _recorder),
    Stage("end_to_end", "machines → gateway → JetStream → recorder → stored", end_to_end_stage),
    # "rollup" and "end_to_end_api" go here, "reads_at_scale" after them (see above).
    Stage("soak", "half the maximum rate for --soak seconds", soak_stage),
)

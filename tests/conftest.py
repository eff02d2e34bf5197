"""Fixtures of the end-to-end tests: a migrated database of the test's own, the simulated
fleet provisioned in it, and the services as real processes."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nats.js.errors
import pytest

from tally.contracts import TELEMETRY_STREAM
from tally.sdk import NatsBroker, StreamLimits
from tally.simulator import Fleet, Tokens, build_fleet, provision
from tally.supervisor import ServiceProcesses

# The fault suite's --faults-report option and the hooks that write its table.
from .faults.report import (  # noqa: F401
    pytest_addoption,
    pytest_configure,
    pytest_runtest_makereport,
    pytest_sessionfinish,
)

# The suite's split over pytest-xdist workers.
from .workers import pytest_collection_modifyitems, pytest_xdist_make_scheduler  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
SEED = 7


@dataclass(frozen=True)
class Pipeline:
    database_url: str  # the owner's
    nats_url: str
    fleet: Fleet
    tokens: Tokens
    services: ServiceProcesses


@pytest.fixture
def service_processes(
    fresh_database_url: str, nats_url: str, tmp_path: Path
) -> Iterator[ServiceProcesses]:
    """Service processes on the test's database, each logged in as its own role."""
    processes = ServiceProcesses(
        env={"TALLY_NATS_URL": nats_url, "TALLY_LOG_LEVEL": "warning"},
        log_dir=tmp_path / "logs",
        owner_database_url=fresh_database_url,
    )
    try:
        yield processes
    finally:
        processes.stop_all()


async def fresh_telemetry(nats_url: str, limits: StreamLimits | None = None) -> None:
    """Empty the TELEMETRY stream and forget the recorder's position: other tests publish
    telemetry too, and an earlier run may have left some. These tests own the stream of the
    server they are given — never point them at a production NATS. Give the `limits` the
    services will declare: on a cluster, services that start together while the stream's
    replicas are being changed time out declaring it."""
    broker = await NatsBroker.connect(nats_url, limits=limits)
    try:
        await broker.ensure_stream(TELEMETRY_STREAM)
        js = broker.client.jetstream()
        await js.purge_stream(TELEMETRY_STREAM.name)
        for durable in TELEMETRY_STREAM.consumers:
            with contextlib.suppress(nats.js.errors.NotFoundError):
                await js.delete_consumer(TELEMETRY_STREAM.name, durable)
        # At once again: with interest retention, a message published while the stream has no
        # consumer is dropped.
        await broker.ensure_stream(TELEMETRY_STREAM)
    finally:
        await broker.close()


@pytest.fixture
async def pipeline(
    fresh_database_url: str, nats_url: str, service_processes: ServiceProcesses
) -> Pipeline:
    await fresh_telemetry(nats_url)
    fleet = build_fleet(SEED, tenants=3)
    tokens = await provision(fleet, fresh_database_url)
    return Pipeline(fresh_database_url, nats_url, fleet, tokens, service_processes)

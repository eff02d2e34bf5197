"""Fixtures of the end-to-end tests: a migrated database of the test's own, the simulated
fleet provisioned in it, and the services as real processes."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from tally.cli._provision import Tokens, provision
from tally.cli._service_processes import ServiceProcesses
from tally.sdk import migrate
from tally.simulator import Fleet, build_fleet

ROOT = Path(__file__).resolve().parents[1]
SEED = 7


@dataclass(frozen=True)
class Pipeline:
    database_url: str
    nats_url: str
    fleet: Fleet
    tokens: Tokens
    services: ServiceProcesses


@pytest.fixture
async def fresh_database(database_url: str) -> AsyncIterator[str]:
    """A migrated database for this test alone, on the session's server."""
    name = f"tally_e2e_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(database_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = urlunsplit(urlsplit(database_url)._replace(path=f"/{name}"))
    try:
        await migrate(url, ROOT / "db" / "migrations")
        yield url
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
def service_processes(
    fresh_database: str, nats_url: str, tmp_path: Path
) -> Iterator[ServiceProcesses]:
    processes = ServiceProcesses(
        env={
            "TALLY_NATS_URL": nats_url,
            "TALLY_DATABASE_URL": fresh_database,
            "TALLY_LOG_LEVEL": "warning",
        },
        log_dir=tmp_path / "logs",
    )
    try:
        yield processes
    finally:
        processes.stop_all()


@pytest.fixture
async def pipeline(
    fresh_database: str, nats_url: str, service_processes: ServiceProcesses
) -> Pipeline:
    fleet = build_fleet(SEED, tenants=3)
    tokens = await provision(fleet, fresh_database)
    return Pipeline(fresh_database, nats_url, fleet, tokens, service_processes)

"""Fixtures of the registry's tests: the session's database with the schema applied."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tally.registry import Registry
from tally.sdk import Database, migrate

MIGRATIONS = Path(__file__).parents[3] / "db" / "migrations"


@pytest.fixture(scope="session")
def migrated_url(database_url: str) -> str:
    """The session's database with the schema applied, once."""
    asyncio.run(migrate(database_url, MIGRATIONS))
    return database_url


@pytest.fixture
async def registry(migrated_url: str) -> AsyncIterator[Registry]:
    # Connects as tally_app, as the api and the CLI do: row-level security applies.
    async with await Database.connect(migrated_url, max_size=2) as database:
        yield Registry(database)

"""Fixtures of the registry's tests: the session's database with the schema applied."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tally.registry import Registry
from tally.sdk import Database, migrate
from tally.sdk.testing import LoginUrl

MIGRATIONS = Path(__file__).parents[3] / "db" / "migrations"


@pytest.fixture(scope="session")
def migrated_url(database_url: str) -> str:
    """The session's database with the schema applied, once."""
    asyncio.run(migrate(database_url, MIGRATIONS))
    return database_url


@pytest.fixture
async def registry(migrated_url: str, login_url: LoginUrl) -> AsyncIterator[Registry]:
    # Logs in as tally_app, as the api does: row-level security applies.
    async with await Database.connect(login_url(migrated_url, "tally_app"), max_size=2) as database:
        yield Registry(database)

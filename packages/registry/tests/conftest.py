"""Fixtures of the registry's tests: a registry on the session's migrated database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tally.registry import Registry
from tally.sdk import Database
from tally.sdk.testing import LoginUrl


@pytest.fixture
async def registry(migrated_database_url: str, login_url: LoginUrl) -> AsyncIterator[Registry]:
    # Logs in as tally_app, as the api does: row-level security applies.
    async with await Database.connect(
        login_url(migrated_database_url, "tally_app"), max_size=2
    ) as database:
        yield Registry(database)

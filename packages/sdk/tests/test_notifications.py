"""Listening for PostgreSQL notifications on a connection of its own, kept alive across losses."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import asyncpg
import pytest

from tally.sdk import Database
from tally.sdk.testing import eventually

pytestmark = pytest.mark.integration


class Heard:
    """What a listener was told."""

    def __init__(self) -> None:
        self.payloads: list[str] = []
        self.listening = 0

    def notified(self, payload: str) -> None:
        self.payloads.append(payload)

    def started(self) -> None:
        self.listening += 1


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    # Acting as the URL's user (the owner, postgres): these tests need no schema, hence no
    # service role either.
    name = f"probe-{secrets.token_hex(4)}"
    db = await Database.connect(
        database_url, role="postgres", switch_role=True, application_name=name
    )
    yield db
    await db.close()


async def notify(database_url: str, channel: str, *payloads: str) -> None:
    connection = await asyncpg.connect(database_url)
    try:
        for payload in payloads:
            await connection.execute("SELECT pg_notify($1, $2)", channel, payload)
    finally:
        await connection.close()


async def terminate_listeners(database_url: str) -> int:
    """Kill every listening connection of this database, as an operator or a crash would."""
    connection = await asyncpg.connect(database_url)
    try:
        killed: int = await connection.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name LIKE 'probe-%-listen'"
        )
    finally:
        await connection.close()
    return killed


async def test_notifications_on_the_channel_are_delivered_in_order(
    database: Database, database_url: str
) -> None:
    channel, heard = f"probe_{secrets.token_hex(4)}", Heard()

    async with database.listen(
        channel, on_notify=heard.notified, on_listening=heard.started
    ) as listener:
        await eventually(lambda: listener.listening)
        await notify(database_url, channel, "a", "b")
        await notify(database_url, "some_other_channel", "c")
        await eventually(lambda: heard.payloads == ["a", "b"])

    assert heard.listening == 1
    assert not listener.listening


async def test_a_killed_listener_listens_again_and_says_so(
    database: Database, database_url: str
) -> None:
    channel, heard = f"probe_{secrets.token_hex(4)}", Heard()

    async with database.listen(
        channel, on_notify=heard.notified, on_listening=heard.started
    ) as listener:
        await eventually(lambda: listener.listening)
        assert await terminate_listeners(database_url) == 1
        # Told again after the loss: whatever was committed meanwhile went unheard.
        await eventually(lambda: heard.listening == 2 and listener.listening)
        await notify(database_url, channel, "after")
        await eventually(lambda: heard.payloads == ["after"])

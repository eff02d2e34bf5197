"""pytest fixtures for real NATS and PostgreSQL servers (loaded through the `pytest11` entry point).

`TALLY_NATS_URL` / `TALLY_DATABASE_URL` name servers to use; for each one unset an embedded
server is started once per session. `database_url` is always a database of its own, created for
the session and dropped after it, so tests never touch anything else on a shared server.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest

from tally.sdk._errors import InfrastructureError
from tally.sdk._infrastructure import Endpoints, infrastructure


@pytest.fixture(scope="session")
def tally_endpoints(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Endpoints]:
    """The session's NATS and PostgreSQL servers: from the environment, or embedded."""
    with infrastructure(
        tmp_path_factory.mktemp("tally-servers"),
        nats_url=os.environ.get("TALLY_NATS_URL") or None,
        database_url=os.environ.get("TALLY_DATABASE_URL") or None,
        fast=True,
    ) as endpoints:
        yield endpoints


@pytest.fixture(scope="session")
def nats_url(tally_endpoints: Endpoints) -> str:
    """URL of a NATS server with JetStream."""
    return tally_endpoints.nats_url


@pytest.fixture(scope="session")
def database_url(tally_endpoints: Endpoints) -> Iterator[str]:
    """URL of a database created empty for this session, dropped at its end."""
    name = f"tally_test_{secrets.token_hex(6)}"
    server = tally_endpoints.database_url
    asyncio.run(_execute(server, f'CREATE DATABASE "{name}"'))
    try:
        yield urlunsplit(urlsplit(server)._replace(path=f"/{name}"))
    finally:
        asyncio.run(_execute(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _execute(url: str, statement: str) -> None:
    # Imported here: every pytest run in the workspace loads this plugin, few need asyncpg.
    import asyncpg

    parts = urlsplit(url)
    try:
        connection = await asyncpg.connect(url, timeout=10)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        raise InfrastructureError(
            f"cannot run {statement!r} on PostgreSQL at {parts.hostname}:{parts.port}{parts.path}"
            f" (from TALLY_DATABASE_URL or the embedded server): {error}"
        ) from error

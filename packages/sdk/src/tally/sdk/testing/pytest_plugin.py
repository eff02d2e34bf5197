"""pytest fixtures for real NATS and PostgreSQL servers (loaded through the `pytest11` entry point).

`TALLY_NATS_URL` / `TALLY_OWNER_DATABASE_URL` name servers to use (the latter as the schema
owner, who may create databases and roles); for each one unset an embedded server is started
once per session. `database_url` is always a database of its own, created for the session and
dropped after it, so tests never touch anything else on a shared server. It is the owner's URL:
services log in with `login_url(database_url, role)` instead, as in production.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tally.sdk._errors import InfrastructureError
from tally.sdk._infrastructure import Endpoints, infrastructure
from tally.sdk._logins import owner_database_url, role_passwords, role_url
from tally.sdk.testing._login_urls import LoginUrl


@pytest.fixture(scope="session")
def tally_endpoints() -> Iterator[Endpoints]:
    """The session's NATS and PostgreSQL servers: from the environment, or embedded."""
    # Not under pytest's tmp_path: each new pytest session (any other one running on this
    # machine too) prunes the base folders of older ones, servers running in them or not.
    with (
        tempfile.TemporaryDirectory(prefix="tally-servers-", ignore_cleanup_errors=True) as folder,
        infrastructure(
            Path(folder),
            nats_url=os.environ.get("TALLY_NATS_URL") or None,
            database_url=owner_database_url(os.environ),
            fast=True,
            disposable=True,
        ) as endpoints,
    ):
        yield endpoints


@pytest.fixture(scope="session")
def nats_url(tally_endpoints: Endpoints) -> str:
    """URL of a NATS server with JetStream."""
    return tally_endpoints.nats_url


@pytest.fixture(scope="session")
def database_url(tally_endpoints: Endpoints) -> Iterator[str]:
    """The owner's URL of a database created empty for this session, dropped at its end."""
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
            f" (from TALLY_OWNER_DATABASE_URL or the embedded server): {error}"
        ) from error


@pytest.fixture
async def scratch_database_url(database_url: str) -> AsyncIterator[str]:
    """An empty database of this test's own, on the session's server; dropped after the test.

    For tests that need a schema nobody else touches (migrations, roles, planted faults)."""
    name = f"tally_scratch_{secrets.token_hex(6)}"
    await _execute(database_url, f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(database_url)._replace(path=f"/{name}"))
    finally:
        await _execute(database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def login_url() -> LoginUrl:
    """`login_url(database_url, role)`: the URL with which `role` (a service's
    `database_role`) logs in to that database, as the service does in production.

    The user of the owner's URL is swapped for the role; a server that asks for passwords gets
    the role's from TALLY_DATABASE_PASSWORD_<ROLE> (`tally migrate` sets it on the role)."""
    passwords = role_passwords(os.environ)

    def url(database_url: str, role: str) -> str:
        return role_url(database_url, role, passwords.get(role))

    return url

"""pytest fixtures for real NATS and PostgreSQL servers (loaded through the `pytest11` entry point).

`TALLY_NATS_URL` / `TALLY_DATABASE_URL` name servers to use; for each one unset an embedded
server is started once per session. `database_url` is always a database of its own, created for
the session and dropped after it, so tests never touch anything else on a shared server.
`nats_cluster` is a three-node NATS cluster started for one test (always embedded: the test may
kill its nodes).
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
from tally.sdk._nats_cluster import NatsCluster


@pytest.fixture(scope="session")
def tally_endpoints() -> Iterator[Endpoints]:
    """The session's NATS and PostgreSQL servers: from the environment, or embedded."""
    # Not under pytest's tmp_path: run by root, PostgreSQL runs as another user, who must be able
    # to traverse every folder above its data, and each new pytest session (any other one running
    # on this machine too) resets pytest's base folder to 0700.
    with (
        tempfile.TemporaryDirectory(prefix="tally-servers-", ignore_cleanup_errors=True) as folder,
        infrastructure(
            Path(folder),
            nats_url=os.environ.get("TALLY_NATS_URL") or None,
            database_url=os.environ.get("TALLY_DATABASE_URL") or None,
            fast=True,
        ) as endpoints,
    ):
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


@pytest.fixture
def nats_cluster() -> Iterator[NatsCluster]:
    """Three clustered nats-servers with JetStream for this test, stopped after it.

    `nats_cluster.url` lists every node (for `NatsBroker.connect` or TALLY_NATS_URL); give the
    streams `StreamLimits(replicas=3)` (TALLY_STREAM_REPLICAS=3) to replicate them.
    `kill(i)` / `start_node(i)` crash and restart node i; `index_of(stream_info.cluster.leader)`
    finds a stream's leader."""
    with (
        tempfile.TemporaryDirectory(prefix="tally-cluster-", ignore_cleanup_errors=True) as folder,
        NatsCluster(Path(folder)) as cluster,
    ):
        yield cluster

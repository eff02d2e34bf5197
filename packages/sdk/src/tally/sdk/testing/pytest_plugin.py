"""pytest fixtures for real NATS and PostgreSQL servers (loaded through the `pytest11` entry point).

`TALLY_NATS_URL` / `TALLY_OWNER_DATABASE_URL` name servers to use (the latter as the schema
owner, who may create databases and roles); for each one unset an embedded server is started
once per session. `database_url` is always a database of its own, created for the session and
dropped after it, so tests never touch anything else on a shared server. It is the owner's URL:
services log in with `login_url(database_url, role)` instead, as in production.

Migrated databases, with the schema of the workspace's migrations (the `tally_migrations` ini
option, "db/migrations" under the rootdir by default, or TALLY_MIGRATIONS):
`migrated_database_url` is the session's database at head, shared by the session's tests (give
rows a tenant of the test's own); `fresh_database_url` is a database of one test's own at head,
copied from a template migrated once per session (a copy takes a fraction of migrating).
`scratch_database_url` is an empty database of one test's own.
`nats_cluster` is a three-node NATS cluster started for one test (always embedded: the test may
kill its nodes).
`browser` is a real headless Chromium of one test's own (the system's, driven by Playwright),
`page` a page of it in a fresh context: for browser tests (see `_browser`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tally.sdk._errors import InfrastructureError
from tally.sdk._infrastructure import Endpoints, infrastructure
from tally.sdk._logins import OWNER_URL_VARIABLE, owner_database_url, role_passwords, role_url
from tally.sdk._nats_cluster import NatsCluster
from tally.sdk.testing._browser import browser, page  # noqa: F401  (fixtures of this plugin)
from tally.sdk.testing._login_urls import LoginUrl


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "tally_migrations",
        "the folder of numbered SQL migrations, relative to the rootdir (TALLY_MIGRATIONS wins)",
        default="db/migrations",
    )


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """`-n auto` (pytest-xdist) runs one process when servers are given: each worker starts
    embedded servers of its own, but given ones would be shared, and tests own the streams and
    the roles of the servers they are given. None: xdist's own count."""
    given = os.environ.get("TALLY_NATS_URL") or os.environ.get(OWNER_URL_VARIABLE)
    return 0 if given else None


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
        yield _url_of(server, name)
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
    async with _database(database_url, "tally_scratch") as url:
        yield url


@pytest.fixture(scope="session")
def migrations_dir(pytestconfig: pytest.Config) -> Path:
    """The workspace's migrations: TALLY_MIGRATIONS, else the `tally_migrations` ini option."""
    given = os.environ.get("TALLY_MIGRATIONS")
    folder = (
        Path(given) if given else pytestconfig.rootpath / pytestconfig.getini("tally_migrations")
    )
    if not folder.is_dir():
        raise InfrastructureError(
            f"no migrations at {folder}: set the `tally_migrations` ini option or TALLY_MIGRATIONS"
        )
    return folder


@pytest.fixture(scope="session")
def migrated_database_url(database_url: str, migrations_dir: Path) -> str:
    """The owner's URL of the session's database with the schema at head, shared by the
    session's tests: give what a test writes a tenant of its own."""
    from tally.sdk._migrations import migrate  # asyncpg only for the tests that need it

    asyncio.run(migrate(database_url, migrations_dir))
    return database_url


@pytest.fixture(scope="session")
def _migrated_template(database_url: str, migrations_dir: Path) -> Iterator[str]:
    """A database at head that `fresh_database_url` copies; nobody else connects to it (a
    template with sessions cannot be copied)."""
    from tally.sdk._migrations import migrate

    name = f"tally_template_{secrets.token_hex(6)}"
    asyncio.run(_execute(database_url, f'CREATE DATABASE "{name}"'))
    try:
        asyncio.run(migrate(_url_of(database_url, name), migrations_dir))
        yield name
    finally:
        asyncio.run(_execute(database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
async def fresh_database_url(database_url: str, _migrated_template: str) -> AsyncIterator[str]:
    """The owner's URL of a database of this test's own with the schema at head, dropped
    after the test: for tests whose rows, roles' sessions or streams no other test may see."""
    template = f'TEMPLATE "{_migrated_template}"'
    async with _database(database_url, "tally_fresh", template) as url:
        yield url


@contextlib.asynccontextmanager
async def _database(server_url: str, prefix: str, options: str = "") -> AsyncIterator[str]:
    name = f"{prefix}_{secrets.token_hex(6)}"
    await _execute(server_url, f'CREATE DATABASE "{name}" {options}'.rstrip())
    try:
        yield _url_of(server_url, name)
    finally:
        await _execute(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _url_of(server_url: str, database: str) -> str:
    return urlunsplit(urlsplit(server_url)._replace(path=f"/{database}"))


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

"""The servers a run uses: embedded ones started here (so their processes can be measured) or
the ones given by URL; and what they are — versions and the settings that decide speed.

Each run works in a database of its own, created empty and dropped at the end.
"""

from __future__ import annotations

import contextlib
import secrets
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import nats
import nats.js.errors
import psutil

from tally.sdk.embedded import EmbeddedNats, EmbeddedPostgres

POSTGRES_SETTINGS = (
    "shared_buffers",
    "synchronous_commit",
    "fsync",
    "full_page_writes",
    "wal_compression",
    "max_wal_size",
    "max_connections",
)


@dataclass(frozen=True)
class Servers:
    nats_url: str
    # The server's superuser / schema owner, database "postgres" or as given.
    postgres_url: str
    # Process ids to measure; None when the server is not a process of this machine we know.
    nats_pid: int | None
    postgres_pid: int | None
    embedded: bool
    # The embedded nats-server's JetStream block (store, sync interval), as it was started.
    nats_config: str | None = None


@contextlib.contextmanager
def servers(nats_url: str | None, postgres_url: str | None) -> Iterator[Servers]:
    """Embedded NATS and PostgreSQL (fsync on, as in production) for the URLs not given."""
    with (
        tempfile.TemporaryDirectory(prefix="tally-bench-", ignore_cleanup_errors=True) as folder,
        contextlib.ExitStack() as started,
    ):
        nats_pid = postgres_pid = None
        config = None
        if nats_url is None:
            embedded_nats = started.enter_context(EmbeddedNats(Path(folder)))
            nats_url, nats_pid = embedded_nats.url, embedded_nats.pid
            with contextlib.suppress(OSError):
                config = (embedded_nats.directory / "nats.conf").read_text()
        if postgres_url is None:
            postgres = EmbeddedPostgres(Path(folder), fast=False, disposable=True)
            started.enter_context(postgres)
            postgres_url, postgres_pid = postgres.url, postgres.pid
        yield Servers(
            nats_url,
            postgres_url,
            nats_pid,
            postgres_pid,
            embedded=nats_pid is not None,
            nats_config=config,
        )


async def local_postgres_pid(url: str) -> int | None:
    """The postmaster of a server given by URL, when it runs on this machine."""
    connection = await asyncpg.connect(url)
    try:
        backend = int(await connection.fetchval("SELECT pg_backend_pid()"))
    finally:
        await connection.close()
    with contextlib.suppress(psutil.Error):
        parent = psutil.Process(backend).parent()
        if parent is not None and "postgres" in parent.name():
            return parent.pid
    return None


@contextlib.asynccontextmanager
async def scratch_database(server_url: str, prefix: str = "tally_bench") -> AsyncIterator[str]:
    """A database of this run's own on the server, dropped after it."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def postgres_facts(url: str) -> dict[str, object]:
    connection = await asyncpg.connect(url)
    try:
        facts: dict[str, object] = {"version": await connection.fetchval("SHOW server_version")}
        for setting in POSTGRES_SETTINGS:
            facts[setting] = await connection.fetchval(f"SHOW {setting}")
    finally:
        await connection.close()
    return facts


async def nats_facts(url: str, stream: str) -> dict[str, object]:
    """Server version, and the stream's storage and replicas as the run left them."""
    client = await nats.connect(url)
    try:
        version = client.connected_server_version
        facts: dict[str, object] = {"version": f"{version.major}.{version.minor}.{version.patch}"}
        js = client.jetstream()
        with contextlib.suppress(nats.js.errors.NotFoundError):
            config = (await js.stream_info(stream)).config
            facts["stream"] = stream
            # nats-py gives these as enums or as their plain strings, depending on the path.
            facts["storage"] = str(getattr(config.storage, "value", config.storage))
            facts["replicas"] = config.num_replicas
            facts["retention"] = str(getattr(config.retention, "value", config.retention))
        account = await js.account_info()
        facts["max_file_store_bytes"] = account.limits.max_storage
    finally:
        await client.close()
    return facts

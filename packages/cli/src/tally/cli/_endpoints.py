"""The servers a command talks to: TALLY_NATS_URL / TALLY_DATABASE_URL, or embedded ones.

On an embedded PostgreSQL tally uses a database named `tally`, created on first use.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from tally.cli._paths import state_dir
from tally.sdk import Endpoints, infrastructure

DEMO_DATABASE = "tally"


@contextlib.contextmanager
def endpoints() -> Iterator[Endpoints]:
    """Yield usable endpoints; embedded servers started here are stopped on exit."""
    database_url = os.environ.get("TALLY_DATABASE_URL") or None
    with infrastructure(
        state_dir(), nats_url=os.environ.get("TALLY_NATS_URL") or None, database_url=database_url
    ) as found:
        if database_url is None:
            yield Endpoints(found.nats_url, with_database(found.database_url, DEMO_DATABASE))
        else:
            yield found


def with_database(server_url: str, name: str) -> str:
    """The URL of database `name` on the server of `server_url`."""
    return urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))


async def ensure_database(url: str) -> None:
    """Create the URL's database if it does not exist (embedded servers start with none)."""
    name = urlsplit(url).path.lstrip("/")
    admin = await asyncpg.connect(with_database(url, "postgres"))
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()

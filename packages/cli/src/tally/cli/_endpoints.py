"""The servers a command talks to: TALLY_NATS_URL / TALLY_OWNER_DATABASE_URL, or embedded ones.

The database URL a command holds is the schema owner's: it migrates and administers. Services
it starts log in as their own roles (`login_url`). On an embedded PostgreSQL tally uses a
database named `tally`, created on first use.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from tally.cli._paths import state_dir
from tally.sdk import Endpoints, infrastructure, owner_database_url, role_passwords, role_url

DEMO_DATABASE = "tally"


@contextlib.contextmanager
def endpoints() -> Iterator[Endpoints]:
    """Yield usable endpoints; embedded servers started here are stopped on exit."""
    database_url = owner_database_url(os.environ)
    with infrastructure(
        state_dir(), nats_url=os.environ.get("TALLY_NATS_URL") or None, database_url=database_url
    ) as found:
        if database_url is None:
            yield Endpoints(found.nats_url, with_database(found.database_url, DEMO_DATABASE))
        else:
            yield found


def login_url(owner_url: str, role: str) -> str:
    """The URL with which `role` logs in: the owner's with the user swapped, and on a server
    that asks for passwords the role's from TALLY_DATABASE_PASSWORD_<ROLE>."""
    return role_url(owner_url, role, role_passwords(os.environ).get(role))


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

"""The NATS and PostgreSQL servers a tally process talks to: given by URL, or embedded.

Each URL that is given is used as is; for each missing one a real server is started under the
state folder, and stopped again when the `infrastructure()` block ends, however it ends. The
embedded servers' code is imported only then: their binaries are the optional part
tally-sdk[embedded], which a service's image leaves out.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Endpoints:
    """Where the broker and the database are."""

    nats_url: str
    # The schema owner's URL (an embedded server's superuser): for migrations and
    # administration. Services log in with `role_url(database_url, their role)` instead.
    database_url: str


@contextlib.contextmanager
def infrastructure(
    state_dir: Path,
    *,
    nats_url: str | None,
    database_url: str | None,
    fast: bool = False,
    disposable: bool = False,
) -> Iterator[Endpoints]:
    """Yield the endpoints, starting embedded servers under `state_dir` for the missing URLs.

    `fast=True` runs an embedded PostgreSQL without fsync: for tests, never for real data.
    `disposable=True` removes its cluster when it stops: for a temporary `state_dir`.
    """
    with contextlib.ExitStack() as started:
        if nats_url is None:
            from tally.sdk._embedded_nats import EmbeddedNats

            nats_url = started.enter_context(EmbeddedNats(state_dir)).url
        if database_url is None:
            from tally.sdk._embedded_postgres import EmbeddedPostgres

            postgres = EmbeddedPostgres(state_dir, fast=fast, disposable=disposable)
            database_url = started.enter_context(postgres).url
        yield Endpoints(nats_url=nats_url, database_url=database_url)

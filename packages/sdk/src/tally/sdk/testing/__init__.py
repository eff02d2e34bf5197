"""Testing support for tally services.

Installing tally-sdk registers the pytest plugin `tally.sdk.testing.pytest_plugin`, whose
session fixtures `nats_url` and `database_url` give tests a real NATS JetStream and a fresh
PostgreSQL database: embedded servers, or the ones named by TALLY_NATS_URL / TALLY_DATABASE_URL.
`TcpProxy` stands between a client and such a server, to cut it off without stopping it.
"""

from tally.sdk.testing._outcomes import DeadLetter, dead_letters, eventually
from tally.sdk.testing._tcp_proxy import TcpProxy

__all__ = ["DeadLetter", "TcpProxy", "dead_letters", "eventually"]

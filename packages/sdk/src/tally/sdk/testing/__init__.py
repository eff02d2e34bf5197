"""Testing support for tally services.

Installing tally-sdk registers the pytest plugin `tally.sdk.testing.pytest_plugin`, whose
session fixtures `nats_url` and `database_url` give tests a real NATS JetStream and a fresh
PostgreSQL database (the owner's URL): embedded servers, or the ones named by TALLY_NATS_URL /
TALLY_OWNER_DATABASE_URL. Its `login_url` fixture (a `LoginUrl`) gives the URL with which a
service's role logs in to such a database. `TcpProxy` stands between a client and such a
server, to cut it off without stopping it. The fixture `nats_cluster` gives a test a three-node
NATS cluster of its own (`NatsCluster`: nodes can be killed and started again), for replicated
streams and fault tests. `browser` and `page` give a test a real headless Chromium (the
system's, driven by Playwright's async API) and a page of it in a fresh context.
"""

from tally.sdk._dead_letters import DeadLetter, dead_letters
from tally.sdk._nats_cluster import NatsCluster
from tally.sdk.testing._login_urls import LoginUrl
from tally.sdk.testing._outcomes import eventually
from tally.sdk.testing._tcp_proxy import TcpProxy

__all__ = ["DeadLetter", "LoginUrl", "NatsCluster", "TcpProxy", "dead_letters", "eventually"]

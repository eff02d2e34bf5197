"""Testing support for tally services.

Installing tally-sdk registers the pytest plugin `tally.sdk.testing.pytest_plugin`, whose
session fixtures `nats_url` and `database_url` give tests a real NATS JetStream and a fresh
PostgreSQL database: embedded servers, or the ones named by TALLY_NATS_URL / TALLY_DATABASE_URL.
The fixture `nats_cluster` gives a test a three-node NATS cluster of its own (`NatsCluster`:
nodes can be killed and started again), for replicated streams and fault tests.
"""

from tally.sdk._nats_cluster import NatsCluster
from tally.sdk.testing._outcomes import DeadLetter, dead_letters, eventually

__all__ = ["DeadLetter", "NatsCluster", "dead_letters", "eventually"]

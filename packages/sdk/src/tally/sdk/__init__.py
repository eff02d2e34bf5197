"""tally.sdk: the one way to build a tally service.

    Topic[T]        a subject pattern bound to a contract type (publish and consume are typed)
    Consumer        a durable, batched consumer of one topic, with retries and dead letters
    Service         settings + Deps + consumers + routes, declared in one screen
    run_service     the `main` of a service: settings, connections, SIGTERM, --workers N
    Database        one asyncpg pool per process; retried, tenant-scoped transactions
    query/command   SQL text bound to its parameter and row types
    migrate         numbered plain-SQL migrations under an advisory lock, with checksums
    NatsBroker, MemoryBroker    JetStream for real, and the same semantics in memory

Errors: TallyError is the root; a handler raises Reject(reason) to dead-letter a message.
"""

from tally.sdk._backoff import Backoff
from tally.sdk._broker import DEAD_LETTER_STREAM, Broker, Published, StoredMessage
from tally.sdk._consumer import Consumer, Envelope
from tally.sdk._database import Database, Tx
from tally.sdk._errors import (
    ContractError,
    InfrastructureError,
    MigrationError,
    Reject,
    SettingsError,
    TallyError,
    TransactionFailed,
)
from tally.sdk._host import ServiceHost
from tally.sdk._infrastructure import Endpoints, infrastructure
from tally.sdk._logs import configure_logging, log_context
from tally.sdk._main import RuntimeSettings, run_service
from tally.sdk._memory_broker import MemoryBroker
from tally.sdk._migrations import MigrationStatus, migrate, migration_status
from tally.sdk._nats_broker import BrokerUnavailable, NatsBroker
from tally.sdk._queries import (
    Bound,
    BoundCommand,
    Command,
    Query,
    command,
    query,
    registered_statements,
)
from tally.sdk._service import NoSettings, Runtime, Service
from tally.sdk._settings import load_settings
from tally.sdk._topics import Stream, Topic

__all__ = [
    "DEAD_LETTER_STREAM",
    "Backoff",
    "Bound",
    "BoundCommand",
    "Broker",
    "BrokerUnavailable",
    "Command",
    "Consumer",
    "ContractError",
    "Database",
    "Endpoints",
    "Envelope",
    "InfrastructureError",
    "MemoryBroker",
    "MigrationError",
    "MigrationStatus",
    "NatsBroker",
    "NoSettings",
    "Published",
    "Query",
    "Reject",
    "Runtime",
    "RuntimeSettings",
    "Service",
    "ServiceHost",
    "SettingsError",
    "StoredMessage",
    "Stream",
    "TallyError",
    "Topic",
    "TransactionFailed",
    "Tx",
    "command",
    "configure_logging",
    "infrastructure",
    "load_settings",
    "log_context",
    "migrate",
    "migration_status",
    "query",
    "registered_statements",
    "run_service",
]

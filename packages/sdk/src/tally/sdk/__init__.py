"""tally.sdk: the one way to build a tally service.

    Topic[T]        a subject pattern bound to a contract type (publish and consume are typed)
    Consumer        a durable, batched consumer of one topic, with retries and dead letters
    Schedule        a job run per slot (every, daily_at, or slots of your own), once across
                    every process of a service, caught up after downtime
    Service         settings + Deps + consumers + schedules + endpoints, declared in one screen
    Endpoint        an HTTP endpoint: method, path, who may call (an Auth scheme yielding a typed
                    Caller), typed parameters, Body and response; its handler gets a typed Call.
                    The service's OpenAPI document is generated from them (openapi_document)
    PUBLIC, AdminToken, MachineToken, TenantApiKey, UserSession, either    the schemes
    Html, File, Redirect, EventStream    answers besides JSON (pages, downloads, server-sent
                    events)
    token_hash      what is stored of a token, key or session id: the one place it is hashed
    run_service     the `main` of a service: settings, connections, SIGTERM, --workers N
    Secret          a setting shown as *** everywhere (SecretUrl: a URL with its password hidden)
    Database        one asyncpg pool per process; retried, tenant-scoped transactions
    Ledger          exactly-once work for any consumer: the identities it has handled
    DayPartitions   the day partitions of raw data and ledgers, made ahead and on demand
    role_url        a service role's login on the owner's server (set_role_passwords for servers
                    that ask for passwords)
    query/command   SQL text bound to its parameter and row types
    copy_into       a COPY target: a table and the NamedTuple row type of its columns
    migrate         numbered plain-SQL migrations under an advisory lock, with checksums
    NatsBroker, MemoryBroker    JetStream for real, and the same semantics in memory
    Stream, StreamLimits        a stream and its declared consumers; replicas and byte limit
    Rejected        an HTTP refusal and its `Problem` body: invalid(...), unauthorized(...)
    read_body       a request body within a size limit; invalid_from names the field at fault
    LogLimiter      repeated log lines written once per kind and window, the rest counted
    dead_letters    what consumers gave up on (DeadLetter: the original, why, who)
    json_body, msgpack_body     decode a body into a type: 400 or 422, never an exception
    STORABLE_TEXT   the pattern of free text every hop can carry and PostgreSQL can store

Public modules beside this one: `tally.sdk.testing` (fixtures, `eventually`), `tally.sdk.processes`
(free ports, child processes that die with their parent) and `tally.sdk.embedded` (NATS and
PostgreSQL from wheels, the optional part tally-sdk[embedded]).

Errors: TallyError is the root; BrokerUnavailable (and BrokerFull, the store is full) means
"retry later"; a handler raises Reject(reason) to dead-letter a message, and an endpoint raises
Rejected(status, problem) to refuse a request; ClaimLost undoes a scheduled run's transaction
when its slot went to another process. BodyRefused is a body's verdict without HTTP.
"""

from tally.sdk._answers import Answer, Event, EventStream, File, Html, Redirect
from tally.sdk._api_keys import IssuedKey, StoredKey, TenantApiKey
from tally.sdk._auth import PUBLIC, AdminToken, Auth, MachineToken, either
from tally.sdk._backoff import Backoff
from tally.sdk._bearer import bearer_token
from tally.sdk._body_formats import BodyFormat, BodyRefused, json_body, msgpack_body
from tally.sdk._broker import (
    DEAD_LETTER_STREAM,
    Broker,
    MessageTooLarge,
    Outgoing,
    Published,
    StoredMessage,
)
from tally.sdk._call import Call, NoParams, ScopedDatabase
from tally.sdk._callers import AdminCaller, Anonymous, Caller, TenantCaller
from tally.sdk._consumer import Consumer, Envelope, by_tenant
from tally.sdk._copies import Copy, copy_into
from tally.sdk._database import Database, Tx
from tally.sdk._dead_letters import DeadLetter, dead_letters
from tally.sdk._endpoint import FORM, AnyEndpoint, Body, Endpoint, Payload
from tally.sdk._errors import (
    BrokerFull,
    BrokerUnavailable,
    ClaimLost,
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
from tally.sdk._ledger import Ledger
from tally.sdk._log_limiter import LogLimiter
from tally.sdk._logins import (
    owner_database_url,
    role_passwords,
    role_url,
    set_role_passwords,
)
from tally.sdk._logs import configure_logging, log_context
from tally.sdk._main import RuntimeSettings, run_service
from tally.sdk._memory_broker import MemoryBroker
from tally.sdk._migrations import MigrationStatus, migrate, migration_status
from tally.sdk._nats_broker import NatsBroker
from tally.sdk._openapi import OpenApiInfo, openapi_document
from tally.sdk._partitions import DayPartitions, utc_days
from tally.sdk._problems import (
    Problem,
    Rejected,
    forbidden,
    invalid,
    malformed,
    presentable,
    too_large,
    unauthorized,
    unavailable,
    unsupported_media_type,
)
from tally.sdk._queries import (
    Bound,
    BoundCommand,
    Command,
    Query,
    command,
    query,
    registered_statements,
)
from tally.sdk._request_bodies import invalid_from, read_body, value_at
from tally.sdk._schedules import Schedule, ScheduledRun, Slot, daily_at, every
from tally.sdk._secrets import Secret, SecretUrl, redact_url
from tally.sdk._service import DatabaseRuntime, NoSettings, Runtime, Service
from tally.sdk._sessions import NewSession, StoredSession, UserSession
from tally.sdk._settings import load_settings
from tally.sdk._storable_text import STORABLE_TEXT
from tally.sdk._tokens import TOKEN_HASH_BYTES, new_token, token_hash
from tally.sdk._topics import Stream, StreamLimits, Topic

__all__ = [
    "DEAD_LETTER_STREAM",
    "FORM",
    "PUBLIC",
    "STORABLE_TEXT",
    "TOKEN_HASH_BYTES",
    "AdminCaller",
    "AdminToken",
    "Anonymous",
    "Answer",
    "AnyEndpoint",
    "Auth",
    "Backoff",
    "Body",
    "BodyFormat",
    "BodyRefused",
    "Bound",
    "BoundCommand",
    "Broker",
    "BrokerFull",
    "BrokerUnavailable",
    "Call",
    "Caller",
    "ClaimLost",
    "Command",
    "Consumer",
    "ContractError",
    "Copy",
    "Database",
    "DatabaseRuntime",
    "DayPartitions",
    "DeadLetter",
    "Endpoint",
    "Endpoints",
    "Envelope",
    "Event",
    "EventStream",
    "File",
    "Html",
    "InfrastructureError",
    "IssuedKey",
    "Ledger",
    "LogLimiter",
    "MachineToken",
    "MemoryBroker",
    "MessageTooLarge",
    "MigrationError",
    "MigrationStatus",
    "NatsBroker",
    "NewSession",
    "NoParams",
    "NoSettings",
    "OpenApiInfo",
    "Outgoing",
    "Payload",
    "Problem",
    "Published",
    "Query",
    "Redirect",
    "Reject",
    "Rejected",
    "Runtime",
    "RuntimeSettings",
    "Schedule",
    "ScheduledRun",
    "ScopedDatabase",
    "Secret",
    "SecretUrl",
    "Service",
    "ServiceHost",
    "SettingsError",
    "Slot",
    "StoredKey",
    "StoredMessage",
    "StoredSession",
    "Stream",
    "StreamLimits",
    "TallyError",
    "TenantApiKey",
    "TenantCaller",
    "Topic",
    "TransactionFailed",
    "Tx",
    "UserSession",
    "bearer_token",
    "by_tenant",
    "command",
    "configure_logging",
    "copy_into",
    "daily_at",
    "dead_letters",
    "either",
    "every",
    "forbidden",
    "infrastructure",
    "invalid",
    "invalid_from",
    "json_body",
    "load_settings",
    "log_context",
    "malformed",
    "migrate",
    "migration_status",
    "msgpack_body",
    "new_token",
    "openapi_document",
    "owner_database_url",
    "presentable",
    "query",
    "read_body",
    "redact_url",
    "registered_statements",
    "role_passwords",
    "role_url",
    "run_service",
    "set_role_passwords",
    "token_hash",
    "too_large",
    "unauthorized",
    "unavailable",
    "unsupported_media_type",
    "utc_days",
    "value_at",
]

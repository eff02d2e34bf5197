"""The SDK's front door: one sorted __all__, pinned so API changes show in review."""

from __future__ import annotations

import tally.sdk
import tally.sdk.embedded
import tally.sdk.processes
import tally.sdk.testing

SDK = [
    "DEAD_LETTER_STREAM",
    "STORABLE_TEXT",
    "Backoff",
    "BodyFormat",
    "Bound",
    "BoundCommand",
    "Broker",
    "BrokerFull",
    "BrokerUnavailable",
    "ClaimLost",
    "Command",
    "Consumer",
    "ContractError",
    "Copy",
    "Database",
    "DatabaseRuntime",
    "DayPartitions",
    "DeadLetter",
    "Endpoints",
    "Envelope",
    "InfrastructureError",
    "Ledger",
    "LogLimiter",
    "MemoryBroker",
    "MessageTooLarge",
    "MigrationError",
    "MigrationStatus",
    "NatsBroker",
    "NoSettings",
    "Outgoing",
    "Problem",
    "Published",
    "Query",
    "Reject",
    "Rejected",
    "Runtime",
    "RuntimeSettings",
    "Schedule",
    "ScheduledRun",
    "Secret",
    "SecretUrl",
    "Service",
    "ServiceHost",
    "SettingsError",
    "Slot",
    "StoredMessage",
    "Stream",
    "StreamLimits",
    "TallyError",
    "Topic",
    "TransactionFailed",
    "Tx",
    "bearer_token",
    "by_tenant",
    "command",
    "configure_logging",
    "copy_into",
    "daily_at",
    "dead_letters",
    "every",
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
    "too_large",
    "unauthorized",
    "unavailable",
    "unsupported_media_type",
    "utc_days",
    "value_at",
]


def test_the_sdk_exports_exactly_its_public_names() -> None:
    assert tally.sdk.__all__ == SDK
    assert sorted(SDK) == SDK or sorted(SDK, key=lambda n: (not n.isupper(), n)) == SDK
    for name in SDK:
        assert hasattr(tally.sdk, name), name


def test_the_testing_helpers_are_pinned_too() -> None:
    assert tally.sdk.testing.__all__ == [
        "DeadLetter",
        "LoginUrl",
        "NatsCluster",
        "TcpProxy",
        "dead_letters",
        "eventually",
    ]


def test_the_process_and_embedded_modules_are_pinned_too() -> None:
    assert tally.sdk.processes.__all__ == ["free_port", "log_tail", "parent_death_hook"]
    assert tally.sdk.embedded.__all__ == [
        "EMBEDDED_EXTRA",
        "EmbeddedNats",
        "EmbeddedPostgres",
        "nats_server_binary",
    ]

"""The SDK's front door: one sorted __all__, pinned so API changes show in review."""

from __future__ import annotations

import tally.sdk
import tally.sdk.testing

SDK = [
    "DEAD_LETTER_STREAM",
    "STORABLE_TEXT",
    "Backoff",
    "BodyFormat",
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
    "Service",
    "ServiceHost",
    "SettingsError",
    "StoredMessage",
    "Stream",
    "TallyError",
    "Topic",
    "TransactionFailed",
    "Tx",
    "bearer_token",
    "command",
    "configure_logging",
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
    "registered_statements",
    "role_passwords",
    "role_url",
    "run_service",
    "set_role_passwords",
    "too_large",
    "unauthorized",
    "unavailable",
    "unsupported_media_type",
    "value_at",
    "without_password",
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
        "TcpProxy",
        "dead_letters",
        "eventually",
    ]

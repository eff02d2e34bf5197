"""The SDK's errors: one root, a shallow tree.

    TallyError                  root of every error the SDK raises on purpose
    ├── ContractError           a topic or contract is declared wrongly (a programming error)
    ├── SettingsError           the environment lacks or garbles a setting (names the variable)
    ├── InfrastructureError     an embedded server could not be started or reached
    │   └── BrokerUnavailable   the broker did not confirm storage: retry later (HTTP 503)
    │       └── BrokerFull      ... because its store is full: retry once consumers catch up
    ├── MigrationError          a migration failed, or an applied one was edited
    ├── TransactionFailed       a transaction kept failing after its retries
    └── ClaimLost               a scheduled run's slot was finished or taken over by another

`Reject` is not an error of the SDK but a handler's verdict: the message can never succeed, so
it goes to the dead-letter stream with the reason and is not retried.
"""

from __future__ import annotations


class TallyError(Exception):
    """Root of the SDK's errors."""


class ContractError(TallyError):
    """A topic or contract is declared wrongly."""


class SettingsError(TallyError):
    """A setting is missing or cannot be read; the message names the environment variable."""


class InfrastructureError(TallyError):
    """An embedded server could not be started, or a server could not be reached."""


class BrokerUnavailable(InfrastructureError):
    """The broker did not confirm storage; the caller should retry later (HTTP 503)."""


class BrokerFull(BrokerUnavailable):
    """The broker refused to store because its store (or the stream's byte limit) is full.

    Nothing was stored. Space comes back as consumers acknowledge what they hold, so this is a
    reason to retry later, not a fault of the message."""


class MigrationError(TallyError):
    """A migration failed, or an applied migration's file was edited afterwards."""


class TransactionFailed(TallyError):
    """A transaction still failed with a retryable error after its last retry."""


class ClaimLost(TallyError):
    """A scheduled run's slot is no longer its own: finished by another process, or taken over
    after its lease ran out. The transaction that tried to mark it done rolls back."""


class Reject(Exception):
    """Raised by a handler: this message can never be processed; dead-letter it with `reason`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

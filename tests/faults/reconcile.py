"""Reconciliation: what the gateway answered against what PostgreSQL holds, identity by identity.

Every message answered 200 must be in the ledger `telemetry_messages` exactly once, with its
rows in the raw tables exactly once (two counter rows carrying its boot_id and seq, one gauge
row named after its boot with its seq as value, marked with its tenant). Nothing may be stored
that was never answered 200: not the good messages of a poisoned upload, not a refused request
that was never accepted later, not a row from nowhere.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import asyncpg

from .load import SIGNALS_PER_MESSAGE, Identity, Verdicts

_COUNTERS_PER_MESSAGE = 2
_OTHER_TABLES = ("state_changes", "weighings", "alarms", "context_events")


@dataclass(frozen=True)
class Reconciliation:
    """One scenario's line of the reconciliation table."""

    scenario: str
    answered_200: int
    stored: int
    lost: int
    duplicated: int
    # Stored though never answered 200: from poisoned or refused requests, or from nowhere.
    stored_unanswered: int
    # Rows of one tenant's message marked with another tenant.
    wrong_tenant: int
    # Requests refused (429, 5xx, no answer) and sent again.
    retried: int
    # Uploads a machine gave up on (no 200 however long it retried), and poisoned uploads that
    # were not refused: a pipeline that recovers has neither.
    given_up: int
    poison_passed: int
    # None: ingest and storage did not flow again.
    recovery_seconds: float | None
    # Every answer of the run by status, to read a failure by.
    answers: dict[str, int]
    # Messages the recorder's handler took care of but never acknowledged, where measured
    # (a recorder that ran throughout, on a broker that stayed up).
    unsettled: int | None = None

    @property
    def clean(self) -> bool:
        faults = (self.lost, self.duplicated, self.stored_unanswered, self.wrong_tenant)
        recovered = self.recovery_seconds is not None
        return (
            recovered
            and not any(faults)
            and not (self.given_up or self.poison_passed or self.unsettled)
        )


@dataclass(frozen=True)
class _Stored:
    ledger: Counter[Identity]
    ledger_signals: dict[Identity, int]
    counter_rows: Counter[Identity]
    gauge_rows: Counter[Identity]
    wrong_tenant: int
    other_rows: int


async def stored_count(database_url: str) -> int:
    """Distinct message identities in the ledger."""
    connection = await asyncpg.connect(database_url)
    try:
        count: int = await connection.fetchval(
            "SELECT count(*) FROM (SELECT DISTINCT tenant, machine, boot_id, seq "
            "FROM telemetry_messages) AS identities"
        )
    finally:
        await connection.close()
    return count


async def is_stored(database_url: str, identity: Identity) -> bool:
    connection = await asyncpg.connect(database_url)
    try:
        found: bool = await connection.fetchval(
            "SELECT EXISTS (SELECT FROM telemetry_messages "
            "WHERE tenant = $1 AND machine = $2 AND boot_id = $3 AND seq = $4)",
            *identity,
        )
    finally:
        await connection.close()
    return found


async def reconcile(
    scenario: str,
    database_url: str,
    verdicts: Verdicts,
    recovery_seconds: float | None,
    unsettled: int | None = None,
) -> Reconciliation:
    """Compare `verdicts` with the database (as a superuser, so row-level security hides
    nothing)."""
    stored = await _read_stored(database_url)
    accepted = verdicts.accepted
    identities = set(stored.ledger) | set(stored.counter_rows) | set(stored.gauge_rows)
    lost = sum(1 for identity in accepted if not _complete(stored, identity))
    duplicated = sum(1 for identity in identities if _repeated(stored, identity))
    unanswered = len(identities - accepted) + stored.other_rows
    return Reconciliation(
        scenario=scenario,
        answered_200=len(accepted),
        stored=len(stored.ledger),
        lost=lost,
        duplicated=duplicated,
        stored_unanswered=unanswered,
        wrong_tenant=stored.wrong_tenant,
        retried=verdicts.retried,
        given_up=verdicts.undelivered,
        poison_passed=verdicts.poison_not_refused,
        recovery_seconds=recovery_seconds,
        answers=dict(verdicts.answers),
        unsettled=unsettled,
    )


def _complete(stored: _Stored, identity: Identity) -> bool:
    return (
        stored.ledger[identity] >= 1
        and stored.ledger_signals.get(identity) == SIGNALS_PER_MESSAGE
        and stored.counter_rows[identity] >= _COUNTERS_PER_MESSAGE
        and stored.gauge_rows[identity] >= 1
    )


def _repeated(stored: _Stored, identity: Identity) -> bool:
    return (
        stored.ledger[identity] > 1
        or stored.counter_rows[identity] > _COUNTERS_PER_MESSAGE
        or stored.gauge_rows[identity] > 1
    )


async def _read_stored(database_url: str) -> _Stored:
    connection = await asyncpg.connect(database_url)
    try:
        ledger = await connection.fetch(
            "SELECT tenant, machine, boot_id, seq, count(*) AS copies, max(signals) AS signals "
            "FROM telemetry_messages GROUP BY tenant, machine, boot_id, seq"
        )
        counters = await connection.fetch(
            "SELECT tenant, machine, boot_id, seq, count(*) AS copies "
            "FROM counter_samples GROUP BY tenant, machine, boot_id, seq"
        )
        gauges = await connection.fetch(
            "SELECT tenant, machine, name, value, unit, count(*) AS copies "
            "FROM gauge_samples GROUP BY tenant, machine, name, value, unit"
        )
        other = 0
        for table in _OTHER_TABLES:
            other += await connection.fetchval(f"SELECT count(*) FROM {table}")
    finally:
        await connection.close()
    gauge_rows: Counter[Identity] = Counter()
    wrong_tenant = 0
    for row in gauges:
        _, _, boot_id = row["name"].partition(":")
        gauge_rows[(row["tenant"], row["machine"], boot_id, int(row["value"]))] += row["copies"]
        if row["unit"] != row["tenant"]:
            wrong_tenant += row["copies"]
    return _Stored(
        ledger=Counter({_key(row): row["copies"] for row in ledger}),
        ledger_signals={_key(row): row["signals"] for row in ledger},
        counter_rows=Counter({_key(row): row["copies"] for row in counters}),
        gauge_rows=gauge_rows,
        wrong_tenant=wrong_tenant,
        other_rows=other,
    )


def _key(row: asyncpg.Record) -> Identity:
    return (row["tenant"], row["machine"], row["boot_id"], row["seq"])

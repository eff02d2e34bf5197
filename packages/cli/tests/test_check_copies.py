"""COPY targets verified against the schema: a planted fault fails with the place and the rule.

The copies declared here are outside every member's src/, so `tally check` of the workspace never
sees them; they are described against scratch databases on the session's PostgreSQL server.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import NamedTuple

import pytest

from tally.cli.checks._sql import (
    build_lock,
    check_live,
    check_offline,
    describe_on,
    migrations_checksum,
    read_sql_lock,
)
from tally.cli.checks._workspace import Statement, load_workspace
from tally.sdk import Copy, Endpoints, copy_into

ROOT = Path(__file__).resolve().parents[3]
MIGRATIONS = ROOT / "db" / "migrations"
HERE = "packages/cli/tests/test_check_copies.py"


class MisspelledSample(NamedTuple):
    tenant: str
    machine: str
    name: str
    ts: datetime
    vaule: int  # the column is `value`
    boot_id: str
    seq: int


class TextValue(NamedTuple):
    tenant: str
    machine: str
    name: str
    ts: datetime
    value: str  # bigint
    boot_id: str
    seq: int


class MaybeMachine(NamedTuple):
    tenant: str
    machine: str | None  # NOT NULL
    name: str
    ts: datetime
    value: int
    boot_id: str
    seq: int


class WithoutSeq(NamedTuple):
    tenant: str
    machine: str
    name: str
    ts: datetime
    value: int
    boot_id: str


class Ledger(NamedTuple):
    # received_at is NOT NULL with a default: leaving it out is fine.
    tenant: str
    machine: str
    boot_id: str
    seq: int
    ts: datetime
    historical: bool
    signals: int


MISSPELLED = copy_into("counter_samples", MisspelledSample)
TEXT_VALUE = copy_into("counter_samples", TextValue)
MAYBE_MACHINE = copy_into("counter_samples", MaybeMachine)
WITHOUT_SEQ = copy_into("counter_samples", WithoutSeq)
LEDGER = copy_into("telemetry_messages", Ledger)
NO_TABLE = copy_into("counter_sample", Ledger)


@pytest.fixture
def server(tally_endpoints: Endpoints) -> str:
    return tally_endpoints.database_url


@pytest.mark.integration
async def test_a_misspelled_copy_column_names_file_line_column_and_rule(server: str) -> None:
    found = await describe_on(server, [MISSPELLED], MIGRATIONS)
    [error] = check_live(ROOT, [MISSPELLED], found, None, "").errors
    assert error.startswith(
        f"{HERE}:{MISSPELLED.line}: MisspelledSample (COPY into counter_samples"
    )
    assert 'column "vaule" of relation "counter_samples" does not exist' in error
    assert "[rule: every statement prepares against the migrated schema]" in error


@pytest.mark.integration
async def test_a_copy_into_a_missing_table_fails(server: str) -> None:
    found = await describe_on(server, [NO_TABLE], MIGRATIONS)
    [error] = check_live(ROOT, [NO_TABLE], found, None, "").errors
    assert 'relation "counter_sample" does not exist' in error


@pytest.mark.integration
async def test_copy_fields_must_be_what_asyncpg_encodes_for_their_columns(server: str) -> None:
    copies: list[Statement] = [TEXT_VALUE, MAYBE_MACHINE, WITHOUT_SEQ, LEDGER]
    found = await describe_on(server, copies, MIGRATIONS)
    errors = check_live(ROOT, copies, found, None, "").errors
    assert [e for e in errors if "[rule: the lock is current]" not in e] == [
        f"{HERE}:{TEXT_VALUE.line}: TextValue: TextValue.value is str but column 'value' of "
        "counter_samples is int8 [rule: column type]",
        f"{HERE}:{MAYBE_MACHINE.line}: MaybeMachine: MaybeMachine.machine is str | None but "
        "column 'machine' of counter_samples is NOT NULL [rule: column nullability]; declare str",
        f"{HERE}:{WITHOUT_SEQ.line}: WithoutSeq: WithoutSeq leaves out column 'seq' of "
        "counter_samples, which is NOT NULL without a default [rule: a COPY fills every "
        "required column]",
    ]


@pytest.mark.integration
async def test_without_a_database_copies_are_checked_against_the_lock(server: str) -> None:
    recorder = [s for s in load_workspace(ROOT).statements if "/recorder/" in s.file]
    found = await describe_on(server, [*recorder, TEXT_VALUE], MIGRATIONS)
    sums = migrations_checksum(MIGRATIONS)
    lock = build_lock(ROOT, [*recorder, TEXT_VALUE], found, sums)
    # The lock records the table; the row type is checked against it without a database.
    errors = check_offline(ROOT, [*recorder, TEXT_VALUE], lock, sums).errors
    assert [e for e in errors if "[rule: column type]" in e] == [
        f"{HERE}:{TEXT_VALUE.line}: TextValue: TextValue.value is str but column 'value' of "
        "counter_samples is int8 [rule: column type]"
    ]
    # A misspelled column is new SQL: it is not in the lock, so it needs a database.
    [missing] = check_offline(ROOT, [MISSPELLED], lock, sums).errors[:1]
    assert "statement MisspelledSample is not in sql.lock.json" in missing


def test_the_recorders_copies_are_in_the_committed_lock() -> None:
    lock = read_sql_lock(ROOT / "sql.lock.json")
    assert lock is not None
    used_by = {user for entry in lock.statements.values() for user in entry.used_by}
    copies = [s for s in load_workspace(ROOT).statements if isinstance(s, Copy)]
    assert {c.table for c in copies} >= {"counter_samples", "weighings", "context_events"}
    for copy in copies:
        assert f"services/recorder/src/tally/recorder/rows.py::{copy.name}" in used_by

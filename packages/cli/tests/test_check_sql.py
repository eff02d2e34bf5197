"""SQL verified against the schema: planted faults fail with the file, line and rule.

Statements declared here are outside every member's src/, so `tally check` of the workspace never
sees them; they are prepared against scratch databases on the session's PostgreSQL server.
"""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import dataclass
from pathlib import Path

import msgspec
import pytest

from tally.cli.checks._sql import (
    SQL_LOCK,
    SqlLock,
    build_lock,
    check_live,
    check_offline,
    describe_on,
    inspect_on,
    migrations_checksum,
    read_sql_lock,
    schema_steps,
    write_sql_lock,
)
from tally.cli.checks._workspace import Statement, load_workspace, relative_to
from tally.sdk import Endpoints, query

ROOT = Path(__file__).resolve().parents[3]
MIGRATIONS = ROOT / "db" / "migrations"
HERE = "packages/cli/tests/test_check_sql.py"


class TenantName(msgspec.Struct, frozen=True):
    tenant: str
    name: str


@query(TenantName, "SELECT tenant, nmae AS name FROM tenants WHERE tenant = $1")
def misspelled_column(tenant: str) -> None: ...


@query(TenantName, "SELECT tenant, name FROM tenants WHERE rate_per_second = $1")
def wrong_parameter_type(rate: str) -> None: ...


@query(
    TenantName,
    """
    SELECT t.tenant, s.name
    FROM tenants t LEFT JOIN sites s USING (tenant)
    WHERE t.tenant = $1
    """,
)
def outer_join(tenant: str) -> None: ...


@query(TenantName, "SELECT tenant, name FROM tenants WHERE tenant = $1 AND name = $2")
def not_locked(tenant: str, name: str) -> None: ...


class TenantRow(msgspec.Struct, frozen=True):
    tenant: str
    name: str
    rate_per_second: int
    retention_days: int


# Locked with the registry's statements; changed_migrations changes two columns it reads.
@query(
    TenantRow, "SELECT tenant, name, rate_per_second, retention_days FROM tenants WHERE tenant = $1"
)
def tenant_by_id(tenant: str) -> None: ...


def line_of(statement: Statement, text: str) -> int:
    lines = Path(statement.file).read_text().splitlines()
    return next(n for n, line in enumerate(lines, 1) if n >= statement.line and text in line)


def registry_statements() -> list[Statement]:
    return [s for s in load_workspace(ROOT).statements if "/registry/" in s.file]


@pytest.fixture
def server(tally_endpoints: Endpoints) -> str:
    return tally_endpoints.database_url


@dataclass(frozen=True)
class Locked:
    """A workspace root whose sql.lock.json records the registry's statements (and
    tenant_by_id) at head."""

    root: Path
    statements: list[Statement]
    lock: SqlLock


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory, tally_endpoints: Endpoints) -> Locked:
    root = tmp_path_factory.mktemp("locked")
    statements = [*registry_statements(), tenant_by_id]
    found = asyncio.run(inspect_on(tally_endpoints.database_url, statements, MIGRATIONS))
    sums = migrations_checksum(MIGRATIONS)
    lock = build_lock(root, statements, found.descriptions, sums, found.security)
    write_sql_lock(root / SQL_LOCK, lock)
    return Locked(root, statements, lock)


def changed_migrations(folder: Path) -> Path:
    """db/migrations plus one that changes two columns tenant_by_id reads."""
    migrations = folder / "migrations"
    shutil.copytree(MIGRATIONS, migrations)
    number = len(list(migrations.glob("*.sql"))) + 1
    (migrations / f"{number:04d}_change.sql").write_text(
        "ALTER TABLE tenants ALTER COLUMN rate_per_second TYPE numeric;\n"
        "ALTER TABLE tenants ALTER COLUMN retention_days DROP NOT NULL;\n"
    )
    return migrations


@pytest.mark.integration
async def test_the_workspace_prepares_and_its_lock_is_current(server: str) -> None:
    statements = load_workspace(ROOT).statements
    found = await inspect_on(server, statements, MIGRATIONS)
    lock = read_sql_lock(ROOT / SQL_LOCK)
    sums = migrations_checksum(MIGRATIONS)
    outcome = check_live(ROOT, statements, found.descriptions, lock, sums, found.security)
    assert outcome.errors == []


@pytest.mark.integration
async def test_a_misspelled_column_names_file_line_and_rule(server: str) -> None:
    found = await describe_on(server, [misspelled_column], MIGRATIONS)
    [error, *_] = check_live(ROOT, [misspelled_column], found, None, "").errors
    line = line_of(misspelled_column, "nmae")
    assert error.startswith(f"{HERE}:{line}: misspelled_column does not prepare")
    assert 'column "nmae" does not exist' in error
    assert "[rule: every statement prepares against the migrated schema]" in error


@pytest.mark.integration
async def test_a_wrong_parameter_type_fails(server: str) -> None:
    found = await describe_on(server, [wrong_parameter_type], MIGRATIONS)
    [error, *_] = check_live(ROOT, [wrong_parameter_type], found, None, "").errors
    assert error.startswith(f"{HERE}:{wrong_parameter_type.line}: wrong_parameter_type")
    assert "parameter $1 `rate` is declared str but PostgreSQL expects int4" in error
    assert "[rule: parameter type]" in error


@pytest.mark.integration
async def test_the_nullable_side_of_an_outer_join_needs_optional_fields(server: str) -> None:
    found = await describe_on(server, [outer_join], MIGRATIONS)
    [error, *_] = check_live(ROOT, [outer_join], found, None, "").errors
    assert "TenantName.name is str but column 'name' may be NULL" in error
    assert "[rule: column nullability]" in error


@pytest.mark.integration
async def test_a_changed_column_fails_the_row_type_that_reads_it_and_the_lock(
    server: str, locked: Locked, tmp_path: Path
) -> None:
    migrations = changed_migrations(tmp_path)
    found = await describe_on(server, locked.statements, migrations)
    sums = migrations_checksum(migrations)
    errors = check_live(locked.root, locked.statements, found, locked.lock, sums).errors
    place = f"{relative_to(locked.root, tenant_by_id.file)}:{tenant_by_id.line}: tenant_by_id"
    type_error = f"{place}: {TenantRow.__name__}.rate_per_second is int but column"
    assert any(e.startswith(type_error) and "[rule: column type]" in e for e in errors), errors
    nullability = f"{place}: TenantRow.retention_days is int but column 'retention_days' may be"
    assert any(e.startswith(nullability) for e in errors), errors
    assert any(e.startswith(f"{SQL_LOCK} is stale") for e in errors), errors


def test_without_a_database_a_statement_missing_from_the_lock_fails(locked: Locked) -> None:
    statements = [*locked.statements, not_locked]
    sums = migrations_checksum(MIGRATIONS)
    outcome = check_offline(locked.root, statements, locked.lock, sums)
    [error] = outcome.errors
    place = relative_to(locked.root, not_locked.file)
    assert error.startswith(f"{place}:{not_locked.line}: statement not_locked is not in {SQL_LOCK}")
    assert "run `tally lock`" in error


def test_without_a_database_the_python_side_is_still_verified(locked: Locked) -> None:
    class WrongTenantRow(msgspec.Struct, frozen=True):
        tenant: str
        name: str
        rate_per_second: str
        retention_days: int

    # The same SQL as tenant_by_id, so the lock describes it.
    @query(WrongTenantRow, tenant_by_id.sql)
    def tenant_again(tenant: str) -> None: ...

    statements = [*locked.statements, tenant_again]
    outcome = check_offline(locked.root, statements, locked.lock, migrations_checksum(MIGRATIONS))
    assert any(
        e.startswith(f"{relative_to(locked.root, tenant_again.file)}:{tenant_again.line}: ")
        and "WrongTenantRow.rate_per_second is str" in e
        and "[rule: column type]" in e
        for e in outcome.errors
    ), outcome.errors


def test_changed_migrations_make_the_lock_stale(locked: Locked, tmp_path: Path) -> None:
    sums = migrations_checksum(changed_migrations(tmp_path))
    outcome = check_offline(locked.root, locked.statements, locked.lock, sums)
    assert any("recorded for other migrations" in e for e in outcome.errors)


def test_a_fresh_lock_needs_no_database(
    locked: Locked, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A server nobody listens on: the step must not even try it.
    monkeypatch.setenv("TALLY_OWNER_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    outcomes = schema_steps(locked.root, locked.statements, "auto", MIGRATIONS, tmp_path)
    assert outcomes.sql.errors == outcomes.security.errors == []
    assert "from sql.lock.json" in outcomes.sql.summary
    assert "from sql.lock.json" in outcomes.security.summary

"""Every SQL statement the services run, verified against the schema at the head of db/migrations.

sql.lock.json records, per distinct SQL text, what PostgreSQL said about it (parameter types,
column types, nullability) and which migrations it was said for, like sqlx's offline data:

- with the lock fresh (same migrations, every statement's SQL recorded), no database is needed:
  each declaration is checked against the recorded description;
- otherwise, or with `--db`, every statement is prepared against a scratch database migrated to
  head (TALLY_OWNER_DATABASE_URL's server, else the embedded one), which names the file and line
  of a statement that does not prepare; and a lock that differs from what was found is itself an
  error, as is a missing or changed entry without a database (`--offline`).

The key is the SQL text alone: editing a row type or a parameter annotation needs no database,
only SQL and migrations do. The lock also records the schema's security (`_schema_facts`), which
the security step checks (`_security`) from the lock or from the same scratch database.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Literal, NamedTuple

import asyncpg
import msgspec

from tally.cli.checks._contracts import render_lock
from tally.cli.checks._outcome import Outcome
from tally.cli.checks._schema_facts import SchemaFacts, read_schema_facts
from tally.cli.checks._security import check_security
from tally.cli.checks._sql_describe import (
    Column,
    Description,
    TableColumn,
    Unprepared,
    database_server,
    describe,
    describe_copy,
    scratch_database,
)
from tally.cli.checks._sql_types import check_copy, check_params, check_row, unverified
from tally.cli.checks._workspace import Statement, relative_to
from tally.sdk import Copy, Query, TallyError

SQL_LOCK = "sql.lock.json"
Mode = Literal["auto", "offline", "db"]


class LockedStatement(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    sql: str
    used_by: list[str]
    params: list[str]
    columns: list[Column]
    # A COPY's table, column by column (absent for other statements).
    table: list[TableColumn] | None = None

    @property
    def description(self) -> Description:
        return Description(params=self.params, columns=self.columns, table=self.table)


class SqlLock(msgspec.Struct, frozen=True, kw_only=True):
    format: int = 1
    migrations: str = ""
    statements: dict[str, LockedStatement] = {}
    security: SchemaFacts | None = None


class Inspection(NamedTuple):
    """What a scratch database at head said: about each distinct SQL text, and its security."""

    descriptions: dict[str, Description | Unprepared]
    security: SchemaFacts


class SchemaOutcomes(NamedTuple):
    sql: Outcome
    security: Outcome


def schema_steps(
    root: Path, statements: Sequence[Statement], mode: Mode, migrations: Path, state_dir: Path
) -> SchemaOutcomes:
    """The SQL and security steps of `tally check`: from the lock when it is fresh, else
    against a database."""
    lock = read_sql_lock(root / SQL_LOCK)
    sums = migrations_checksum(migrations)
    if mode == "offline" or (mode == "auto" and is_fresh(root, statements, lock, sums)):
        return SchemaOutcomes(
            check_offline(root, statements, lock, sums), locked_security(root, lock)
        )
    try:
        found = inspect_schema(statements, migrations, state_dir)
    except (TallyError, OSError, asyncpg.PostgresError) as error:
        if mode == "db":
            failed = f"cannot verify SQL against a database: {error}"
            return SchemaOutcomes(Outcome(errors=[failed]), Outcome(errors=[failed]))
        outcome = check_offline(root, statements, lock, sums)
        outcome.notes.append(f"no database to prepare the statements against: {error}")
        return SchemaOutcomes(outcome, locked_security(root, lock))
    live = check_live(root, statements, found.descriptions, lock, sums, found.security)
    return SchemaOutcomes(live, check_security(root, found.security))


def locked_security(root: Path, lock: SqlLock | None) -> Outcome:
    """The security rules against what the lock recorded of the schema."""
    if lock is None or lock.security is None:
        return Outcome(
            errors=[f"{SQL_LOCK} records no schema security; run `tally lock` with a database"]
        )
    outcome = check_security(root, lock.security)
    outcome.summary += f", from {SQL_LOCK}"
    return outcome


def lock_sql(
    root: Path, statements: Sequence[Statement], migrations: Path, state_dir: Path
) -> Outcome:
    """`tally lock`: record what the schema says about every statement, if all prepare."""
    sums = migrations_checksum(migrations)
    try:
        inspected = inspect_schema(statements, migrations, state_dir)
    except (TallyError, OSError, asyncpg.PostgresError) as error:
        return Outcome(errors=[f"{SQL_LOCK} not written: no database to prepare against: {error}"])
    found = inspected.descriptions
    outcome = check_live(root, statements, found, None, sums, inspected.security)
    # The lock differs from None by definition; that is not what `tally lock` reports.
    outcome.errors = [e for e in outcome.errors if not e.startswith(SQL_LOCK)]
    unprepared = sum(isinstance(r, Unprepared) for r in found.values())
    if unprepared:
        outcome.summary = f"{SQL_LOCK} not written: {unprepared} statements do not prepare"
    else:
        lock = build_lock(root, statements, found, sums, inspected.security)
        write_sql_lock(root / SQL_LOCK, lock)
        outcome.summary = f"{len(found)} distinct statements recorded in {SQL_LOCK}"
    return outcome


def statement_key(sql: str) -> str:
    return hashlib.sha256(sql.encode()).hexdigest()[:16]


def migrations_checksum(directory: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(directory.glob("*.sql")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def read_sql_lock(path: Path) -> SqlLock | None:
    return msgspec.json.decode(path.read_bytes(), type=SqlLock) if path.is_file() else None


def write_sql_lock(path: Path, lock: SqlLock) -> None:
    path.write_text(render_lock(lock))


def verify(root: Path, statement: Statement, description: Description) -> list[str]:
    """The Python side of one statement against a description of its SQL."""
    if isinstance(statement, Copy):
        problems = check_copy(statement, description.params, description.table or [])
    else:
        problems = check_params(statement.params, description.params)
    if isinstance(statement, Query):
        problems += check_row(statement, description.columns)
    where = f"{relative_to(root, statement.file)}:{statement.line}: {statement.name}"
    return [f"{where}: {problem}" for problem in problems]


def is_fresh(root: Path, statements: Sequence[Statement], lock: SqlLock | None, sums: str) -> bool:
    """Whether the lock describes exactly these statements' SQL, for these migrations."""
    return (
        lock is not None
        and lock.migrations == sums
        and lock.security is not None
        and _entries_match(root, statements, lock)
    )


def check_offline(
    root: Path, statements: Sequence[Statement], lock: SqlLock | None, sums: str
) -> Outcome:
    """Every declaration against the lock's descriptions; a missing or stale entry fails."""
    outcome = Outcome(summary=f"{len(statements)} statements, from {SQL_LOCK}")
    if lock is None:
        outcome.errors.append(f"{SQL_LOCK} is missing; run `tally lock` and commit it")
        return outcome
    if lock.migrations != sums:
        outcome.errors.append(
            f"{SQL_LOCK} was recorded for other migrations (db/migrations changed since) "
            "[rule: the lock is current]; run `tally lock`"
        )
    for statement in statements:
        entry = lock.statements.get(statement_key(statement.sql))
        if entry is None:
            outcome.errors.append(
                f"{relative_to(root, statement.file)}:{statement.line}: statement "
                f"{statement.name} is not in {SQL_LOCK} (its SQL is new or changed) "
                "[rule: the lock is current]; run `tally lock` with a database"
            )
        else:
            outcome.errors.extend(verify(root, statement, entry.description))
    if lock.migrations == sums:
        outcome.errors.extend(_stale_entries(_users(root, statements), lock))
    return outcome


def check_live(
    root: Path,
    statements: Sequence[Statement],
    found: dict[str, Description | Unprepared],
    lock: SqlLock | None,
    sums: str,
    security: SchemaFacts | None = None,
) -> Outcome:
    """Declarations against a real schema; the lock must say what the schema said."""
    outcome = Outcome(summary=f"{len(statements)} statements, prepared against the schema")
    for statement in statements:
        result = found[statement_key(statement.sql)]
        if isinstance(result, Unprepared):
            outcome.errors.append(
                f"{relative_to(root, statement.file)}:{_sql_line(statement, result.sql_line)}: "
                f"{_what(statement)} does not prepare: {result.message} "
                "[rule: every statement prepares against the migrated schema]"
            )
        else:
            outcome.errors.extend(verify(root, statement, result))
            kinds = unverified(result)
            if kinds:
                outcome.notes.append(f"{statement.name}: types {kinds} are not checked")
    prepared = not any(isinstance(r, Unprepared) for r in found.values())
    if prepared and build_lock(root, statements, found, sums, security) != lock:
        outcome.errors.append(
            f"{SQL_LOCK} is stale: it does not record what the schema says now "
            "[rule: the lock is current]; run `tally lock` and commit it"
        )
    return outcome


def build_lock(
    root: Path,
    statements: Sequence[Statement],
    found: dict[str, Description | Unprepared],
    sums: str,
    security: SchemaFacts | None = None,
) -> SqlLock:
    entries: dict[str, LockedStatement] = {}
    for key, users in sorted(_users(root, statements).items()):
        result = found[key]
        if isinstance(result, Description):
            sql = next(s.sql for s in statements if statement_key(s.sql) == key)
            entries[key] = LockedStatement(
                sql=sql,
                used_by=users,
                params=result.params,
                columns=result.columns,
                table=result.table,
            )
    return SqlLock(migrations=sums, statements=entries, security=security)


def inspect_schema(
    statements: Sequence[Statement], migrations: Path, state_dir: Path
) -> Inspection:
    """Prepare each distinct SQL text once against a scratch database migrated to head, and
    read that schema's security."""
    with database_server(state_dir) as server:
        return asyncio.run(inspect_on(server, statements, migrations))


async def inspect_on(
    server_url: str, statements: Sequence[Statement], migrations: Path
) -> Inspection:
    """`inspect_schema` on the PostgreSQL server at `server_url`."""
    distinct = {statement_key(s.sql): s for s in statements}
    async with scratch_database(server_url, migrations) as connection:
        descriptions = {
            key: await describe_copy(connection, s.sql, s.quoted_table)
            if isinstance(s, Copy)
            else await describe(connection, s.sql)
            for key, s in distinct.items()
        }
        return Inspection(descriptions, await read_schema_facts(connection))


async def describe_on(
    server_url: str, statements: Sequence[Statement], migrations: Path
) -> dict[str, Description | Unprepared]:
    """What the schema at head says about each distinct SQL text of `statements`."""
    return (await inspect_on(server_url, statements, migrations)).descriptions


def _entries_match(root: Path, statements: Sequence[Statement], lock: SqlLock) -> bool:
    users = _users(root, statements)
    return users.keys() <= lock.statements.keys() and not _stale_entries(users, lock)


def _stale_entries(users: dict[str, list[str]], lock: SqlLock) -> list[str]:
    """Lock entries no statement uses, or used by other statements than recorded."""
    stale = []
    for key, entry in sorted(lock.statements.items()):
        if key not in users:
            stale.append(f"{SQL_LOCK} records SQL of {entry.used_by} which no statement has now")
        elif users[key] != entry.used_by:
            stale.append(f"{SQL_LOCK} records SQL used by {entry.used_by}, now by {users[key]}")
    return [f"{message} [rule: the lock is current]; run `tally lock`" for message in stale]


def _users(root: Path, statements: Sequence[Statement]) -> dict[str, list[str]]:
    users: dict[str, list[str]] = {}
    for statement in statements:
        name = f"{relative_to(root, statement.file)}::{statement.name}"
        users.setdefault(statement_key(statement.sql), []).append(name)
    return {key: sorted(names) for key, names in users.items()}


def _what(statement: Statement) -> str:
    if isinstance(statement, Copy):
        return f"{statement.name} (COPY into {statement.table}, as the INSERT `{statement.sql}`)"
    return statement.name


def _sql_line(statement: Statement, sql_line: int | None) -> int:
    """The file line of line `sql_line` of the statement's SQL (the declaration's, if unknown)."""
    if sql_line is None:
        return statement.line
    wanted = statement.sql.splitlines()[sql_line - 1].strip()
    try:
        lines = Path(statement.file).read_text().splitlines()
    except OSError:
        return statement.line
    for number in range(statement.line - 1, len(lines)):
        if wanted and wanted in lines[number]:
            return number + 1
    return statement.line

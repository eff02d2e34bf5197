"""Schema migrations: numbered plain-SQL files, applied once each, in order.

A migrations directory holds files named ``NNNN_name.sql`` (``0001_roles.sql``,
``0002_machines.sql``, ...) numbered from 0001 without gaps. `migrate` applies those not yet
applied, each in its own transaction, and records version, name, SHA-256 checksum and time in
the table ``tally_migrations``. An applied file must never change: `migrate` refuses to run
when one did, because the database no longer matches what the file says. Write a new migration
instead.

Several replicas may start `migrate` at once: a session advisory lock makes them wait for each
other, so every file runs exactly once. Because each file runs inside a transaction, statements
that refuse transactions (CREATE INDEX CONCURRENTLY, ALTER TYPE ... ADD VALUE before PG 12) do
not belong in a migration file.

Migrations connect with the URL's user as given (the schema owner), not with the services'
``tally_app`` role.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import NamedTuple

import asyncpg

from tally.sdk._errors import MigrationError

# Any fixed 64-bit number works; it only has to be the same for every migrator. This is the
# first 8 bytes of sha256(b"tally.migrations"), read as a signed integer.
_LOCK_KEY = -0x506C_9B62_98AE_F179
_FILENAME = re.compile(r"(\d{4})_([a-z0-9_]+)\.sql", re.ASCII)

_CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS tally_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""
_RECORD = "INSERT INTO tally_migrations (version, name, checksum) VALUES ($1, $2, $3)"


class Migration(NamedTuple):
    """One migration file."""

    version: int
    name: str
    path: Path
    checksum: str
    sql: str


class MigrationStatus(NamedTuple):
    """Whether one migration file has been applied to the database."""

    name: str
    applied: bool


def read_migrations(directory: Path) -> list[Migration]:
    """The migration files of `directory`, in order; `MigrationError` names a misfit file."""
    if not directory.is_dir():
        raise MigrationError(f"migrations directory {directory} does not exist")
    found: list[Migration] = []
    for path in sorted(p for p in directory.iterdir() if not p.name.startswith(".")):
        match = _FILENAME.fullmatch(path.name)
        if match is None or not path.is_file():
            raise MigrationError(
                f"{path} is not a migration file: name them NNNN_name.sql, e.g. 0002_machines.sql"
                " (four digits, then lower-case letters, digits and underscores)"
            )
        found.append(_read(path, int(match[1])))
    _check_numbering(found)
    return found


def _check_numbering(found: list[Migration]) -> None:
    for expected, migration in enumerate(found, start=1):
        if migration.version < expected:
            raise MigrationError(
                f"migration {migration.name} repeats number {migration.version:04d}; "
                "renumber it after the last one"
            )
        if migration.version > expected:
            previous = found[expected - 2].name if expected > 1 else "nothing"
            raise MigrationError(
                f"migration {expected:04d} is missing: {migration.name} follows {previous}; "
                "number them without gaps"
            )


def _read(path: Path, version: int) -> Migration:
    data = path.read_bytes()
    try:
        sql = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MigrationError(f"migration {path.name} is not UTF-8 text: {exc}") from exc
    return Migration(version, path.name, path, hashlib.sha256(data).hexdigest(), sql)


async def migrate(url: str, directory: Path) -> list[str]:
    """Apply the pending migrations of `directory` to the database at `url`; return their names."""
    migrations = read_migrations(directory)
    conn = await asyncpg.connect(url)
    try:
        # Session-level, so it holds across the per-migration transactions below.
        await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
        try:
            await conn.execute(_CREATE_TABLE)
            applied = await _applied(conn)
            _check_applied(migrations, applied)
            pending = [m for m in migrations if m.version not in applied]
            for migration in pending:
                await _apply(conn, migration)
            return [m.name for m in pending]
        finally:
            if not conn.is_closed():
                await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
    finally:
        await conn.close()


async def migration_status(url: str, directory: Path) -> list[MigrationStatus]:
    """Each migration file of `directory`, in order, with whether it has been applied."""
    migrations = read_migrations(directory)
    conn = await asyncpg.connect(url)
    try:
        exists = await conn.fetchval("SELECT to_regclass('tally_migrations') IS NOT NULL")
        applied = await _applied(conn) if exists else {}
    finally:
        await conn.close()
    return [MigrationStatus(m.name, m.version in applied) for m in migrations]


async def _applied(conn: asyncpg.Connection[asyncpg.Record]) -> dict[int, tuple[str, str]]:
    rows = await conn.fetch("SELECT version, name, checksum FROM tally_migrations")
    return {row["version"]: (row["name"], row["checksum"]) for row in rows}


def _check_applied(migrations: list[Migration], applied: dict[int, tuple[str, str]]) -> None:
    by_version = {m.version: m for m in migrations}
    for version, (name, checksum) in sorted(applied.items()):
        migration = by_version.get(version)
        if migration is None:
            raise MigrationError(
                f"the database has migration {name} applied but it is not in the migrations "
                "directory; is this an older release than the one that migrated the database?"
            )
        if migration.name != name:
            raise MigrationError(
                f"migration {migration.name} has number {version:04d}, but the database applied "
                f"{name} under that number; never rename or reuse an applied migration"
            )
        if migration.checksum != checksum:
            raise MigrationError(
                f"migration {name} was edited after it was applied (checksum {checksum[:12]} "
                f"when applied, {migration.checksum[:12]} now); add a new migration instead"
            )


async def _apply(conn: asyncpg.Connection[asyncpg.Record], migration: Migration) -> None:
    try:
        async with conn.transaction():
            # Without arguments asyncpg uses the simple protocol: one file, many statements.
            await conn.execute(migration.sql)
            await conn.execute(_RECORD, migration.version, migration.name, migration.checksum)
    except asyncpg.PostgresError as exc:
        raise MigrationError(f"migration {migration.name} failed: {exc}") from exc

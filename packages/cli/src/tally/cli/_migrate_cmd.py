"""`tally migrate`: apply db/migrations to the database (idempotent, concurrency-safe).

It runs as the schema owner (TALLY_OWNER_DATABASE_URL, or the embedded server's superuser) and
sets the passwords of the services' login roles given as TALLY_DATABASE_PASSWORD_<ROLE>.
"""

from __future__ import annotations

import argparse
import asyncio
import os

from tally.cli._endpoints import endpoints, ensure_database
from tally.cli._paths import migrations_dir
from tally.sdk import migrate, migration_status, role_passwords, set_role_passwords


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("migrate", help="apply the SQL migrations")
    parser.add_argument("--status", action="store_true", help="list migrations, apply nothing")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    with endpoints() as found:
        return asyncio.run(_migrate(found.database_url, status=args.status))


async def _migrate(url: str, *, status: bool) -> int:
    await ensure_database(url)
    if status:
        for entry in await migration_status(url, migrations_dir()):
            print(f"{'applied' if entry.applied else 'pending'}  {entry.name}")
        return 0
    applied, passwords = await migrate_database(url)
    print("\n".join(f"applied {name}" for name in applied) or "database is up to date")
    print("\n".join(f"password set for role {role}" for role in passwords))
    return 0


async def migrate_database(owner_url: str) -> tuple[list[str], list[str]]:
    """Create the database if need be, apply the pending migrations and set the roles' given
    passwords; the migrations applied, and the roles whose password was set."""
    await ensure_database(owner_url)
    applied = await migrate(owner_url, migrations_dir())
    return applied, await set_role_passwords(owner_url, role_passwords(os.environ))

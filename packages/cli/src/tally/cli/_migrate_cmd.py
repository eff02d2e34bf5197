"""`tally migrate`: apply db/migrations to the database (idempotent, concurrency-safe)."""

from __future__ import annotations

import argparse
import asyncio

from tally.cli._endpoints import endpoints, ensure_database
from tally.cli._paths import migrations_dir
from tally.sdk import migrate, migration_status


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("migrate", help="apply the SQL migrations")
    parser.add_argument("--status", action="store_true", help="list migrations, apply nothing")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    with endpoints() as found:
        return asyncio.run(_migrate(found.database_url, status=args.status))


async def _migrate(url: str, *, status: bool) -> int:
    await ensure_database(url)
    directory = migrations_dir()
    if status:
        for entry in await migration_status(url, directory):
            print(f"{'applied' if entry.applied else 'pending'}  {entry.name}")
        return 0
    applied = await migrate(url, directory)
    print("\n".join(f"applied {name}" for name in applied) or "database is up to date")
    return 0

"""`tally rollup rebuild --tenant T [--from DAY --to DAY]`: the figures again from the raw rows.

Recomputes every machine's production days in [from, to] (default: the last 7 days up to
today, UTC dates) exactly as the rollup service does, as the rollup's own role.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, date, datetime, timedelta

from tally.cli._endpoints import endpoints, login_url
from tally.figures import rebuild
from tally.sdk import Database


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("rollup", help="the production figures' buckets")
    actions = parser.add_subparsers(title="actions", required=True)
    rebuild_parser = actions.add_parser("rebuild", help="recompute a tenant's days from raw rows")
    rebuild_parser.add_argument("--tenant", required=True)
    rebuild_parser.add_argument("--from", dest="first", type=date.fromisoformat, default=None)
    rebuild_parser.add_argument("--to", dest="last", type=date.fromisoformat, default=None)
    rebuild_parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    today = datetime.now(UTC).date()
    last: date = args.last or today
    first: date = args.first or last - timedelta(days=7)
    if first > last:
        raise SystemExit(f"tally: --from {first} is after --to {last}")
    with endpoints() as found:
        done = asyncio.run(rebuild_tenant(found.database_url, args.tenant, first, last))
    print(f"recomputed {done} machine-days of {args.tenant} from {first} to {last}")
    return 0


async def rebuild_tenant(owner_url: str, tenant: str, first: date, last: date) -> int:
    """Rebuild as the rollup's role (under the tenant policy, like the service)."""
    async with await Database.connect(
        login_url(owner_url, "tally_rollup"), max_size=2, role="tally_rollup"
    ) as db:
        return await rebuild(db, tenant, first, last)

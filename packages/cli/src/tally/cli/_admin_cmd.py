"""`tally admin`: the tenant registry from the command line.

    tally admin tenant add alpenwerk --name "Alpenwerk GmbH"
    tally admin site add alpenwerk plant-1 --name Kempten --timezone Europe/Berlin
    tally admin line add alpenwerk l1 --site plant-1 --name "Line 1"
    tally admin machine add alpenwerk l1-cw --line l1 --kind checkweigher
    tally admin article add alpenwerk salami-100 --name "Salami 100 g" --nominal-g 100 \\
        --ideal-rate 120 --price-per-kg 14.9
    tally admin token issue alpenwerk l1-cw      # prints the token once; only its hash is kept
    tally admin token revoke alpenwerk l1-cw     # every gateway refuses its tokens within a second
    tally admin machines alpenwerk

What the figures need (see `_admin_figures`): shift plans, figure settings, machine moves and
article versions:

    tally admin plan set alpenwerk plant-1 plan.json [--from 2025-07-01]
    tally admin settings set alpenwerk --micro-stop-seconds 90 --changeover-is-loss no
    tally admin machine move alpenwerk l1-cw --line l2 --at 2025-06-02T06:00+02:00
    tally admin article version alpenwerk salami-100 --from 2025-07-01T00:00Z --nominal-g 100 \\
        --ideal-rate 120 --price-per-kg 15.9

Who may see the figures (see `_admin_accounts`): users and API keys of a tenant:

    tally admin user add alpenwerk ana@alpenwerk.example --name Ana --role admin
    tally admin key create alpenwerk --name ERP           # prints the key once
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from datetime import time
from typing import Any, TypeVar

import asyncpg
import msgspec

from tally.cli import _admin_accounts, _admin_figures
from tally.cli._endpoints import endpoints
from tally.registry import Article, Line, Machine, Registry, RegistryError, Site, Tenant
from tally.sdk import Database

Action = Callable[[Registry, argparse.Namespace], Awaitable[None]]
_Record = TypeVar("_Record", Tenant, Site, Line, Machine, Article)


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    admin = commands.add_parser("admin", help="tenants, sites, lines, machines, articles, tokens")
    kinds = admin.add_subparsers(title="what", required=True)
    # Each option's dest is the record's field; an option not given takes the record's default.
    _entity(
        kinds,
        Tenant,
        Registry.put_tenant,
        [
            ("tenant", {}),
            ("--name", {"required": True}),
            (
                "--rate",
                {
                    "dest": "rate_per_second",
                    "metavar": "RATE",
                    "type": int,
                    "help": "datapoints/s at the gateway",
                },
            ),
            ("--retention-days", {"type": int}),
        ],
    )
    _entity(
        kinds,
        Site,
        Registry.put_site,
        [
            ("tenant", {}),
            ("site", {}),
            ("--name", {"required": True}),
            ("--timezone", {"required": True, "help": "IANA zone, e.g. Europe/Berlin"}),
            ("--day-start", {"type": time.fromisoformat}),
        ],
    )
    line_verbs = _entity(
        kinds,
        Line,
        Registry.put_line,
        [
            ("tenant", {}),
            ("line", {}),
            ("--site", {"required": True}),
            ("--name", {"required": True}),
        ],
    )
    _admin_figures.add_line_verbs(line_verbs, _runner)
    machine_verbs = _entity(
        kinds,
        Machine,
        Registry.put_machine,
        [
            ("tenant", {}),
            ("machine", {}),
            ("--line", {"required": True}),
            ("--kind", {"required": True}),
            ("--position", {"type": int}),
            ("--state-model", {}),
            ("--rollover", {"dest": "counter_rollover", "metavar": "ROLLOVER", "type": int}),
            (
                "--max-rate",
                {
                    "dest": "max_rate_ppm",
                    "metavar": "PPM",
                    "type": float,
                    "help": "packs/min (default: twice the tenant's highest ideal rate)",
                },
            ),
        ],
    )
    _admin_figures.add_machine_verbs(machine_verbs, _runner)
    article_verbs = _entity(
        kinds,
        Article,
        Registry.put_article,
        [
            ("tenant", {}),
            ("article", {}),
            ("--name", {"required": True}),
            ("--nominal-g", {"type": float, "default": None, "help": "omit for catch-weight"}),
            (
                "--ideal-rate",
                {
                    "dest": "ideal_rate_ppm",
                    "metavar": "IDEAL_RATE",
                    "type": float,
                    "required": True,
                    "help": "packs/min",
                },
            ),
            ("--price-per-kg", {"type": float}),
        ],
    )
    _admin_figures.add_article_verbs(article_verbs, _runner)
    _admin_figures.add_parsers(kinds, _runner)
    _admin_accounts.add_parsers(kinds)
    token = kinds.add_parser("token", help="machine tokens").add_subparsers(required=True)
    issue = token.add_parser("issue", help="issue a new token (earlier ones are revoked)")
    issue.add_argument("tenant")
    issue.add_argument("machine")
    issue.set_defaults(run=_runner(_issue_token))
    revoke = token.add_parser("revoke", help="revoke every token of the machine")
    revoke.add_argument("tenant")
    revoke.add_argument("machine")
    revoke.set_defaults(run=_runner(_revoke_tokens))
    listing = kinds.add_parser("machines", help="list a tenant's machines")
    listing.add_argument("tenant")
    listing.set_defaults(run=_runner(_list_machines))


def _entity(
    kinds: argparse._SubParsersAction[argparse.ArgumentParser],
    record: type[_Record],
    put: Callable[[Registry, _Record], Awaitable[None]],
    arguments: list[tuple[str, dict[str, Any]]],
) -> argparse._SubParsersAction[argparse.ArgumentParser]:
    name = record.__name__.lower()
    verbs = kinds.add_parser(name, help=f"{name}s").add_subparsers(required=True)
    add = verbs.add_parser(
        "add", help=f"add or update a {name}", argument_default=argparse.SUPPRESS
    )
    for flag, options in arguments:
        add.add_argument(flag, **options)

    async def save(registry: Registry, args: argparse.Namespace) -> None:
        given = {f: getattr(args, f) for f in record.__struct_fields__ if hasattr(args, f)}
        try:
            # The records' constraints (id alphabets, ranges) check the command line too.
            value = msgspec.convert(given, record)
        except msgspec.ValidationError as error:
            raise RegistryError(
                f"invalid value: {error}; see `tally admin {name} add --help`"
            ) from error
        await put(registry, value)
        key = args.tenant if name == "tenant" else f"{args.tenant}/{getattr(args, name)}"
        print(f"{name} {key} saved")

    add.set_defaults(run=_runner(save))
    return verbs


def _runner(action: Action) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        with endpoints() as found:
            return asyncio.run(_with_registry(found.database_url, action, args))

    return run


async def _with_registry(url: str, action: Action, args: argparse.Namespace) -> int:
    async with await Database.connect(url, max_size=1, switch_role=True) as database:
        try:
            await action(Registry(database), args)
        except asyncpg.ForeignKeyViolationError as error:
            raise RegistryError(f"{error.detail or error}: add it first") from error
        except asyncpg.CheckViolationError as error:
            raise RegistryError(f"rejected by the schema: {error}") from error
    return 0


async def _issue_token(registry: Registry, a: argparse.Namespace) -> None:
    print(await registry.issue_token(a.tenant, a.machine))


async def _revoke_tokens(registry: Registry, a: argparse.Namespace) -> None:
    await registry.revoke_tokens(a.tenant, a.machine)
    print(f"tokens of {a.tenant}/{a.machine} revoked; issue a new one to let it upload again")


async def _list_machines(registry: Registry, a: argparse.Namespace) -> None:
    for row in await registry.machines(a.tenant):
        print(f"{row.site:<16}{row.line:<16}{row.machine:<24}{row.kind}")

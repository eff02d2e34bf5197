"""`tally admin`: the tenant registry from the command line.

    tally admin tenant add alpenwerk --name "Alpenwerk GmbH"
    tally admin site add alpenwerk plant-1 --name Kempten --timezone Europe/Berlin
    tally admin line add alpenwerk l1 --site plant-1 --name "Line 1"
    tally admin machine add alpenwerk l1-cw --line l1 --kind checkweigher
    tally admin article add alpenwerk salami-100 --name "Salami 100 g" --nominal-g 100 \\
        --ideal-rate 120 --price-per-kg 14.9
    tally admin token issue alpenwerk l1-cw      # prints the token once; only its hash is kept
    tally admin machines alpenwerk
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from datetime import time
from typing import Any

import asyncpg
import msgspec

from tally.cli._endpoints import endpoints
from tally.registry import Article, Line, Machine, Registry, RegistryError, Site, Tenant
from tally.sdk import Database

Action = Callable[[Registry, argparse.Namespace], Awaitable[None]]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    admin = commands.add_parser("admin", help="tenants, sites, lines, machines, articles, tokens")
    kinds = admin.add_subparsers(title="what", required=True)
    _entity(
        kinds,
        "tenant",
        _put_tenant,
        [
            ("tenant", {}),
            ("--name", {"required": True}),
            ("--rate", {"type": int, "default": 20_000, "help": "datapoints/s at the gateway"}),
            ("--retention-days", {"type": int, "default": 400}),
        ],
    )
    _entity(
        kinds,
        "site",
        _put_site,
        [
            ("tenant", {}),
            ("site", {}),
            ("--name", {"required": True}),
            ("--timezone", {"required": True, "help": "IANA zone, e.g. Europe/Berlin"}),
            ("--day-start", {"type": time.fromisoformat, "default": time(6, 0)}),
        ],
    )
    _entity(
        kinds,
        "line",
        _put_line,
        [
            ("tenant", {}),
            ("line", {}),
            ("--site", {"required": True}),
            ("--name", {"required": True}),
        ],
    )
    _entity(
        kinds,
        "machine",
        _put_machine,
        [
            ("tenant", {}),
            ("machine", {}),
            ("--line", {"required": True}),
            ("--kind", {"required": True}),
            ("--position", {"type": int, "default": 0}),
            ("--state-model", {"default": "packml"}),
            ("--rollover", {"type": int, "default": 2_147_483_647}),
        ],
    )
    _entity(
        kinds,
        "article",
        _put_article,
        [
            ("tenant", {}),
            ("article", {}),
            ("--name", {"required": True}),
            ("--nominal-g", {"type": float, "default": None, "help": "omit for catch-weight"}),
            ("--ideal-rate", {"type": float, "required": True, "help": "packs/min"}),
            ("--price-per-kg", {"type": float, "default": 0.0}),
        ],
    )
    token = kinds.add_parser("token", help="machine tokens").add_subparsers(required=True)
    issue = token.add_parser("issue", help="issue a new token (earlier ones are revoked)")
    issue.add_argument("tenant")
    issue.add_argument("machine")
    issue.set_defaults(run=_runner(_issue_token))
    listing = kinds.add_parser("machines", help="list a tenant's machines")
    listing.add_argument("tenant")
    listing.set_defaults(run=_runner(_list_machines))


def _entity(
    kinds: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    action: Action,
    arguments: list[tuple[str, dict[str, Any]]],
) -> None:
    verbs = kinds.add_parser(name, help=f"{name}s").add_subparsers(required=True)
    add = verbs.add_parser("add", help=f"add or update a {name}")
    for flag, options in arguments:
        add.add_argument(flag, **options)
    add.set_defaults(run=_runner(action))


def _runner(action: Action) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        with endpoints() as found:
            return asyncio.run(_with_registry(found.database_url, action, args))

    return run


async def _with_registry(url: str, action: Action, args: argparse.Namespace) -> int:
    async with await Database.connect(url, max_size=1) as database:
        try:
            await action(Registry(database), args)
        except msgspec.ValidationError as error:
            raise RegistryError(f"invalid value: {error}") from error
        except asyncpg.ForeignKeyViolationError as error:
            raise RegistryError(f"{error.detail or error}: add it first") from error
        except asyncpg.CheckViolationError as error:
            raise RegistryError(f"rejected by the schema: {error}") from error
    return 0


def _record(record_type: type[Any], /, **fields: object) -> Any:
    # The records' constraints (id alphabets, ranges) check the command line too.
    return msgspec.convert(fields, record_type)


async def _put_tenant(registry: Registry, a: argparse.Namespace) -> None:
    await registry.put_tenant(
        _record(
            Tenant,
            tenant=a.tenant,
            name=a.name,
            rate_per_second=a.rate,
            retention_days=a.retention_days,
        )
    )
    print(f"tenant {a.tenant} saved")


async def _put_site(registry: Registry, a: argparse.Namespace) -> None:
    await registry.put_site(
        _record(
            Site,
            tenant=a.tenant,
            site=a.site,
            name=a.name,
            timezone=a.timezone,
            day_start=a.day_start,
        )
    )
    print(f"site {a.tenant}/{a.site} saved")


async def _put_line(registry: Registry, a: argparse.Namespace) -> None:
    await registry.put_line(_record(Line, tenant=a.tenant, line=a.line, site=a.site, name=a.name))
    print(f"line {a.tenant}/{a.line} saved")


async def _put_machine(registry: Registry, a: argparse.Namespace) -> None:
    await registry.put_machine(
        _record(
            Machine,
            tenant=a.tenant,
            machine=a.machine,
            line=a.line,
            kind=a.kind,
            position=a.position,
            state_model=a.state_model,
            counter_rollover=a.rollover,
        )
    )
    print(f"machine {a.tenant}/{a.machine} saved")


async def _put_article(registry: Registry, a: argparse.Namespace) -> None:
    await registry.put_article(
        _record(
            Article,
            tenant=a.tenant,
            article=a.article,
            name=a.name,
            nominal_g=a.nominal_g,
            ideal_rate_ppm=a.ideal_rate,
            price_per_kg=a.price_per_kg,
        )
    )
    print(f"article {a.tenant}/{a.article} saved")


async def _issue_token(registry: Registry, a: argparse.Namespace) -> None:
    print(await registry.issue_token(a.tenant, a.machine))


async def _list_machines(registry: Registry, a: argparse.Namespace) -> None:
    for row in await registry.machines(a.tenant):
        print(f"{row.site:<16}{row.line:<16}{row.machine:<24}{row.kind}")

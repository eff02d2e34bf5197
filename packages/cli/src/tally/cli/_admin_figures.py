"""`tally admin` for what the figures need: shift plans, figure settings, machine moves and
article versions. Each command parses its arguments and calls `tally.registry.Registry`.

    tally admin plan show TENANT SITE
    tally admin plan set TENANT SITE FILE [--from DAY]       FILE is ShiftPlan JSON, - for stdin
    tally admin plan remove TENANT SITE [--from DAY]
    tally admin settings show TENANT
    tally admin settings set TENANT [--micro-stop-seconds N] [--gap-seconds N]
        [--changeover-is-loss yes|no] [--cleaning-is-loss yes|no] [--rules FILE]
        [--pack-counter KIND=COUNTER ...]
    tally admin line roles TENANT LINE [--constraint MACHINE] [--end-of-line MACHINE]
    tally admin machine move TENANT MACHINE --line LINE (--at TIME | --since-always)
    tally admin machine moves TENANT MACHINE
    tally admin machine unmove TENANT MACHINE (--at TIME | --since-always)
    tally admin article version TENANT ARTICLE (--from TIME | --since-always) --ideal-rate PPM
        [--nominal-g G] [--price-per-kg P]
    tally admin article versions TENANT ARTICLE
    tally admin article unversion TENANT ARTICLE (--from TIME | --since-always)

TIME is ISO 8601 with its UTC offset (2025-06-02T06:00+02:00); DAY a production day's date.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import msgspec

from tally.calendar import ShiftPlan
from tally.registry import (
    ArticleVersion,
    FigureSettings,
    LineRoles,
    MachineMove,
    Registry,
    RegistryError,
    SitePlan,
)

Action = Callable[[Registry, argparse.Namespace], Awaitable[None]]
Runner = Callable[[Action], Callable[[argparse.Namespace], int]]


def add_parsers(kinds: argparse._SubParsersAction[argparse.ArgumentParser], runner: Runner) -> None:
    """`plan` and `settings`."""
    plan = kinds.add_parser("plan", help="shift plans of sites").add_subparsers(required=True)
    show = plan.add_parser("show", help="a site's plans, by the day each takes effect")
    _site(show)
    show.set_defaults(run=runner(_show_plans))
    put = plan.add_parser("set", help="set a site's plan (ShiftPlan JSON) from a day on")
    _site(put)
    put.add_argument("file", help="the plan as JSON; - reads standard input")
    put.add_argument("--from", dest="valid_from", type=_day, help="first production day")
    put.set_defaults(run=runner(_set_plan))
    remove = plan.add_parser("remove", help="forget the plan from a day (or since always)")
    _site(remove)
    remove.add_argument("--from", dest="valid_from", type=_day, help="its first day")
    remove.set_defaults(run=runner(_remove_plan))

    settings = kinds.add_parser("settings", help="figure settings of a tenant")
    verbs = settings.add_subparsers(required=True)
    show = verbs.add_parser("show", help="a tenant's figure settings (JSON)")
    show.add_argument("tenant")
    show.set_defaults(run=runner(_show_settings))
    put = verbs.add_parser(
        "set", help="change some settings, keep the others", argument_default=argparse.SUPPRESS
    )
    put.add_argument("tenant")
    put.add_argument("--micro-stop-seconds", type=int)
    put.add_argument("--gap-seconds", type=int)
    put.add_argument("--changeover-is-loss", type=_yes_no, metavar="yes|no")
    put.add_argument("--cleaning-is-loss", type=_yes_no, metavar="yes|no")
    put.add_argument("--rules", dest="state_rules", type=Path, metavar="FILE", help="JSON list")
    put.add_argument(
        "--pack-counter", dest="pack_counters", action="append", metavar="KIND=COUNTER"
    )
    put.add_argument("--good-counter")
    put.set_defaults(run=runner(_set_settings))


def add_line_verbs(
    verbs: argparse._SubParsersAction[argparse.ArgumentParser], runner: Runner
) -> None:
    """`line roles`: where a line's figures are taken."""
    roles = verbs.add_parser("roles", help="set the line's constraint and end-of-line machine")
    roles.add_argument("tenant")
    roles.add_argument("line")
    roles.add_argument(
        "--constraint",
        dest="constraint_machine",
        metavar="MACHINE",
        help="where line A and P are taken (default: its thermoformer)",
    )
    roles.add_argument(
        "--end-of-line",
        dest="end_of_line_machine",
        metavar="MACHINE",
        help="where good packs and Q are taken (default: its checkweigher)",
    )
    roles.set_defaults(run=runner(_set_roles))


def add_machine_verbs(
    verbs: argparse._SubParsersAction[argparse.ArgumentParser], runner: Runner
) -> None:
    """`machine move`, `machine moves`, `machine unmove`."""
    move = verbs.add_parser("move", help="the machine stands on another line from a time on")
    _machine(move)
    move.add_argument("--line", required=True)
    _when(move, "--at")
    move.set_defaults(run=runner(_move))
    moves = verbs.add_parser("moves", help="the lines a machine stood on")
    _machine(moves)
    moves.set_defaults(run=runner(_show_moves))
    unmove = verbs.add_parser("unmove", help="forget the move at a time")
    _machine(unmove)
    _when(unmove, "--at")
    unmove.set_defaults(run=runner(_unmove))


def add_article_verbs(
    verbs: argparse._SubParsersAction[argparse.ArgumentParser], runner: Runner
) -> None:
    """`article version`, `article versions`, `article unversion`."""
    version = verbs.add_parser("version", help="an article's terms from a time on")
    _article(version)
    _when(version, "--from")
    version.add_argument("--nominal-g", type=float, default=None, help="omit for catch-weight")
    version.add_argument(
        "--ideal-rate", dest="ideal_rate_ppm", type=float, required=True, help="packs/min"
    )
    version.add_argument("--price-per-kg", type=float, default=0.0)
    version.set_defaults(run=runner(_put_version))
    versions = verbs.add_parser("versions", help="an article's terms over time")
    _article(versions)
    versions.set_defaults(run=runner(_show_versions))
    unversion = verbs.add_parser("unversion", help="forget the version from a time")
    _article(unversion)
    _when(unversion, "--from")
    unversion.set_defaults(run=runner(_unversion))


async def _show_plans(registry: Registry, a: argparse.Namespace) -> None:
    for plan in await registry.plans(a.tenant, a.site):
        since = "since always" if plan.valid_from is None else f"from {plan.valid_from}"
        print(f"# {a.tenant}/{a.site} {since}")
        print(msgspec.json.format(msgspec.json.encode(plan.plan), indent=2).decode())


async def _set_plan(registry: Registry, a: argparse.Namespace) -> None:
    text = sys.stdin.read() if a.file == "-" else _read(Path(a.file))
    plan = _decode(text, ShiftPlan, "plan")
    await registry.put_plan(
        SitePlan(tenant=a.tenant, site=a.site, plan=plan, valid_from=a.valid_from)
    )
    print(f"plan {a.tenant}/{a.site} saved")


async def _remove_plan(registry: Registry, a: argparse.Namespace) -> None:
    await registry.remove_plan(a.tenant, a.site, a.valid_from)
    print(f"plan {a.tenant}/{a.site} removed")


async def _show_settings(registry: Registry, a: argparse.Namespace) -> None:
    settings = await registry.settings(a.tenant)
    print(msgspec.json.format(msgspec.json.encode(settings), indent=2).decode())


async def _set_settings(registry: Registry, a: argparse.Namespace) -> None:
    current = msgspec.to_builtins(await registry.settings(a.tenant))
    given: dict[str, Any] = {
        f: getattr(a, f) for f in FigureSettings.__struct_fields__ if hasattr(a, f)
    }
    if "state_rules" in given:
        # Checked with the rest below, so an error names `$.state_rules[i]`.
        given["state_rules"] = _decode(_read(given["state_rules"]), list[Any], "rules")
    if "pack_counters" in given:
        given["pack_counters"] = {**current["pack_counters"], **_pairs(given["pack_counters"])}
    try:
        settings = msgspec.convert({**current, **given}, FigureSettings)
    except msgspec.ValidationError as error:
        raise RegistryError(f"invalid setting: {error}") from error
    await registry.put_settings(a.tenant, settings)
    print(f"settings {a.tenant} saved")


async def _set_roles(registry: Registry, a: argparse.Namespace) -> None:
    roles = LineRoles(
        tenant=a.tenant,
        line=a.line,
        constraint_machine=a.constraint_machine,
        end_of_line_machine=a.end_of_line_machine,
    )
    await registry.put_line_roles(roles)
    print(f"line {a.tenant}/{a.line} roles saved")


async def _move(registry: Registry, a: argparse.Namespace) -> None:
    move = MachineMove(tenant=a.tenant, machine=a.machine, line=a.line, valid_from=a.when)
    await registry.move_machine(move)
    print(f"machine {a.tenant}/{a.machine} on {a.line} {_since(a.when)}")


async def _show_moves(registry: Registry, a: argparse.Namespace) -> None:
    for member in await registry.memberships(a.tenant, a.machine):
        print(f"{_instant(member.start):<28}{member.line}")


async def _unmove(registry: Registry, a: argparse.Namespace) -> None:
    await registry.remove_move(a.tenant, a.machine, a.when)
    print(f"move of {a.tenant}/{a.machine} {_since(a.when)} removed")


async def _put_version(registry: Registry, a: argparse.Namespace) -> None:
    fields = ("nominal_g", "ideal_rate_ppm", "price_per_kg")
    version = _convert(
        {"tenant": a.tenant, "article": a.article, "valid_from": a.when}
        | {f: getattr(a, f) for f in fields},
        ArticleVersion,
    )
    await registry.put_article_version(version)
    print(f"article {a.tenant}/{a.article} version {_since(a.when)} saved")


async def _show_versions(registry: Registry, a: argparse.Namespace) -> None:
    print(f"{'valid from':<28}{'Qn g':>8}{'T1 g':>8}{'T2 g':>8}{'ppm':>9}{'price/kg':>10}")
    for terms in await registry.article_versions(a.tenant, a.article):
        weights = [
            "-" if dg is None else f"{dg / 10:.1f}"
            for dg in (terms.nominal_dg, terms.t1_dg, terms.t2_dg)
        ]
        print(
            f"{_instant(terms.start):<28}{weights[0]:>8}{weights[1]:>8}{weights[2]:>8}"
            f"{terms.ideal_rate_ppm:>9.2f}{terms.price_cents / 100:>10.2f}"
        )


async def _unversion(registry: Registry, a: argparse.Namespace) -> None:
    await registry.remove_article_version(a.tenant, a.article, a.when)
    print(f"article {a.tenant}/{a.article} version {_since(a.when)} removed")


def _site(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("tenant")
    parser.add_argument("site")


def _machine(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("tenant")
    parser.add_argument("machine")


def _article(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("tenant")
    parser.add_argument("article")


def _when(parser: argparse.ArgumentParser, flag: str) -> None:
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument(flag, dest="when", type=_instant_argument, metavar="TIME")
    group.add_argument("--since-always", dest="when", action="store_const", const=None)


def _instant_argument(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 time") from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} has no UTC offset: write it as 2025-06-02T06:00+02:00 or …Z"
        )
    return value


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _yes_no(text: str) -> bool:
    if text.lower() in ("yes", "true", "1"):
        return True
    if text.lower() in ("no", "false", "0"):
        return False
    raise argparse.ArgumentTypeError(f"say yes or no, not {text!r}")


def _pairs(items: list[str]) -> dict[str, str]:
    pairs = {}
    for item in items:
        kind, sep, counter = item.partition("=")
        if not sep:
            raise RegistryError(f"--pack-counter {item!r}: write KIND=COUNTER, e.g. slicer=cycles")
        pairs[kind] = counter
    return pairs


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError as error:
        raise RegistryError(f"cannot read {path}: {error.strerror}") from error


def _decode(text: str, kind: Any, what: str) -> Any:
    try:
        return msgspec.json.decode(text, type=kind)
    except msgspec.ValidationError as error:
        raise RegistryError(f"invalid {what}: {error}") from error
    except msgspec.DecodeError as error:
        raise RegistryError(f"the {what} is not JSON: {error}") from error


def _convert(given: dict[str, Any], kind: type[ArticleVersion]) -> ArticleVersion:
    try:
        return msgspec.convert(given, kind)
    except msgspec.ValidationError as error:
        raise RegistryError(f"invalid value: {error}") from error


def _since(when: datetime | None) -> str:
    return "since always" if when is None else f"from {when.isoformat()}"


def _instant(t: float) -> str:
    return "since always" if t == -math.inf else datetime.fromtimestamp(t, UTC).isoformat()

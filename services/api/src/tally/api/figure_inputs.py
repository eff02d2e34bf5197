"""What the figures need besides the registry, for platform administrators — the same as
`tally admin plan|settings|line roles|machine move|article version`, over the same
`tally.registry.Registry` functions:

    GET|PUT|DELETE /v1/admin/tenants/{tenant}/sites/{site}/plans       shift plans (?from=DAY)
    GET|PUT        /v1/admin/tenants/{tenant}/settings                 figure settings
    PUT            /v1/admin/tenants/{tenant}/lines/{line}/roles       constraint, end of line
    GET|PUT|DELETE /v1/admin/tenants/{tenant}/machines/{machine}/moves  (?at=TIME)
    GET|PUT|DELETE /v1/admin/tenants/{tenant}/article-versions/{article}  (?from=TIME)

Article versions have a path of their own: an article number may hold a slash, so
`/articles/{article}` takes the rest of the path. A time left out (no `from`, no `at`, a null
`valid_from`) means "since always". The tenant must exist (404); a site, line, machine or
article the registry does not know is 422 naming it, as `tally admin` says.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated

import msgspec

from tally.api.admin import ApiDeps, _require_tenant, _save
from tally.api.paths import ArticlePath, LinePath, MachinePath, SitePath, TenantPath
from tally.api.problems import conflict, not_found
from tally.api.queries import Exists, article_exists, line_exists, machine_exists, site_exists
from tally.api.ranges import in_calendar
from tally.calendar import ShiftPlan
from tally.registry import (
    ArticleVersion,
    FigureSettings,
    Id,
    LineRoles,
    MachineMove,
    SitePlan,
)
from tally.sdk import (
    AdminCaller,
    AdminToken,
    AnyEndpoint,
    Bound,
    Call,
    Endpoint,
    NoParams,
    ScopedDatabase,
    Tx,
)

Instant = Annotated[datetime, msgspec.Meta(tz=True)]


class PlanBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A site's shift plan from the production day `valid_from` on (null: since always)."""

    plan: ShiftPlan
    valid_from: date | None = None


class Plans(msgspec.Struct, frozen=True, kw_only=True):
    plans: list[SitePlan]


class FromDay(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    valid_from: date | None = msgspec.field(default=None, name="from")


class RolesBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Where a line's figures are taken; null: its thermoformer, its checkweigher."""

    constraint_machine: Id | None = None
    end_of_line_machine: Id | None = None


class MoveBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The machine stands on `line` from `valid_from` on (null: since always)."""

    line: Id
    valid_from: Instant | None = None


class Move(msgspec.Struct, frozen=True, kw_only=True):
    line: str
    valid_from: datetime | None


class Moves(msgspec.Struct, frozen=True, kw_only=True):
    moves: list[Move]


class AtTime(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    at: Instant | None = None


class VersionBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An article's terms from `valid_from` on (null: since always); `nominal_g` null for
    catch-weight."""

    valid_from: Instant | None = None
    nominal_g: Annotated[float, msgspec.Meta(ge=5, le=10_000)] | None = None
    ideal_rate_ppm: Annotated[float, msgspec.Meta(ge=0.01, le=10_000)]
    price_per_kg: Annotated[float, msgspec.Meta(ge=0, le=100_000)] = 0.0


class Version(msgspec.Struct, frozen=True, kw_only=True):
    """Terms valid from `valid_from` (null: since always) until the next version."""

    valid_from: datetime | None
    nominal_g: float | None
    t1_g: float | None
    t2_g: float | None
    ideal_rate_ppm: float
    price_per_kg: float


class Versions(msgspec.Struct, frozen=True, kw_only=True):
    versions: list[Version]


class FromTime(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    valid_from: Instant | None = msgspec.field(default=None, name="from")


async def list_plans(deps: ApiDeps, call: Call[AdminCaller, SitePath]) -> Plans:
    path = call.path
    await _existing(call.database_for(path.tenant), path.tenant, site=path.site)
    return Plans(plans=await deps.registry.plans(path.tenant, path.site))


async def put_plan(
    deps: ApiDeps, call: Call[AdminCaller, SitePath, NoParams, PlanBody]
) -> SitePlan:
    path, body = call.path, call.body
    _within(body.valid_from, "valid_from")
    plan = SitePlan(tenant=path.tenant, site=path.site, plan=body.plan, valid_from=body.valid_from)
    database = call.database_for(path.tenant)
    await _existing(database, path.tenant, site=path.site)
    # The registry's one objection left: the plan does not fit the site's production day.
    await _save(database, deps.registry.put_plan(plan), objection=("plan", None))
    return plan


async def remove_plan(deps: ApiDeps, call: Call[AdminCaller, SitePath, FromDay]) -> None:
    path = call.path
    _within(call.query.valid_from, "from")
    database = call.database_for(path.tenant)
    await _existing(database, path.tenant, site=path.site)
    await _save(database, deps.registry.remove_plan(path.tenant, path.site, call.query.valid_from))


async def get_settings(deps: ApiDeps, call: Call[AdminCaller, TenantPath]) -> FigureSettings:
    await _existing(call.database_for(call.path.tenant), call.path.tenant)
    return await deps.registry.settings(call.path.tenant)


async def put_settings(
    deps: ApiDeps, call: Call[AdminCaller, TenantPath, NoParams, FigureSettings]
) -> FigureSettings:
    database = call.database_for(call.path.tenant)
    await _existing(database, call.path.tenant)
    await _save(database, deps.registry.put_settings(call.path.tenant, call.body))
    return call.body


async def put_line_roles(
    deps: ApiDeps, call: Call[AdminCaller, LinePath, NoParams, RolesBody]
) -> LineRoles:
    path, body = call.path, call.body
    roles = LineRoles(
        tenant=path.tenant,
        line=path.line,
        constraint_machine=body.constraint_machine,
        end_of_line_machine=body.end_of_line_machine,
    )
    database = call.database_for(path.tenant)
    named = {
        field: machine
        for field, machine in (
            ("constraint_machine", body.constraint_machine),
            ("end_of_line_machine", body.end_of_line_machine),
        )
        if machine is not None
    }
    await _existing(database, path.tenant, line=path.line, machines_named=named)
    await _save(database, deps.registry.put_line_roles(roles), objection=("line", path.line))
    return roles


async def list_moves(deps: ApiDeps, call: Call[AdminCaller, MachinePath]) -> Moves:
    path = call.path
    await _existing(call.database_for(path.tenant), path.tenant, machine=path.machine)
    spans = await deps.registry.memberships(path.tenant, path.machine)
    return Moves(moves=[Move(line=m.line, valid_from=_instant(m.start)) for m in spans])


async def move_machine(
    deps: ApiDeps, call: Call[AdminCaller, MachinePath, NoParams, MoveBody]
) -> MachineMove:
    path, body = call.path, call.body
    _within(body.valid_from, "valid_from")
    move = MachineMove(
        tenant=path.tenant, machine=path.machine, line=body.line, valid_from=body.valid_from
    )
    database = call.database_for(path.tenant)
    await _existing(database, path.tenant, machine=path.machine)
    await _save(database, deps.registry.move_machine(move), parent=("line", body.line))
    return move


async def remove_move(deps: ApiDeps, call: Call[AdminCaller, MachinePath, AtTime]) -> None:
    path = call.path
    _within(call.query.at, "at")
    database = call.database_for(path.tenant)
    await _existing(database, path.tenant, machine=path.machine)
    write = deps.registry.remove_move(path.tenant, path.machine, call.query.at)
    await _save(database, write, parent=("machine", path.machine))


async def list_versions(deps: ApiDeps, call: Call[AdminCaller, ArticlePath]) -> Versions:
    path = call.path
    await _existing(call.database_for(path.tenant), path.tenant, article=path.article)
    terms = await deps.registry.article_versions(path.tenant, path.article)
    return Versions(
        versions=[
            Version(
                valid_from=_instant(t.start),
                nominal_g=_grams(t.nominal_dg),
                t1_g=_grams(t.t1_dg),
                t2_g=_grams(t.t2_dg),
                ideal_rate_ppm=t.ideal_rate_ppm,
                price_per_kg=t.price_cents / 100,
            )
            for t in terms
        ]
    )


async def put_version(
    deps: ApiDeps, call: Call[AdminCaller, ArticlePath, NoParams, VersionBody]
) -> ArticleVersion:
    path, body = call.path, call.body
    _within(body.valid_from, "valid_from")
    version = ArticleVersion(
        tenant=path.tenant,
        article=path.article,
        valid_from=body.valid_from,
        nominal_g=body.nominal_g,
        ideal_rate_ppm=body.ideal_rate_ppm,
        price_per_kg=body.price_per_kg,
    )
    database = call.database_for(path.tenant)
    await _existing(database, path.tenant, article=path.article)
    write = deps.registry.put_article_version(version)
    await _save(database, write, parent=("article", path.article), objection=("nominal_g", None))
    return version


async def remove_version(deps: ApiDeps, call: Call[AdminCaller, ArticlePath, FromTime]) -> None:
    path = call.path
    _within(call.query.valid_from, "from")
    database = call.database_for(path.tenant)
    await _existing(database, path.tenant, article=path.article)
    write = deps.registry.remove_article_version(path.tenant, path.article, call.query.valid_from)
    await _save(database, write, parent=("article", path.article))


async def _existing(
    database: ScopedDatabase,
    tenant: str,
    *,
    machines_named: dict[str, str] | None = None,
    **in_path: str,
) -> None:
    """404 unless the tenant and what the path names of it (site=, line=, machine=, article=)
    exist; 409 unless the machines the body names (field → machine) exist."""

    async def work(tx: Tx) -> None:
        await _require_tenant(tx, tenant)
        for kind, value in in_path.items():
            if not (await tx.fetch_one(_EXISTS[kind](tenant, value))).found:
                detail = f"{kind} {value!r} of tenant {tenant!r} does not exist; create it first"
                raise not_found(detail, kind, value)
        for field, machine in (machines_named or {}).items():
            if not (await tx.fetch_one(machine_exists(tenant, machine))).found:
                detail = f"machine {machine!r} of tenant {tenant!r} does not exist; create it first"
                raise conflict(detail, field, machine)

    await database.transaction(work, readonly=True)


_EXISTS: dict[str, Callable[[str, str], Bound[Exists]]] = {
    "site": site_exists,
    "line": line_exists,
    "machine": machine_exists,
    "article": article_exists,
}


def _within(at: date | datetime | None, field: str) -> None:
    """A 422 naming `field` for a date or time at datetime's limits, which the database
    would refuse without naming it, or the figures could not reckon with."""
    if at is not None:
        day = at.date() if isinstance(at, datetime) else at
        in_calendar(day, field, at.isoformat())


def _instant(t: float) -> datetime | None:
    return None if t == -math.inf else datetime.fromtimestamp(t, UTC)


def _grams(decigrams: int | None) -> float | None:
    return None if decigrams is None else decigrams / 10


def endpoints(
    admin: AdminToken[ApiDeps], max_body: Callable[[ApiDeps], int]
) -> list[AnyEndpoint[ApiDeps]]:
    """Every endpoint of this module; `admin` is the service's administrators' scheme."""
    base = "/v1/admin/tenants/{tenant}"
    tenant = {404: "The tenant (or the entry in the path) does not exist; `field` names it."}
    named = {
        404: "The tenant, or the site, line, machine or article in the path, does not exist; "
        "`field` names it.",
        409: "A line or machine named in the body does not exist; create it first.",
        422: "A value breaks its constraint (a plan that does not fit the site's production "
        "day, a state rule that would match every state); `field` names it.",
    }
    return [
        Endpoint(
            "GET", f"{base}/sites/{{site}}/plans", list_plans, auth=admin, params=SitePath,
            response=Plans, summary="A site's shift plans, by the day each takes effect",
            errors=tenant,
        ),
        Endpoint(
            "PUT", f"{base}/sites/{{site}}/plans", put_plan, auth=admin, params=SitePath,
            body=PlanBody, response=SitePlan, body_limit=max_body,
            summary="Set a site's shift plan from a production day on", errors=named,
        ),
        Endpoint(
            "DELETE", f"{base}/sites/{{site}}/plans", remove_plan, auth=admin, params=SitePath,
            query=FromDay, summary="Forget the plan from a day (no `from`: since always)",
            errors=tenant,
        ),
        Endpoint(
            "GET", f"{base}/settings", get_settings, auth=admin, params=TenantPath,
            response=FigureSettings, summary="A tenant's figure settings", errors=tenant,
        ),
        Endpoint(
            "PUT", f"{base}/settings", put_settings, auth=admin, params=TenantPath,
            body=FigureSettings, response=FigureSettings, body_limit=max_body,
            summary="Set a tenant's figure settings (all of them; what is left out takes its "
            "default)", errors=named,
        ),
        Endpoint(
            "PUT", f"{base}/lines/{{line}}/roles", put_line_roles, auth=admin, params=LinePath,
            body=RolesBody, response=LineRoles, body_limit=max_body,
            summary="Set where a line's figures are taken", errors=named,
        ),
        Endpoint(
            "GET", f"{base}/machines/{{machine}}/moves", list_moves, auth=admin,
            params=MachinePath, response=Moves, summary="The lines a machine stood on",
            errors=tenant,
        ),
        Endpoint(
            "PUT", f"{base}/machines/{{machine}}/moves", move_machine, auth=admin,
            params=MachinePath, body=MoveBody, response=MachineMove, body_limit=max_body,
            summary="The machine stands on a line from a time on", errors=named,
        ),
        Endpoint(
            "DELETE", f"{base}/machines/{{machine}}/moves", remove_move, auth=admin,
            params=MachinePath, query=AtTime,
            summary="Forget the move at a time (no `at`: since always)", errors=named,
        ),
        Endpoint(
            "GET", f"{base}/article-versions/{{article:path}}", list_versions, auth=admin,
            params=ArticlePath, response=Versions, summary="An article's terms over time",
            errors=tenant,
        ),
        Endpoint(
            "PUT", f"{base}/article-versions/{{article:path}}", put_version, auth=admin,
            params=ArticlePath, body=VersionBody, response=ArticleVersion, body_limit=max_body,
            summary="An article's terms from a time on", errors=named,
        ),
        Endpoint(
            "DELETE", f"{base}/article-versions/{{article:path}}", remove_version, auth=admin,
            params=ArticlePath, query=FromTime,
            summary="Forget the version from a time (no `from`: since always)", errors=named,
        ),
    ]  # fmt: skip

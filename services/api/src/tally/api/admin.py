"""Tenant administration over HTTP: one handler per endpoint. Writes go through
`tally.registry.Registry`, reads through `tally.api.queries`, each in a transaction scoped to
the tenant in the path (an administrator names the tenant it works on).

Every PUT is an upsert — sending the same entry twice is harmless — and answers 200 with the
record as accepted. Parents are named when missing: an unknown tenant (or machine) in the path
is 404; a site or line named in the body that does not exist is 409, "create it first".
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg
import msgspec

from tally.accounts import Accounts
from tally.api.paths import ArticlePath, LinePath, MachinePath, SitePath, TenantPath
from tally.api.problems import conflict, not_found
from tally.api.queries import (
    TenantRow,
    all_tenants,
    articles_of_tenant,
    lines_of_tenant,
    machine_by_id,
    machines_of_tenant,
    sites_of_tenant,
    tenant_by_id,
)
from tally.api.report_production import Reports
from tally.api.views import (
    Articles,
    ArticleView,
    IssuedToken,
    Lines,
    Machines,
    Sites,
    Tenants,
    article_view,
)
from tally.registry import (
    Article,
    Line,
    Machine,
    Registry,
    RegistryError,
    Site,
    SnapshotCache,
    Tenant,
)
from tally.sdk import (
    AdminCaller,
    Bound,
    Call,
    NoParams,
    Rejected,
    ScopedDatabase,
    Secret,
    Tx,
    invalid,
)

R = TypeVar("R", bound=msgspec.Struct)
T = TypeVar("T")

_log = logging.getLogger("tally.api.admin")
_REFUSED = (
    "the database refused the entry although it meets the documented constraints; "
    "check its values against /openapi.json, and report it if they do"
)


@dataclass(frozen=True)
class ApiDeps:
    """What the endpoints share, built once at start-up."""

    registry: Registry
    admin_token: Secret
    max_body_bytes: int
    # Users, sessions and API keys (tally.accounts); cookies Secure unless on plain-http loopback.
    accounts: Accounts
    cookie_secure: bool = True
    # Each tenant's registry (calendars, machines, articles) for the figures; None only in a
    # process that serves no figures (a document generator).
    snapshots: SnapshotCache | None = None
    # How often the dashboard's event stream looks for new figures.
    live_seconds: float = 2.0
    # The daily reports' figures, store and clock; None in a process that makes no reports.
    reports: Reports | None = None

    def __repr__(self) -> str:
        # Deps end up in tracebacks; the token must not.
        return f"ApiDeps(registry={self.registry!r}, admin_token=<hidden>)"


Admin = Call[AdminCaller, TenantPath]


async def list_tenants(deps: ApiDeps, call: Call[AdminCaller]) -> Tenants:
    async def work(tx: Tx) -> list[Tenant]:
        return _records(await tx.fetch(all_tenants()), Tenant)

    # No tenant: tally_tenants() lists them all with its owner's rights, and nothing else.
    return Tenants(tenants=await call.database_for(None).transaction(work, readonly=True))


async def get_tenant(deps: ApiDeps, call: Admin) -> Tenant:
    tenant = call.path.tenant

    async def work(tx: Tx) -> TenantRow:
        return await _require_tenant(tx, tenant)

    row = await call.database_for(tenant).transaction(work, readonly=True)
    return _records([row], Tenant)[0]


async def put_tenant(
    deps: ApiDeps, call: Call[AdminCaller, TenantPath, NoParams, Tenant]
) -> Tenant:
    tenant = call.body
    await _save(call.database_for(tenant.tenant), deps.registry.put_tenant(tenant))
    return tenant


async def list_sites(deps: ApiDeps, call: Admin) -> Sites:
    return Sites(sites=await _list(call, sites_of_tenant, Site))


async def put_site(deps: ApiDeps, call: Call[AdminCaller, SitePath, NoParams, Site]) -> Site:
    site = call.body
    # The registry's one objection to a site is its zone name.
    write = deps.registry.put_site(site)
    await _save(call.database_for(site.tenant), write, objection=("timezone", site.timezone))
    return site


async def list_lines(deps: ApiDeps, call: Admin) -> Lines:
    return Lines(lines=await _list(call, lines_of_tenant, Line))


async def put_line(deps: ApiDeps, call: Call[AdminCaller, LinePath, NoParams, Line]) -> Line:
    line = call.body
    write = deps.registry.put_line(line)
    await _save(call.database_for(line.tenant), write, parent=("site", line.site))
    return line


async def list_machines(deps: ApiDeps, call: Admin) -> Machines:
    return Machines(machines=await _list(call, machines_of_tenant, Machine))


async def put_machine(
    deps: ApiDeps, call: Call[AdminCaller, MachinePath, NoParams, Machine]
) -> Machine:
    machine = call.body
    write = deps.registry.put_machine(machine)
    await _save(call.database_for(machine.tenant), write, parent=("line", machine.line))
    return machine


async def list_articles(deps: ApiDeps, call: Admin) -> Articles:
    articles = await _list(call, articles_of_tenant, Article)
    return Articles(articles=[article_view(a) for a in articles])


async def put_article(
    deps: ApiDeps, call: Call[AdminCaller, ArticlePath, NoParams, Article]
) -> ArticleView:
    article = call.body
    write = deps.registry.put_article(article)
    objection = ("nominal_g", article.nominal_g)
    await _save(call.database_for(article.tenant), write, objection=objection)
    return article_view(article)


async def issue_machine_token(deps: ApiDeps, call: Call[AdminCaller, MachinePath]) -> IssuedToken:
    tenant, machine = await _existing_machine(call)
    # A machine removed meanwhile fails the token's foreign key: named like any parent.
    write = deps.registry.issue_token(tenant, machine)
    token = await _save(call.database_for(tenant), write, parent=("machine", machine))
    _log.info("tenant %s: new token for machine %s, earlier ones revoked", tenant, machine)
    return IssuedToken(tenant=tenant, machine=machine, token=token)


async def revoke_machine_tokens(deps: ApiDeps, call: Call[AdminCaller, MachinePath]) -> None:
    tenant, machine = await _existing_machine(call)
    # A machine removed meanwhile has no tokens left to revoke: nothing changes.
    await deps.registry.revoke_tokens(tenant, machine)
    _log.info("tenant %s: every token of machine %s revoked", tenant, machine)


async def _existing_machine(call: Call[AdminCaller, MachinePath]) -> tuple[str, str]:
    """The (tenant, machine) of the path; 404 naming whichever of them does not exist."""
    tenant, machine = call.path.tenant, call.path.machine

    async def work(tx: Tx) -> None:
        await _require_tenant(tx, tenant)
        if await tx.fetch_optional(machine_by_id(tenant, machine)) is None:
            detail = (
                f"machine {machine!r} of tenant {tenant!r} does not exist; create it first "
                f"(PUT /v1/admin/tenants/{tenant}/machines/{machine})"
            )
            raise not_found(detail, "machine", machine)

    await call.database_for(tenant).transaction(work, readonly=True)
    return tenant, machine


async def _list(
    call: Call[AdminCaller, TenantPath], rows_of: Callable[[str], Bound[Any]], kind: type[R]
) -> list[R]:
    """The path's tenant's entries, as records of `kind`; 404 when the tenant does not exist
    (rather than none)."""
    tenant = call.path.tenant

    async def work(tx: Tx) -> list[Any]:
        await _require_tenant(tx, tenant)
        return await tx.fetch(rows_of(tenant))

    rows = await call.database_for(tenant).transaction(work, readonly=True)
    return _records(rows, kind)


async def _save(
    database: ScopedDatabase,
    write: Awaitable[T],
    *,
    parent: tuple[str, str] | None = None,
    objection: tuple[str, object] = ("$", None),
) -> T:
    """Await a registry write; name what is wrong when the registry or the schema refuses.

    `parent` is the (field, id) of the entry's parent other than the tenant; `objection`
    the (field, value) a `RegistryError` is about.
    """
    try:
        return await write
    except RegistryError as error:
        raise invalid(str(error), *objection) from None
    except asyncpg.ForeignKeyViolationError as error:
        raise await _missing_parent(database, parent, error) from None
    except (asyncpg.CheckViolationError, asyncpg.DataError) as error:
        # The records' constraints should have caught it; the schema has the last word. Its
        # message names tables and constraints and quotes values: the log gets it, the
        # client a fixed explanation.
        tenant = database.tenant
        _log.warning("tenant %s: the database refused a registry write: %s", tenant, error)
        raise invalid(_REFUSED, _refused_field(error), None) from None


async def _missing_parent(
    database: ScopedDatabase, parent: tuple[str, str] | None, error: Exception
) -> Rejected:
    # Every entry has at most one parent besides its tenant, so the violated key is known
    # without reading the (localised) message: the tenant if it is gone, else the parent.
    tenant = str(database.tenant)

    async def work(tx: Tx) -> None:
        await _require_tenant(tx, tenant)

    try:
        await database.transaction(work, readonly=True)
    except Rejected as rejected:
        return rejected
    if parent is None:
        return conflict(f"{error}; create it first", "$", None)
    field, value = parent
    return conflict(
        f"{field} {value!r} of tenant {tenant!r} does not exist; create it first "
        f"(PUT /v1/admin/tenants/{tenant}/{field}s/{value})",
        field,
        value,
    )


async def _require_tenant(tx: Tx, tenant: str) -> TenantRow:
    row = await tx.fetch_optional(tenant_by_id(tenant))
    if row is None:
        raise not_found(
            f"tenant {tenant!r} does not exist; create it first (PUT /v1/admin/tenants/{tenant})",
            "tenant",
            tenant,
        )
    return row


def _refused_field(error: asyncpg.PostgresError) -> str:
    """The column a CHECK constraint guards when it has PostgreSQL's default name
    (``<table>_<column>_check``); otherwise the body as a whole."""
    table = str(getattr(error, "table_name", None) or "")
    constraint = str(getattr(error, "constraint_name", None) or "")
    if table and constraint.startswith(f"{table}_"):
        column = constraint.removeprefix(f"{table}_").removesuffix("_check")
        if constraint.endswith("_check") and column.isidentifier():
            return column
    return "$"


def _records(rows: list[Any], kind: type[R]) -> list[R]:
    # Rows hold plain strings where records hold enums; converting also re-checks them.
    return [msgspec.convert(row, kind, from_attributes=True) for row in rows]

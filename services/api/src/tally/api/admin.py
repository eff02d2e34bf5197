"""Tenant administration over HTTP: writes go through `tally.registry.Registry`, reads through
`tally.api.queries`, each in a transaction scoped to the tenant in the path.

Every PUT is an upsert — sending the same entry twice is harmless — and answers 200 with the
record as accepted. Parents are named when missing: an unknown tenant (or machine) in the path
is 404; a site or line named in the body that does not exist is 409, "create it first".
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import asyncpg
import msgspec
from starlette.requests import Request
from starlette.responses import Response

from tally.api.bodies import check_media_type, path_id, to_record
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
from tally.api.views import (
    Articles,
    IssuedToken,
    Lines,
    Machines,
    Sites,
    Tenants,
    article_view,
)
from tally.registry import Article, Line, Machine, Registry, RegistryError, Site, Tenant
from tally.sdk import Bound, Database, Rejected, Tx, invalid, read_body

R = TypeVar("R", bound=msgspec.Struct)
T = TypeVar("T")

_log = logging.getLogger("tally.api.admin")
_JSON = msgspec.json.Encoder()
_REFUSED = (
    "the database refused the entry although it meets the documented constraints; "
    "check its values against /openapi.json, and report it if they do"
)


class TenantAdmin:
    """The admin endpoints; each method answers one route."""

    def __init__(self, database: Database, *, max_body_bytes: int) -> None:
        self._db = database
        self._registry = Registry(database)
        self._limit = max_body_bytes

    async def list_tenants(self, _: Request) -> Response:
        async def work(tx: Tx) -> list[Tenant]:
            return _records(await tx.fetch(all_tenants()), Tenant)

        return _json(Tenants(tenants=await self._db.transaction(work, readonly=True)))

    async def get_tenant(self, request: Request) -> Response:
        tenant = _tenant_of(request)

        async def work(tx: Tx) -> TenantRow:
            return await _require_tenant(tx, tenant)

        row = await self._db.transaction(work, tenant=tenant, readonly=True)
        return _json(_records([row], Tenant)[0])

    async def put_tenant(self, request: Request) -> Response:
        tenant = await self._body(request, Tenant)
        await self._save(tenant.tenant, self._registry.put_tenant(tenant))
        return _json(tenant)

    async def list_sites(self, request: Request) -> Response:
        return _json(Sites(sites=await self._list(request, sites_of_tenant, Site)))

    async def put_site(self, request: Request) -> Response:
        site = await self._body(request, Site)
        # The registry's one objection to a site is its zone name.
        await self._save(
            site.tenant, self._registry.put_site(site), objection=("timezone", site.timezone)
        )
        return _json(site)

    async def list_lines(self, request: Request) -> Response:
        return _json(Lines(lines=await self._list(request, lines_of_tenant, Line)))

    async def put_line(self, request: Request) -> Response:
        line = await self._body(request, Line)
        write = self._registry.put_line(line)
        await self._save(line.tenant, write, parent=("site", line.site))
        return _json(line)

    async def list_machines(self, request: Request) -> Response:
        return _json(Machines(machines=await self._list(request, machines_of_tenant, Machine)))

    async def put_machine(self, request: Request) -> Response:
        machine = await self._body(request, Machine)
        write = self._registry.put_machine(machine)
        await self._save(machine.tenant, write, parent=("line", machine.line))
        return _json(machine)

    async def list_articles(self, request: Request) -> Response:
        articles = await self._list(request, articles_of_tenant, Article)
        return _json(Articles(articles=[article_view(a) for a in articles]))

    async def put_article(self, request: Request) -> Response:
        article = await self._body(request, Article)
        write = self._registry.put_article(article)
        await self._save(article.tenant, write, objection=("nominal_g", article.nominal_g))
        return _json(article_view(article))

    async def issue_token(self, request: Request) -> Response:
        tenant, machine = await self._existing_machine(request)
        # A machine removed meanwhile fails the token's foreign key: named like any parent.
        write = self._registry.issue_token(tenant, machine)
        token = await self._save(tenant, write, parent=("machine", machine))
        _log.info("tenant %s: new token for machine %s, earlier ones revoked", tenant, machine)
        issued = IssuedToken(tenant=tenant, machine=machine, token=token)
        return _json(issued, status=201, headers={"Cache-Control": "no-store"})

    async def revoke_tokens(self, request: Request) -> Response:
        tenant, machine = await self._existing_machine(request)
        # A machine removed meanwhile has no tokens left to revoke: nothing changes.
        await self._registry.revoke_tokens(tenant, machine)
        _log.info("tenant %s: every token of machine %s revoked", tenant, machine)
        return Response(status_code=204)

    async def _existing_machine(self, request: Request) -> tuple[str, str]:
        """The (tenant, machine) of the path; 404 naming whichever of them does not exist."""
        tenant, machine = _machine_of(request)

        async def work(tx: Tx) -> None:
            await _require_machine(tx, tenant, machine)

        await self._db.transaction(work, tenant=tenant, readonly=True)
        return tenant, machine

    async def _body(self, request: Request, kind: type[R]) -> R:
        check_media_type(request.headers)
        return to_record(await read_body(request, self._limit), kind, request.path_params)

    async def _list(
        self, request: Request, rows_of: Callable[[str], Bound[Any]], kind: type[R]
    ) -> list[R]:
        """The path's tenant's entries, as records of `kind`; 404 when the tenant does not exist
        (rather than none)."""
        tenant = _tenant_of(request)

        async def work(tx: Tx) -> list[Any]:
            await _require_tenant(tx, tenant)
            return await tx.fetch(rows_of(tenant))

        return _records(await self._db.transaction(work, tenant=tenant, readonly=True), kind)

    async def _save(
        self,
        tenant: str,
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
            raise await self._missing_parent(tenant, parent, error) from None
        except (asyncpg.CheckViolationError, asyncpg.DataError) as error:
            # The records' constraints should have caught it; the schema has the last word. Its
            # message names tables and constraints and quotes values: the log gets it, the
            # client a fixed explanation.
            _log.warning("tenant %s: the database refused a registry write: %s", tenant, error)
            raise invalid(_REFUSED, _refused_field(error), None) from None

    async def _missing_parent(
        self, tenant: str, parent: tuple[str, str] | None, error: Exception
    ) -> Rejected:
        # Every entry has at most one parent besides its tenant, so the violated key is known
        # without reading the (localised) message: the tenant if it is gone, else the parent.
        async def work(tx: Tx) -> None:
            await _require_tenant(tx, tenant)

        try:
            await self._db.transaction(work, tenant=tenant, readonly=True)
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


async def _require_machine(tx: Tx, tenant: str, machine: str) -> None:
    await _require_tenant(tx, tenant)
    if await tx.fetch_optional(machine_by_id(tenant, machine)) is None:
        detail = (
            f"machine {machine!r} of tenant {tenant!r} does not exist; create it first "
            f"(PUT /v1/admin/tenants/{tenant}/machines/{machine})"
        )
        raise not_found(detail, "machine", machine)


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


def _tenant_of(request: Request) -> str:
    return path_id(request.path_params["tenant"], Tenant, "tenant")


def _machine_of(request: Request) -> tuple[str, str]:
    return _tenant_of(request), path_id(request.path_params["machine"], Machine, "machine")


def _records(rows: list[Any], kind: type[R]) -> list[R]:
    # Rows hold plain strings where records hold enums; converting also re-checks them.
    return [msgspec.convert(row, kind, from_attributes=True) for row in rows]


def _json(
    body: msgspec.Struct, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(
        _JSON.encode(body), status_code=status, headers=headers, media_type="application/json"
    )

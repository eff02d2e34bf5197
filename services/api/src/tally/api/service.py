"""The API: for now the tenant administration of platform administrators.

    GET    /v1/admin/tenants                                      every tenant
    GET    /v1/admin/tenants/{tenant}                             one tenant
    PUT    /v1/admin/tenants/{tenant}                             create or update
    GET    /v1/admin/tenants/{tenant}/{sites|lines|machines|articles}
    PUT    /v1/admin/tenants/{tenant}/{sites|lines|machines|articles}/{id}
    POST   /v1/admin/tenants/{tenant}/machines/{machine}/tokens   issue (shown once)
    DELETE /v1/admin/tenants/{tenant}/machines/{machine}/tokens   revoke all
    GET    /openapi.json

Every admin route needs ``Authorization: Bearer <TALLY_API_ADMIN_TOKEN>``. Each request works
in transactions scoped to the tenant in its path, so row-level security holds here too.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from tally.api.admin import TenantAdmin
from tally.api.auth import check_admin
from tally.api.openapi import openapi_document
from tally.api.settings import ApiSettings
from tally.sdk import (
    DatabaseRuntime,
    Rejected,
    Service,
    TransactionFailed,
    unavailable,
)

_log = logging.getLogger("tally.api")

Endpoint = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class ApiDeps:
    """What the routes share, built once at start-up."""

    admin: TenantAdmin
    admin_token: bytes
    openapi: bytes


@asynccontextmanager
async def api_deps(runtime: DatabaseRuntime, settings: ApiSettings) -> AsyncIterator[ApiDeps]:
    yield ApiDeps(
        admin=TenantAdmin(runtime.database, max_body_bytes=settings.max_body_bytes),
        admin_token=settings.admin_token.reveal().encode(),
        openapi=msgspec.json.encode(openapi_document()),
    )


def api_routes(deps: ApiDeps) -> list[BaseRoute]:
    admin = deps.admin

    def guard(handler: Endpoint) -> Endpoint:
        return _administrators_only(deps.admin_token, handler)

    async def openapi(_: Request) -> Response:
        return Response(deps.openapi, media_type="application/json")

    return [
        Route("/v1/admin/tenants", guard(admin.list_tenants), methods=["GET"]),
        Route("/v1/admin/tenants/{tenant}", guard(admin.get_tenant), methods=["GET"]),
        Route("/v1/admin/tenants/{tenant}", guard(admin.put_tenant), methods=["PUT"]),
        Route("/v1/admin/tenants/{tenant}/sites", guard(admin.list_sites), methods=["GET"]),
        Route("/v1/admin/tenants/{tenant}/sites/{site}", guard(admin.put_site), methods=["PUT"]),
        Route("/v1/admin/tenants/{tenant}/lines", guard(admin.list_lines), methods=["GET"]),
        Route("/v1/admin/tenants/{tenant}/lines/{line}", guard(admin.put_line), methods=["PUT"]),
        Route("/v1/admin/tenants/{tenant}/machines", guard(admin.list_machines), methods=["GET"]),
        Route(
            "/v1/admin/tenants/{tenant}/machines/{machine}",
            guard(admin.put_machine),
            methods=["PUT"],
        ),
        Route("/v1/admin/tenants/{tenant}/articles", guard(admin.list_articles), methods=["GET"]),
        Route(
            # `path`: an article number may hold a slash (sent as %2F).
            "/v1/admin/tenants/{tenant}/articles/{article:path}",
            guard(admin.put_article),
            methods=["PUT"],
        ),
        Route(
            "/v1/admin/tenants/{tenant}/machines/{machine}/tokens",
            guard(admin.issue_token),
            methods=["POST"],
        ),
        Route(
            "/v1/admin/tenants/{tenant}/machines/{machine}/tokens",
            guard(admin.revoke_tokens),
            methods=["DELETE"],
        ),
        Route("/openapi.json", openapi, methods=["GET"]),
    ]


def _administrators_only(admin_token: bytes, handler: Endpoint) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        try:
            check_admin(admin_token, request.headers.get("authorization"))
            return await handler(request)
        except Rejected as rejected:
            _log.log(logging.DEBUG if rejected.status == 401 else logging.INFO, "%s", rejected)
            return rejected.response()
        except (TransactionFailed, OSError) as error:
            _log.warning("registry unavailable: %r", error)
            return unavailable("the registry cannot be reached right now").response()

    return endpoint


service: Service[ApiSettings, ApiDeps] = Service(
    name="api",
    settings=ApiSettings,
    deps=api_deps,
    routes=api_routes,
    uses_database=True,
    default_port=8082,
)

"""The API: tenant administration for platform administrators, and the tenants' own users,
sessions and API keys.

    GET    /v1/admin/tenants                                      every tenant
    GET    /v1/admin/tenants/{tenant}                             one tenant
    PUT    /v1/admin/tenants/{tenant}                             create or update
    GET    /v1/admin/tenants/{tenant}/{sites|lines|machines|articles}
    PUT    /v1/admin/tenants/{tenant}/{sites|lines|machines|articles}/{id}
    POST   /v1/admin/tenants/{tenant}/machines/{machine}/tokens   issue (shown once)
    DELETE /v1/admin/tenants/{tenant}/machines/{machine}/tokens   revoke all
    GET    /openapi.json                                          generated from the below
    POST|GET|DELETE /v1/session, /v1/users…, /v1/keys…            see `account_endpoints`
    /v1/admin/tenants/{tenant}/users…, /keys…                     see `account_endpoints`
    /v1/admin/tenants/{tenant}/{…plans|settings|…roles|…moves|article-versions…}
                                                                  see `figure_inputs`

Every /v1/admin endpoint needs ``Authorization: Bearer <TALLY_API_ADMIN_TOKEN>``; the tenants'
own endpoints a session or an API key of the tenant (`tally.api.callers`). Each request works in
transactions scoped to the tenant in its path, so row-level security holds here too. A PUT's
body is its record less the ids in the path (`Body(..., merge_path=True)`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from tally.accounts import Accounts, LoginLimits, SessionTerms
from tally.api import account_endpoints, admin, figure_endpoints, figure_inputs, report_endpoints
from tally.api.admin import ApiDeps
from tally.api.callers import SESSION, TENANT
from tally.api.dashboard import endpoints as dashboard_endpoints
from tally.api.paths import ArticlePath, LinePath, MachinePath, SitePath, TenantPath
from tally.api.report_figures import ApiFigureDays
from tally.api.report_production import Reports
from tally.api.report_schedules import SCHEDULES
from tally.api.settings import ApiSettings
from tally.api.views import Articles, ArticleView, IssuedToken, Lines, Machines, Sites, Tenants
from tally.registry import Article, Line, Machine, Registry, Site, SnapshotCache, Tenant
from tally.sdk import (
    AdminToken,
    AnyEndpoint,
    Body,
    DatabaseRuntime,
    Endpoint,
    OpenApiInfo,
    Service,
)

_TEXTS = {
    400: "The body is not well-formed JSON.",
    401: "Missing or wrong administrators' token.",
    404: "The tenant (or machine) in the path does not exist; `field` names it.",
    409: "A parent named in the body (a line's site, a machine's line) does not exist; "
    "`field` and `value` name it. Create it first.",
    413: "The body is larger than the API accepts.",
    415: "The body is not declared `application/json` (Content-Type).",
    422: "The request breaks a constraint of the record; `field` and `value` name the "
    "offending part (a body field or a path parameter).",
    503: "The database cannot be reached right now; retry after Retry-After.",
}
_READ = (401, 404, 422, 503)
_WRITE = (400, 401, 404, 413, 415, 422, 503)


def _answers(*statuses: int) -> dict[int, str]:
    return {status: _TEXTS[status] for status in statuses}


def _admin_token(deps: ApiDeps) -> str:
    return deps.admin_token.reveal()


def _max_body(deps: ApiDeps) -> int:
    return deps.max_body_bytes


ADMIN = AdminToken(
    _admin_token,
    description="The platform administrators' token (TALLY_API_ADMIN_TOKEN).",
    wrong="wrong administrators' token; send the API's TALLY_API_ADMIN_TOKEN",
)
_TENANT = "/v1/admin/tenants/{tenant}"
_TOKENS = f"{_TENANT}/machines/{{machine}}/tokens"

# The registry's administration (the endpoints the hand-written document described).
REGISTRY_ENDPOINTS: list[AnyEndpoint[ApiDeps]] = [
    Endpoint(
        "GET", "/v1/admin/tenants", admin.list_tenants, auth=ADMIN, response=Tenants,
        summary="Every tenant", errors=_answers(401, 503),
    ),
    Endpoint(
        "GET", _TENANT, admin.get_tenant, auth=ADMIN, params=TenantPath, response=Tenant,
        summary="One tenant", errors=_answers(*_READ),
    ),
    Endpoint(
        "PUT", _TENANT, admin.put_tenant, auth=ADMIN, params=TenantPath,
        body=Body(Tenant, merge_path=True), response=Tenant,
        summary="Create or update a tenant", errors=_answers(400, 401, 413, 415, 422, 503),
        body_limit=_max_body,
    ),
    Endpoint(
        "GET", f"{_TENANT}/sites", admin.list_sites, auth=ADMIN, params=TenantPath,
        response=Sites, summary="The tenant's sites", errors=_answers(*_READ),
    ),
    Endpoint(
        "PUT", f"{_TENANT}/sites/{{site}}", admin.put_site, auth=ADMIN, params=SitePath,
        body=Body(Site, merge_path=True), response=Site, summary="Create or update a site",
        errors=_answers(*_WRITE), body_limit=_max_body,
    ),
    Endpoint(
        "GET", f"{_TENANT}/lines", admin.list_lines, auth=ADMIN, params=TenantPath,
        response=Lines, summary="The tenant's lines", errors=_answers(*_READ),
    ),
    Endpoint(
        "PUT", f"{_TENANT}/lines/{{line}}", admin.put_line, auth=ADMIN, params=LinePath,
        body=Body(Line, merge_path=True), response=Line, summary="Create or update a line",
        errors=_answers(*_WRITE, 409), body_limit=_max_body,
    ),
    Endpoint(
        "GET", f"{_TENANT}/machines", admin.list_machines, auth=ADMIN, params=TenantPath,
        response=Machines, summary="The tenant's machines", errors=_answers(*_READ),
    ),
    Endpoint(
        "PUT", f"{_TENANT}/machines/{{machine}}", admin.put_machine, auth=ADMIN,
        params=MachinePath, body=Body(Machine, merge_path=True), response=Machine,
        summary="Create or update a machine", errors=_answers(*_WRITE, 409),
        body_limit=_max_body,
    ),
    Endpoint(
        "GET", f"{_TENANT}/articles", admin.list_articles, auth=ADMIN, params=TenantPath,
        response=Articles, summary="The tenant's articles, with TNE, T1 and T2 of the weight law",
        errors=_answers(*_READ),
    ),
    Endpoint(
        # `path`: an article number may hold a slash (sent as %2F).
        "PUT", f"{_TENANT}/articles/{{article:path}}", admin.put_article, auth=ADMIN,
        params=ArticlePath, body=Body(Article, merge_path=True), response=ArticleView,
        summary="Create or update an article; answers with TNE, T1 and T2 of the weight law",
        errors=_answers(*_WRITE), body_limit=_max_body,
    ),
    Endpoint(
        "POST", _TOKENS, admin.issue_machine_token, auth=ADMIN, params=MachinePath,
        response=IssuedToken, status=201, headers={"Cache-Control": "no-store"},
        summary="A new token for the machine, shown once; earlier tokens of the machine are "
        "revoked",
        errors=_answers(*_READ, 409),
    ),
    Endpoint(
        "DELETE", _TOKENS, admin.revoke_machine_tokens, auth=ADMIN, params=MachinePath,
        summary="Revoke every token of the machine", errors=_answers(*_READ),
    ),
]  # fmt: skip
ENDPOINTS = [
    *REGISTRY_ENDPOINTS,
    *account_endpoints.endpoints(ADMIN),
    *figure_inputs.endpoints(ADMIN, _max_body),
    *figure_endpoints.endpoints(TENANT),
    *dashboard_endpoints.endpoints(SESSION),
    *report_endpoints.endpoints(TENANT),
]


@asynccontextmanager
async def api_deps(runtime: DatabaseRuntime, settings: ApiSettings) -> AsyncIterator[ApiDeps]:
    terms = SessionTerms(
        lifetime=timedelta(hours=settings.session_hours),
        idle=timedelta(minutes=settings.session_idle_minutes),
    )
    limits = LoginLimits(
        per_user=settings.login_user_limit,
        per_address=settings.login_address_limit,
        window=timedelta(minutes=settings.login_window_minutes),
        lock=timedelta(minutes=settings.login_lock_minutes),
    )
    snapshots = SnapshotCache(runtime.database)
    reports = Reports(
        database=runtime.database,
        days=ApiFigureDays(snapshots),
        grace=timedelta(minutes=settings.report_grace_minutes),
        recheck=timedelta(days=settings.report_recheck_days),
        scheduled=settings.report_schedules,
    )
    yield ApiDeps(
        registry=Registry(runtime.database),
        admin_token=settings.admin_token,
        max_body_bytes=settings.max_body_bytes,
        accounts=Accounts(runtime.database, terms, limits),
        cookie_secure=settings.cookie_secure,
        snapshots=snapshots,
        live_seconds=settings.live_seconds,
        reports=reports,
    )


service: Service[ApiSettings, ApiDeps] = Service(
    name="api",
    settings=ApiSettings,
    deps=api_deps,
    endpoints=ENDPOINTS,
    schedules=SCHEDULES,
    openapi=OpenApiInfo(
        title="tally API",
        description="Production figures for tenants' users and ERPs (sessions, API keys), the "
        "dashboard, and tenant administration for platform administrators.",
    ),
    uses_database=True,
    default_port=8082,
)

"""An endpoint whose handler takes or answers other types than the endpoint declares is a type
error: body, path parameters, query parameters, response and caller are each bound to the
handler's `Call` and return type."""

from __future__ import annotations

import msgspec

from tally.sdk import AdminCaller, AdminToken, Body, Call, Endpoint, MachineToken, TenantCaller


class Deps:
    admin_token: str = "t"


class TenantPath(msgspec.Struct, frozen=True):
    tenant: str


class Paging(msgspec.Struct, frozen=True):
    page: int = 1


class Tenant(msgspec.Struct, frozen=True):
    name: str


class Site(msgspec.Struct, frozen=True):
    name: str


def token(deps: Deps) -> str:
    return deps.admin_token


async def machine(deps: Deps, token_sha256: bytes) -> TenantCaller | None:
    return None


ADMIN = AdminToken(token)
MACHINE = MachineToken(TenantCaller, machine)


async def put_tenant(deps: Deps, call: Call[AdminCaller, TenantPath, Paging, Tenant]) -> Tenant:
    return call.body


Endpoint("PUT", "/t/{tenant}", put_tenant, auth=ADMIN, summary="s", params=TenantPath, query=Paging, body=Site, response=Tenant)  # E: arg-type
Endpoint("PUT", "/t/{tenant}", put_tenant, auth=ADMIN, summary="s", params=TenantPath, query=Paging, body=Body(Site), response=Tenant)  # E: arg-type
Endpoint("PUT", "/t/{tenant}", put_tenant, auth=ADMIN, summary="s", params=Paging, query=Paging, body=Tenant, response=Tenant)  # E: arg-type
Endpoint("PUT", "/t/{tenant}", put_tenant, auth=ADMIN, summary="s", params=TenantPath, query=TenantPath, body=Tenant, response=Tenant)  # E: arg-type
Endpoint("PUT", "/t/{tenant}", put_tenant, auth=ADMIN, summary="s", params=TenantPath, query=Paging, body=Tenant, response=Site)  # E: arg-type
Endpoint("PUT", "/t/{tenant}", put_tenant, auth=MACHINE, summary="s", params=TenantPath, query=Paging, body=Tenant, response=Tenant)  # E: arg-type

"""A service's list of endpoints does not lend its declarations `Any`: a mismatch inside the
list is still an error, and so is an endpoint whose handler wants other Deps."""

from __future__ import annotations

import msgspec

from tally.sdk import AdminCaller, AdminToken, AnyEndpoint, Call, Endpoint


class Deps:
    admin_token: str = "t"


class OtherDeps:
    admin_token: str = "t"


class Tenant(msgspec.Struct, frozen=True):
    name: str


class Site(msgspec.Struct, frozen=True):
    name: str


def token(deps: Deps) -> str:
    return deps.admin_token


def other_token(deps: OtherDeps) -> str:
    return deps.admin_token


async def add(deps: Deps, call: Call[AdminCaller]) -> Tenant:
    return Tenant(name="x")


async def add_elsewhere(deps: OtherDeps, call: Call[AdminCaller]) -> Tenant:
    return Tenant(name="x")


ENDPOINTS: list[AnyEndpoint[Deps]] = [
    Endpoint("POST", "/t", add, auth=AdminToken(token), summary="s", response=Tenant),
    Endpoint("POST", "/s", add, auth=AdminToken(token), summary="s", response=Site),  # E: arg-type
    Endpoint(
        "POST",
        "/o",
        add_elsewhere,  # E: arg-type OtherDeps
        auth=AdminToken(other_token),  # E: arg-type
        summary="s",
        response=Tenant,
    ),
]

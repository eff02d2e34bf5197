"""Fixtures of the API's tests: a migrated database, and the API hosted on a real HTTP port."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tally.api.admin import ApiDeps
from tally.api.service import service
from tally.api.settings import ApiSettings
from tally.sdk import Database, MemoryBroker, Secret, ServiceHost
from tally.sdk.testing import LoginUrl

ADMIN_TOKEN = "test-admin-token-" + "x" * 16


@dataclass(frozen=True)
class Api:
    """A running API and a client for it that sends the administrators' token."""

    host: ServiceHost[ApiSettings, ApiDeps]
    client: httpx.AsyncClient


@pytest.fixture
async def api(migrated_database_url: str, login_url: LoginUrl) -> AsyncIterator[Api]:
    # Every test logs in from 127.0.0.1 to the one shared database: the per-address limit is
    # lifted so that one test's failed logins cannot lock another out (test_accounts checks
    # the limit on a database of its own).
    url = login_url(migrated_database_url, service.database_role)
    async with hosted_api(url, login_address_limit=100_000) as hosted:
        yield hosted


@asynccontextmanager
async def hosted_api(url: str, **settings: Any) -> AsyncIterator[Api]:
    """The API on a real port, logged in to `url` (a login of the api's role, so that
    row-level security applies), with `settings` over the defaults (TALLY_API_*)."""
    role = service.database_role
    database = await Database.connect(url, role=role, max_size=4)
    host = ServiceHost(
        service,
        ApiSettings(admin_token=Secret(ADMIN_TOKEN), **settings),
        broker=MemoryBroker(),
        database=database,
    )
    await host.start()
    client = httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{host.port}",
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        timeout=10.0,
    )
    try:
        yield Api(host, client)
    finally:
        await client.aclose()
        await host.stop()
        await database.close()


@pytest.fixture
def tenant() -> str:
    """A tenant id of the test's own (tests share the database)."""
    return f"t{secrets.token_hex(5)}"


# Logged-in callers of a tenant of the test's own (see tests/test_accounts.py for more):
# `user_session` is an admin with a browser session, `viewer_session` a viewer of the same
# tenant, `tenant_key` an admin API key of it. Each `Caller.client` sends its credentials (and
# the CSRF token) with every request.

PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Caller:
    """A logged-in user or key: `client` sends the cookie and X-CSRF-Token (or the key)."""

    tenant: str
    identity: str
    client: httpx.AsyncClient
    csrf_token: str = ""


async def login(api: Api, tenant: str, email: str, password: str = PASSWORD) -> Caller:
    """Log in as `email` of `tenant`; the session cookie is sent as a header because it is
    Secure, which httpx does not send over plain HTTP."""
    async with httpx.AsyncClient(base_url=str(api.client.base_url), timeout=10.0) as anonymous:
        response = await anonymous.post(
            "/v1/session", json={"tenant": tenant, "email": email, "password": password}
        )
    assert response.status_code == 200, response.text
    session = session_cookie(response)
    csrf = response.json()["csrf_token"]
    client = httpx.AsyncClient(
        base_url=str(api.client.base_url),
        headers={"Cookie": f"tally_session={session}", "X-CSRF-Token": csrf},
        timeout=10.0,
    )
    return Caller(tenant, email, client, csrf)


async def add_user(api: Api, tenant: str, email: str, role: str) -> None:
    """The tenant (created when missing) and a user of it with `PASSWORD`."""
    if (await api.client.get(f"/v1/admin/tenants/{tenant}")).status_code == 404:
        created = await api.client.put(f"/v1/admin/tenants/{tenant}", json={"name": tenant})
        assert created.status_code == 200, created.text
    body = {"email": email, "name": email, "role": role, "password": PASSWORD}
    added = await api.client.post(f"/v1/admin/tenants/{tenant}/users", json=body)
    assert added.status_code == 201, added.text


@pytest.fixture
async def user_session(api: Api, tenant: str) -> AsyncIterator[Caller]:
    """An admin user of `tenant`, logged in."""
    await add_user(api, tenant, "admin@example.com", "admin")
    caller = await login(api, tenant, "admin@example.com")
    yield caller
    await caller.client.aclose()


@pytest.fixture
async def viewer_session(api: Api, tenant: str, user_session: Caller) -> AsyncIterator[Caller]:
    """A viewer of `tenant` (the same tenant as `user_session`'s), logged in."""
    await add_user(api, tenant, "viewer@example.com", "viewer")
    caller = await login(api, tenant, "viewer@example.com")
    yield caller
    await caller.client.aclose()


@pytest.fixture
async def tenant_key(api: Api, tenant: str, user_session: Caller) -> AsyncIterator[Caller]:
    """An admin API key of `tenant`, made by `user_session`'s user."""
    made = await user_session.client.post("/v1/keys", json={"name": "ERP", "role": "admin"})
    assert made.status_code == 201, made.text
    client = httpx.AsyncClient(
        base_url=str(api.client.base_url),
        headers={"Authorization": f"Bearer {made.json()['key']}"},
        timeout=10.0,
    )
    yield Caller(tenant, f"key:{made.json()['key_id']}", client)
    await client.aclose()


def session_cookie(response: httpx.Response) -> str:
    """The session id a login's Set-Cookie hands over."""
    cookie = response.headers["set-cookie"]
    name, _, rest = cookie.partition("=")
    assert name == "tally_session", cookie
    return rest.partition(";")[0]

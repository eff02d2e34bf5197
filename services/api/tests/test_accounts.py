"""Users, sessions and API keys end to end: real HTTP, real PostgreSQL under row-level
security. Who may see what: a session or key of one tenant sees nothing of another (404), a
viewer only reads, a changed or revoked credential stops working at once."""

from __future__ import annotations

import logging
import secrets
from typing import Any

import asyncpg
import httpx
import pytest

from services.api.tests.conftest import (
    PASSWORD,
    Api,
    Caller,
    add_user,
    hosted_api,
    login,
    session_cookie,
)
from tally.api.service import service
from tally.sdk.testing import LoginUrl

pytestmark = pytest.mark.integration


async def _login(api: Api, tenant: str, email: str, password: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=str(api.client.base_url), timeout=10.0) as anonymous:
        return await anonymous.post(
            "/v1/session", json={"tenant": tenant, "email": email, "password": password}
        )


async def test_login_sets_a_safe_cookie_and_logout_ends_the_session(
    api: Api, tenant: str, user_session: Caller
) -> None:
    response = await _login(api, tenant, "admin@example.com", PASSWORD)
    cookie = response.headers["set-cookie"]
    for flag in ("HttpOnly", "SameSite=Lax", "Path=/", "Secure"):
        assert flag in cookie
    assert response.headers["cache-control"] == "no-store"
    answer = response.json()
    assert (answer["tenant"], answer["email"], answer["role"]) == (
        tenant,
        "admin@example.com",
        "admin",
    )
    who = await user_session.client.get("/v1/session")
    assert who.status_code == 200, who.text
    assert who.json() == {
        "tenant": tenant,
        "email": "admin@example.com",
        "role": "admin",
        "csrf_token": user_session.csrf_token,
    }
    ended = await user_session.client.delete("/v1/session")
    assert ended.status_code == 204, ended.text
    assert "Max-Age=0" in ended.headers["set-cookie"]
    assert (await user_session.client.get("/v1/session")).status_code == 401
    assert (await user_session.client.get("/v1/users")).status_code == 401


async def test_a_form_logs_in_too(api: Api, tenant: str, user_session: Caller) -> None:
    async with httpx.AsyncClient(base_url=str(api.client.base_url), timeout=10.0) as anonymous:
        fields = {"tenant": tenant, "email": "Admin@Example.com", "password": PASSWORD}
        response = await anonymous.post("/v1/session", data=fields)
    assert response.status_code == 200, response.text
    assert response.json()["email"] == "admin@example.com"
    assert session_cookie(response)


async def test_a_wrong_login_is_one_401_whatever_was_wrong(
    api: Api, tenant: str, user_session: Caller
) -> None:
    wrongs = [
        (tenant, "admin@example.com", "not the password"),
        (tenant, "nobody@example.com", PASSWORD),
        ("no-such-tenant", "admin@example.com", PASSWORD),
    ]
    details = set()
    for wrong in wrongs:
        response = await _login(api, *wrong)
        assert response.status_code == 401, response.text
        assert "set-cookie" not in response.headers
        details.add(response.json()["detail"])
    assert len(details) == 1


async def test_an_expired_session_is_refused(
    api: Api, tenant: str, user_session: Caller, migrated_database_url: str
) -> None:
    owner = await asyncpg.connect(migrated_database_url)
    try:
        await owner.execute(
            "UPDATE user_sessions SET expires_at = now() - interval '1 second' WHERE tenant = $1",
            tenant,
        )
    finally:
        await owner.close()
    response = await user_session.client.get("/v1/session")
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


async def test_an_idle_session_is_refused(
    api: Api, tenant: str, user_session: Caller, migrated_database_url: str
) -> None:
    owner = await asyncpg.connect(migrated_database_url)
    try:
        await owner.execute(
            "UPDATE user_sessions SET last_seen_at = now() - interval '31 minutes'"
            " WHERE tenant = $1",
            tenant,
        )
    finally:
        await owner.close()
    assert (await user_session.client.get("/v1/session")).status_code == 401


async def test_failed_logins_lock_the_user_with_429_and_retry_after(
    api: Api, tenant: str, user_session: Caller
) -> None:
    for _ in range(5):
        response = await _login(api, tenant, "admin@example.com", "guess guess guess")
        assert response.status_code == 401
    locked = await _login(api, tenant, "admin@example.com", PASSWORD)
    assert locked.status_code == 429, locked.text
    assert 0 < int(locked.headers["retry-after"]) <= 15 * 60
    # Another user of the tenant is not locked out by the first one's guesser.
    await add_user(api, tenant, "other@example.com", "viewer")
    assert (await _login(api, tenant, "other@example.com", PASSWORD)).status_code == 200


async def test_failed_logins_from_one_address_lock_the_address(
    fresh_database_url: str, login_url: LoginUrl
) -> None:
    # A database of its own: the loopback address is locked out at the end.
    url = login_url(fresh_database_url, service.database_role)
    async with hosted_api(url, login_address_limit=3) as api:
        tenant = f"t{secrets.token_hex(4)}"
        await add_user(api, tenant, "ana@example.com", "admin")
        for n in range(3):
            response = await _login(api, tenant, f"guess{n}@example.com", "guess guess guess")
            assert response.status_code == 401
        locked = await _login(api, tenant, "ana@example.com", PASSWORD)
        assert locked.status_code == 429
        assert int(locked.headers["retry-after"]) > 0


async def test_a_change_without_the_csrf_token_is_refused(api: Api, user_session: Caller) -> None:
    cookie = user_session.client.headers["cookie"]
    async with httpx.AsyncClient(base_url=str(api.client.base_url), timeout=10.0) as bare:
        body = {"name": "ERP", "role": "viewer"}
        refused = await bare.post("/v1/keys", json=body, headers={"Cookie": cookie})
        assert refused.status_code == 403
        assert "X-CSRF-Token" in refused.json()["detail"]
        wrong = {"Cookie": cookie, "X-CSRF-Token": "forged"}
        assert (await bare.post("/v1/keys", json=body, headers=wrong)).status_code == 403
        # Reading needs no token.
        assert (await bare.get("/v1/keys", headers={"Cookie": cookie})).status_code == 200
    assert (await user_session.client.post("/v1/keys", json=body)).status_code == 201


async def test_a_viewer_only_reads(viewer_session: Caller) -> None:
    client = viewer_session.client
    assert (await client.get("/v1/session")).json()["role"] == "viewer"
    attempts = [
        client.get("/v1/users"),
        client.post(
            "/v1/users",
            json={"email": "x@example.com", "name": "X", "password": PASSWORD},
        ),
        client.patch("/v1/users/viewer@example.com", json={"role": "admin"}),
        client.post("/v1/keys", json={"name": "ERP"}),
    ]
    for attempt in attempts:
        response = await attempt
        assert response.status_code == 403, response.text
        assert "admin" in response.json()["detail"]


async def test_users_are_managed_and_a_disabled_user_is_logged_out(
    api: Api, tenant: str, user_session: Caller, viewer_session: Caller
) -> None:
    client = user_session.client
    listed = (await client.get("/v1/users")).json()["users"]
    assert [u["email"] for u in listed] == ["admin@example.com", "viewer@example.com"]
    assert all("argon2" not in str(u) and "password_hash" not in u for u in listed)
    added = await client.post(
        "/v1/users",
        json={"email": "Bea@Example.com", "name": "Bea", "role": "viewer", "password": PASSWORD},
    )
    assert added.status_code == 201, added.text
    assert added.json()["email"] == "bea@example.com"
    again = await client.post(
        "/v1/users",
        json={"email": "bea@example.com", "name": "Bea", "password": PASSWORD},
    )
    assert again.status_code == 409
    promoted = await client.patch("/v1/users/viewer@example.com", json={"role": "admin"})
    assert promoted.json()["role"] == "admin"
    # A role change applies to the live session at once.
    assert (await viewer_session.client.get("/v1/users")).status_code == 200
    disabled = await client.patch("/v1/users/viewer@example.com", json={"disabled": True})
    assert disabled.json()["disabled"] is True
    assert (await viewer_session.client.get("/v1/session")).status_code == 401
    assert (await _login(api, tenant, "viewer@example.com", PASSWORD)).status_code == 401
    await client.patch("/v1/users/viewer@example.com", json={"disabled": False})
    new = "a new password, long enough"
    reset = await client.put("/v1/users/viewer@example.com/password", json={"password": new})
    assert reset.status_code == 200, reset.text
    assert (await _login(api, tenant, "viewer@example.com", PASSWORD)).status_code == 401
    assert (await _login(api, tenant, "viewer@example.com", new)).status_code == 200


async def test_a_revoked_key_is_refused_at_once(user_session: Caller, tenant_key: Caller) -> None:
    listed = await tenant_key.client.get("/v1/keys")
    assert listed.status_code == 200, listed.text
    (key,) = listed.json()["keys"]
    assert key["last_used_at"] is not None
    assert set(key) == {
        "tenant", "key_id", "name", "role", "created_at", "created_by", "last_used_at", "revoked",
    }  # fmt: skip
    revoked = await user_session.client.delete(f"/v1/keys/{key['key_id']}")
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked"] is True
    refused = await tenant_key.client.get("/v1/keys")
    assert refused.status_code == 401
    forged = tenant_key.client.headers["authorization"][:-4] + "AAAA"
    async with httpx.AsyncClient(base_url=str(tenant_key.client.base_url)) as other:
        answer = await other.get("/v1/keys", headers={"Authorization": forged})
    assert answer.status_code == 401


async def test_another_tenants_objects_are_404_with_sessions_keys_and_forged_ids(
    api: Api, tenant: str, user_session: Caller, tenant_key: Caller
) -> None:
    other = f"o{secrets.token_hex(4)}"
    await add_user(api, other, "bob@example.com", "admin")
    theirs = await login(api, other, "bob@example.com")
    made = await theirs.client.post("/v1/keys", json={"name": "their ERP"})
    their_key = made.json()["key_id"]
    try:
        for caller in (user_session, tenant_key):
            client = caller.client
            users = (await client.get("/v1/users")).json()["users"]
            assert {u["tenant"] for u in users} == {tenant}
            keys = (await client.get("/v1/keys")).json()["keys"]
            assert {k["tenant"] for k in keys} == {tenant}
            attempts = [
                client.patch("/v1/users/bob@example.com", json={"role": "viewer"}),
                client.put("/v1/users/bob@example.com/password", json={"password": PASSWORD}),
                client.delete(f"/v1/keys/{their_key}"),
            ]
            for attempt in attempts:
                response = await attempt
                assert response.status_code == 404, response.text
        # Forged credentials: a made-up session id, a key id of theirs with our secret.
        ours = tenant_key.client.headers["authorization"].rpartition("_")[2]
        async with httpx.AsyncClient(base_url=str(api.client.base_url), timeout=10.0) as forger:
            forged_session = {"Cookie": f"tally_session={secrets.token_urlsafe(32)}"}
            assert (await forger.get("/v1/users", headers=forged_session)).status_code == 401
            forged_key = {"Authorization": f"Bearer tk_{their_key}_{ours}"}
            assert (await forger.get("/v1/keys", headers=forged_key)).status_code == 401
        # Their key still works, their user still logs in: nothing was changed.
        assert (await theirs.client.get("/v1/keys")).json()["keys"][0]["revoked"] is False
        assert (await _login(api, other, "bob@example.com", PASSWORD)).status_code == 200
    finally:
        await theirs.client.aclose()


async def test_the_admin_api_manages_any_tenants_users_and_keys(
    api: Api, tenant: str, user_session: Caller
) -> None:
    base = f"/v1/admin/tenants/{tenant}"
    client = api.client
    assert [u["email"] for u in (await client.get(f"{base}/users")).json()["users"]] == [
        "admin@example.com"
    ]
    made = await client.post(f"{base}/keys", json={"name": "ERP"})
    assert made.status_code == 201
    key = made.json()
    assert key["key"].startswith(f"tk_{key['key_id']}_")
    assert key["role"] == "viewer"
    changed = await client.patch(f"{base}/users/admin@example.com", json={"name": "Ana"})
    assert changed.json()["name"] == "Ana"
    reset = await client.put(
        f"{base}/users/admin@example.com/password", json={"password": "another long password"}
    )
    assert reset.status_code == 200
    assert (await user_session.client.get("/v1/session")).status_code == 401
    revoked = await client.delete(f"{base}/keys/{key['key_id']}")
    assert revoked.json()["revoked"] is True
    missing = "/v1/admin/tenants/no-such-tenant"
    for response in [
        await client.get(f"{missing}/users"),
        await client.get(f"{missing}/keys"),
        await client.post(f"{missing}/keys", json={"name": "x"}),
        await client.patch(f"{missing}/users/a@example.com", json={"name": "x"}),
        await client.delete(f"{missing}/keys/{key['key_id']}"),
        await client.patch(f"{base}/users/nobody@example.com", json={"name": "x"}),
        await client.delete(f"{base}/keys/0123456789abcdef"),
    ]:
        assert response.status_code == 404, response.text
    # A session or a key is no administrators' token.
    cookie = {"Cookie": user_session.client.headers["cookie"], "Authorization": ""}
    assert (await client.get(f"{base}/users", headers=cookie)).status_code == 401


BAD_BODIES: list[tuple[str, str, Any, str]] = [
    ("POST", "/v1/users", {"email": "no-at-sign", "name": "X", "password": PASSWORD}, "email"),
    ("POST", "/v1/users", {"email": "a@example.com", "name": "X", "password": "short"}, "password"),
    ("POST", "/v1/users", {"email": "a@example.com", "name": "", "password": PASSWORD}, "name"),
    ("POST", "/v1/users", {"email": "a@b.c", "name": "X", "password": PASSWORD, "x": 1}, "x"),
    ("POST", "/v1/users", {"email": "a@b.c", "name": "X", "role": "owner", "password": PASSWORD},
     "role"),
    ("PATCH", "/v1/users/admin@example.com", {"role": "root"}, "role"),
    ("PUT", "/v1/users/admin@example.com/password", {"password": "x" * 2000}, "password"),
    ("POST", "/v1/keys", {"name": ""}, "name"),
    ("POST", "/v1/keys", [], "$"),
    ("DELETE", "/v1/keys/not-a-key-id", None, "key_id"),
    ("PATCH", "/v1/users/not-an-email", {"role": "viewer"}, "email"),
]  # fmt: skip


async def test_a_password_or_email_postgresql_cannot_store_is_4xx(user_session: Caller) -> None:
    # A lone surrogate is unreadable JSON (400); a NUL breaks the email's pattern (422).
    for body, status in [
        (rb'{"email": "a@example.com", "name": "A", "password": "\ud800 long enough"}', 400),
        (rb'{"email": "a\u0000@example.com", "name": "A", "password": "long enough!"}', 422),
    ]:
        response = await user_session.client.post("/v1/users", content=body, headers=JSON)
        assert response.status_code == status, response.text


@pytest.mark.parametrize(("method", "path", "body", "field"), BAD_BODIES)
async def test_bad_input_is_4xx_naming_the_field_and_never_echoes_a_password(
    user_session: Caller, method: str, path: str, body: Any, field: str
) -> None:
    response = await user_session.client.request(method, path, json=body)
    assert 400 <= response.status_code < 500, response.text
    assert response.json().get("field") == field, response.text
    assert "x" * 100 not in response.text
    assert "short" not in response.text


async def test_bad_logins_are_4xx(api: Api) -> None:
    async with httpx.AsyncClient(base_url=str(api.client.base_url), timeout=10.0) as anonymous:
        attempts: list[dict[str, Any]] = [
            {"json": {"tenant": "a", "email": "x"}},
            {"json": {"tenant": "BAD TENANT", "email": "x", "password": "y"}},
            {"json": {"tenant": "a", "email": "x", "password": "y" * 5000}},
            {"content": b"{not json", "headers": {"Content-Type": "application/json"}},
            {"content": b"tenant=a&tenant=b", "headers": {"Content-Type": FORM}},
            {"content": b"\xff\xfe", "headers": {"Content-Type": FORM}},
            {"content": b"x", "headers": {"Content-Type": "text/plain"}},
            {"content": rb'{"tenant": "a", "email": "x", "password": "\ud800"}', "headers": JSON},
            {"content": rb'{"tenant": "a", "email": "\u0000", "password": "x"}', "headers": JSON},
        ]
        for kwargs in attempts:
            response = await anonymous.post("/v1/session", **kwargs)
            assert 400 <= response.status_code < 500, (kwargs, response.text)
            assert "y" * 100 not in response.text


FORM = "application/x-www-form-urlencoded"
JSON = {"Content-Type": "application/json"}


async def test_no_secret_reaches_logs_or_answers(
    api: Api, tenant: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await add_user(api, tenant, "ana@example.com", "admin")
    caller = await login(api, tenant, "ana@example.com")
    try:
        made = await caller.client.post("/v1/keys", json={"name": "ERP"})
        key = made.json()["key"]
        await _login(api, tenant, "ana@example.com", "a wrong password here")
        answers = [
            (await caller.client.get("/v1/users")).text,
            (await caller.client.get("/v1/keys")).text,
            (await caller.client.get("/v1/session")).text,
        ]
        secret = key.rpartition("_")[2]
        session = caller.client.headers["cookie"].partition("=")[2]
        for text in answers:
            for value in (PASSWORD, secret, session, "argon2"):
                assert value not in text
        # The service's own logs and its server's (the test's HTTP client logs what it sends).
        logged = "\n".join(
            f"{r.getMessage()} {r.exc_text or ''}"
            for r in caplog.records
            if r.name.startswith(("tally", "uvicorn", "starlette"))
        )
        assert "logged in" in logged
        for value in (PASSWORD, "a wrong password here", secret, session, "argon2"):
            assert value not in logged
    finally:
        await caller.client.aclose()

"""Authentication schemes: what each accepts, what it refuses (401/403, never a lookup for a
credential that cannot be ours), and how it describes itself for the document."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from starlette.requests import Request

from tally.sdk import (
    PUBLIC,
    AdminCaller,
    AdminToken,
    Anonymous,
    MachineToken,
    Rejected,
    StoredKey,
    StoredSession,
    TenantApiKey,
    TenantCaller,
    UserSession,
    either,
    token_hash,
)

ADMIN_TOKEN = "s3cret-admin-token-of-some-length"
ACME = TenantCaller(tenant="acme", identity="slicer-1", role="machine")


def request(
    headers: dict[str, str] | None = None, *, method: str = "GET", cookie: str | None = None
) -> Request:
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    if cookie is not None:
        raw.append((b"cookie", cookie.encode("latin-1")))
    return Request({"type": "http", "method": method, "path": "/", "headers": raw})


@dataclass
class Store:
    """The service's side: what it knows, and how often it was asked."""

    tokens: dict[bytes, TenantCaller] = field(default_factory=dict)
    keys: dict[str, StoredKey[TenantCaller]] = field(default_factory=dict)
    sessions: dict[bytes, StoredSession[TenantCaller]] = field(default_factory=dict)
    lookups: int = 0
    admin_token: str = ADMIN_TOKEN


async def machine_of(store: Store, token_sha256: bytes) -> TenantCaller | None:
    store.lookups += 1
    return store.tokens.get(token_sha256)


async def key_of(store: Store, key_id: str) -> StoredKey[TenantCaller] | None:
    store.lookups += 1
    return store.keys.get(key_id)


async def session_of(store: Store, session_sha256: bytes) -> StoredSession[TenantCaller] | None:
    store.lookups += 1
    return store.sessions.get(session_sha256)


def admin_token(store: Store) -> str:
    return store.admin_token


ADMIN = AdminToken(admin_token)
MACHINE = MachineToken(TenantCaller, machine_of)
KEY = TenantApiKey(TenantCaller, key_of)
SESSION = UserSession(TenantCaller, session_of)


async def refused(scheme: object, store: Store, req: Request) -> Rejected:
    assert isinstance(scheme, (AdminToken, MachineToken, TenantApiKey, UserSession))
    with pytest.raises(Rejected) as caught:
        await scheme.authenticate(store, req)
    return caught.value


# --- public and admin ------------------------------------------------------------------------


async def test_anyone_may_call_a_public_endpoint() -> None:
    assert await PUBLIC.authenticate(Store(), request()) == Anonymous()
    assert PUBLIC.security() == []


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
async def test_the_admin_token_passes_with_any_spelling_of_bearer(scheme: str) -> None:
    caller = await ADMIN.authenticate(
        Store(), request({"Authorization": f"{scheme} {ADMIN_TOKEN}"})
    )

    assert caller == AdminCaller(identity="admin", role="admin")
    assert not hasattr(caller, "tenant")


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer wrong", f"Basic {ADMIN_TOKEN}", "Bearer " + "ü" * 40,
     f"Bearer {ADMIN_TOKEN}x", f"Bearer {ADMIN_TOKEN[:-1]}"],
)  # fmt: skip
async def test_anything_but_the_admin_token_is_401(authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}

    rejected = await refused(ADMIN, Store(), request(headers))

    assert rejected.status == 401
    assert rejected.headers == {"WWW-Authenticate": "Bearer"}


# --- machine tokens --------------------------------------------------------------------------


async def test_a_machine_is_found_by_its_tokens_hash() -> None:
    store = Store(tokens={token_hash("good"): ACME})

    assert await MACHINE.authenticate(store, request({"Authorization": "bearer good"})) == ACME
    assert store.lookups == 1


@pytest.mark.parametrize(
    "header", [None, "", "Bearer", "Bearer   ", "Basic Z29vZA==", "Bearer " + "x" * 600]
)
async def test_headers_without_a_usable_bearer_token_are_401_without_a_lookup(
    header: str | None,
) -> None:
    store = Store(tokens={token_hash("good"): ACME})

    rejected = await refused(
        MACHINE, store, request({} if header is None else {"Authorization": header})
    )

    assert rejected.status == 401
    assert rejected.headers == {"WWW-Authenticate": "Bearer"}
    assert store.lookups == 0


async def test_an_unknown_machine_token_is_401_saying_how_to_get_one() -> None:
    rejected = await refused(MACHINE, Store(), request({"Authorization": "Bearer nope"}))

    assert rejected.status == 401
    assert "tally admin token issue" in rejected.problem.detail


# --- tenant API keys --------------------------------------------------------------------------


async def test_an_issued_key_authenticates_its_tenant_and_only_its_hash_is_stored() -> None:
    issued = TenantApiKey.issue()
    store = Store(keys={issued.key_id: StoredKey(ACME, issued.secret_hash)})
    secret = issued.key.removeprefix(f"tk_{issued.key_id}_")

    caller = await KEY.authenticate(store, request({"Authorization": f"Bearer {issued.key}"}))

    assert caller == ACME
    assert issued.key.startswith(f"tk_{issued.key_id}_")
    assert issued.key not in repr(store)
    assert token_hash(secret) == issued.secret_hash


async def test_a_key_with_a_wrong_secret_or_an_unknown_id_is_401() -> None:
    issued, other = TenantApiKey.issue(), TenantApiKey.issue()
    store = Store(keys={issued.key_id: StoredKey(ACME, issued.secret_hash)})
    forged = f"tk_{issued.key_id}_{other.key.removeprefix(f'tk_{other.key_id}_')}"

    for key in (forged, other.key, "tk_zz_nothex", "not-a-key"):
        rejected = await refused(KEY, store, request({"Authorization": f"Bearer {key}"}))
        assert rejected.status == 401
        assert "API key" in rejected.problem.detail
    assert store.lookups == 2  # only well-formed keys are looked up


# --- sessions --------------------------------------------------------------------------------


def _session(store: Store) -> tuple[str, str]:
    new = UserSession.start()
    store.sessions[new.session_hash] = StoredSession(ACME, new.csrf_token)
    return new.session_id, new.csrf_token


async def test_a_session_cookie_authenticates_reads_and_with_its_csrf_token_changes() -> None:
    store = Store()
    session, csrf = _session(store)
    cookie = f"tally_session={session}"

    assert await SESSION.authenticate(store, request(cookie=cookie)) == ACME
    change = request({"X-CSRF-Token": csrf}, method="POST", cookie=cookie)
    assert await SESSION.authenticate(store, change) == ACME


@pytest.mark.parametrize("csrf", [None, "", "wrong"])
async def test_a_change_without_the_sessions_csrf_token_is_403(csrf: str | None) -> None:
    store = Store()
    session, _ = _session(store)
    headers = {} if csrf is None else {"X-CSRF-Token": csrf}

    rejected = await refused(
        SESSION, store, request(headers, method="PUT", cookie=f"tally_session={session}")
    )

    assert (rejected.status, rejected.problem.error) == (403, "forbidden")
    assert "X-CSRF-Token" in rejected.problem.detail


@pytest.mark.parametrize("cookie", [None, "tally_session=", "tally_session=unknown", "other=x"])
async def test_no_session_or_an_unknown_one_is_401(cookie: str | None) -> None:
    rejected = await refused(SESSION, Store(), request(cookie=cookie))

    assert (rejected.status, rejected.problem.error) == (401, "unauthorized")
    assert "log in" in rejected.problem.detail
    assert rejected.headers == {}


def test_the_session_cookie_is_http_only_secure_and_same_site() -> None:
    name, value = SESSION.set_cookie("abc", max_age=3600)

    assert name == "Set-Cookie"
    assert value.startswith("tally_session=abc; Max-Age=3600; Path=/")
    assert {"HttpOnly", "Secure", "SameSite=Lax"} <= set(value.split("; "))
    assert SESSION.clear_cookie()[1].startswith("tally_session=; Max-Age=0")


# --- either ----------------------------------------------------------------------------------


async def test_either_scheme_is_taken_by_the_credential_the_request_offers() -> None:
    both = either(KEY, SESSION)
    store = Store()
    issued = TenantApiKey.issue()
    store.keys[issued.key_id] = StoredKey(ACME, issued.secret_hash)
    session, _ = _session(store)

    by_key = await both.authenticate(store, request({"Authorization": f"Bearer {issued.key}"}))
    by_cookie = await both.authenticate(store, request(cookie=f"tally_session={session}"))
    with pytest.raises(Rejected) as neither:
        await both.authenticate(store, request())

    assert by_key == by_cookie == ACME
    assert neither.value.status == 401
    assert both.security() == [{"apiKey": []}, {"userSession": []}]
    assert set(both.schemes()) == {"apiKey", "userSession"}


def test_schemes_describe_themselves_for_the_document() -> None:
    assert MACHINE.schemes() == {
        "machineToken": {
            "type": "http",
            "scheme": "bearer",
            "description": "The token issued for one machine.",
        }
    }
    assert SESSION.schemes()["userSession"]["in"] == "cookie"
    assert set(SESSION.refusals) == {401, 403}
    assert ADMIN.name == "adminToken"
    assert PUBLIC.name == "public"

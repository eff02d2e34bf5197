"""Who calls the tenant endpoints: a user's browser session or a tenant API key, each yielding
the tenant, the identity (an email, or key:<id>) and the role — and nothing else decides which
tenant a request may see: `call.database()` scopes every transaction to the caller's tenant.

    SESSION         the session cookie (tally_session) with X-CSRF-Token on changes
    KEY             Authorization: Bearer tk_<id>_<secret>
    TENANT          either (the key when both are sent)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tally.api.admin import ApiDeps
from tally.sdk import StoredKey, StoredSession, TenantApiKey, TenantCaller, UserSession, either


@dataclass(frozen=True, kw_only=True, slots=True)
class SessionCaller(TenantCaller):
    """A user with a browser session: what logout ends and GET /v1/session shows."""

    csrf_token: str = field(repr=False)
    session_hash: bytes = field(repr=False)


async def _session(deps: ApiDeps, session_hash: bytes) -> StoredSession[SessionCaller] | None:
    found = await deps.accounts.session(session_hash)
    if found is None:
        return None
    user = found.caller
    caller = SessionCaller(
        tenant=user.tenant,
        identity=user.identity,
        role=user.role,
        csrf_token=found.csrf_token,
        session_hash=session_hash,
    )
    return StoredSession(caller, found.csrf_token)


async def _key(deps: ApiDeps, key_id: str) -> StoredKey[TenantCaller] | None:
    return await deps.accounts.key(key_id)


SESSION = UserSession(
    SessionCaller, _session, description="A user's session cookie, from POST /v1/session."
)
KEY = TenantApiKey(
    TenantCaller, _key, description="An API key of the tenant (tk_...), as a bearer token."
)
TENANT = either(KEY, SESSION)

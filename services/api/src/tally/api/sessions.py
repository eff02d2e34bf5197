"""Logging in and out: POST, GET and DELETE /v1/session.

A login answers the same 401 for an unknown tenant, an unknown email, a wrong password and a
disabled user, so that it tells a guesser nothing; a user or source address past its failed
logins gets 429 with Retry-After, whatever it sends. The session id travels only in the cookie
(Secure, HttpOnly, SameSite=Lax, Path=/); the answer holds the CSRF token the pages send back
in X-CSRF-Token with every change.
"""

from __future__ import annotations

import logging
from typing import Annotated

import msgspec

from tally.accounts import LoginLimited, LoginRefused, Role, SessionView
from tally.api.admin import ApiDeps
from tally.api.callers import SESSION, SessionCaller
from tally.registry import TenantId
from tally.sdk import STORABLE_TEXT, Anonymous, Call, File, NoParams, Problem, Rejected

_log = logging.getLogger("tally.api.sessions")


class Login(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Who logs in. The password has no declared limits, so that no refusal ever echoes it."""

    tenant: TenantId
    email: Annotated[str, msgspec.Meta(max_length=254, pattern=STORABLE_TEXT)]
    password: str


class Whoami(msgspec.Struct, frozen=True, kw_only=True):
    """The session's user, and the CSRF token to send in X-CSRF-Token with every change."""

    tenant: str
    email: str
    role: Role
    csrf_token: str


async def login(deps: ApiDeps, call: Call[Anonymous, NoParams, NoParams, Login]) -> File:
    body = call.body
    try:
        started = await deps.accounts.login(body.tenant, body.email, body.password, call.client)
    except LoginLimited as limited:
        _log.warning("login to tenant %s refused: locked out (from %s)", body.tenant, call.client)
        raise Rejected(
            429,
            Problem(error="too_many_requests", detail=str(limited)),
            {"Retry-After": str(limited.retry_after)},
        ) from None
    except LoginRefused:
        _log.info("failed login to tenant %s from %s", body.tenant, call.client)
        detail = "wrong tenant, email or password (or the user is disabled)"
        raise Rejected(401, Problem(error="unauthorized", detail=detail)) from None
    _log.info("tenant %s: %s logged in", body.tenant, started.view.email)
    max_age = int(deps.accounts.terms.lifetime.total_seconds())
    cookie = SESSION.set_cookie(started.session_id, max_age=max_age, secure=deps.cookie_secure)
    return File(msgspec.json.encode(started.view), "application/json", headers=[cookie])


async def whoami(deps: ApiDeps, call: Call[SessionCaller]) -> Whoami:
    caller = call.caller
    return Whoami(
        tenant=caller.tenant,
        email=caller.identity,
        role=Role(caller.role),
        csrf_token=caller.csrf_token,
    )


async def logout(deps: ApiDeps, call: Call[SessionCaller]) -> File:
    caller = call.caller
    await deps.accounts.logout(caller.tenant, caller.session_hash)
    _log.info("tenant %s: %s logged out", caller.tenant, caller.identity)
    ended = SESSION.set_cookie("", max_age=0, secure=deps.cookie_secure)
    return File(b"", "application/json", headers=[ended])


__all__ = ["Login", "SessionView", "Whoami", "login", "logout", "whoami"]

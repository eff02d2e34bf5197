"""Browser sessions: a random session id in an HttpOnly cookie, and a CSRF token for changes.

    new = UserSession.start()                 # store new.session_hash and new.csrf_token
    page = Redirect("/", headers=[SESSION.set_cookie(new.session_id, max_age=8 * 3600)])
    SESSION = UserSession(TenantCaller, lookup=stored_session)   # lookup(deps, session_hash)

Only the id's hash is stored, so a leaked table opens no session. A request that changes
something (any method but GET, HEAD, OPTIONS) must also carry the session's CSRF token in
`X-CSRF-Token`, compared in constant time: a page of another site can make the browser send the
cookie, but cannot read the token to send it along. The cookie is `Secure`, `HttpOnly` and
`SameSite=Lax`. The service keeps the sessions (expiry, logout) and supplies the lookup.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic

from starlette.requests import Request
from typing_extensions import TypeVar

from tally.sdk._auth import MAX_CREDENTIAL_LENGTH, Auth
from tally.sdk._callers import TenantCaller
from tally.sdk._problems import Problem, Rejected
from tally.sdk._tokens import new_token, token_hash

D = TypeVar("D", contravariant=True)
CT = TypeVar("CT", bound=TenantCaller, covariant=True)

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class StoredSession(Generic[CT]):
    """What the service stored of a live session: whose it is, and its CSRF token."""

    caller: CT
    csrf_token: str


@dataclass(frozen=True, slots=True)
class NewSession:
    """A new session: `session_id` goes into the cookie only; the rest is stored (the CSRF
    token is also given to the pages, which send it back in X-CSRF-Token)."""

    session_id: str
    session_hash: bytes
    csrf_token: str


class UserSession(Auth[D, CT]):
    """A user's browser session; see the module docstring."""

    def __init__(
        self,
        caller: type[CT],
        lookup: Callable[[D, bytes], Awaitable[StoredSession[CT] | None]],
        *,
        cookie: str = "tally_session",
        csrf_header: str = "X-CSRF-Token",
        scheme: str = "userSession",
        description: str = "A user's session cookie, from logging in.",
    ) -> None:
        self.caller = caller
        self._lookup = lookup
        self.cookie = cookie
        self.csrf_header = csrf_header
        self._scheme = scheme
        self._description = description
        self.refusals = {
            401: "No session, or an expired or ended one: log in.",
            403: f"A change without the session's CSRF token ({csrf_header}).",
        }

    @staticmethod
    def start() -> NewSession:
        """A new session id (for the cookie), its hash and a CSRF token (to store)."""
        session_id = new_token()
        return NewSession(session_id, token_hash(session_id), new_token())

    def set_cookie(self, session_id: str, *, max_age: int, secure: bool = True) -> tuple[str, str]:
        """The Set-Cookie header that hands the browser its session."""
        flags = "; Secure" if secure else ""
        value = f"{self.cookie}={session_id}; Max-Age={max_age}; Path=/; HttpOnly; SameSite=Lax"
        return "Set-Cookie", value + flags

    def clear_cookie(self) -> tuple[str, str]:
        """The Set-Cookie header that ends the session in the browser (logout)."""
        return "Set-Cookie", f"{self.cookie}=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax; Secure"

    def offered(self, request: Request) -> bool:
        return self.cookie in request.cookies

    def schemes(self) -> dict[str, dict[str, Any]]:
        scheme = {"type": "apiKey", "in": "cookie", "name": self.cookie}
        return {self._scheme: {**scheme, "description": self._description}}

    async def authenticate(self, deps: D, request: Request) -> CT:
        session_id = request.cookies.get(self.cookie, "")
        if not session_id:
            raise _unauthorized("no session: log in first")
        stored = None
        if len(session_id) <= MAX_CREDENTIAL_LENGTH:
            stored = await self._lookup(deps, token_hash(session_id))
        if stored is None:
            raise _unauthorized("the session has expired or ended: log in again")
        if request.method not in _SAFE_METHODS:
            sent = request.headers.get(self.csrf_header, "")
            if not hmac.compare_digest(sent.encode(), stored.csrf_token.encode()):
                detail = (
                    f"send the session's CSRF token in {self.csrf_header} with every change; "
                    "reload the page to get it"
                )
                raise Rejected(403, Problem(error="forbidden", detail=detail))
        return stored.caller


def _unauthorized(detail: str) -> Rejected:
    # No WWW-Authenticate: a cookie is no HTTP authentication scheme a browser could prompt for.
    return Rejected(401, Problem(error="unauthorized", detail=detail))

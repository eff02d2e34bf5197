"""Who may call an endpoint: authentication schemes, each yielding a typed caller.

    PUBLIC                          anyone: `Anonymous`
    AdminToken(token_of)            the platform administrators' bearer token: `AdminCaller`
    MachineToken(Caller, identify)  a machine's bearer token, looked up by its hash
    TenantApiKey(Caller, lookup)    a tenant's API key (tally.sdk._api_keys)
    UserSession(Caller, lookup)     a browser session cookie with CSRF protection
                                    (tally.sdk._sessions)
    either(a, b)                    whichever of two schemes the request offers

A scheme reads the request's credentials, asks the service where a lookup is needed (a
callable of the service's `Deps` and the credential's hash, never the secret itself: hashing
lives in `tally.sdk._tokens`), and answers 401 (or 403) itself, as a `Problem`. A lookup may
raise `Rejected` too, e.g. 503 when it cannot tell. Each scheme describes itself for the
OpenAPI document.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Generic

from starlette.requests import Request
from typing_extensions import TypeVar

from tally.sdk._bearer import bearer_token
from tally.sdk._callers import AdminCaller, Anonymous, TenantCaller
from tally.sdk._problems import Problem, Rejected, unauthorized
from tally.sdk._tokens import token_hash

D = TypeVar("D", contravariant=True)
C = TypeVar("C", covariant=True)
C2 = TypeVar("C2", covariant=True)
CT = TypeVar("CT", bound=TenantCaller, covariant=True)

# Longer is no credential tally issued; refusing it spares hashing and a lookup.
MAX_CREDENTIAL_LENGTH = 512


class Auth(Generic[D, C]):
    """An authentication scheme: `authenticate` yields the caller or raises `Rejected`."""

    # The class of the callers it yields (read by `tally check`).
    caller: type[Any] = object
    # What it may refuse with, for the document: status → description.
    refusals: Mapping[int, str] = {}

    async def authenticate(self, deps: D, request: Request) -> C:
        raise NotImplementedError

    def offered(self, request: Request) -> bool:
        """Whether the request carries this scheme's kind of credential at all."""
        return False

    def security(self) -> list[dict[str, list[str]]]:
        """The operation's `security` in the OpenAPI document ([] for a public endpoint)."""
        return [{name: []} for name in self.schemes()]

    def schemes(self) -> dict[str, dict[str, Any]]:
        """The `components.securitySchemes` it needs, by name."""
        return {}

    @property
    def name(self) -> str:
        """How the service graph shows it."""
        return " or ".join(self.schemes()) or "public"


class Public(Auth[object, Anonymous]):
    """Anyone may call."""

    caller = Anonymous

    async def authenticate(self, deps: object, request: Request) -> Anonymous:
        return _ANONYMOUS


_ANONYMOUS = Anonymous()
# Typed with Any for the Deps: mypy then takes them from the handler (with `object` it would
# ask every public handler to take `object`).
PUBLIC: Auth[Any, Anonymous] = Public()


class _Bearer(Auth[D, C]):
    """`Authorization: Bearer <token>`, the scheme spelt in any case."""

    def __init__(self, scheme: str, description: str, *, missing: str, refusal: str) -> None:
        self._scheme = scheme
        self._description = description
        self._missing = missing
        self.refusals = {401: refusal}

    def offered(self, request: Request) -> bool:
        return bearer_token(request.headers.get("authorization")) is not None

    def schemes(self) -> dict[str, dict[str, Any]]:
        return {
            self._scheme: {"type": "http", "scheme": "bearer", "description": self._description}
        }

    def _token(self, request: Request, unknown: str) -> str:
        token = bearer_token(request.headers.get("authorization"))
        if token is None:
            raise unauthorized(self._missing)
        if len(token) > MAX_CREDENTIAL_LENGTH:
            raise unauthorized(unknown)
        return token


class AdminToken(_Bearer[D, AdminCaller]):
    """The platform administrators' one shared token (from the service's settings, via
    `token_of(deps)`), compared in constant time."""

    caller = AdminCaller

    def __init__(
        self,
        token_of: Callable[[D], str],
        *,
        scheme: str = "adminToken",
        description: str = "The platform administrators' token.",
        wrong: str = "wrong administrators' token",
    ) -> None:
        super().__init__(
            scheme,
            description,
            missing="send the administrators' token as 'Authorization: Bearer <token>'",
            refusal="Missing or wrong administrators' token.",
        )
        self._token_of = token_of
        self._wrong = wrong

    async def authenticate(self, deps: D, request: Request) -> AdminCaller:
        token = self._token(request, self._wrong)
        # Hashes are of equal length: the comparison tells nothing of the token's length.
        if not hmac.compare_digest(token_hash(token), token_hash(self._token_of(deps))):
            raise unauthorized(self._wrong)
        return _ADMIN


_ADMIN = AdminCaller(identity="admin", role="admin")


class MachineToken(_Bearer[D, CT]):
    """One machine's token: `identify(deps, token_hash)` says whose it is, None if nobody's
    (or revoked). The lookup is keyed by the hash, as the token is stored."""

    def __init__(
        self,
        caller: type[CT],
        identify: Callable[[D, bytes], Awaitable[CT | None]],
        *,
        scheme: str = "machineToken",
        description: str = "The token issued for one machine.",
        unknown: str = (
            "unknown or revoked machine token; have an administrator issue the machine a new "
            "one (tally admin token issue TENANT MACHINE)"
        ),
    ) -> None:
        super().__init__(
            scheme,
            description,
            missing="send the machine's token as 'Authorization: Bearer <token>'",
            refusal="Missing, unknown or revoked machine token.",
        )
        self.caller = caller
        self._identify = identify
        self._unknown = unknown

    async def authenticate(self, deps: D, request: Request) -> CT:
        token = self._token(request, self._unknown)
        found = await self._identify(deps, token_hash(token))
        if found is None:
            raise unauthorized(self._unknown)
        return found


class _Either(Auth[D, Any]):
    def __init__(self, first: Auth[D, Any], second: Auth[D, Any]) -> None:
        self._schemes = (first, second)
        self.caller = first.caller if first.caller is second.caller else object
        self.refusals = {**second.refusals, **first.refusals}

    async def authenticate(self, deps: D, request: Request) -> Any:
        for scheme in self._schemes:
            if scheme.offered(request):
                return await scheme.authenticate(deps, request)
        names = " or ".join(self.schemes())
        raise Rejected(401, Problem(error="unauthorized", detail=f"authenticate with {names}"))

    def offered(self, request: Request) -> bool:
        return any(scheme.offered(request) for scheme in self._schemes)

    def security(self) -> list[dict[str, list[str]]]:
        return [*self._schemes[0].security(), *self._schemes[1].security()]

    def schemes(self) -> dict[str, dict[str, Any]]:
        return {**self._schemes[0].schemes(), **self._schemes[1].schemes()}


def either(first: Auth[D, C], second: Auth[D, C2]) -> Auth[D, C | C2]:
    """Whichever of two schemes the request offers credentials for (`first` when both), e.g.
    an API key for integrations and a session for the browser on the same endpoint."""
    return _Either(first, second)
